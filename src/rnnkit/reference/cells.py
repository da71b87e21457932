"""One time step of each recurrent cell, forward and backward, in plain NumPy.

Every function works on a batch: x (N, F_in), h (N, H_out), c (N, H). ``p`` holds one layer's
and one direction's parameters under short names (the torch name without ``_l0``)::

    p["weight_ih"] (G*H, F_in)   p["weight_hh"] (G*H, H_out)
    p["bias_ih"]   (G*H,)        p["bias_hh"]   (G*H,)       (both optional)
    p["weight_hr"] (H_out, H)                                (LSTM projection, optional)

A forward step returns the new state and a ``cache`` (a dict of what the backward step needs).
A backward step takes the gradient of the loss with respect to the new state and returns the
gradients with respect to the input, the previous state and every entry of ``p`` (same names).

Notation: x W^T is written ``x @ W.T``; sigma is the logistic sigmoid; * is elementwise.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = [
    "gru_cell_backward",
    "gru_cell_forward",
    "lstm_cell_backward",
    "lstm_cell_forward",
    "rnn_cell_backward",
    "rnn_cell_forward",
    "sigmoid",
]

Params = Mapping[str, np.ndarray]
Grads = dict[str, np.ndarray]


def sigmoid(a: np.ndarray) -> np.ndarray:
    """Logistic sigmoid 1 / (1 + exp(-a)), written as (1 + tanh(a/2)) / 2 to never overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _affine(x: np.ndarray, h: np.ndarray, p: Params) -> tuple[np.ndarray, np.ndarray]:
    """gi = x W_ih^T + b_ih and gh = h W_hh^T + b_hh, each (N, G*H)."""
    gi = x @ p["weight_ih"].T
    gh = h @ p["weight_hh"].T
    if "bias_ih" in p:
        gi = gi + p["bias_ih"]
        gh = gh + p["bias_hh"]
    return gi, gh


def _affine_backward(
    dgi: np.ndarray, dgh: np.ndarray, x: np.ndarray, h: np.ndarray, p: Params
) -> tuple[np.ndarray, np.ndarray, Grads]:
    """Backward of ``_affine``: returns dx (N, F_in), dh (N, H_out) and the parameter grads."""
    grads = {"weight_ih": dgi.T @ x, "weight_hh": dgh.T @ h}  # (G*H, F_in), (G*H, H_out)
    if "bias_ih" in p:
        grads["bias_ih"] = dgi.sum(axis=0)  # (G*H,)
        grads["bias_hh"] = dgh.sum(axis=0)
    return dgi @ p["weight_ih"], dgh @ p["weight_hh"], grads


# ----------------------------------------------------------------------------- RNN


def rnn_cell_forward(
    x: np.ndarray, h: np.ndarray, p: Params, nonlinearity: str = "tanh"
) -> tuple[np.ndarray, dict]:
    """Elman RNN step::

        h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh),   act = tanh or relu

    Returns:
        h' (N, H) and the cache for ``rnn_cell_backward``.
    """
    gi, gh = _affine(x, h, p)
    a = gi + gh  # (N, H)
    h_new = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0)
    return h_new, {"x": x, "h": h, "p": p, "a": a, "h_new": h_new, "nl": nonlinearity}


def rnn_cell_backward(dh_new: np.ndarray, cache: dict) -> tuple[np.ndarray, np.ndarray, Grads]:
    """Backward of ``rnn_cell_forward``::

        da = dh' * (1 - h'^2)   (tanh)      or   dh' * [a > 0]   (relu)
        dW_ih = da^T x,  dW_hh = da^T h,  db_ih = db_hh = sum_N da
        dx = da W_ih,    dh = da W_hh

    Returns:
        dx (N, F_in), dh (N, H) and grads with the keys of ``p``.
    """
    if cache["nl"] == "tanh":
        da = dh_new * (1.0 - cache["h_new"] ** 2)
    else:
        da = dh_new * (cache["a"] > 0)
    return _affine_backward(da, da, cache["x"], cache["h"], cache["p"])


# ----------------------------------------------------------------------------- LSTM


def lstm_cell_forward(
    x: np.ndarray, h: np.ndarray, c: np.ndarray, p: Params
) -> tuple[np.ndarray, np.ndarray, dict]:
    """LSTM step, gate order i, f, g, o as in torch::

        i = sigma(x W_ii^T + b_ii + h W_hi^T + b_hi)      input gate
        f = sigma(x W_if^T + b_if + h W_hf^T + b_hf)      forget gate
        g = tanh (x W_ig^T + b_ig + h W_hg^T + b_hg)      candidate cell
        o = sigma(x W_io^T + b_io + h W_ho^T + b_ho)      output gate
        c' = f * c + i * g
        h' = o * tanh(c')                   (no projection)
        h' = (o * tanh(c')) W_hr^T          (proj_size > 0)

    Returns:
        h' (N, H_out), c' (N, H) and the cache for ``lstm_cell_backward``.
    """
    gi, gh = _affine(x, h, p)
    a = gi + gh  # (N, 4H)
    hid = a.shape[1] // 4
    s = sigmoid(a)  # (N, 4H); i, f, o use it, g uses tanh instead
    i, f, o = s[:, :hid], s[:, hid : 2 * hid], s[:, 3 * hid :]  # each (N, H)
    g = np.tanh(a[:, 2 * hid : 3 * hid])
    c_new = f * c + i * g  # (N, H)
    tc = np.tanh(c_new)
    m = o * tc  # (N, H)
    h_new = m @ p["weight_hr"].T if "weight_hr" in p else m  # (N, H_out)
    cache = {"x": x, "h": h, "c": c, "p": p, "i": i, "f": f, "g": g, "o": o, "tc": tc, "m": m}
    return h_new, c_new, cache


def lstm_cell_backward(
    dh_new: np.ndarray, dc_new: np.ndarray, cache: dict
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Grads]:
    """Backward of ``lstm_cell_forward``::

        dm = dh' W_hr,  dW_hr = dh'^T m       (projection; otherwise dm = dh')
        do = dm * tanh(c')
        dc' += dm * o * (1 - tanh(c')^2)      (the gradient arriving through h')
        di = dc' * g,  dg = dc' * i,  df = dc' * c,  dc = dc' * f
        pre-activations: di*i*(1-i), df*f*(1-f), dg*(1-g^2), do*o*(1-o), then as for the RNN

    Returns:
        dx (N, F_in), dh (N, H_out), dc (N, H) and grads with the keys of ``p``.
    """
    p, i, f, g, o, tc = (cache[k] for k in ("p", "i", "f", "g", "o", "tc"))
    if "weight_hr" in p:
        dm = dh_new @ p["weight_hr"]  # (N, H)
        d_hr = dh_new.T @ cache["m"]  # (H_out, H)
    else:
        dm = dh_new
    dc = dc_new + dm * o * (1.0 - tc**2)
    da = np.concatenate(
        [
            dc * g * i * (1.0 - i),
            dc * cache["c"] * f * (1.0 - f),
            dc * i * (1.0 - g**2),
            dm * tc * o * (1.0 - o),
        ],
        axis=1,
    )  # (N, 4H)
    dx, dh, grads = _affine_backward(da, da, cache["x"], cache["h"], p)
    if "weight_hr" in p:
        grads["weight_hr"] = d_hr
    return dx, dh, dc * f, grads


# ----------------------------------------------------------------------------- GRU


def gru_cell_forward(x: np.ndarray, h: np.ndarray, p: Params) -> tuple[np.ndarray, dict]:
    """GRU step in torch's formulation, gate order r, z, n::

        r = sigma(x W_ir^T + b_ir + h W_hr^T + b_hr)          reset gate
        z = sigma(x W_iz^T + b_iz + h W_hz^T + b_hz)          update gate
        n = tanh (x W_in^T + b_in + r * (h W_hn^T + b_hn))    candidate
        h' = (1 - z) * n + z * h

    Note that r multiplies ``h W_hn^T + b_hn`` (after the matrix product), as torch and cuDNN
    do, not h before it as in the original paper.

    Returns:
        h' (N, H) and the cache for ``gru_cell_backward``.
    """
    gi, gh = _affine(x, h, p)
    hid = gh.shape[1] // 3
    rz = sigmoid(gi[:, : 2 * hid] + gh[:, : 2 * hid])  # (N, 2H)
    r, z = rz[:, :hid], rz[:, hid:]  # each (N, H)
    gh_n = gh[:, 2 * hid :]
    n = np.tanh(gi[:, 2 * hid :] + r * gh_n)
    h_new = (1.0 - z) * n + z * h
    return h_new, {"x": x, "h": h, "p": p, "r": r, "z": z, "n": n, "gh_n": gh_n}


def gru_cell_backward(dh_new: np.ndarray, cache: dict) -> tuple[np.ndarray, np.ndarray, Grads]:
    """Backward of ``gru_cell_forward``::

        dn = dh' * (1 - z),  dz = dh' * (h - n),  dh (direct path) = dh' * z
        da_n = dn * (1 - n^2)
        dr = da_n * (h W_hn^T + b_hn)
        da_r = dr * r * (1 - r),  da_z = dz * z * (1 - z)
        d(x-side pre-activations) = [da_r, da_z, da_n]
        d(h-side pre-activations) = [da_r, da_z, da_n * r]

    Returns:
        dx (N, F_in), dh (N, H) and grads with the keys of ``p``.
    """
    h, r, z, n = cache["h"], cache["r"], cache["z"], cache["n"]
    da_n = dh_new * (1.0 - z) * (1.0 - n**2)
    da_r = da_n * cache["gh_n"] * r * (1.0 - r)
    da_z = dh_new * (h - n) * z * (1.0 - z)
    dgi = np.concatenate([da_r, da_z, da_n], axis=1)  # (N, 3H)
    dgh = np.concatenate([da_r, da_z, da_n * r], axis=1)
    dx, dh, grads = _affine_backward(dgi, dgh, cache["x"], h, cache["p"])
    return dx, dh + dh_new * z, grads
