"""Parallel scans and the minimal cells MinGRU, MinLSTM: scan == step loop, gradients, streaming."""

import pytest
import torch

from rnnkit.nn import length_mask, minimal_kernels
from rnnkit.nn import sequence_kernels as sk
from rnnkit.nn.minimal import (
    MinGRU,
    MinGRUCell,
    MinGRUGates,
    MinGRUSpec,
    MinLSTM,
    MinLSTMCell,
    MinLSTMGates,
    positive_candidate,
)
from rnnkit.nn.scan import gated_scan, linear_scan, linear_scan_reference

DT = torch.float64


def coefficients(shape, seed, low=0.0):
    g = torch.Generator().manual_seed(seed)
    a = (low + (1 - low) * torch.rand(*shape, dtype=DT, generator=g)).requires_grad_()
    b = torch.randn(*shape, dtype=DT, generator=g).requires_grad_()
    h0 = torch.randn(*shape[1:], dtype=DT, generator=g).requires_grad_()
    return a, b, h0


def values_and_grads(fn, a, b, h0):
    out = fn(a, b, h0)
    weights = torch.randn(out.shape, dtype=DT, generator=torch.Generator().manual_seed(9))
    return (out, *torch.autograd.grad((out * weights).sum(), (a, b, h0)))


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("chunk", [None, 1, 7])
@pytest.mark.parametrize("length", [1, 5, 33, 1000])
def test_linear_scan_equals_loop(length, chunk, reverse):
    a, b, h0 = coefficients((length, 2, 3), seed=length)
    fast = values_and_grads(lambda *t: linear_scan(*t, reverse=reverse, chunk=chunk), a, b, h0)
    slow = values_and_grads(lambda *t: linear_scan_reference(*t, reverse=reverse), a, b, h0)
    for x, y in zip(fast, slow, strict=True):
        torch.testing.assert_close(x, y, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("chunk", [None, 1, 3])
def test_linear_scan_gradcheck(chunk, reverse):
    a, b, h0 = coefficients((10, 2), seed=1)
    assert torch.autograd.gradcheck(
        lambda *t: linear_scan(*t, reverse=reverse, chunk=chunk), (a, b, h0)
    )


def test_linear_scan_long_sequence_with_tiny_coefficients_stays_finite():
    # products of a over a chunk underflow to zero: harmless, the result matches the loop
    a, b, _ = coefficients((4000, 3), seed=2)
    a = (a.detach() * 1e-3).float()
    b = b.detach().float()
    out = linear_scan(a, b, chunk=63)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, linear_scan_reference(a, b), atol=1e-6, rtol=1e-5)


def test_linear_scan_checks_its_arguments():
    a, b, h0 = coefficients((4, 2), seed=3)
    with pytest.raises(ValueError, match="one shape"):
        linear_scan(a, b[:3])
    with pytest.raises(ValueError, match="h0"):
        linear_scan(a, b, h0[:1])
    with pytest.raises(ValueError, match="chunk"):
        linear_scan(a, b, chunk=0)
    with pytest.raises(ValueError, match="L >= 1"):
        linear_scan(a[:0], b[:0])


def test_positive_candidate_and_its_derivative():
    x = torch.tensor([-3.0, -1e-20, 0.0, 1e-20, 2.0], dtype=DT, requires_grad=True)
    y = positive_candidate(x)
    torch.testing.assert_close(y, torch.where(x > 0, x + 0.5, torch.sigmoid(x)))
    (grad,) = torch.autograd.grad(y.sum(), x)
    s = torch.sigmoid(x.detach())
    torch.testing.assert_close(grad, torch.where(x > 0, torch.ones_like(s), s * (1 - s)))


GATES = [("mingru", MinGRUGates(), 2), ("minlstm", MinLSTMGates(), 3)]


@pytest.mark.parametrize("name,gates,num", GATES, ids=[g[0] for g in GATES])
def test_gates_backward_matches_autograd(name, gates, num):
    g = torch.Generator().manual_seed(4)
    k = torch.randn(3, 2, num * 4, dtype=DT, generator=g)
    k[0, 0, :] = 0.0  # the kink of g and equal gates
    k = k.requires_grad_()
    w, c = gates.forward(k)
    gw, gc = torch.randn(w.shape, dtype=DT, generator=g), torch.randn(c.shape, dtype=DT,
                                                                       generator=g)
    (expected,) = torch.autograd.grad((w * gw).sum() + (c * gc).sum(), k)
    with torch.no_grad():
        w0, c0 = gates.forward(k)
        torch.testing.assert_close(w0, w)
        torch.testing.assert_close(c0, c)
        out = torch.empty_like(k)
        gates.backward(k, w0, c0, gw, gc, out)
    torch.testing.assert_close(out, expected, atol=1e-14, rtol=0)


def scan_inputs(num, seed, length=6, batch=3, features=2, hidden=4, bias=True):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(length, batch, features, dtype=DT, generator=g).requires_grad_()
    h0 = torch.randn(batch, hidden, dtype=DT, generator=g).requires_grad_()
    w = torch.randn(num * hidden, features, dtype=DT, generator=g).requires_grad_()
    b = torch.randn(num * hidden, dtype=DT, generator=g).requires_grad_() if bias else None
    return x, h0, w, b


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("name,gates,num", GATES, ids=[g[0] for g in GATES])
def test_gated_scan_gradcheck(scan_regime, name, gates, num, masked, reverse):
    x, h0, w, b = scan_inputs(num, seed=5, length=9)
    mask = length_mask(torch.tensor([9, 4, 1]), 9).T[..., None] if masked else None  # (L, N, 1)
    assert torch.autograd.gradcheck(
        lambda *t: gated_scan(t[0], t[1], gates, t[2], t[3], mask, reverse), (x, h0, w, b)
    )


def test_gated_scan_without_bias():
    x, h0, w, _ = scan_inputs(2, seed=6, bias=False)
    assert torch.autograd.gradcheck(lambda *t: gated_scan(t[0], t[1], MinGRUGates(), t[2]),
                                    (x, h0, w))


def run_layer(module, x, h0, lengths, kernels):
    x = x.detach().clone().requires_grad_()
    h0 = h0.detach().clone().requires_grad_()
    module.zero_grad()
    if kernels:
        out, h_n = module(x, h0, lengths=lengths)
    else:
        with sk.disabled():
            out, h_n = module(x, h0, lengths=lengths)
    weights = torch.randn(out.shape, dtype=DT, generator=torch.Generator().manual_seed(8))
    ((out * weights).sum() + (h_n * h_n).sum()).backward()
    return [out, h_n, x.grad, h0.grad] + [p.grad.clone() for p in module.parameters()]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_lengths", [False, True])
@pytest.mark.parametrize("cls", [MinGRU, MinLSTM])
def test_layer_scan_equals_step_loop(scan_regime, cls, with_lengths, batch_first, bias):
    torch.manual_seed(0)
    layer = cls(3, 4, num_layers=2, bidirectional=True, batch_first=batch_first, bias=bias,
                dtype=DT)
    g = torch.Generator().manual_seed(1)
    length, batch = 8, 3
    shape = (batch, length, 3) if batch_first else (length, batch, 3)
    x = torch.randn(*shape, dtype=DT, generator=g)
    h0 = torch.randn(4, batch, 4, dtype=DT, generator=g)
    lengths = torch.tensor([8, 5, 1]) if with_lengths else None
    fast = run_layer(layer, x, h0, lengths, kernels=True)
    slow = run_layer(layer, x, h0, lengths, kernels=False)
    for a, b in zip(fast, slow, strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)
    if with_lengths:  # padded steps: zero output, state carried from the last valid step
        out = fast[0] if not batch_first else fast[0].transpose(0, 1)
        assert torch.all(out[5:, 1] == 0) and torch.all(out[1:, 2] == 0)


def test_the_scan_runs_and_long_sequences_agree(monkeypatch):
    calls = []
    kernel = minimal_kernels.minimal_sequence

    def spy(*args, **kwargs):
        calls.append(args[0].shape)  # x_proj (L, N, *)
        return kernel(*args, **kwargs)

    monkeypatch.setattr(minimal_kernels, "minimal_sequence", spy)
    torch.manual_seed(0)
    layer = MinGRU(2, 16, dtype=DT)
    x = torch.randn(1000, 2, 2, dtype=DT)
    x.requires_grad_()
    out, _ = layer(x)
    assert [shape[:2] for shape in calls] == [(1000, 2)]  # one scan over the whole sequence
    assert layer.last_path == "explicit"
    monkeypatch.undo()
    fast = run_layer(layer, x, torch.zeros(1, 2, 16, dtype=DT), None, kernels=True)
    slow = run_layer(layer, x, torch.zeros(1, 2, 16, dtype=DT), None, kernels=False)
    for a, b in zip(fast, slow, strict=True):
        torch.testing.assert_close(a, b, atol=1e-11, rtol=1e-11)


@pytest.mark.parametrize("layer_cls,cell_cls", [(MinGRU, MinGRUCell), (MinLSTM, MinLSTMCell)])
def test_streaming_one_step_at_a_time_equals_the_whole_sequence(layer_cls, cell_cls):
    torch.manual_seed(0)
    layer = layer_cls(3, 5, dtype=DT)
    cell = cell_cls(3, 5, dtype=DT)
    cell.load_state_dict({"weight_ih": layer.weight_ih_l0, "bias_ih": layer.bias_ih_l0})
    x = torch.randn(12, 2, 3, dtype=DT)
    whole, h_n = layer(x)
    h_layer = None
    h_cell = torch.zeros(2, 5, dtype=DT)
    for t in range(12):
        step_out, h_layer = layer(x[t:t + 1], h_layer)
        h_cell = cell(x[t], h_cell)
        torch.testing.assert_close(step_out[0], whole[t], atol=1e-13, rtol=0)
        torch.testing.assert_close(h_cell, whole[t], atol=1e-13, rtol=0)
    torch.testing.assert_close(h_layer, h_n, atol=1e-13, rtol=0)


def test_parameters_paths_and_errors():
    layer = MinGRU(3, 4, num_layers=2, bidirectional=True)
    names = [n for n, _ in layer.named_parameters()]
    assert names == ["weight_ih_l0", "bias_ih_l0", "weight_ih_l0_reverse", "bias_ih_l0_reverse",
                     "weight_ih_l1", "bias_ih_l1", "weight_ih_l1_reverse", "bias_ih_l1_reverse"]
    assert layer.weight_ih_l0.shape == (8, 3) and layer.weight_ih_l1.shape == (8, 8)
    assert MinLSTM(3, 4, bias=False).weight_ih_l0.shape == (12, 3)
    assert [n for n, _ in MinLSTM(3, 4, bias=False).named_parameters()] == ["weight_ih_l0"]
    assert "explicit" in layer.explain()
    with pytest.raises(ValueError, match="fast"):
        MinGRU(3, 4, path="fast")(torch.randn(5, 2, 3))
    assert isinstance(layer.specs[0], MinGRUSpec)


def test_minlstm_normalised_gates_stay_finite_when_both_underflow():
    layer = MinLSTM(1, 2)
    with torch.no_grad():
        layer.weight_ih_l0.zero_()
        layer.bias_ih_l0.copy_(torch.tensor([-200.0, -200.0, -300.0, -300.0, 1.0, 1.0]))
    out, _ = layer(torch.randn(6, 1, 1))
    assert torch.isfinite(out).all()
    # f = sigmoid(-200), i = sigmoid(-300): i' = i / (f + i) = sigmoid(-100), tiny but finite
    assert out.abs().max() < 1e-30
