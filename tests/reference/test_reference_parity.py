"""The NumPy reference against torch.nn autograd and rnnkit.nn's explicit path (float64).

Over the grid cell x num_layers x bidirectional x bias x lengths x initial state, the reference's
output, final states and every gradient (input, h0, c0, each parameter) must equal the torch
layer's to 1e-9. With lengths, torch.nn runs on a PackedSequence (enforce_sorted=False) padded
back to L; rnnkit.nn takes ``lengths=`` directly.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from rnnkit import reference as ref

ATOL = 1e-9
L, N, F, H = 5, 3, 4, 3
LENGTHS = [3, 5, 1]  # unsorted, with a full-length and a length-1 sequence

# (cell, nonlinearity, proj_size)
CELLS = {
    "rnn_tanh": ("rnn", "tanh", 0),
    "rnn_relu": ("rnn", "relu", 0),
    "lstm": ("lstm", "tanh", 0),
    "lstm_proj": ("lstm", "tanh", 2),
    "gru": ("gru", "tanh", 0),
}
GRID = list(
    itertools.product(CELLS, [1, 2], [False, True], [False, True], [False, True], [False, True])
)
GRID_IDS = [
    f"{c}-K{k}-{'bi' if b else 'uni'}-{'bias' if bias else 'nobias'}"
    f"-{'len' if ln else 'full'}-{'h0' if h0 else 'zero'}"
    for c, k, b, bias, ln, h0 in GRID
]


def _make(library, name, num_layers, bidirectional, bias):
    cell, nonlinearity, proj = CELLS[name]
    kwargs = {"num_layers": num_layers, "bidirectional": bidirectional, "bias": bias}
    if library == "rnnkit":
        kwargs["path"] = "explicit"
        import rnnkit.nn as lib  # written against rnnkit.nn's torch.nn-compatible API
    else:
        lib = torch.nn
    torch.manual_seed(0)
    if cell == "rnn":
        module = lib.RNN(F, H, nonlinearity=nonlinearity, **kwargs)
    elif cell == "lstm":
        module = lib.LSTM(F, H, proj_size=proj, **kwargs)
    else:
        module = lib.GRU(F, H, **kwargs)
    return module.double()


def _run_torch(library, module, x, hx, lengths):
    """Output (L, N, D*H_out) and final states of the torch module, padded steps zero."""
    if lengths is None:
        return module(x, hx)
    if library == "rnnkit":
        return module(x, hx, lengths=lengths)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
    out, final = module(packed, hx)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=x.shape[0])
    return out, final


def _compare(library, name, num_layers, bidirectional, bias, use_lengths, use_h0):
    cell, nonlinearity, proj = CELLS[name]
    module = _make(library, name, num_layers, bidirectional, bias)
    d, h_out = (2 if bidirectional else 1), (proj or H)
    gen = torch.Generator().manual_seed(1)

    def randn(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64)

    x = randn(L, N, F).requires_grad_()
    h0 = randn(num_layers * d, N, h_out).requires_grad_() if use_h0 else None
    c0 = randn(num_layers * d, N, H).requires_grad_() if use_h0 and cell == "lstm" else None
    hx = (h0, c0) if c0 is not None else h0
    lengths = torch.tensor(LENGTHS, dtype=torch.int64) if use_lengths else None

    out, final = _run_torch(library, module, x, hx, lengths)
    finals = list(final) if cell == "lstm" else [final]
    seeds = [randn(*out.shape)] + [randn(*f.shape) for f in finals]  # dloss/d(each result)
    loss = sum((s * r).sum() for s, r in zip(seeds, [out, *finals], strict=True))
    loss.backward()

    def np_(t):
        return None if t is None else t.detach().numpy()

    params = ref.params_from_state_dict(module.state_dict())
    r_out, r_final, cache = ref.forward(
        cell,
        params,
        np_(x),
        np_(h0),
        np_(c0),
        np_(lengths),
        num_layers=num_layers,
        bidirectional=bidirectional,
        nonlinearity=nonlinearity,
    )
    r_finals = list(r_final) if cell == "lstm" else [r_final]
    grads = ref.backward(cache, *(np_(s) for s in seeds))

    np.testing.assert_allclose(r_out, np_(out), rtol=0, atol=ATOL, err_msg="output")
    for i, (a, b) in enumerate(zip(r_finals, finals, strict=True)):
        np.testing.assert_allclose(a, np_(b), rtol=0, atol=ATOL, err_msg=f"final state {i}")
    expected = {"input": x, "h0": h0, "c0": c0}
    expected.update(dict(module.named_parameters()))
    assert set(grads) - {"h0", "c0"} == set(expected) - {"h0", "c0"}
    for key, tensor in expected.items():
        if tensor is not None:
            np.testing.assert_allclose(
                grads[key], np_(tensor.grad), rtol=0, atol=ATOL, err_msg=f"gradient of {key}"
            )


@pytest.mark.parametrize(("name", "layers", "bidir", "bias", "lengths", "h0"), GRID, ids=GRID_IDS)
def test_matches_torch_nn(name, layers, bidir, bias, lengths, h0):
    _compare("torch", name, layers, bidir, bias, lengths, h0)


@pytest.mark.parametrize(("name", "layers", "bidir", "bias", "lengths", "h0"), GRID, ids=GRID_IDS)
def test_matches_rnnkit_nn_explicit_path(name, layers, bidir, bias, lengths, h0):
    _compare("rnnkit", name, layers, bidir, bias, lengths, h0)


def test_params_from_state_dict_with_prefix_and_arrays():
    lstm = torch.nn.LSTM(2, 3, proj_size=1).double()
    wrapped = {f"encoder.rnn.{k}": v for k, v in lstm.state_dict().items()}
    wrapped["head.weight"] = torch.zeros(2, 2)
    params = ref.params_from_state_dict(wrapped, prefix="encoder.rnn.")
    assert list(params) == [name for name, _ in lstm.named_parameters()]
    assert all(isinstance(v, np.ndarray) for v in params.values())
    again = ref.params_from_state_dict(params)  # plain arrays are accepted too
    params["weight_hr_l0"][0, 0] = 123.0  # a copy: the module and the first dict are not touched
    assert again["weight_hr_l0"][0, 0] != 123.0
    assert lstm.weight_hr_l0[0, 0].item() != 123.0
    spec = ref.LayerSpec("lstm", 2, 3, proj_size=1)
    assert ref.param_names(spec) == list(again)
