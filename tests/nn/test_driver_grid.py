"""Every layer through the generic driver's options: stacking, directions and merge modes,
lengths, batch_first, packed input, unbatched input and step-by-step streaming."""

import itertools

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import rnnkit.nn

DT = torch.float64
TOL = 1e-10
F_IN, H, L = 3, 4, 5
LENGTHS = torch.tensor([5, 2, 4])
N = len(LENGTHS)

LAYERS = [
    ("RNN", {}),
    ("LSTM", {}),
    ("LSTM", {"proj_size": 2}),
    ("GRU", {}),
    ("LayerNormLSTM", {}),
    ("LayerNormGRU", {"per_gate": True}),
    ("PeepholeLSTM", {}),
    ("IndRNN", {"nonlinearity": "tanh"}),
]
LAYER_IDS = [name + "".join(f"-{k}{v}" for k, v in opts.items()) for name, opts in LAYERS]
DIRECTIONS = [(False, "concat")] + [(True, mode) for mode in rnnkit.nn.MERGE_MODES]
DIRECTION_IDS = ["uni"] + [f"bi-{mode}" for mode in rnnkit.nn.MERGE_MODES]

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py: tiny tensors


def make(layer, num_layers=1, bidirectional=False, merge_mode="concat", seed=0, **kwargs):
    name, options = layer
    torch.manual_seed(seed)
    return getattr(rnnkit.nn, name)(
        F_IN, H, num_layers=num_layers, bidirectional=bidirectional, merge_mode=merge_mode,
        dtype=DT, **options, **kwargs,
    )


def random_hx(module, batch, seed=1):
    g = torch.Generator().manual_seed(seed)
    count = module.num_layers * (2 if module.bidirectional else 1)
    states = tuple(torch.randn(count, batch, s, dtype=DT, generator=g) for s in module.state_sizes)
    return states if len(states) > 1 else states[0]


def as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def select(hx, index):
    return tuple(s[:, index] for s in hx) if isinstance(hx, tuple) else hx[:, index]


@pytest.mark.parametrize("batch_first", [False, True], ids=["tm", "bf"])
@pytest.mark.parametrize("bidirectional,merge_mode", DIRECTIONS, ids=DIRECTION_IDS)
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("layer", LAYERS, ids=LAYER_IDS)
def test_lengths_match_each_sequence_alone(layer, num_layers, bidirectional, merge_mode,
                                           batch_first):
    module = make(layer, num_layers, bidirectional, merge_mode, batch_first=batch_first)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(L, N, F_IN, dtype=DT, generator=g)  # time-major
    hx = random_hx(module, N)
    x_in = x.transpose(0, 1) if batch_first else x
    out, finals = module(x_in, hx, lengths=LENGTHS)
    out = out.transpose(0, 1) if batch_first else out  # (L, N, ...)
    out_size = module.output_size
    assert out.shape[:2] == (L, N) and out.shape[-1] == out_size
    if merge_mode == "none":
        assert out.shape == (L, N, 2, module.specs[-1].output_size)
    for n, length in enumerate(LENGTHS.tolist()):
        alone = x[:length, n:n + 1]
        alone = alone.transpose(0, 1) if batch_first else alone
        out_n, finals_n = module(alone, select(hx, slice(n, n + 1)))
        out_n = out_n.transpose(0, 1) if batch_first else out_n
        torch.testing.assert_close(out[:length, n], out_n[:, 0], atol=TOL, rtol=0)
        assert torch.all(out[length:, n] == 0)
        for a, b in zip(as_tuple(finals), as_tuple(finals_n), strict=True):
            torch.testing.assert_close(a[:, n], b[:, 0], atol=TOL, rtol=0)
    if batch_first:  # the same module, time-major, gives the transposed result
        module.batch_first = False
        out_tm, finals_tm = module(x, hx, lengths=LENGTHS)
        torch.testing.assert_close(out_tm, out, atol=TOL, rtol=0)
        for a, b in zip(as_tuple(finals_tm), as_tuple(finals), strict=True):
            torch.testing.assert_close(a, b, atol=TOL, rtol=0)


def rename(state_dict, layer):
    """Layer ``layer``'s parameters of a stack, renamed to those of a one-layer module."""
    suffix = f"_l{layer}"
    return {
        k.replace(suffix, "_l0"): v for k, v in state_dict.items()
        if k.endswith(suffix) or k.endswith(suffix + "_reverse")
    }


@pytest.mark.parametrize("merge_mode", rnnkit.nn.MERGE_MODES)
@pytest.mark.parametrize("layer", LAYERS, ids=LAYER_IDS)
def test_stack_reads_the_merged_output_below(layer, merge_mode):
    stack = make(layer, 2, True, merge_mode)
    below = make(layer, 1, True, "concat" if merge_mode == "none" else merge_mode)
    above = getattr(rnnkit.nn, layer[0])(
        stack.specs[1].input_size, H, bidirectional=True, merge_mode=merge_mode, dtype=DT,
        **layer[1],
    )
    below.load_state_dict(rename(stack.state_dict(), 0))
    above.load_state_dict(rename(stack.state_dict(), 1))
    h_out = stack.specs[0].output_size
    expected_input = h_out if merge_mode in ("sum", "mean", "mul") else 2 * h_out
    assert stack.specs[1].input_size == expected_input
    x = torch.randn(L, N, F_IN, dtype=DT)
    hx = random_hx(stack, N)
    out, finals = stack(x, hx)
    hx_below = tuple(s[:2] for s in as_tuple(hx))
    hx_above = tuple(s[2:] for s in as_tuple(hx))
    mid, finals_below = below(x, hx_below if len(hx_below) > 1 else hx_below[0])
    top, finals_above = above(mid, hx_above if len(hx_above) > 1 else hx_above[0])
    torch.testing.assert_close(out, top, atol=TOL, rtol=0)
    for a, b, c in zip(as_tuple(finals), as_tuple(finals_below), as_tuple(finals_above),
                       strict=True):
        torch.testing.assert_close(a, torch.cat([b, c]), atol=TOL, rtol=0)


MERGES = {
    "sum": lambda f, b: f + b,
    "mean": lambda f, b: (f + b) / 2,
    "mul": lambda f, b: f * b,
    "none": lambda f, b: torch.stack([f, b], dim=-2),
}


@pytest.mark.parametrize("path", ["auto", "explicit"])
@pytest.mark.parametrize("merge_mode", list(MERGES))
@pytest.mark.parametrize("layer", LAYERS, ids=LAYER_IDS)
def test_merge_modes_combine_the_two_directions(layer, merge_mode, path):
    concat = make(layer, 1, True, "concat", path="explicit")
    merged = make(layer, 1, True, merge_mode, path=path)
    merged.load_state_dict(concat.state_dict())
    x = torch.randn(L, N, F_IN, dtype=DT)
    hx = random_hx(concat, N)
    ref, ref_finals = concat(x, hx, lengths=LENGTHS)
    out, finals = merged(x, hx, lengths=LENGTHS)
    torch.testing.assert_close(out, MERGES[merge_mode](*ref.chunk(2, dim=-1)), atol=TOL, rtol=0)
    for a, b in zip(as_tuple(finals), as_tuple(ref_finals), strict=True):
        torch.testing.assert_close(a, b, atol=TOL, rtol=0)
    classic = layer[0] in ("RNN", "LSTM", "GRU")
    assert merged.last_path == ("fast" if classic and path == "auto" else "explicit")


@pytest.mark.parametrize("merge_mode", ["sum", "none"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("layer", LAYERS, ids=LAYER_IDS)
def test_packed_input_matches_lengths(layer, num_layers, merge_mode):
    module = make(layer, num_layers, True, merge_mode)
    x = torch.randn(L, N, F_IN, dtype=DT)
    hx = random_hx(module, N)
    out, finals = module(x, hx, lengths=LENGTHS)
    packed_out, packed_finals = module(pack_padded_sequence(x, LENGTHS, enforce_sorted=False), hx)
    padded, lengths = pad_packed_sequence(packed_out, total_length=L)
    assert torch.equal(lengths, LENGTHS)
    torch.testing.assert_close(padded, out, atol=TOL, rtol=0)
    for a, b in zip(as_tuple(packed_finals), as_tuple(finals), strict=True):
        torch.testing.assert_close(a, b, atol=TOL, rtol=0)


@pytest.mark.parametrize("bidirectional,merge_mode", DIRECTIONS, ids=DIRECTION_IDS)
@pytest.mark.parametrize("layer", LAYERS, ids=LAYER_IDS)
def test_unbatched_input_is_a_batch_of_one(layer, bidirectional, merge_mode):
    module = make(layer, 2, bidirectional, merge_mode)
    x = torch.randn(L, F_IN, dtype=DT)
    hx = random_hx(module, 1)
    out, finals = module(x, select(hx, 0))
    out_b, finals_b = module(x[:, None], hx)
    torch.testing.assert_close(out, out_b[:, 0], atol=TOL, rtol=0)
    for a, b in zip(as_tuple(finals), as_tuple(finals_b), strict=True):
        torch.testing.assert_close(a, b[:, 0], atol=TOL, rtol=0)


@pytest.mark.parametrize("regularized", [False, True], ids=["plain", "zoneout-eval"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("layer", LAYERS, ids=LAYER_IDS)
def test_streaming_one_step_at_a_time(layer, num_layers, regularized):
    extra = {"zoneout": 0.3, "recurrent_dropout": 0.2} if regularized else {}
    module = make(layer, num_layers, **extra).eval()
    x = torch.randn(L, N, F_IN, dtype=DT)
    hx = random_hx(module, N)
    out, finals = module(x, hx)
    state = hx
    for t in range(L):
        step_out, state = module(x[t:t + 1], state)
        torch.testing.assert_close(step_out[0], out[t], atol=TOL, rtol=0)
    for a, b in zip(as_tuple(state), as_tuple(finals), strict=True):
        torch.testing.assert_close(a, b, atol=TOL, rtol=0)


def test_output_size_follows_the_merge_mode():
    sizes = {mode: make(("LSTM", {"proj_size": 2}), 2, True, mode).output_size
             for mode in rnnkit.nn.MERGE_MODES}
    assert sizes == {"concat": 4, "sum": 2, "mean": 2, "mul": 2, "none": 2}


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"bidirectional": True, "merge_mode": "max"}, "merge_mode must be one of"),
        ({"merge_mode": "sum"}, "needs bidirectional=True"),
    ],
)
def test_bad_merge_mode_raises(kwargs, message):
    for name, _ in LAYERS[:1] + LAYERS[4:5]:
        with pytest.raises(ValueError, match=message):
            getattr(rnnkit.nn, name)(F_IN, H, **kwargs)


def test_explain_names_merge_mode_between_layers():
    stacked = make(("GRU", {}), 2, True, "mean")
    assert "merge_mode='mean'" in stacked.explain()
    stacked(torch.randn(L, N, F_IN, dtype=DT))
    assert stacked.last_path == "explicit"
    for num_layers, mode in itertools.product([1, 2], ["concat", "none"]):
        fused = make(("GRU", {}), num_layers, True, mode)
        fused(torch.randn(L, N, F_IN, dtype=DT))
        assert fused.last_path == "fast"
