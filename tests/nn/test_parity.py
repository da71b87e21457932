"""rnnkit.nn layers against torch.nn: outputs, final states and every gradient, float64."""

import itertools

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import rnnkit.nn

TOL = 1e-10
F_IN, H, L, N = 3, 4, 5, 3
CELLS = [
    ("RNN", {"nonlinearity": "tanh"}),
    ("RNN", {"nonlinearity": "relu"}),
    ("LSTM", {}),
    ("LSTM", {"proj_size": 2}),
    ("GRU", {}),
]
MODES = ["full", "unbatched", "lengths", "packed"]
LENGTHS = torch.tensor([3, 5, 1])


def make_pair(cell, options, path, **kwargs):
    torch.manual_seed(0)
    ref = getattr(torch.nn, cell)(F_IN, H, dtype=torch.float64, **options, **kwargs)
    torch.manual_seed(0)
    ours = getattr(rnnkit.nn, cell)(F_IN, H, dtype=torch.float64, path=path, **options, **kwargs)
    return ref, ours


def initial_state(module, batched, generator):
    count = module.num_layers * (2 if module.bidirectional else 1)
    out_size = getattr(module, "proj_size", 0) or module.hidden_size
    sizes = [out_size, module.hidden_size] if isinstance(module, torch.nn.LSTM) else [out_size]
    shapes = [(count, N, s) if batched else (count, s) for s in sizes]
    states = [torch.randn(*s, dtype=torch.float64, generator=generator) for s in shapes]
    return [s.requires_grad_() for s in states]


def run(module, mode, x, states, batch_first, use_lengths):
    hx = tuple(states) if len(states) == 2 else states[0]
    if mode == "packed" or (mode == "lengths" and not use_lengths):
        packed = pack_padded_sequence(x, LENGTHS, batch_first=batch_first, enforce_sorted=False)
        out, hn = module(packed, hx)
        if mode == "packed":
            return out.data, hn
        out, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=L)
        return out, hn
    if mode == "lengths":
        return module(x, hx, lengths=LENGTHS)
    return module(x, hx)


GRID = [
    case
    for case in itertools.product(
        CELLS, [1, 2, 3], [False, True], [False, True], [True, False], MODES, ["fast", "explicit"]
    )
    if not (case[5] == "unbatched" and case[3])  # batch_first means nothing without a batch
]


@pytest.mark.parametrize(
    "cell_options,num_layers,bidirectional,batch_first,bias,mode,path",
    GRID,
    ids=[
        f"{c[0]}{''.join(f'-{k}{v}' for k, v in c[1].items())}-l{n}-bi{int(b)}-bf{int(bf)}"
        f"-bias{int(bs)}-{m}-{p}"
        for c, n, b, bf, bs, m, p in GRID
    ],
)
def test_layer_matches_torch_nn(cell_options, num_layers, bidirectional, batch_first, bias, mode,
                                path):
    cell, options = cell_options
    kwargs = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first,
                  bias=bias)
    ref, ours = make_pair(cell, options, path, **kwargs)
    for (name_r, p_r), (name_o, p_o) in zip(ref.named_parameters(), ours.named_parameters(),
                                            strict=True):
        assert name_r == name_o and torch.equal(p_r, p_o)

    g = torch.Generator().manual_seed(1)
    shape = (L, F_IN) if mode == "unbatched" else ((N, L, F_IN) if batch_first else (L, N, F_IN))
    x_data = torch.randn(*shape, dtype=torch.float64, generator=g)
    states_data = [s.detach() for s in initial_state(ref, mode != "unbatched", g)]

    results = []
    for module, use_lengths in ((ref, False), (ours, True)):
        x = x_data.clone().requires_grad_()
        states = [s.clone().requires_grad_() for s in states_data]
        out, hn = run(module, mode, x, states, batch_first, use_lengths)
        finals = hn if isinstance(hn, tuple) else (hn,)
        weights = torch.Generator().manual_seed(2)
        loss = (out * torch.randn(out.shape, dtype=out.dtype, generator=weights)).sum()
        for f in finals:
            loss = loss + (f * torch.randn(f.shape, dtype=f.dtype, generator=weights)).sum()
        loss.backward()
        grads = [x.grad] + [s.grad for s in states] + [p.grad for p in module.parameters()]
        results.append((out.detach(), [f.detach() for f in finals], grads))

    (out_r, fin_r, grad_r), (out_o, fin_o, grad_o) = results
    assert ours.last_path == path
    assert out_o.shape == out_r.shape
    torch.testing.assert_close(out_o, out_r, atol=TOL, rtol=0)
    for a, b in zip(fin_o, fin_r, strict=True):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, atol=TOL, rtol=0)
    for a, b in zip(grad_o, grad_r, strict=True):
        torch.testing.assert_close(a, b, atol=TOL, rtol=0)
