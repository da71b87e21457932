"""Initial states of the wrong kind: the error names the layer, what it expects and what it got.

The tutorials' classic mistake is an ``(h0, c0)`` pair given to ``nn.RNN`` (torch answers
``'tuple' object has no attribute 'dim'``) or a bare ``h0`` given to ``nn.LSTM``.
"""

from __future__ import annotations

import pytest
import torch

import rnnkit.nn


@pytest.mark.parametrize("layer_class", [rnnkit.nn.RNN, rnnkit.nn.GRU])
def test_a_pair_given_to_a_single_state_layer_names_the_layer_and_the_shape(layer_class):
    layer = layer_class(2, 4, num_layers=2, batch_first=True)
    x, h0 = torch.zeros(3, 5, 2), torch.zeros(2, 3, 4)
    name = layer_class.__name__
    with pytest.raises(ValueError, match=(
        rf"^{name}: expected hx as one tensor, h of shape \(2, 3, 4\), found a tuple of 2 "
        r"tensors; an \(h0, c0\) pair is for LSTM-like layers$"
    )):
        layer(x, (h0, h0))
    layer(x, h0)  # the right form runs


def test_a_bare_tensor_given_to_an_lstm_names_both_states_and_their_shapes():
    lstm = rnnkit.nn.LSTM(2, 4, proj_size=3, bidirectional=True)
    x = torch.zeros(5, 6, 2)  # (L, N, F)
    with pytest.raises(ValueError, match=(
        r"^LSTM: expected hx as a tuple of 2 tensors \(h of shape \(2, 6, 3\), c of shape "
        r"\(2, 6, 4\)\), found one tensor$"
    )):
        lstm(x, torch.zeros(2, 6, 3))


def test_unbatched_input_states_are_described_without_a_batch_axis():
    rnn = rnnkit.nn.RNN(2, 4)
    h0 = torch.zeros(1, 4)
    with pytest.raises(ValueError, match=r"h of shape \(1, 4\), found a list of 3 tensors$"):
        rnn(torch.zeros(5, 2), [h0, h0, h0])


@pytest.mark.parametrize("cell_class", [rnnkit.nn.RNNCell, rnnkit.nn.GRUCell])
def test_a_pair_given_to_a_single_state_cell_names_the_cell_and_the_shape(cell_class):
    cell = cell_class(2, 4)
    h = torch.zeros(3, 4)
    with pytest.raises(ValueError, match=(
        rf"^{cell_class.__name__}: expected hx as one tensor, h of shape \(3, 4\), found a "
        r"tuple of 2 tensors; an \(h, c\) pair is for LSTM-like cells$"
    )):
        cell(torch.zeros(3, 2), (h, h))
    with pytest.raises(ValueError, match=(
        r"^LSTMCell: expected hx as a tuple of 2 tensors \(h of shape \(4,\), c of shape "
        r"\(4,\)\), found one tensor$"
    )):
        rnnkit.nn.LSTMCell(2, 4)(torch.zeros(2), torch.zeros(4))
