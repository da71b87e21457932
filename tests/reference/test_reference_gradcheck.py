"""Hand-written backpropagation through time against central finite differences (float64)."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit import reference as ref

TOL = 1e-6

# (cell, nonlinearity, proj_size)
CELLS = [
    ("rnn", "tanh", 0),
    ("rnn", "relu", 0),
    ("lstm", "tanh", 0),
    ("lstm", "tanh", 2),
    ("gru", "tanh", 0),
]
IDS = ["rnn_tanh", "rnn_relu", "lstm", "lstm_proj", "gru"]


def _setup(cell, nonlinearity, proj, num_layers, bidirectional, bias, seed=0):
    spec = ref.LayerSpec(
        cell,
        input_size=2,
        hidden_size=3,
        num_layers=num_layers,
        bidirectional=bidirectional,
        bias=bias,
        proj_size=proj,
        nonlinearity=nonlinearity,
    )
    rng = np.random.default_rng(seed)
    params = ref.init_params(spec, rng)
    # Scale weights up a little so that gates saturate partly and every term matters.
    params = {k: 1.5 * v for k, v in params.items()}
    x = rng.standard_normal((4, 3, 2))  # (L, N, F)
    d = spec.num_layers * spec.num_directions
    h0 = rng.standard_normal((d, 3, spec.output_size))
    c0 = rng.standard_normal((d, 3, spec.hidden_size)) if cell == "lstm" else None
    return spec, params, x, h0, c0


def _assert_small(errors: dict[str, float]) -> None:
    worst = max(errors, key=errors.get)
    assert errors[worst] < TOL, f"{worst}: relative error {errors[worst]:.2e}"


@pytest.mark.parametrize(("cell", "nonlinearity", "proj"), CELLS, ids=IDS)
def test_stacked_bidirectional_with_lengths(cell, nonlinearity, proj):
    spec, params, x, h0, c0 = _setup(cell, nonlinearity, proj, 2, True, True)
    lengths = np.array([4, 1, 2])
    errors = ref.check_gradients(cell, params, x, h0, c0, lengths, nonlinearity=nonlinearity)
    expected = {"input", "h0", *params} | ({"c0"} if cell == "lstm" else set())
    assert set(errors) == expected
    _assert_small(errors)


@pytest.mark.parametrize(("cell", "nonlinearity", "proj"), CELLS, ids=IDS)
def test_single_layer_no_bias_zero_initial_state(cell, nonlinearity, proj):
    _, params, x, _, _ = _setup(cell, nonlinearity, proj, 1, False, False, seed=1)
    _assert_small(ref.check_gradients(cell, params, x, nonlinearity=nonlinearity))


@pytest.mark.parametrize(("cell", "nonlinearity", "proj"), CELLS, ids=IDS)
def test_single_step_of_each_cell(cell, nonlinearity, proj):
    """The cell functions on their own: one step, gradient of a random linear loss."""
    _, params, x, h0, c0 = _setup(cell, nonlinearity, proj, 1, False, True, seed=2)
    p = {k.removesuffix("_l0"): v for k, v in params.items()}
    x, h, c = x[0], h0[0], None if c0 is None else c0[0]
    rng = np.random.default_rng(3)

    if cell == "lstm":
        wh, wc = rng.standard_normal(h.shape), rng.standard_normal(c.shape)

        def loss():
            h_new, c_new, _ = ref.lstm_cell_forward(x, h, c, p)
            return float(np.sum(wh * h_new) + np.sum(wc * c_new))

        _, _, cache = ref.lstm_cell_forward(x, h, c, p)
        dx, dh, dc, grads = ref.lstm_cell_backward(wh, wc, cache)
        analytic = {"x": dx, "h": dh, "c": dc, **grads}
        arrays = {"x": x, "h": h, "c": c, **p}
    else:
        w = rng.standard_normal((h.shape[0], 3))
        if cell == "gru":

            def step(x_, h_):
                return ref.gru_cell_forward(x_, h_, p)

            back = ref.gru_cell_backward
        else:

            def step(x_, h_):
                return ref.rnn_cell_forward(x_, h_, p, nonlinearity)

            back = ref.rnn_cell_backward

        def loss():
            return float(np.sum(w * step(x, h)[0]))

        dx, dh, grads = back(w, step(x, h)[1])
        analytic = {"x": dx, "h": dh, **grads}
        arrays = {"x": x, "h": h, **p}
    assert set(grads) == set(p)
    errors = {
        k: ref.relative_error(analytic[k], ref.numerical_gradient(loss, a))
        for k, a in arrays.items()
    }
    _assert_small(errors)


@pytest.mark.parametrize("many_to_many", [False, True], ids=["many_to_one", "many_to_many"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_network_gradients(cell, many_to_many):
    net = ref.Network.create(cell, 2, 3, 4, bidirectional=True, many_to_many=many_to_many, seed=4)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3, 2))
    lengths = np.array([2, 4, 3])
    targets = rng.integers(0, 4, size=(4, 3) if many_to_many else (3,))
    _, grads = net.loss_and_gradients(x, targets, lengths)
    assert set(grads) == set(net.params)

    def loss():
        return net.loss(x, targets, lengths)

    errors = {
        k: ref.relative_error(grads[k], ref.numerical_gradient(loss, net.params[k]))
        for k in net.params
    }
    _assert_small(errors)
