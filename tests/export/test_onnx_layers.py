"""Every rnnkit.nn layer exports to ONNX: one and two directions, stacked, with and without
lengths, run by onnxruntime on a batch and length other than the traced ones."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from rnnkit.export.graphs import Graph
from rnnkit.nn import LAYERS

pytest.importorskip("onnxruntime")
from rnnkit.export.onnx_file import check_graph, run_onnx, write_onnx  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")


class Layers(nn.Module):
    """A layer of each direction count, run with and without lengths."""

    def __init__(self, cell: str, num_layers: int = 1) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.one = LAYERS[cell](3, 4, num_layers, batch_first=True).eval()
        self.two = LAYERS[cell](3, 4, num_layers, batch_first=True, bidirectional=True).eval()

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, ...]:
        results = []
        for layer in (self.one, self.two):
            for given in (lengths, None):
                out, state = layer(x, lengths=given)
                results += [out, *(state if isinstance(state, tuple) else (state,))]
        return tuple(results)


def output_names(cell: str) -> list[str]:
    """``output_one_lengths``, ``h_one_lengths``[, ``c_one_lengths``], ... for ``cell``."""
    states = LAYERS[cell].spec_class.state_names
    return [f"{what}_{d}_{given}" for d in ("one", "two") for given in ("lengths", "full")
            for what in ("output", *states)]


@pytest.mark.parametrize(("cell", "num_layers"), [(c, 1) for c in sorted(LAYERS)] + [("lstm", 2)])
def test_every_layer_exports_with_free_batch_and_length(cell: str, num_layers: int,
                                                         tmp_path) -> None:
    module = Layers(cell, num_layers)
    x = torch.randn(3, 7, 3)
    names = output_names(cell)
    graph = Graph("model", module, {"x": x, "lengths": torch.tensor([7, 5, 4])}, names,
                  {"x": {0: "batch", 1: "length"}, "lengths": {0: "batch"}})
    path = tmp_path / f"{cell}.onnx"
    write_onnx(graph, path, {"cell": cell})
    # batch 5, 11 steps, lengths 11 down to 6: within 1e-5 of PyTorch on every output and state
    assert check_graph(graph, path, batch=5, length=11) < 1e-5
    # padded steps never change an output: garbage beyond the lengths gives the same results
    x = torch.randn(2, 9, 3)
    lengths = torch.tensor([9, 4])
    noisy = x.clone()
    noisy[1, 4:] = 100.0
    clean = run_onnx(path, {"x": x.numpy(), "lengths": lengths.numpy()})
    dirty = run_onnx(path, {"x": noisy.numpy(), "lengths": lengths.numpy()})
    assert len(clean) == len(names)
    for name, a, b in zip(names, clean, dirty, strict=True):
        if name.endswith("lengths"):
            assert abs(a - b).max() == 0, name
    with torch.no_grad():
        expected = module(x, lengths)
    assert abs(clean[0] - expected[0].numpy()).max() < 1e-5
    import onnx

    dims = [[d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
            for value in onnx.load(str(path)).graph.input]
    assert dims == [["batch", "length", 3], ["batch"]]  # the axes by name, not torch's s0, s1
