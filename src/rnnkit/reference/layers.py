"""Stacked, bidirectional recurrent layers over whole sequences, and backpropagation through time.

``forward`` runs the cells of ``cells.py`` over time, layer after layer, in one or both
directions, exactly as ``torch.nn.RNN``/``LSTM``/``GRU`` do with time-major input; ``backward``
walks the same steps in the opposite order and returns the gradient of every input.

Letters: L length, N batch, F input features, H hidden size, H_out = proj_size or H,
D directions (2 if bidirectional), K = num_layers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from rnnkit.reference.cells import (
    gru_cell_backward,
    gru_cell_forward,
    lstm_cell_backward,
    lstm_cell_forward,
    rnn_cell_backward,
    rnn_cell_forward,
)
from rnnkit.reference.params import LayerSpec, spec_from_params

__all__ = ["Cache", "backward", "forward"]

States = np.ndarray | tuple[np.ndarray, np.ndarray]


@dataclass
class Cache:
    """Everything ``backward`` needs from a ``forward`` call.

    Attributes:
        spec: the layer's shape (cell, sizes, num_layers, directions).
        params: the parameters used.
        mask: (L, N, 1) bool, True where step t is inside sequence n.
        dtype: the floating dtype the forward pass computed in.
        steps: ``steps[k][d][t]`` is the cell cache of layer k, direction d, time t
            (d = 0 forward, d = 1 reverse).
    """

    spec: LayerSpec
    params: Mapping[str, np.ndarray]
    mask: np.ndarray
    dtype: np.dtype
    steps: list[list[list[dict]]] = field(default_factory=list)


def _suffix(layer: int, direction: int) -> str:
    return f"_l{layer}" + ("_reverse" if direction == 1 else "")


def _direction_params(params: Mapping[str, np.ndarray], layer: int, direction: int) -> dict:
    """``weight_ih_l1_reverse`` -> ``weight_ih`` etc. for one layer and direction."""
    suffix = _suffix(layer, direction)
    return {name[: -len(suffix)]: v for name, v in params.items() if name.endswith(suffix)}


def _check_inputs(
    spec: LayerSpec,
    x: np.ndarray,
    h0: np.ndarray | None,
    c0: np.ndarray | None,
    lengths: np.ndarray | None,
) -> np.ndarray:
    """Validate shapes; return the (L, N, 1) validity mask."""
    if x.ndim != 3:
        raise ValueError(f"input must have shape (L, N, F) (time-major), found shape {x.shape}")
    seq_len, batch, features = x.shape
    if seq_len < 1:
        raise ValueError(f"input must have at least one time step, found L={seq_len}")
    if features != spec.input_size:
        raise ValueError(
            f"input has F={features} features but weight_ih_l0 expects F={spec.input_size}"
        )
    states = spec.num_layers * spec.num_directions
    if h0 is not None and np.shape(h0) != (states, batch, spec.output_size):
        raise ValueError(
            f"h0 must have shape (num_layers*D, N, H_out) = {(states, batch, spec.output_size)}, "
            f"found {np.shape(h0)}"
        )
    if c0 is not None:
        if spec.cell != "lstm":
            raise ValueError(f"c0 is only for 'lstm', found it with cell {spec.cell!r}")
        if np.shape(c0) != (states, batch, spec.hidden_size):
            raise ValueError(
                f"c0 must have shape (num_layers*D, N, H) = {(states, batch, spec.hidden_size)}, "
                f"found {np.shape(c0)}"
            )
    if lengths is None:
        return np.ones((seq_len, batch, 1), dtype=bool)
    lengths = np.asarray(lengths)
    if lengths.shape != (batch,) or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(
            f"lengths must be a 1-D integer array of shape (N,) = ({batch},), "
            f"found shape {lengths.shape} and dtype {lengths.dtype}"
        )
    if lengths.size and (lengths.min() < 1 or lengths.max() > seq_len):
        raise ValueError(
            f"lengths must lie in [1, L] = [1, {seq_len}], "
            f"found min {lengths.min()} and max {lengths.max()}"
        )
    return (np.arange(seq_len)[:, None] < lengths[None, :])[:, :, None]  # (L, N, 1)


def forward(
    cell: str,
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
    lengths: np.ndarray | None = None,
    *,
    num_layers: int | None = None,
    bidirectional: bool | None = None,
    nonlinearity: str = "tanh",
) -> tuple[np.ndarray, States, Cache]:
    """Run a (stacked, possibly bidirectional) RNN, LSTM or GRU over a batch of sequences.

    For each layer k and direction d the cell of ``cells.py`` is applied step by step::

        forward direction:  h_t = cell(x_t, h_{t-1}),  t = 0 .. L-1
        reverse direction:  h_t = cell(x_t, h_{t+1}),  t = L-1 .. 0
        output_t = [h_t(forward), h_t(reverse)]        (concatenated on the feature axis)

    and the output of layer k is the input of layer k+1. With ``lengths``, steps t >= lengths[n]
    are padding: their output is zero and the state passes through unchanged, so the final
    state is each sequence's last valid step and the reverse direction starts at it.

    Args:
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        params: torch-named parameters (see ``params.py``); missing bias keys mean no bias.
        x: (L, N, F) input, time-major.
        h0: (K*D, N, H_out) initial hidden states, row k*D + d; zeros if None.
        c0: (K*D, N, H) initial cell states (LSTM only); zeros if None.
        lengths: (N,) integer lengths in [1, L]; None means every sequence has length L.
        num_layers, bidirectional: inferred from the keys of ``params`` when None.
        nonlinearity: ``"tanh"`` or ``"relu"`` (``"rnn"`` only).

    Returns:
        output: (L, N, D*H_out), the top layer's h_t, zero at padded steps.
        final states: h_n (K*D, N, H_out) for RNN and GRU; (h_n, c_n) for LSTM, c_n (K*D, N, H).
        cache: a ``Cache`` for ``backward``.

    Raises:
        ValueError: parameters that do not fit each other, or inputs that do not fit them.
    """
    spec = spec_from_params(
        cell, params, num_layers=num_layers, bidirectional=bidirectional, nonlinearity=nonlinearity
    )
    x = np.asarray(x)
    mask = _check_inputs(spec, x, h0, c0, lengths)
    seq_len, batch, _ = x.shape
    n_states = spec.num_layers * spec.num_directions
    dtype = np.result_type(x, *params.values(), np.float32)
    h0 = np.zeros((n_states, batch, spec.output_size), dtype) if h0 is None else np.asarray(h0)
    c0 = np.zeros((n_states, batch, spec.hidden_size), dtype) if c0 is None else np.asarray(c0)
    cache = Cache(spec=spec, params=params, mask=mask, dtype=dtype)
    h_n, c_n = np.empty_like(h0, dtype=dtype), np.empty_like(c0, dtype=dtype)

    layer_in = x
    for layer in range(spec.num_layers):
        outputs, layer_steps = [], []
        for direction in range(spec.num_directions):
            p = _direction_params(params, layer, direction)
            idx = layer * spec.num_directions + direction
            h, c = h0[idx], c0[idx]
            out = np.zeros((seq_len, batch, spec.output_size), dtype)  # (L, N, H_out)
            steps: list[dict] = [{}] * seq_len
            times = range(seq_len) if direction == 0 else range(seq_len - 1, -1, -1)
            for t in times:
                if spec.cell == "lstm":
                    h_new, c_new, steps[t] = lstm_cell_forward(layer_in[t], h, c, p)
                    c = np.where(mask[t], c_new, c)
                elif spec.cell == "gru":
                    h_new, steps[t] = gru_cell_forward(layer_in[t], h, p)
                else:
                    h_new, steps[t] = rnn_cell_forward(layer_in[t], h, p, spec.nonlinearity)
                h = np.where(mask[t], h_new, h)  # padded steps keep the old state
                out[t] = np.where(mask[t], h_new, 0.0)  # ... and output zero
            h_n[idx], c_n[idx] = h, c
            outputs.append(out)
            layer_steps.append(steps)
        cache.steps.append(layer_steps)
        layer_in = np.concatenate(outputs, axis=2)  # (L, N, D*H_out)

    final: States = (h_n, c_n) if spec.cell == "lstm" else h_n
    return layer_in, final, cache


def backward(
    cache: Cache,
    d_output: np.ndarray | None = None,
    d_h_n: np.ndarray | None = None,
    d_c_n: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Backpropagation through time for ``forward``.

    Given the gradients of a loss with respect to what ``forward`` returned, walk the steps in
    reverse order of computation. At each step the gradient arriving at h_t is the sum of the
    gradient from the output and the gradient from the next step's state::

        dh_t += d_output_t                       (valid steps only)
        dx_t, dh_{t-1}, (dc_{t-1}), dW += cell_backward(dh_t, (dc_t))
        padded step: dh_{t-1} = dh_t, dc_{t-1} = dc_t, dx_t = 0

    The gradient of the layer's input becomes ``d_output`` of the layer below.

    Args:
        cache: from ``forward``.
        d_output: (L, N, D*H_out) gradient w.r.t. ``output``; zeros if None.
        d_h_n: (K*D, N, H_out) gradient w.r.t. h_n; zeros if None.
        d_c_n: (K*D, N, H) gradient w.r.t. c_n (LSTM only); zeros if None.

    Returns:
        dict with ``"input"`` (L, N, F), ``"h0"`` (K*D, N, H_out), ``"c0"`` (K*D, N, H, LSTM
        only) and one entry per parameter name, shaped like the parameter.
    """
    spec, mask = cache.spec, cache.mask
    seq_len, batch, _ = mask.shape
    n_states = spec.num_layers * spec.num_directions
    h_out, hidden = spec.output_size, spec.hidden_size
    dtype = cache.dtype

    def given(a: np.ndarray | None, shape: tuple[int, ...], name: str) -> np.ndarray:
        if a is None:
            return np.zeros(shape, dtype)
        if np.shape(a) != shape:
            raise ValueError(f"{name} must have shape {shape}, found {np.shape(a)}")
        return np.asarray(a)

    if d_c_n is not None and spec.cell != "lstm":
        raise ValueError(f"d_c_n is only for 'lstm', found it with cell {spec.cell!r}")
    d_out = given(d_output, (seq_len, batch, spec.num_directions * h_out), "d_output")
    d_h_n = given(d_h_n, (n_states, batch, h_out), "d_h_n")
    d_c_n = given(d_c_n, (n_states, batch, hidden), "d_c_n")
    grads: dict[str, np.ndarray] = {}
    d_h0, d_c0 = np.zeros_like(d_h_n), np.zeros_like(d_c_n)

    for layer in reversed(range(spec.num_layers)):
        d_in = None
        for direction in range(spec.num_directions):
            idx = layer * spec.num_directions + direction
            d_y = d_out[:, :, direction * h_out : (direction + 1) * h_out]  # (L, N, H_out)
            dh, dc = d_h_n[idx], d_c_n[idx]
            # Reverse order of the forward loop: the forward direction walks back from L-1.
            times = range(seq_len - 1, -1, -1) if direction == 0 else range(seq_len)
            for t in times:
                m, step = mask[t], cache.steps[layer][direction][t]
                dh_new = np.where(m, dh + d_y[t], 0.0)  # what reached the cell's output
                if spec.cell == "lstm":
                    dx, dh_prev, dc_prev, g = lstm_cell_backward(dh_new, np.where(m, dc, 0.0), step)
                    dc = np.where(m, dc_prev, dc)
                elif spec.cell == "gru":
                    dx, dh_prev, g = gru_cell_backward(dh_new, step)
                else:
                    dx, dh_prev, g = rnn_cell_backward(dh_new, step)
                dh = np.where(m, dh_prev, dh)  # padded steps pass the gradient straight through
                if d_in is None:
                    d_in = np.zeros((seq_len, *dx.shape), dx.dtype)  # (L, N, F_in)
                d_in[t] += dx
                suffix = _suffix(layer, direction)
                for name, value in g.items():
                    key = name + suffix
                    grads[key] = grads[key] + value if key in grads else value
            d_h0[idx], d_c0[idx] = dh, dc
        d_out = d_in

    grads["input"] = d_out
    grads["h0"] = d_h0
    if spec.cell == "lstm":
        grads["c0"] = d_c0
    return grads
