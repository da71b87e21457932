"""Whole-sequence LSTM/GRU/RNN kernels: gradcheck, equality with the step loop, fallbacks."""

import pytest
import torch

from rnnkit.nn import length_mask
from rnnkit.nn import sequence_kernels as sk
from rnnkit.nn.classic_cells import GRUSpec, LSTMSpec, RNNSpec
from rnnkit.nn.driver import run_direction

DT = torch.float64
L, N, F_IN, H, P = 5, 3, 2, 4, 2


def rand(*shape, generator, grad=True):
    return torch.randn(*shape, dtype=DT, generator=generator).requires_grad_(grad)


def masks():
    g = torch.Generator().manual_seed(7)
    scattered = torch.rand(L, N, 1, generator=g) > 0.4  # not a prefix: holes anywhere
    return {"none": None, "lengths": length_mask(torch.tensor([5, 2, 1]), L).T[..., None],
            "scattered": scattered}


MASKS = masks()


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("mask", list(MASKS))
@pytest.mark.parametrize("proj", [0, P])
def test_lstm_gradcheck(reverse, mask, proj):
    g = torch.Generator().manual_seed(0)
    out_size = proj or H
    args = (rand(L, N, 4 * H, generator=g), rand(N, out_size, generator=g), rand(N, H, generator=g),
            rand(4 * H, out_size, generator=g), rand(P, H, generator=g) if proj else None)
    assert torch.autograd.gradcheck(
        lambda *a: sk.lstm_sequence(*a, mask=MASKS[mask], reverse=reverse), args
    )


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("mask", list(MASKS))
@pytest.mark.parametrize("bias", [True, False])
def test_gru_gradcheck(reverse, mask, bias):
    g = torch.Generator().manual_seed(1)
    args = (rand(L, N, 3 * H, generator=g), rand(N, H, generator=g), rand(3 * H, H, generator=g),
            rand(3 * H, generator=g) if bias else None)
    assert torch.autograd.gradcheck(
        lambda *a: sk.gru_sequence(*a, mask=MASKS[mask], reverse=reverse), args
    )


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("mask", list(MASKS))
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_gradcheck(reverse, mask, nonlinearity):
    g = torch.Generator().manual_seed(2)
    args = (rand(L, N, H, generator=g), rand(N, H, generator=g), rand(H, H, generator=g))
    assert torch.autograd.gradcheck(
        lambda *a: sk.rnn_sequence(*a, nonlinearity=nonlinearity, mask=MASKS[mask],
                                   reverse=reverse),
        args,
    )


SPECS = [
    ("lstm", lambda: LSTMSpec(F_IN, H)),
    ("lstm-proj", lambda: LSTMSpec(F_IN, H, proj_size=P)),
    ("lstm-nobias", lambda: LSTMSpec(F_IN, H, bias=False)),
    ("gru", lambda: GRUSpec(F_IN, H)),
    ("gru-nobias", lambda: GRUSpec(F_IN, H, bias=False)),
    ("rnn-tanh", lambda: RNNSpec(F_IN, H)),
    ("rnn-relu", lambda: RNNSpec(F_IN, H, nonlinearity="relu")),
]


def make_inputs(spec, seed=3):
    g = torch.Generator().manual_seed(seed)
    params = {k: rand(*s, generator=g) for k, s in spec.parameter_shapes().items()}
    x = rand(L, N, F_IN, generator=g)
    state = tuple(rand(N, s, generator=g) for s in spec.state_sizes())
    return params, x, state


def run_and_grad(spec, params, x, state, mask, reverse):
    out, final = run_direction(spec, params, x, state, mask, reverse)
    g = torch.Generator().manual_seed(4)
    loss = (out * torch.randn(out.shape, dtype=DT, generator=g)).sum()
    for f in final:
        loss = loss + (f * torch.randn(f.shape, dtype=DT, generator=g)).sum()
    leaves = [x, *state, *params.values()]
    grads = torch.autograd.grad(loss, leaves)
    return out, final, grads


def kernel_calls(monkeypatch):
    """The names of the whole-sequence kernels called from now on, in order."""
    calls = []

    def spy(name, kernel):
        def counted(*args, **kwargs):
            calls.append(name)
            return kernel(*args, **kwargs)

        return counted

    for name in ("lstm_sequence", "gru_sequence", "rnn_sequence"):
        monkeypatch.setattr(sk, name, spy(name, getattr(sk, name)))
    return calls


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("mask", list(MASKS))
@pytest.mark.parametrize("name,make", SPECS, ids=[s[0] for s in SPECS])
def test_kernel_equals_step_loop(name, make, mask, reverse, monkeypatch):
    spec = make()
    params, x, state = make_inputs(spec)
    calls = kernel_calls(monkeypatch)
    fast = run_and_grad(spec, params, x, state, MASKS[mask], reverse)
    assert calls == [f"{name.split('-')[0]}_sequence"]  # the kernel ran, once
    with sk.disabled():
        slow = run_and_grad(spec, params, x, state, MASKS[mask], reverse)
    assert len(calls) == 1  # the step loop ran
    torch.testing.assert_close(fast[0], slow[0], atol=1e-12, rtol=0)
    for a, b in zip(fast[1], slow[1], strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)
    for a, b in zip(fast[2], slow[2], strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


def test_padded_steps_are_zero_and_leak_no_gradient():
    spec = LSTMSpec(F_IN, H)
    params, x, state = make_inputs(spec)
    mask = MASKS["lengths"]
    out, (h_n, c_n) = run_direction(spec, params, x, state, mask)
    assert torch.all(out[~mask.expand_as(out)] == 0)
    (grad_x,) = torch.autograd.grad((out.sum() + h_n.sum() + c_n.sum()), x)
    assert torch.all(grad_x[~mask.expand_as(grad_x)] == 0)
    torch.testing.assert_close(h_n[1], out[1, 1], atol=0, rtol=0)  # length 2: last valid step


def test_float32_matches_step_loop():
    spec = GRUSpec(F_IN, H)
    params, x, state = make_inputs(spec)
    params = {k: v.detach().float().requires_grad_() for k, v in params.items()}
    x = x.detach().float().requires_grad_()
    state = tuple(s.detach().float().requires_grad_() for s in state)
    fast = run_and_grad(spec, params, x, state, None, False)
    with sk.disabled():
        slow = run_and_grad(spec, params, x, state, None, False)
    for a, b in zip(fast[2], slow[2], strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_no_grad_inference_runs_the_kernel():
    spec = LSTMSpec(F_IN, H)
    params, x, state = make_inputs(spec)
    with torch.no_grad():
        out, _ = run_direction(spec, params, x, state)
        with sk.disabled():
            ref, _ = run_direction(spec, params, x, state)
    torch.testing.assert_close(out, ref, atol=1e-12, rtol=0)


class _ChangedStep(LSTMSpec):
    def step(self, params, x_proj, state, h_rec=None):
        h, c = super().step(params, x_proj, state, h_rec)
        return 2 * h, c


def test_falls_back_when_the_kernel_does_not_apply():
    spec = LSTMSpec(F_IN, H)
    params, x, state = make_inputs(spec)
    x_proj = spec.project_input(params, x)
    assert spec.run_sequence(params, x_proj, state, None, False) is not None
    # a subclass with other equations, a dtype the kernels do not take, or switched off
    assert _ChangedStep(F_IN, H).run_sequence(params, x_proj, state, None, False) is None
    half = {k: v.detach().half() for k, v in params.items()}
    half_state = tuple(s.detach().half() for s in state)
    assert spec.run_sequence(half, x_proj.detach().half(), half_state, None, False) is None
    with sk.disabled():
        assert not sk.is_enabled()
        assert spec.run_sequence(params, x_proj, state, None, False) is None
    assert sk.is_enabled()


def test_double_backward_needs_the_step_loop():
    spec = GRUSpec(F_IN, H)
    params, x, state = make_inputs(spec)
    out, _ = run_direction(spec, params, x, state)
    (gx,) = torch.autograd.grad(out.pow(2).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError):
        gx.sum().backward()
    with sk.disabled():
        out, _ = run_direction(spec, params, x, state)
        (gx,) = torch.autograd.grad(out.pow(2).sum(), x, create_graph=True)
        gx.sum().backward()  # works: the loop is differentiable twice
    assert params["weight_hh"].grad is not None
