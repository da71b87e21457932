"""Variational input/recurrent dropout, zoneout and weight drop on every layer."""

import pytest
import torch
from torch.func import functional_call

import rnnkit.nn
from rnnkit.nn.cell_api import CellSpec
from rnnkit.nn.classic_cells import LSTMSpec
from rnnkit.nn.recurrent_layer import RecurrentLayer
from rnnkit.nn.regularizers import Regularizers

DT = torch.float64
TOL = 1e-10
F_IN, H, L, N = 3, 4, 5, 3

LAYERS = ["RNN", "LSTM", "GRU", "LayerNormLSTM", "LayerNormGRU", "PeepholeLSTM", "IndRNN"]
DROPOUTS = {"input_dropout": 0.3, "recurrent_dropout": 0.4, "weight_drop": 0.5}

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py: tiny tensors


def make(name, seed=0, **kwargs):
    torch.manual_seed(seed)
    return getattr(rnnkit.nn, name)(F_IN, H, dtype=DT, **kwargs)


def as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def record_steps(spec):
    """Wrap ``spec.step`` to record every call's arguments and result."""
    calls = []
    step = spec.step

    def recording(params, x_proj, state, h_rec=None):
        new = step(params, x_proj, state) if h_rec is None else step(params, x_proj, state, h_rec)
        calls.append({"params": params, "state": state, "h_rec": h_rec, "new": new})
        return new

    spec.step = recording
    return calls


# -- settings and errors ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"input_dropout": 1.0}, r"input_dropout must be a number in \[0, 1\)"),
        ({"recurrent_dropout": -0.1}, "recurrent_dropout"),
        ({"weight_drop": True}, "weight_drop"),
        ({"zoneout": 1.5}, "zoneout"),
        ({"zoneout": "0.1"}, "zoneout"),
        ({"zoneout": (0.1, 0.2, 0.3)}, "pair"),
    ],
)
def test_bad_rates_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rnnkit.nn.LSTM(F_IN, H, **kwargs)


def test_zoneout_pair_needs_a_c_state():
    rnnkit.nn.PeepholeLSTM(F_IN, H, zoneout=(0.1, 0.2))
    for name in ("GRU", "RNN", "IndRNN", "LayerNormGRU"):
        with pytest.raises(ValueError, match=r"zoneout=\(h, c\) needs"):
            getattr(rnnkit.nn, name)(F_IN, H, zoneout=(0.1, 0.2))


class _NoHRecSpec(CellSpec):
    """A cell whose step does not take h_rec; its parameters have no weight_hh."""

    def parameter_shapes(self):
        return {"weight_ih": (self.hidden_size, self.input_size)}

    def project_input(self, params, x):
        return x @ params["weight_ih"].T

    def step(self, params, x_proj, state):
        return (torch.tanh(x_proj + state[0]),)


class _NoHRecLayer(RecurrentLayer):
    spec_class = _NoHRecSpec


def test_cells_that_cannot_take_a_regularizer_say_so():
    _NoHRecLayer(F_IN, H, input_dropout=0.5, zoneout=0.1)
    with pytest.raises(ValueError, match="recurrent_dropout needs a cell whose step"):
        _NoHRecLayer(F_IN, H, recurrent_dropout=0.5)
    with pytest.raises(ValueError, match="weight_drop drops entries of weight_hh"):
        _NoHRecLayer(F_IN, H, weight_drop=0.5)


def test_settings_are_visible():
    layer = rnnkit.nn.GRU(F_IN, H, recurrent_dropout=0.25, zoneout=0.1)
    assert (layer.input_dropout, layer.recurrent_dropout, layer.zoneout, layer.weight_drop) == (
        0.0, 0.25, 0.1, 0.0)
    assert layer.regularizers == Regularizers(0.0, 0.25, 0.1, 0.0)
    assert "recurrent_dropout=0.25, zoneout=0.1" in repr(layer)
    assert "dropout" not in repr(rnnkit.nn.GRU(F_IN, H))


# -- path choice ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_active_regularizers_force_the_explicit_path(name):
    layer = make(name, **DROPOUTS)
    x = torch.randn(L, N, F_IN, dtype=DT)
    assert "regularizers act in training mode" in layer.explain()
    layer(x)
    assert layer.last_path == "explicit"
    assert "input_dropout=0.3, recurrent_dropout=0.4, weight_drop=0.5" in layer.explain()
    assert "recurrent_dropout acts in every step" in layer.explain()
    layer.eval()  # dropout-like regularizers do nothing in evaluation: the fused kernel runs
    layer(x)
    assert layer.last_path == "fast"
    zoned = make(name, zoneout=0.2).eval()
    zoned(x)
    assert zoned.last_path == "explicit"
    assert "regularizers act in evaluation mode (zoneout=0.2)" in zoned.explain()
    fast = make(name, path="fast", input_dropout=0.1)
    with pytest.raises(ValueError, match="path='fast'.*input_dropout=0.1"):
        fast(x)
    fast.eval()(x)


class _SpyLSTMSpec(LSTMSpec):
    fused_mode = None
    calls: list[str] = []

    def run_sequence(self, params, x_proj, state, mask, reverse):
        self.calls.append("run_sequence")
        return None


class _SpyLSTM(RecurrentLayer):
    spec_class = _SpyLSTMSpec


@pytest.mark.parametrize(
    "kwargs,expected",
    [
        ({"input_dropout": 0.5, "weight_drop": 0.5}, True),
        ({"recurrent_dropout": 0.5}, False),
        ({"zoneout": 0.5}, False),
    ],
)
def test_per_step_regularizers_bypass_run_sequence(kwargs, expected):
    layer = _SpyLSTM(F_IN, H, dtype=DT, **kwargs)
    _SpyLSTMSpec.calls.clear()
    layer(torch.randn(L, N, F_IN, dtype=DT))
    assert bool(_SpyLSTMSpec.calls) == expected


# -- evaluation: nothing but zoneout's expectation ------------------------------------------
@pytest.mark.parametrize("name", LAYERS)
def test_evaluation_equals_the_plain_layer(name):
    kwargs = {"num_layers": 2, "bidirectional": True}
    plain = make(name, **kwargs).eval()
    regularized = make(name, **kwargs, **DROPOUTS).eval()
    x = torch.randn(L, N, F_IN, dtype=DT)
    lengths = torch.tensor([5, 3, 1])
    out, finals = plain(x, lengths=lengths)
    for _ in range(2):  # deterministic
        out_r, finals_r = regularized(x, lengths=lengths)
        assert torch.equal(out_r, out)
        for a, b in zip(as_tuple(finals_r), as_tuple(finals), strict=True):
            assert torch.equal(a, b)


@pytest.mark.parametrize("name", LAYERS)
def test_zoneout_evaluation_is_the_expectation(name):
    zoneout = (0.3, 0.6) if name in ("LSTM", "LayerNormLSTM", "PeepholeLSTM") else 0.3
    layer = make(name, zoneout=zoneout).eval()
    cell_name = {"RNN": "RNNCell", "LSTM": "LSTMCell", "GRU": "GRUCell"}.get(name, name + "Cell")
    cell = getattr(rnnkit.nn, cell_name)(F_IN, H, dtype=DT)
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in layer.state_dict().items()})
    rates = zoneout if isinstance(zoneout, tuple) else (zoneout, zoneout)
    x = torch.randn(L, N, F_IN, dtype=DT)
    out, finals = layer(x)
    state = tuple(torch.zeros(N, H, dtype=DT) for _ in layer.state_sizes)
    for t in range(L):
        fresh = as_tuple(cell(x[t], state if len(state) > 1 else state[0]))
        state = tuple(p * old + (1 - p) * new
                      for p, old, new in zip(rates, state, fresh, strict=False))
        torch.testing.assert_close(out[t], state[0], atol=TOL, rtol=0)
    for a, b in zip(as_tuple(finals), state, strict=True):
        torch.testing.assert_close(a[0], b, atol=TOL, rtol=0)


# -- training: the masks ----------------------------------------------------------------------
def test_input_dropout_one_mask_per_sequence():
    p = 0.5
    layer = rnnkit.nn.RNN(16, 16, bias=False, dtype=DT, input_dropout=p)
    with torch.no_grad():  # h_t = tanh(m * x_t): the mask shows in the output
        layer.weight_ih_l0.copy_(torch.eye(16, dtype=DT))
        layer.weight_hh_l0.zero_()
    out, _ = layer(torch.ones(6, 8, 16, dtype=DT))
    dropped = out == 0  # (L, N, F)
    assert torch.equal(dropped, dropped[:1].expand_as(dropped))  # same mask at every step
    assert len({tuple(row.tolist()) for row in dropped[0]}) > 1  # differs across sequences
    torch.testing.assert_close(out[~dropped], torch.tanh(torch.tensor(1 / (1 - p), dtype=DT))
                               .expand(int((~dropped).sum())))
    assert 0.3 < dropped.double().mean() < 0.7
    layer.eval()
    assert torch.all(layer(torch.ones(6, 8, 16, dtype=DT))[0] != 0)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU", "LayerNormGRU", "PeepholeLSTM"])
def test_recurrent_dropout_one_mask_per_sequence(name):
    p = 0.5
    layer = make(name, recurrent_dropout=p)
    calls = record_steps(layer.specs[0])
    g = torch.Generator().manual_seed(3)
    x = torch.randn(L, 8, F_IN, dtype=DT, generator=g)
    hx = tuple(torch.randn(1, 8, H, dtype=DT, generator=g) for _ in layer.state_sizes)
    layer(x, hx if len(hx) > 1 else hx[0])
    assert len(calls) == L
    masks = [c["h_rec"] / c["state"][0] for c in calls]  # (N, H) each
    for mask in masks:
        torch.testing.assert_close(mask, masks[0], atol=1e-12, rtol=0)
    assert set(masks[0].round(decimals=9).unique().tolist()) == {0.0, 1 / (1 - p)}
    assert len({tuple(row.tolist()) for row in masks[0]}) > 1
    layer(x, hx if len(hx) > 1 else hx[0])  # a new forward pass draws new masks
    assert not torch.equal(calls[L]["h_rec"] / calls[L]["state"][0], masks[0])


def _manual_gru(params, x_proj, h, h_rec):
    hidden = h_rec @ params["weight_hh"].T + params["bias_hh"]
    r = torch.sigmoid(x_proj[:, :H] + hidden[:, :H])
    z = torch.sigmoid(x_proj[:, H:2 * H] + hidden[:, H:2 * H])
    n = torch.tanh(x_proj[:, 2 * H:] + r * hidden[:, 2 * H:])
    return (1 - z) * n + z * h  # the interpolation reads the true h_{t-1}


@pytest.mark.parametrize("name", LAYERS)
def test_h_rec_replaces_h_only_in_the_recurrent_product(name):
    layer = make(name)
    spec, params = layer.specs[0], layer.cell_parameters(0)
    g = torch.Generator().manual_seed(4)
    x_proj = spec.project_input(params, torch.randn(N, F_IN, dtype=DT, generator=g))
    state = tuple(torch.randn(N, s, dtype=DT, generator=g) for s in spec.state_sizes())
    h_rec = state[0] * torch.randint(0, 2, state[0].shape, generator=g) * 2.0
    new = spec.step(params, x_proj, state, h_rec=h_rec)
    for a, b in zip(spec.step(params, x_proj, state, h_rec=None), spec.step(params, x_proj, state),
                    strict=True):
        assert torch.equal(a, b)
    if name == "GRU":
        torch.testing.assert_close(new[0], _manual_gru(params, x_proj, state[0], h_rec))
    elif name == "LayerNormGRU":  # h_{t-1} also enters the interpolation, unmasked there:
        # new = n + z (h - n) and, with h_rec as the state, n + z (h_rec - n): same n and z
        as_if_state = spec.step(params, x_proj, (h_rec,))[0]
        differs = state[0] != h_rec
        z = (new[0] - as_if_state)[differs] / (state[0] - h_rec)[differs]
        assert differs.any() and torch.all((z > 0) & (z < 1))
        assert torch.equal(new[0][~differs], as_if_state[~differs])
    else:  # h_{t-1} enters only the recurrent product
        for a, b in zip(new, spec.step(params, x_proj, (h_rec, *state[1:])), strict=True):
            torch.testing.assert_close(a, b, atol=1e-14, rtol=0)


def test_zoneout_training_keeps_or_updates_each_unit():
    layer = make("LSTM", zoneout=(0.4, 0.7))
    calls = record_steps(layer.specs[0])
    x = torch.randn(L, 16, F_IN, dtype=DT)
    out, (h_n, c_n) = layer(x)
    kept_h = []
    for t, call in enumerate(calls):
        old, fresh = call["state"][0], call["new"][0]
        kept = out[t] == old
        assert torch.all(kept | (out[t] == fresh))
        kept_h.append(kept & (old != fresh))
    c_old, c_fresh = calls[-1]["state"][1], calls[-1]["new"][1]
    assert torch.all((c_n[0] == c_old) | (c_n[0] == c_fresh))
    kept_h = torch.stack(kept_h)
    assert 0.2 < kept_h.double().mean() < 0.6
    assert not torch.equal(kept_h[1], kept_h[2])  # a fresh mask at every step (as the paper)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "IndRNN", "LayerNormLSTM"])
def test_zoneout_training_average_is_the_evaluation_formula(name):
    zoneout = (0.3, 0.6) if "LSTM" in name else 0.3
    layer = make(name, zoneout=zoneout)
    batch = 4000
    g = torch.Generator().manual_seed(5)
    x = torch.randn(1, 1, F_IN, dtype=DT, generator=g).expand(1, batch, F_IN)
    h0 = tuple(torch.randn(1, 1, s, dtype=DT, generator=g).expand(1, batch, s)
               for s in layer.state_sizes)
    hx = h0 if len(h0) > 1 else h0[0]
    torch.manual_seed(6)
    out, finals = layer(x, hx)
    layer.eval()
    out_eval, finals_eval = layer(x, hx)
    torch.testing.assert_close(out.mean(1), out_eval[:, 0], atol=0.03, rtol=0)
    for a, b in zip(as_tuple(finals), as_tuple(finals_eval), strict=True):
        torch.testing.assert_close(a.mean(1), b[:, 0], atol=0.03, rtol=0)


@pytest.mark.parametrize("name", ["GRU", "PeepholeLSTM", "IndRNN"])
def test_weight_drop_one_mask_per_forward_pass(name):
    p = 0.5
    layer = make(name, weight_drop=p)
    weight = layer.weight_hh_l0.detach().clone()
    spec = layer.specs[0]
    seen = []  # weight_hh as the step loop or the cell's run_sequence receives it
    run_sequence = spec.run_sequence

    def recording_run_sequence(params, *args):
        seen.append(params["weight_hh"])
        return run_sequence(params, *args)

    spec.run_sequence = recording_run_sequence
    calls = record_steps(spec)
    x = torch.randn(L, N, F_IN, dtype=DT)
    out, _ = layer(x)
    seen += [c["params"]["weight_hh"] for c in calls]
    assert all(d is seen[0] for d in seen)  # one tensor for every step and sequence
    kept = seen[0] != 0
    torch.testing.assert_close(seen[0][kept], weight[kept] / (1 - p))
    assert 0.15 < kept.double().mean() < 0.85
    out.sum().backward()
    assert torch.all(layer.weight_hh_l0.grad[~kept] == 0)
    assert torch.equal(layer.weight_hh_l0.detach(), weight)  # the parameter is untouched
    seen.clear()
    layer(x)
    assert not torch.equal(seen[0] != 0, kept)  # a new forward pass draws a new mask


@pytest.mark.parametrize("name", LAYERS)
def test_training_with_every_regularizer(name):
    zoneout = (0.1, 0.2) if "LSTM" in name else 0.1
    layer = make(name, num_layers=2, bidirectional=True, merge_mode="sum", dropout=0.2,
                 zoneout=zoneout, **DROPOUTS)
    x = torch.randn(L, N, F_IN, dtype=DT, requires_grad=True)
    lengths = torch.tensor([5, 2, 4])
    out, finals = layer(x, lengths=lengths)
    assert torch.all(out[2:, 1] == 0)
    (out.sum() + sum(f.sum() for f in as_tuple(finals))).backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    for p in layer.parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all()


def test_gradcheck_with_zoneout_in_evaluation():
    layer = rnnkit.nn.PeepholeLSTM(2, 2, bidirectional=True, merge_mode="mul", zoneout=(0.3, 0.5),
                                   dtype=DT).eval()
    names = [n for n, _ in layer.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in layer.parameters()]
    x = torch.randn(3, 2, 2, dtype=DT, requires_grad=True)

    def f(x, *flat):
        out, (h, c) = functional_call(layer, dict(zip(names, flat, strict=True)), (x,))
        return out, h, c

    assert torch.autograd.gradcheck(f, (x, *params))
