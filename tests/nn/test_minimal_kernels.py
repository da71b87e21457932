"""The minimal cells' whole-sequence kernel: gate maps against autograd, gradcheck in every
block layout, equality with the generic gated scan and with the step loop, errors."""

import pytest
import torch

from rnnkit.nn import length_mask
from rnnkit.nn import minimal_kernels as mk
from rnnkit.nn import sequence_kernels as sk
from rnnkit.nn.minimal import MinGRU, MinGRUGates, MinLSTM, MinLSTMGates
from rnnkit.nn.scan import gated_scan

DT = torch.float64

pytestmark = pytest.mark.usefixtures("one_thread")

CELLS = [("mingru", MinGRUGates(), 2), ("minlstm", MinLSTMGates(), 3)]
IDS = [c[0] for c in CELLS]


def gate_values(cell, step_gates, k, hid):
    """``a, c`` and the stored gates ``y`` of the kernel's map for ``k`` in the step's layout."""
    if cell == "mingru":  # the map reads [-k_z, k_h]
        k = torch.cat([-k[..., :hid], k[..., hid:]], -1)
    y = k.new_empty(*k.shape[:-1], mk.MINIMAL_GATES[cell].stored * hid)
    mk.MINIMAL_GATES[cell].forward(k, y)
    return y


@pytest.mark.parametrize("cell,step_gates,num", CELLS, ids=IDS)
def test_gate_map_matches_the_step_and_autograd(cell, step_gates, num):
    hid = 4
    g = torch.Generator().manual_seed(4)
    k = torch.randn(3, 2, num * hid, dtype=DT, generator=g)
    k[0, 0, :] = 0.0  # the kink of the candidate and equal gates
    k[1, 1, :2 * hid] = -80.0  # MinLSTM: both gates underflow together
    k = k.requires_grad_()
    w, c = step_gates.forward(k)  # the step's w (= 1 - a) and c, by autograd
    grad_a = torch.randn(w.shape, dtype=DT, generator=g)
    grad_c = torch.randn(c.shape, dtype=DT, generator=g)
    (expected,) = torch.autograd.grad((-w * grad_a).sum() + (c * grad_c).sum(), k)
    with torch.no_grad():
        y = gate_values(cell, step_gates, k, hid)
        torch.testing.assert_close(y[..., :hid], 1 - w, atol=1e-15, rtol=0)  # a
        torch.testing.assert_close(y[..., hid:2 * hid], c, atol=1e-15, rtol=0)
        dk = torch.empty_like(k)
        mk.MINIMAL_GATES[cell].backward(y, grad_a, grad_c, dk)
    if cell == "mingru":  # the map's gradient is with respect to -k_z
        dk[..., :hid].neg_()
    torch.testing.assert_close(dk, expected, atol=1e-14, rtol=0)


def inputs(num, seed, length=9, batch=3, features=2, hidden=4, bias=True):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(length, batch, features, dtype=DT, generator=g).requires_grad_()
    h0 = torch.randn(batch, hidden, dtype=DT, generator=g).requires_grad_()
    w = torch.randn(num * hidden, features, dtype=DT, generator=g).requires_grad_()
    b = torch.randn(num * hidden, dtype=DT, generator=g).requires_grad_() if bias else None
    return x, h0, w, b


MASK = length_mask(torch.tensor([9, 4, 1]), 9).T[..., None]  # (L, N, 1)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("cell,step_gates,num", CELLS, ids=IDS)
def test_gradcheck(scan_regime, cell, step_gates, num, masked, reverse):
    x, h0, w, b = inputs(num, seed=5)
    mask = MASK if masked else None
    assert torch.autograd.gradcheck(
        lambda *t: mk.minimal_sequence(t[0], t[1], cell, t[2], t[3], mask, reverse), (x, h0, w, b)
    )


@pytest.mark.parametrize("cell,step_gates,num", CELLS, ids=IDS)
def test_gradcheck_without_bias(cell, step_gates, num):
    x, h0, w, _ = inputs(num, seed=6, bias=False)
    assert torch.autograd.gradcheck(lambda *t: mk.minimal_sequence(t[0], t[1], cell, t[2]),
                                    (x, h0, w))


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("cell,step_gates,num", CELLS, ids=IDS)
def test_equals_the_generic_gated_scan(scan_regime, cell, step_gates, num, masked, reverse):
    x, h0, w, b = inputs(num, seed=7, length=40)
    mask = length_mask(torch.tensor([40, 23, 1]), 40).T[..., None] if masked else None
    weights = torch.randn(40, 3, 4, dtype=DT, generator=torch.Generator().manual_seed(8))
    results = []
    for run in (lambda: mk.minimal_sequence(x, h0, cell, w, b, mask, reverse),
                lambda: gated_scan(x, h0, step_gates, w, b, mask, reverse)):
        out = run()
        results.append((out, *torch.autograd.grad((out * weights).sum(), (x, h0, w, b))))
    for a, b_ in zip(*results, strict=True):
        torch.testing.assert_close(a, b_, atol=1e-12, rtol=0)


@pytest.mark.parametrize("cls", [MinGRU, MinLSTM])
def test_layer_runs_the_kernel_and_equals_the_step_loop(cls, monkeypatch):
    calls = []
    kernel = mk.minimal_sequence

    def spy(*args, **kwargs):
        calls.append(args[2])  # the cell name
        return kernel(*args, **kwargs)

    monkeypatch.setattr(mk, "minimal_sequence", spy)
    torch.manual_seed(0)
    layer = cls(3, 5, num_layers=2, bidirectional=True, dtype=DT)
    x = torch.randn(12, 4, 3, dtype=DT)
    lengths = torch.tensor([12, 7, 3, 1])
    results = []
    for loop in (False, True):
        layer.zero_grad()
        xg = x.clone().requires_grad_()
        if loop:
            with sk.disabled():
                out, h_n = layer(xg, lengths=lengths)
        else:
            out, h_n = layer(xg, lengths=lengths)
        (out.sin().sum() + h_n.square().sum()).backward()
        results.append([out, h_n, xg.grad, *(p.grad.clone() for p in layer.parameters())])
    assert calls == [cls.__name__.lower()] * 4  # one node per layer and direction, then the loop
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


def test_minlstm_gradients_stay_finite_when_both_gates_underflow():
    x, h0, w, b = inputs(3, seed=9, hidden=2)
    with torch.no_grad():
        b.copy_(torch.tensor([-200.0, -200.0, -300.0, -300.0, 1.0, 1.0], dtype=DT))
    out = mk.minimal_sequence(x, h0, "minlstm", w, b)
    grads = torch.autograd.grad(out.sum(), (x, h0, w, b))
    assert torch.isfinite(out).all() and all(torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("args,message", [
    (("mingru", torch.zeros(8, 2)), "weight"),
    (("gru", torch.zeros(8, 3)), "cell"),
])
def test_bad_arguments_raise(args, message):
    with pytest.raises(ValueError, match=message):
        mk.minimal_sequence(torch.zeros(5, 2, 3), torch.zeros(2, 4), *args)
