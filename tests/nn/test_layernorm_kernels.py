"""Whole-sequence LayerNormLSTM/LayerNormGRU kernels: gradcheck, equality with the step loop and
with the cells' equations, masks, both directions, stacking, fallbacks."""

import pytest
import torch

import rnnkit.nn
from rnnkit.nn import layernorm_kernels as lk
from rnnkit.nn import length_mask
from rnnkit.nn import sequence_kernels as sk
from rnnkit.nn.driver import run_direction
from rnnkit.nn.layernorm import LayerNormGRUSpec, LayerNormLSTMSpec

DT = torch.float64
L, N, F_IN, H = 5, 3, 2, 4

pytestmark = pytest.mark.usefixtures("one_thread")


def rand(*shape, generator, grad=True, scale=1.0):
    return (scale * torch.randn(*shape, dtype=DT, generator=generator)).requires_grad_(grad)


def masks():
    g = torch.Generator().manual_seed(7)
    scattered = torch.rand(L, N, 1, generator=g) > 0.4  # not a prefix: holes anywhere
    return {"none": None, "lengths": length_mask(torch.tensor([5, 2, 1]), L).T[..., None],
            "scattered": scattered}


MASKS = masks()


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("mask", list(MASKS))
@pytest.mark.parametrize("groups", [1, 4])
@pytest.mark.parametrize("shift", [True, False])
def test_lstm_gradcheck(reverse, mask, groups, shift):
    g = torch.Generator().manual_seed(0)
    args = (rand(L, N, 4 * H, generator=g), rand(N, H, generator=g), rand(N, H, generator=g),
            rand(4 * H, H, generator=g), rand(4 * H, generator=g), rand(H, generator=g),
            rand(H, generator=g) if shift else None)
    assert torch.autograd.gradcheck(
        lambda *a: lk.layernorm_lstm_sequence(*a, groups=groups, eps=1e-3, mask=MASKS[mask],
                                              reverse=reverse),
        args,
    )


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("mask", list(MASKS))
@pytest.mark.parametrize("groups", [1, 3])
@pytest.mark.parametrize("shift", [True, False])
def test_gru_gradcheck(reverse, mask, groups, shift):
    g = torch.Generator().manual_seed(1)
    args = (rand(L, N, 3 * H, generator=g), rand(N, H, generator=g), rand(3 * H, H, generator=g),
            rand(3 * H, generator=g), rand(3 * H, generator=g) if shift else None)
    assert torch.autograd.gradcheck(
        lambda *a: lk.layernorm_gru_sequence(*a, groups=groups, eps=1e-3, mask=MASKS[mask],
                                             reverse=reverse),
        args,
    )


SPECS = [
    ("lstm", lambda: LayerNormLSTMSpec(F_IN, H)),
    ("lstm-per-gate", lambda: LayerNormLSTMSpec(F_IN, H, per_gate=True, eps=1e-3)),
    ("lstm-nobias", lambda: LayerNormLSTMSpec(F_IN, H, bias=False)),
    ("gru", lambda: LayerNormGRUSpec(F_IN, H)),
    ("gru-per-gate", lambda: LayerNormGRUSpec(F_IN, H, per_gate=True)),
    ("gru-nobias", lambda: LayerNormGRUSpec(F_IN, H, bias=False)),
]


def make_inputs(spec, seed=3):
    """Random parameters (gains and shifts too, away from their init), input and state."""
    g = torch.Generator().manual_seed(seed)
    params = {k: rand(*s, generator=g, scale=0.7) for k, s in spec.parameter_shapes().items()}
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
    """The names of the layer-norm kernels called from now on, in order."""
    calls = []

    def spy(name, kernel):
        def counted(*args, **kwargs):
            calls.append(name)
            return kernel(*args, **kwargs)

        return counted

    for name in ("layernorm_lstm_sequence", "layernorm_gru_sequence"):
        monkeypatch.setattr(lk, name, spy(name, getattr(lk, name)))
    return calls


def assert_all_close(a, b, tol=1e-12):
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, atol=tol, rtol=tol)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("mask", list(MASKS))
@pytest.mark.parametrize("name,make", SPECS, ids=[s[0] for s in SPECS])
def test_kernel_equals_step_loop(name, make, mask, reverse, monkeypatch):
    spec = make()
    params, x, state = make_inputs(spec)
    calls = kernel_calls(monkeypatch)
    fast = run_and_grad(spec, params, x, state, MASKS[mask], reverse)
    assert calls == [f"layernorm_{name.split('-')[0]}_sequence"]  # the kernel ran, once
    with sk.disabled():
        slow = run_and_grad(spec, params, x, state, MASKS[mask], reverse)
    assert len(calls) == 1  # the step loop ran
    assert_all_close([fast[0]], [slow[0]])
    assert_all_close(fast[1], slow[1])
    assert_all_close(fast[2], slow[2])


def layer_pair(name, **options):
    torch.manual_seed(0)
    layer = getattr(rnnkit.nn, name)(F_IN, H, dtype=DT, **options)
    g = torch.Generator().manual_seed(8)
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(0.7 * torch.randn(p.shape, dtype=DT, generator=g))
    return layer


def forward_backward(layer, x, lengths, loop):
    layer.zero_grad(set_to_none=True)
    x = x.detach().requires_grad_()
    if loop:
        with sk.disabled():
            out, finals = layer(x, lengths=lengths)
    else:
        out, finals = layer(x, lengths=lengths)
    finals = finals if isinstance(finals, tuple) else (finals,)
    weights = torch.linspace(-1, 1, out.numel(), dtype=DT).view_as(out)
    loss = (out * weights).sum() + sum((f ** 2).sum() for f in finals)
    loss.backward()
    return [out, *finals, x.grad, *(p.grad for p in layer.parameters())]


@pytest.mark.parametrize("lengths", [None, [5, 2, 1]])
@pytest.mark.parametrize("name,options", [
    ("LayerNormLSTM", {}), ("LayerNormLSTM", {"per_gate": True}),
    ("LayerNormGRU", {}), ("LayerNormGRU", {"per_gate": True, "bias": False}),
])
def test_stacked_bidirectional_layer_equals_step_loop(name, options, lengths, monkeypatch):
    layer = layer_pair(name, num_layers=2, bidirectional=True, **options)
    x = torch.randn(L, N, F_IN, dtype=DT, generator=torch.Generator().manual_seed(9))
    lengths = None if lengths is None else torch.tensor(lengths)
    calls = kernel_calls(monkeypatch)
    fast = forward_backward(layer, x, lengths, loop=False)
    assert len(calls) == 4  # one node per layer and direction
    slow = forward_backward(layer, x, lengths, loop=True)
    assert len(calls) == 4
    assert_all_close(fast, slow, tol=1e-11)
    assert layer.last_path == "explicit"


@pytest.mark.parametrize("name", ["LayerNormLSTM", "LayerNormGRU"])
def test_bidirectional_with_lengths_follows_the_cell_equations(name):
    """Each sequence alone, its valid steps only, through the cell's one-step equations."""
    layer = layer_pair(name, bidirectional=True)
    cell = getattr(rnnkit.nn, name + "Cell")(F_IN, H, dtype=DT)
    x = torch.randn(L, N, F_IN, dtype=DT, generator=torch.Generator().manual_seed(10))
    lengths = torch.tensor([5, 2, 1])
    out, finals = layer(x, lengths=lengths)
    h_n = finals[0] if isinstance(finals, tuple) else finals
    for direction, steps in ((0, lambda n: range(n)), (1, lambda n: range(n - 1, -1, -1))):
        params = layer.cell_parameters(0, direction)
        with torch.no_grad():
            for base, p in cell.named_parameters():
                p.copy_(params[base])
        for b, n in enumerate(lengths.tolist()):
            state = None
            for t in steps(n):
                state = cell(x[t, b:b + 1], state)
                h = state[0] if isinstance(state, tuple) else state
                torch.testing.assert_close(out[t, b, direction * H:(direction + 1) * H], h[0],
                                           atol=1e-12, rtol=0)
            torch.testing.assert_close(h_n[direction, b], h[0], atol=1e-12, rtol=0)
            assert torch.all(out[n:, b] == 0)  # padded steps are zero


def test_float32_matches_step_loop():
    spec = LayerNormLSTMSpec(F_IN, H)
    params, x, state = make_inputs(spec)
    params = {k: v.detach().float().requires_grad_() for k, v in params.items()}
    x = x.detach().float().requires_grad_()
    state = tuple(s.detach().float().requires_grad_() for s in state)
    fast = run_and_grad(spec, params, x, state, MASKS["lengths"], False)
    with sk.disabled():
        slow = run_and_grad(spec, params, x, state, MASKS["lengths"], False)
    for a, b in zip(fast[2], slow[2], strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


class _ChangedStep(LayerNormGRUSpec):
    def step(self, params, x_proj, state, h_rec=None):
        return (2 * super().step(params, x_proj, state, h_rec)[0],)


def test_falls_back_when_the_kernel_does_not_apply():
    spec = LayerNormGRUSpec(F_IN, H)
    params, x, state = make_inputs(spec)
    x_proj = spec.project_input(params, x)
    assert spec.run_sequence(params, x_proj, state, None, False) is not None
    assert _ChangedStep(F_IN, H).run_sequence(params, x_proj, state, None, False) is None
    half = {k: v.detach().half() for k, v in params.items()}
    half_state = tuple(s.detach().half() for s in state)
    assert spec.run_sequence(half, x_proj.detach().half(), half_state, None, False) is None
    with sk.disabled():
        assert spec.run_sequence(params, x_proj, state, None, False) is None


def test_recurrent_dropout_runs_the_step_loop(monkeypatch):
    layer = rnnkit.nn.LayerNormLSTM(F_IN, H, recurrent_dropout=0.5).train()
    calls = kernel_calls(monkeypatch)
    layer(torch.randn(L, N, F_IN))
    assert calls == []
    layer.eval()(torch.randn(L, N, F_IN))  # no dropout in evaluation: the kernel runs
    assert calls == ["layernorm_lstm_sequence"]


@pytest.mark.parametrize("kernel,width,groups", [
    (lk.layernorm_lstm_sequence, 4 * H, 3), (lk.layernorm_gru_sequence, 3 * H, 0),
])
def test_bad_groups_raise(kernel, width, groups):
    x = torch.zeros(L, N, width)
    h = torch.zeros(N, H)
    w = torch.zeros(width, H)
    args = (x, h, h, w, torch.ones(width), torch.ones(H), None) if width == 4 * H else (
        x, h, w, torch.ones(width), None)
    with pytest.raises(ValueError, match="groups"):
        kernel(*args, groups=groups)
