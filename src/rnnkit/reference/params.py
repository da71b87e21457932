"""Parameters of a recurrent layer: names, shapes, checking, conversion and initialisation.

Parameters are a plain ``dict`` of NumPy arrays keyed exactly as ``torch.nn.RNN``, ``LSTM``
and ``GRU`` name them, so a state_dict moves between torch and the reference unchanged::

    weight_ih_l{k}[_reverse]   (G*H, F_in)   input-to-hidden weights of layer k
    weight_hh_l{k}[_reverse]   (G*H, H_out)  hidden-to-hidden weights
    bias_ih_l{k}[_reverse]     (G*H,)        optional (all biases present, or none)
    bias_hh_l{k}[_reverse]     (G*H,)        optional
    weight_hr_l{k}[_reverse]   (H_out, H)    LSTM with proj_size > 0 only

G is the number of gate blocks (1 for RNN, 4 for LSTM in the order i,f,g,o, 3 for GRU in the
order r,z,n). H is the hidden size, H_out = proj_size if proj_size > 0 else H. F_in is the
input size F for layer 0 and D*H_out above it (D = 2 if bidirectional else 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "CELLS",
    "LayerSpec",
    "init_params",
    "param_names",
    "params_from_state_dict",
    "spec_from_params",
]

#: Number of gate blocks G stacked in the weight matrices of each cell type.
CELLS: dict[str, int] = {"rnn": 1, "lstm": 4, "gru": 3}
NONLINEARITIES = ("tanh", "relu")


@dataclass(frozen=True)
class LayerSpec:
    """The shape of a stacked recurrent layer, read off its parameters.

    Args:
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        input_size: F, features of the input.
        hidden_size: H, size of the cell state and of each gate.
        num_layers: number of stacked layers.
        bidirectional: whether each layer has a reverse direction (D = 2).
        bias: whether the ``bias_*`` parameters exist.
        proj_size: LSTM projection size (0 = no projection).
        nonlinearity: ``"tanh"`` or ``"relu"`` (plain RNN only).
    """

    cell: str
    input_size: int
    hidden_size: int
    num_layers: int = 1
    bidirectional: bool = False
    bias: bool = True
    proj_size: int = 0
    nonlinearity: str = "tanh"

    @property
    def num_directions(self) -> int:
        """D: 2 if bidirectional else 1."""
        return 2 if self.bidirectional else 1

    @property
    def output_size(self) -> int:
        """H_out: the size of h (the projection size when there is one)."""
        return self.proj_size if self.proj_size > 0 else self.hidden_size

    def layer_input_size(self, layer: int) -> int:
        """F_in of ``layer``: F for layer 0, D*H_out above it."""
        return self.input_size if layer == 0 else self.num_directions * self.output_size

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Every parameter name mapped to its shape, in torch's order."""
        gh = CELLS[self.cell] * self.hidden_size
        out: dict[str, tuple[int, ...]] = {}
        for layer in range(self.num_layers):
            for suffix in _suffixes(self.num_directions):
                key = f"_l{layer}{suffix}"
                out["weight_ih" + key] = (gh, self.layer_input_size(layer))
                out["weight_hh" + key] = (gh, self.output_size)
                if self.bias:
                    out["bias_ih" + key] = (gh,)
                    out["bias_hh" + key] = (gh,)
                if self.proj_size > 0:
                    out["weight_hr" + key] = (self.proj_size, self.hidden_size)
        return out


def _suffixes(num_directions: int) -> tuple[str, ...]:
    return ("", "_reverse")[:num_directions]


def param_names(spec: LayerSpec) -> list[str]:
    """The parameter names of ``spec`` in the order torch.nn creates them."""
    return list(spec.shapes())


def params_from_state_dict(
    state_dict: Mapping[str, Any], prefix: str = ""
) -> dict[str, np.ndarray]:
    """Convert a torch state_dict (or any mapping of arrays) to a dict of NumPy arrays.

    Values may be torch tensors (anything with ``.detach().cpu().numpy()``) or array-likes.
    With ``prefix`` (e.g. ``"encoder.rnn."``) only keys starting with it are kept, and the prefix
    is removed. Returns copies, so the result never aliases the module's memory.

    Returns:
        dict name -> ``np.ndarray`` with the shapes listed in this module's docstring.
    """
    out: dict[str, np.ndarray] = {}
    for name, value in state_dict.items():
        if not name.startswith(prefix):
            continue
        if hasattr(value, "detach"):
            value = value.detach().cpu().numpy()
        out[name[len(prefix) :]] = np.array(value, copy=True)
    return out


def spec_from_params(
    cell: str,
    params: Mapping[str, np.ndarray],
    *,
    num_layers: int | None = None,
    bidirectional: bool | None = None,
    nonlinearity: str = "tanh",
) -> LayerSpec:
    """Read the layer's shape off ``params`` and check every name and shape.

    ``num_layers`` and ``bidirectional`` are inferred from the keys when left as ``None``; when
    given, the keys must match them exactly.

    Raises:
        ValueError: unknown cell or nonlinearity, a missing or unexpected key, or a parameter
            whose shape does not fit the others (the message names expected and found).
    """
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, found {cell!r}")
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', found {nonlinearity!r}")
    if cell != "rnn" and nonlinearity != "tanh":
        raise ValueError(f"nonlinearity applies to cell 'rnn' only, found it with {cell!r}")
    for required in ("weight_ih_l0", "weight_hh_l0"):
        if required not in params:
            raise ValueError(f"missing parameter {required!r}; found keys {sorted(params)}")
    if num_layers is None:
        num_layers = 0
        while f"weight_ih_l{num_layers}" in params:
            num_layers += 1
    if num_layers < 1:
        raise ValueError(f"num_layers must be >= 1, found {num_layers}")
    if bidirectional is None:
        bidirectional = "weight_ih_l0_reverse" in params

    gates = CELLS[cell]
    w_hh = np.shape(params["weight_hh_l0"])
    w_ih = np.shape(params["weight_ih_l0"])
    if len(w_hh) != 2 or w_hh[0] % gates != 0:
        raise ValueError(
            f"weight_hh_l0 of a {cell} cell must have shape ({gates}*H, H_out), found {w_hh}"
        )
    if len(w_ih) != 2:
        raise ValueError(f"weight_ih_l0 must have shape ({gates}*H, F), found {w_ih}")
    hidden = w_hh[0] // gates
    proj = 0
    if "weight_hr_l0" in params:
        if cell != "lstm":
            raise ValueError(f"weight_hr_l0 (projection) exists only for 'lstm', not {cell!r}")
        proj = int(np.shape(params["weight_hr_l0"])[0])
    spec = LayerSpec(
        cell=cell,
        input_size=int(w_ih[1]),
        hidden_size=int(hidden),
        num_layers=int(num_layers),
        bidirectional=bool(bidirectional),
        bias="bias_ih_l0" in params or "bias_hh_l0" in params,
        proj_size=proj,
        nonlinearity=nonlinearity,
    )
    expected = spec.shapes()
    layer = (
        f"a {cell} layer with num_layers={num_layers}, bidirectional={bidirectional}, "
        f"bias={spec.bias}, proj_size={proj}"
    )
    missing = [name for name in expected if name not in params]
    if missing:
        raise ValueError(f"missing parameter {missing[0]!r} for {layer} (all missing: {missing})")
    unexpected = sorted(set(params) - set(expected))
    if unexpected:
        raise ValueError(f"unexpected parameters {unexpected} for {layer}")
    for name, shape in expected.items():
        found = tuple(np.shape(params[name]))
        if found != shape:
            raise ValueError(f"parameter {name!r} must have shape {shape}, found {found}")
    return spec


def init_params(
    spec: LayerSpec, rng: np.random.Generator | int | None = None, dtype: Any = np.float64
) -> dict[str, np.ndarray]:
    """Random parameters for ``spec``, drawn as torch.nn does: U(-1/sqrt(H), 1/sqrt(H)).

    (The distribution matches torch; the numbers do not, since the generators differ.)

    Returns:
        dict name -> array, shapes as in ``spec.shapes()``.
    """
    if spec.cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, found {spec.cell!r}")
    rng = np.random.default_rng(rng)
    bound = 1.0 / np.sqrt(spec.hidden_size)
    return {
        name: rng.uniform(-bound, bound, size=shape).astype(dtype)
        for name, shape in spec.shapes().items()
    }
