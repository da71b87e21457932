"""One :class:`~rnnkit.export.graphs.Graph` as an ONNX file, checked in onnxruntime.

``torch.onnx.export`` (the ``torch.export`` exporter) traces the graph with dynamic batch and
length axes; the file is written in one piece (no external data) and atomically, with the
metadata JSON in its ``metadata_props["rnnkit"]``. :func:`check_graph` runs the file in
onnxruntime on inputs of other sizes than the traced ones and compares with PyTorch.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import json
import logging
import os
import warnings
from typing import Any

import numpy as np
import torch

from rnnkit.atomic import write_atomic
from rnnkit.export.graphs import Graph, example_inputs

__all__ = ["MissingExtra", "check_graph", "require_onnx", "run_onnx", "write_onnx"]

OPSET = 18


class MissingExtra(ValueError):
    """onnx or onnxruntime is not installed."""


def require_onnx() -> None:
    """Raise :class:`MissingExtra` unless onnx, onnxscript and onnxruntime import and torch
    is new enough (its exporter traces ``scan``: torch >= 2.9; tested with 2.13)."""
    major, minor = (int(v) for v in torch.__version__.split("+")[0].split(".")[:2])
    if (major, minor) < (2, 9):
        raise MissingExtra(f"exporting to ONNX needs torch >= 2.9, found {torch.__version__}")
    for module in ("onnx", "onnxscript", "onnxruntime"):
        try:
            __import__(module)
        except ImportError:
            raise MissingExtra(f"exporting to ONNX needs {module}, which is not installed: "
                               "pip install 'rnnkit[export]'") from None


@functools.cache
def _registry():
    """torch's table of ATen -> ONNX translations: built once, not at every export (seconds)."""
    from torch.onnx._internal.exporter import _registration

    return _registration.ONNXRegistry.from_torchlib()


def _exported_program(graph: Graph) -> torch.export.ExportedProgram:
    try:
        return _trace(graph, smallest=1)
    except torch._dynamo.exc.UserError:
        # A module asked for a size other than 1 (a convolution over the batch): trace for
        # sizes >= 2; the ONNX graph is checked on a batch of one after all (check_graph).
        return _trace(graph, smallest=2)


def _trace(graph: Graph, smallest: int) -> torch.export.ExportedProgram:
    dims: dict[str, torch.export.Dim] = {}
    shapes: list[Any] = []
    for name in graph.inputs:
        axes = graph.axes.get(name, {})
        shapes.append({dim: dims.setdefault(axis, torch.export.Dim(axis, min=smallest))
                       for dim, axis in axes.items()} or None)
    # torch.export binds the inputs to forward's signature: a *rest parameter is one tuple
    kinds = [p.kind for p in inspect.signature(graph.module.forward).parameters.values()]
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        fixed = kinds.index(inspect.Parameter.VAR_POSITIONAL)
        shapes = [*shapes[:fixed], tuple(shapes[fixed:])]
    # size-oblivious: a length of 1 or 2 is no special case (torch.onnx does the same)
    with torch.fx.experimental._config.patch(backed_size_oblivious=True):
        return torch.export.export(graph.module.eval(), tuple(graph.inputs.values()),
                                   dynamic_shapes=tuple(shapes), strict=False)


def write_onnx(graph: Graph, path: str | os.PathLike, metadata: dict[str, Any]) -> None:
    """Trace ``graph`` and write it to ``path`` as ONNX (opset 18), ``metadata`` inside."""
    import onnx
    from torch.onnx._internal.exporter import _core

    # no_grad: with gradients on, every pass over a scan traces its backward too (10x slower)
    try:
        with _quiet(), torch.no_grad():
            program = _exported_program(graph)
            onnx_program = _core.export(program, registry=_registry(),
                                        input_names=list(graph.inputs),
                                        output_names=list(graph.outputs),
                                        opset_version=OPSET)
    except Exception as err:  # torch's own errors are many pages; one line says enough
        raise ValueError(f"torch.onnx cannot export the {graph.name} graph: "
                         f"{type(err).__name__}: {_first_line(err)} (RNNKIT_DEBUG=1 shows "
                         "the whole error)") from err
    model = onnx_program.model_proto
    _name_axes(model, graph)
    entry = model.metadata_props.add()
    entry.key, entry.value = "rnnkit", json.dumps(metadata)
    try:
        onnx.checker.check_model(model)
    except Exception as err:  # onnx's ValidationError is no ValueError
        raise ValueError(f"the exported {graph.name} graph is not valid ONNX: "
                         f"{_first_line(err)}") from err
    data = model.SerializeToString()
    write_atomic(path, lambda f: f.write(data))


def run_onnx(path: str | os.PathLike, inputs: dict[str, Any]) -> list[np.ndarray]:
    """The outputs of the ONNX file at ``path`` on ``inputs`` (tensors or arrays), on CPU."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {k: np.asarray(v) for k, v in inputs.items()})


def check_graph(graph: Graph, path: str | os.PathLike, batch: int = 5, length: int = 11,
                ) -> float:
    """The largest difference between onnxruntime and PyTorch on inputs with ``batch`` rows and
    ``length`` steps (not the traced sizes); raises ValueError where they differ by > 1e-4."""
    inputs = example_inputs(graph, batch, length, seed=1)
    try:
        with torch.no_grad():
            expected = graph.module.eval()(*inputs.values())
    except Exception as err:
        raise ValueError(f"PyTorch cannot run the {graph.name} graph on a batch of {batch} x "
                         f"{length} steps to check the export: {_first_line(err)}") from err
    expected = (expected,) if isinstance(expected, torch.Tensor) else expected
    try:
        got = run_onnx(path, {k: v.numpy() for k, v in inputs.items()})
    except Exception as err:  # onnxruntime's errors are not ValueErrors
        raise ValueError(f"onnxruntime cannot run the exported {graph.name} graph on a batch "
                         f"of {batch} x {length} steps: {_first_line(err)}") from err
    worst = 0.0
    for name, want, have in zip(graph.outputs, expected, got, strict=True):
        want = want.numpy()
        if want.shape != have.shape:
            raise ValueError(f"the exported {graph.name} graph gives {name} of shape "
                             f"{have.shape}, PyTorch {want.shape}: the export is wrong")
        difference = float(np.abs(want.astype(np.float64) - have).max(initial=0.0))
        worst = max(worst, difference)
    if worst > 1e-4:
        raise ValueError(f"the exported {graph.name} graph differs from PyTorch by {worst:.2g} "
                         f"on a batch of {batch} x {length} steps")
    return worst


def _name_axes(model: Any, graph: Graph) -> None:
    """Give the free axes ``graph.axes``' names (``batch``, ``length``, ...) in the file in
    place of torch's symbols (``s0``, ``s21``), wherever the symbol stands alone."""
    names: dict[str, str] = {}
    for value in model.graph.input:
        for dim, axis in graph.axes.get(value.name, {}).items():
            symbol = value.type.tensor_type.shape.dim[dim].dim_param
            if symbol:
                names.setdefault(symbol, axis)
    for value in (*model.graph.input, *model.graph.output, *model.graph.value_info):
        for dim in value.type.tensor_type.shape.dim:
            if dim.dim_param in names:
                dim.dim_param = names[dim.dim_param]


def _first_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


@contextlib.contextmanager
def _quiet():
    """torch.onnx prints progress and warns about torchvision; keep the command's output its
    own (RNNKIT_DEBUG=1 shows it)."""
    if os.environ.get("RNNKIT_DEBUG", "") not in ("", "0"):
        yield
        return
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "torch.export", "onnxscript")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)

