"""RecurrentLayer.step: stepping through a sequence equals forward over it, for every layer."""

import doctest

import pytest
import torch

import rnnkit.nn
from rnnkit.nn import LAYERS, RecurrentLayer

ATOL = 1e-12


def as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def random_state(layer: RecurrentLayer, batch: int):
    """An initial state of ``layer``: h, or (h, c), each (num_layers, N, S)."""
    states = tuple(
        torch.randn(layer.num_layers, batch, size, dtype=torch.float64)
        for size in layer.state_sizes
    )
    return states if len(states) > 1 else states[0]


def step_through(layer: RecurrentLayer, x, state, time_dim: int):
    """Every step's output stacked along ``time_dim``, and the final state."""
    outputs = []
    for t in range(x.shape[time_dim]):
        out, state = layer.step(x.select(time_dim, t), state)
        outputs.append(out)
    return torch.stack(outputs, dim=time_dim), state


def assert_states_equal(a, b):
    assert len(as_tuple(a)) == len(as_tuple(b))
    for got, want in zip(as_tuple(a), as_tuple(b), strict=True):
        torch.testing.assert_close(got, want, atol=ATOL, rtol=0)


@pytest.mark.parametrize("cell", list(LAYERS))
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("initial", [False, True], ids=["zero_state", "initial_state"])
def test_stepping_equals_forward(one_thread, cell, num_layers, batch_first, initial):
    torch.manual_seed(0)
    layer = LAYERS[cell](3, 5, num_layers, batch_first=batch_first, dtype=torch.float64).eval()
    x = torch.randn(2, 6, 3, dtype=torch.float64)  # (N, L, H_in)
    if not batch_first:
        x = x.transpose(0, 1).contiguous()  # (L, N, H_in)
    hx = random_state(layer, 2) if initial else None
    whole, whole_state = layer(x, hx)
    stepped, state = step_through(layer, x, hx, 1 if batch_first else 0)
    assert stepped.shape == whole.shape
    torch.testing.assert_close(stepped, whole, atol=ATOL, rtol=0)
    assert_states_equal(state, whole_state)


@pytest.mark.parametrize("cell", list(LAYERS))
def test_stepping_with_zoneout_in_eval_equals_forward(one_thread, cell):
    # zoneout acts in evaluation too (as its expectation), so the step must apply it as forward
    torch.manual_seed(0)
    layer = LAYERS[cell](3, 4, 2, batch_first=True, zoneout=0.3, dtype=torch.float64).eval()
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    whole, whole_state = layer(x)
    plain = LAYERS[cell](3, 4, 2, batch_first=True, dtype=torch.float64).eval()
    plain.load_state_dict(layer.state_dict())
    assert not torch.allclose(plain(x)[0], whole)  # zoneout changes the result
    stepped, state = step_through(layer, x, None, 1)
    torch.testing.assert_close(stepped, whole, atol=ATOL, rtol=0)
    assert_states_equal(state, whole_state)


@pytest.mark.parametrize("cell", ["lstm", "gru", "mingru"])
def test_unbatched_step(one_thread, cell):
    torch.manual_seed(0)
    layer = LAYERS[cell](3, 4, 2, dtype=torch.float64).eval()
    x = torch.randn(5, 3, dtype=torch.float64)  # (L, H_in), unbatched
    whole, whole_state = layer(x)
    stepped, state = step_through(layer, x, None, 0)
    assert stepped.shape == (5, 4)
    torch.testing.assert_close(stepped, whole, atol=ATOL, rtol=0)
    assert_states_equal(state, whole_state)
    assert as_tuple(state)[0].shape == (2, 4)  # (num_layers, H)


@pytest.mark.parametrize("cell", list(LAYERS))
def test_bidirectional_layer_cannot_be_stepped(cell):
    layer = LAYERS[cell](3, 4, bidirectional=True)
    name = type(layer).__name__
    with pytest.raises(ValueError, match=f"^{name}.step: a bidirectional layer reads the whole"):
        layer.step(torch.randn(2, 3))


def test_step_input_must_be_one_step():
    layer = rnnkit.nn.GRU(3, 4, batch_first=True)
    with pytest.raises(ValueError, match=r"GRU.step: expected input of shape \(N, H_in\)"):
        layer.step(torch.randn(2, 1, 3))  # a sequence, not a step


def test_step_docstring_example_runs():
    torch.manual_seed(0)
    (test,) = doctest.DocTestFinder().find(RecurrentLayer.step, "step", globs={})
    assert test.examples
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    assert runner.run(test, out=lambda text: pytest.fail(text)).failed == 0
