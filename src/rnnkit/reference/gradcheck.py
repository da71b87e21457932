"""Gradient checking: hand-written backpropagation against central finite differences.

The derivative of a scalar loss f with respect to one number a_i is approximated by::

    df/da_i ~ (f(a + eps e_i) - f(a - eps e_i)) / (2 eps)

whose error shrinks like eps^2. In float64 with eps = 1e-6 the two gradients of a smooth
function agree to about 1e-9 relative error; a wrong backward pass is usually off by 1e-2 or more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from rnnkit.reference.layers import backward, forward

__all__ = ["check_gradients", "numerical_gradient", "relative_error"]


def numerical_gradient(f: Callable[[], float], a: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of ``f()`` with respect to every element of ``a``.

    ``f`` takes no arguments and must read ``a``, which is perturbed in place one element at a
    time and restored afterwards.

    Returns:
        an array shaped like ``a``.
    """
    grad = np.zeros(a.shape, dtype=np.float64)
    flat, gflat = a.reshape(-1), grad.reshape(-1)  # views
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        f_plus = f()
        flat[i] = old - eps
        f_minus = f()
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2.0 * eps)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """||analytic - numeric|| / (||analytic|| + ||numeric||), 0.0 when both are zero."""
    denom = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    if denom == 0.0:
        return 0.0
    return float(np.linalg.norm(analytic - numeric) / denom)


def check_gradients(
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
    eps: float = 1e-6,
    seed: int = 0,
) -> dict[str, float]:
    """Compare ``backward`` with central differences for every input of ``forward``.

    The loss is a random linear function of everything ``forward`` returns::

        loss = sum(G_y * output) + sum(G_h * h_n) (+ sum(G_c * c_n) for LSTM)

    so every output, final state and padded step takes part. Everything is cast to float64;
    h0 and c0 default to zeros and are checked too. Arguments are as for ``forward``.

    Returns:
        dict gradient name (``"input"``, ``"h0"``, ``"c0"``, parameter names) -> relative error.
    """
    rng = np.random.default_rng(seed)
    p = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    x = np.array(x, dtype=np.float64)
    kwargs = {"num_layers": num_layers, "bidirectional": bidirectional}
    out, final, _ = forward(cell, p, x, h0, c0, lengths, nonlinearity=nonlinearity, **kwargs)
    h_n = final[0] if cell == "lstm" else final
    h0 = np.zeros(h_n.shape) if h0 is None else np.array(h0, dtype=np.float64)
    inputs = {"input": x, "h0": h0}
    if cell == "lstm":
        inputs["c0"] = np.zeros(final[1].shape) if c0 is None else np.array(c0, dtype=np.float64)
    weights = [rng.standard_normal(out.shape), rng.standard_normal(h_n.shape)]
    if cell == "lstm":
        weights.append(rng.standard_normal(final[1].shape))

    def loss() -> float:
        o, f, _ = forward(
            cell, p, x, h0, inputs.get("c0"), lengths, nonlinearity=nonlinearity, **kwargs
        )
        results = [o, *f] if cell == "lstm" else [o, f]
        return float(sum(np.sum(w * r) for w, r in zip(weights, results, strict=True)))

    _, _, cache = forward(
        cell, p, x, h0, inputs.get("c0"), lengths, nonlinearity=nonlinearity, **kwargs
    )
    grads = backward(cache, *weights)
    errors = {}
    for name, array in {**inputs, **p}.items():
        errors[name] = relative_error(grads[name], numerical_gradient(loss, array, eps))
    return errors
