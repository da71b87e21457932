"""The extended cells against their equations, written out here step by step, and gradcheck."""

import pytest
import torch
from torch.func import functional_call

import rnnkit.nn

DT = torch.float64
F_IN, H, L, N = 3, 4, 5, 2

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py: tiny tensors


# -- independent formulations of each cell's step, plain torch ops -----------------------------
def layer_norm(a, gain, shift, eps, groups=1):
    a = a.reshape(*a.shape[:-1], groups, -1)
    mean = a.mean(-1, keepdim=True)
    var = ((a - mean) ** 2).mean(-1, keepdim=True)
    out = ((a - mean) / torch.sqrt(var + eps)).reshape(*a.shape[:-2], -1)
    return out * gain + (0.0 if shift is None else shift)


def bias(p, name):
    return p.get(name) if p.get(name) is not None else 0.0


def ref_ln_lstm(p, x, state, per_gate=False, eps=1e-5):
    h, c = state
    groups = 4 if per_gate else 1
    gates = (
        layer_norm(x @ p["weight_ih"].T, p["ln_weight_ih"], p.get("ln_bias_ih"), eps, groups)
        + layer_norm(h @ p["weight_hh"].T, p["ln_weight_hh"], p.get("ln_bias_hh"), eps, groups)
        + bias(p, "bias_ih") + bias(p, "bias_hh")
    )
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(layer_norm(c, p["ln_weight_c"], p.get("ln_bias_c"), eps))
    return h, c


def ref_ln_gru(p, x, state, per_gate=False, eps=1e-5):
    (h,) = state
    groups = 3 if per_gate else 1
    a = layer_norm(x @ p["weight_ih"].T, p["ln_weight_ih"], p.get("ln_bias_ih"), eps, groups)
    a = a + bias(p, "bias_ih")
    u = layer_norm(h @ p["weight_hh"].T, p["ln_weight_hh"], p.get("ln_bias_hh"), eps, groups)
    u = u + bias(p, "bias_hh")
    r = torch.sigmoid(a[:, :H] + u[:, :H])
    z = torch.sigmoid(a[:, H:2 * H] + u[:, H:2 * H])
    n = torch.tanh(a[:, 2 * H:] + r * u[:, 2 * H:])
    return ((1 - z) * n + z * h,)


def ref_peephole(p, x, state):
    h, c = state
    pre = x @ p["weight_ih"].T + h @ p["weight_hh"].T + bias(p, "bias_ih") + bias(p, "bias_hh")
    p_i, p_f, p_o = p["weight_ch"][:H], p["weight_ch"][H:2 * H], p["weight_ch"][2 * H:]
    i = torch.sigmoid(pre[:, :H] + p_i * c)
    f = torch.sigmoid(pre[:, H:2 * H] + p_f * c)
    g = torch.tanh(pre[:, 2 * H:3 * H])
    c_new = f * c + i * g
    o = torch.sigmoid(pre[:, 3 * H:] + p_o * c_new)
    return o * torch.tanh(c_new), c_new


def ref_indrnn(p, x, state, nonlinearity="relu", recurrent_max_abs=None):
    (h,) = state
    u = p["weight_hh"]
    if recurrent_max_abs is not None:
        u = torch.minimum(torch.maximum(u, torch.tensor(-recurrent_max_abs)),
                          torch.tensor(recurrent_max_abs))
    pre = x @ p["weight_ih"].T + bias(p, "bias_ih") + u * h + bias(p, "bias_hh")
    return (torch.relu(pre) if nonlinearity == "relu" else torch.tanh(pre),)


# name, layer class, cell class, options, reference(p, x, state, **options), number of states
CASES = [
    ("ln-lstm", "LayerNormLSTM", "LayerNormLSTMCell", {}, ref_ln_lstm, 2),
    ("ln-lstm-per-gate", "LayerNormLSTM", "LayerNormLSTMCell", {"per_gate": True, "eps": 1e-3},
     ref_ln_lstm, 2),
    ("ln-gru", "LayerNormGRU", "LayerNormGRUCell", {}, ref_ln_gru, 1),
    ("ln-gru-per-gate", "LayerNormGRU", "LayerNormGRUCell", {"per_gate": True}, ref_ln_gru, 1),
    ("peephole", "PeepholeLSTM", "PeepholeLSTMCell", {}, ref_peephole, 2),
    ("indrnn", "IndRNN", "IndRNNCell", {}, ref_indrnn, 1),
    ("indrnn-tanh-max", "IndRNN", "IndRNNCell",
     {"nonlinearity": "tanh", "recurrent_max_abs": 0.5}, ref_indrnn, 1),
]
IDS = [case[0] for case in CASES]


def randomize(module, seed=0):
    """Random values for every parameter (LN gains/shifts and IndRNN's u too, beyond init)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, dtype=p.dtype, generator=g) * 0.7)
    return module


def random_state(num_states, n, seed=1):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(n, H, dtype=DT, generator=g) for _ in range(num_states))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("name,layer_cls,cell_cls,options,ref,num_states", CASES, ids=IDS)
def test_cell_step_matches_equations(name, layer_cls, cell_cls, options, ref, num_states, bias):
    cell = randomize(getattr(rnnkit.nn, cell_cls)(F_IN, H, bias, dtype=DT, **options))
    x = torch.randn(N, F_IN, dtype=DT, generator=torch.Generator().manual_seed(2))
    state = random_state(num_states, N)
    out = cell(x, state if num_states > 1 else state[0])
    out = out if isinstance(out, tuple) else (out,)
    expected = ref(dict(cell.named_parameters()), x, state, **options)
    for a, b in zip(out, expected, strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)
    # unbatched
    single = cell(x[0], tuple(s[0] for s in state) if num_states > 1 else state[0][0])
    single = single if isinstance(single, tuple) else (single,)
    for a, b in zip(single, expected, strict=True):
        torch.testing.assert_close(a, b[0], atol=1e-12, rtol=0)


@pytest.mark.parametrize("name,layer_cls,cell_cls,options,ref,num_states", CASES, ids=IDS)
def test_layer_runs_the_equations_over_time(name, layer_cls, cell_cls, options, ref, num_states):
    layer = randomize(getattr(rnnkit.nn, layer_cls)(F_IN, H, dtype=DT, **options))
    x = torch.randn(L, N, F_IN, dtype=DT, generator=torch.Generator().manual_seed(3))
    state = random_state(num_states, N)
    hx = tuple(s[None] for s in state)
    out, finals = layer(x, hx if num_states > 1 else hx[0])
    finals = finals if isinstance(finals, tuple) else (finals,)
    p = layer.cell_parameters(0)
    s = state
    for t in range(L):
        s = ref(p, x[t], s, **options)
        torch.testing.assert_close(out[t], s[0], atol=1e-12, rtol=0)
    for a, b in zip(finals, s, strict=True):
        torch.testing.assert_close(a[0], b, atol=1e-12, rtol=0)
    assert layer.last_path == "explicit"
    assert "has no fused torch kernel" in layer.explain()


@pytest.mark.parametrize("name,layer_cls,cell_cls,options,ref,num_states", CASES, ids=IDS)
def test_gradcheck(name, layer_cls, cell_cls, options, ref, num_states):
    layer = randomize(
        getattr(rnnkit.nn, layer_cls)(2, 2, dtype=DT, **options), seed=4
    )
    if "indrnn" in name:  # keep relu away from its kink and u away from the clamp's edge
        with torch.no_grad():
            for pname, p in layer.named_parameters():
                if pname.startswith("bias"):
                    p.abs_().add_(0.5)
                if pname.startswith("weight_hh"):
                    p.uniform_(0.1, 0.4)
    names = [n for n, _ in layer.named_parameters()]
    g = torch.Generator().manual_seed(5)
    x = torch.randn(3, 2, 2, dtype=DT, generator=g).abs().requires_grad_()
    h0 = tuple(torch.randn(1, 2, 2, dtype=DT, generator=g).requires_grad_()
               for _ in range(num_states))
    params = [p.detach().clone().requires_grad_() for p in layer.parameters()]

    def f(x, *rest):
        states, flat = rest[:num_states], rest[num_states:]
        hx = states if num_states > 1 else states[0]
        out, finals = functional_call(layer, dict(zip(names, flat, strict=True)), (x, hx))
        finals = finals if isinstance(finals, tuple) else (finals,)
        return (out, *finals)

    assert torch.autograd.gradcheck(f, (x, *h0, *params))


def test_layernorm_parameters_and_init():
    layer = rnnkit.nn.LayerNormLSTM(F_IN, H, num_layers=2, dtype=DT)
    names = [n for n, _ in layer.named_parameters()]
    assert names[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert names[4:10] == [f"ln_{k}_l0" for k in
                           ("weight_ih", "bias_ih", "weight_hh", "bias_hh", "weight_c", "bias_c")]
    assert layer.ln_weight_ih_l1.shape == (4 * H,) and layer.ln_weight_c_l1.shape == (H,)
    for name, p in layer.named_parameters():
        if name.startswith("ln_weight"):
            assert torch.equal(p, torch.ones_like(p))
        elif name.startswith("ln_bias"):
            assert torch.equal(p, torch.zeros_like(p))
        else:
            assert p.abs().max() <= H ** -0.5 and p.std() > 0
    gru = rnnkit.nn.LayerNormGRU(F_IN, H, bias=False)
    assert [n for n, _ in gru.named_parameters()] == [
        "weight_ih_l0", "weight_hh_l0", "ln_weight_ih_l0", "ln_weight_hh_l0"
    ]


def test_layernorm_per_gate_differs_from_all_gates():
    x = torch.randn(L, N, F_IN, dtype=DT)
    torch.manual_seed(0)
    a = randomize(rnnkit.nn.LayerNormLSTM(F_IN, H, dtype=DT))
    torch.manual_seed(0)
    b = randomize(rnnkit.nn.LayerNormLSTM(F_IN, H, dtype=DT, per_gate=True))
    assert not torch.allclose(a(x)[0], b(x)[0])


def test_peephole_without_peepholes_is_torch_lstm():
    torch.manual_seed(0)
    ref = torch.nn.LSTM(F_IN, H, dtype=DT)
    ours = rnnkit.nn.PeepholeLSTM(F_IN, H, dtype=DT)
    assert ours.weight_ch_l0.shape == (3 * H,)
    ours.load_state_dict(ref.state_dict() | {"weight_ch_l0": torch.zeros(3 * H, dtype=DT)})
    x = torch.randn(L, N, F_IN, dtype=DT)
    out_r, (h_r, c_r) = ref(x)
    out_o, (h_o, c_o) = ours(x)
    for a, b in ((out_o, out_r), (h_o, h_r), (c_o, c_r)):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


def test_indrnn_defaults_and_recurrent_max_abs():
    layer = rnnkit.nn.IndRNN(F_IN, H, dtype=DT)
    assert layer.weight_hh_l0.shape == (H,) and layer.nonlinearity == "relu"
    u = layer.weight_hh_l0
    assert 0 <= u.min() and u.max() <= 1
    assert rnnkit.nn.IndRNN(F_IN, H, recurrent_max_abs=0.3).weight_hh_l0.max() <= 0.3

    clamped = rnnkit.nn.IndRNN(F_IN, H, dtype=DT, nonlinearity="tanh", recurrent_max_abs=0.5)
    with torch.no_grad():
        clamped.weight_hh_l0.copy_(torch.tensor([2.0, -3.0, 0.2, -0.1], dtype=DT))
    x = torch.randn(L, N, F_IN, dtype=DT)
    out, _ = clamped(x)
    p = clamped.cell_parameters(0)
    expected_p = dict(p) | {"weight_hh": torch.tensor([0.5, -0.5, 0.2, -0.1], dtype=DT)}
    (h,) = (torch.zeros(N, H, dtype=DT),)
    for t in range(L):
        (h,) = ref_indrnn(expected_p, x[t], (h,), nonlinearity="tanh")
        torch.testing.assert_close(out[t], h, atol=1e-12, rtol=0)
    out.sum().backward()
    grad = clamped.weight_hh_l0.grad
    assert grad[0] == 0 and grad[1] == 0 and grad[2] != 0
    stored = torch.tensor([2.0, -3.0, 0.2, -0.1], dtype=DT)
    assert torch.equal(clamped.weight_hh_l0.detach(), stored)
    assert "recurrent_max_abs=0.5" in repr(clamped)


@pytest.mark.parametrize(
    "factory,message",
    [
        (lambda: rnnkit.nn.LayerNormLSTM(3, 4, per_gate=1), "per_gate"),
        (lambda: rnnkit.nn.LayerNormGRU(3, 4, eps=0.0), "eps"),
        (lambda: rnnkit.nn.IndRNN(3, 4, nonlinearity="sigmoid"), "nonlinearity"),
        (lambda: rnnkit.nn.IndRNN(3, 4, recurrent_max_abs=-1.0), "recurrent_max_abs"),
        (lambda: rnnkit.nn.IndRNNCell(3, 4, recurrent_max_abs=True), "recurrent_max_abs"),
        (lambda: rnnkit.nn.PeepholeLSTM(3, 0), "hidden_size"),
    ],
)
def test_bad_options_raise(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


@pytest.mark.parametrize("layer_cls", ["LayerNormLSTM", "LayerNormGRU", "PeepholeLSTM", "IndRNN"])
def test_no_fast_path(layer_cls):
    layer = getattr(rnnkit.nn, layer_cls)(F_IN, H, path="fast")
    assert "no fused torch kernel" in layer.explain()
    with pytest.raises(ValueError, match="path='fast'"):
        layer(torch.randn(L, N, F_IN))
