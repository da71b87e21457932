"""Bad input to the reference raises ValueError naming what was expected and what was found."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import rnnkit.reference as ref


@pytest.fixture
def lstm():
    spec = ref.LayerSpec("lstm", input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    return ref.init_params(spec, 0)


def _x(length=5, batch=2, features=3):
    return np.zeros((length, batch, features))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x": _x(features=5)}, "F=5 features but weight_ih_l0 expects F=3"),
        ({"x": np.zeros((5, 3))}, r"shape \(L, N, F\).*found shape \(5, 3\)"),
        ({"x": _x(length=0)}, "at least one time step"),
        ({"h0": np.zeros((2, 2, 4))}, r"h0 must have shape .* \(4, 2, 4\), found \(2, 2, 4\)"),
        ({"c0": np.zeros((4, 3, 4))}, r"c0 must have shape .* \(4, 2, 4\), found \(4, 3, 4\)"),
        ({"lengths": np.array([5, 0])}, r"lengths must lie in \[1, L\] = \[1, 5\], found min 0"),
        ({"lengths": np.array([6, 1])}, "found min 1 and max 6"),
        ({"lengths": np.array([5, 1, 2])}, r"shape \(N,\) = \(2,\), found shape \(3,\)"),
        ({"lengths": np.array([5.0, 1.0])}, "integer array.*dtype float64"),
        ({"num_layers": 3}, "missing parameter 'weight_ih_l2'"),
        ({"num_layers": 1}, r"unexpected parameters \['bias_hh_l1'"),
        ({"bidirectional": False}, "unexpected parameters .*_reverse"),
        ({"nonlinearity": "relu"}, "nonlinearity applies to cell 'rnn' only"),
        ({"cell": "transformer"}, "cell must be one of"),
    ],
)
def test_forward_rejects(lstm, kwargs, match):
    args = {"cell": "lstm", "params": lstm, "x": _x(), **kwargs}
    with pytest.raises(ValueError, match=match):
        ref.forward(**args)


def test_missing_and_misshapen_parameters(lstm):
    without = {k: v for k, v in lstm.items() if k != "weight_hh_l1_reverse"}
    with pytest.raises(ValueError, match="missing parameter 'weight_hh_l1_reverse'"):
        ref.forward("lstm", without, _x())
    half_bias = {k: v for k, v in lstm.items() if k != "bias_hh_l0"}
    with pytest.raises(ValueError, match="missing parameter 'bias_hh_l0'"):
        ref.forward("lstm", half_bias, _x())
    bad = {**lstm, "weight_ih_l1": np.zeros((16, 7))}
    with pytest.raises(
        ValueError, match=r"'weight_ih_l1' must have shape \(16, 8\), found \(16, 7"
    ):
        ref.forward("lstm", bad, _x())
    with pytest.raises(ValueError, match=r"weight_hh_l0 of a gru cell must have shape \(3\*H"):
        ref.forward("gru", lstm, _x())  # 16 rows are not 3 gates
    with pytest.raises(ValueError, match="missing parameter 'weight_ih_l0'"):
        ref.forward("rnn", {}, _x())


def test_c0_only_for_lstm():
    params = ref.init_params(ref.LayerSpec("gru", 3, 4), 0)
    with pytest.raises(ValueError, match="c0 is only for 'lstm'"):
        ref.forward("gru", params, _x(), c0=np.zeros((1, 2, 4)))
    _, _, cache = ref.forward("gru", params, _x())
    with pytest.raises(ValueError, match="d_c_n is only for 'lstm'"):
        ref.backward(cache, d_c_n=np.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match="projection"):
        ref.forward("gru", {**params, "weight_hr_l0": np.zeros((2, 4))}, _x())


def test_backward_rejects_misshapen_gradients(lstm):
    _, _, cache = ref.forward("lstm", lstm, _x())
    with pytest.raises(
        ValueError, match=r"d_output must have shape \(5, 2, 8\), found \(5, 2, 4\)"
    ):
        ref.backward(cache, np.zeros((5, 2, 4)))
    with pytest.raises(ValueError, match=r"d_c_n must have shape \(4, 2, 4\)"):
        ref.backward(cache, d_c_n=np.zeros((4, 2)))


def test_network_rejects_bad_targets():
    net = ref.Network.create("rnn", 3, 4, num_classes=2)
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 2\), found min 0 and max 2"):
        net.loss_and_gradients(_x(), np.array([0, 2]))
    with pytest.raises(ValueError, match=r"targets must have shape \(2,\)"):
        net.loss_and_gradients(_x(), np.array([0, 1, 1]))


def test_reference_never_imports_torch():
    """The specification must stand on NumPy alone."""
    package = Path(ref.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "torch" for n in names), f"{path.name} imports torch"
