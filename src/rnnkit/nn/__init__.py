"""rnnkit.nn: recurrent layers and cells, drop-in compatible with torch.nn, on one cell API.

``RNN``, ``LSTM``, ``GRU`` and ``RNNCell``, ``LSTMCell``, ``GRUCell`` take torch.nn's arguments,
create torch.nn's parameters and return torch.nn's shapes. A new cell is a small
:class:`CellSpec` subclass; :class:`RecurrentLayer` gives it stacking, both directions with merge
modes, dropout, ``batch_first``, lengths, initial states, streaming and the regularizers
(variational input/recurrent dropout, zoneout, weight drop). Beyond torch.nn: layer-normalised
LSTM/GRU, peephole LSTM and IndRNN.
"""

from rnnkit.nn.cell import CellSpec, RecurrentCell
from rnnkit.nn.cells import GRUCell, GRUSpec, LSTMCell, LSTMSpec, RNNCell, RNNSpec
from rnnkit.nn.driver import MERGE_MODES
from rnnkit.nn.indrnn import IndRNN, IndRNNCell, IndRNNSpec
from rnnkit.nn.layer import RecurrentLayer
from rnnkit.nn.layernorm import (
    LayerNormGRU,
    LayerNormGRUCell,
    LayerNormGRUSpec,
    LayerNormLSTM,
    LayerNormLSTMCell,
    LayerNormLSTMSpec,
)
from rnnkit.nn.layers import GRU, LSTM, RNN
from rnnkit.nn.peephole import PeepholeLSTM, PeepholeLSTMCell, PeepholeLSTMSpec
from rnnkit.nn.regularizers import Regularizers

__all__ = [
    "GRU",
    "LSTM",
    "MERGE_MODES",
    "RNN",
    "CellSpec",
    "GRUCell",
    "GRUSpec",
    "IndRNN",
    "IndRNNCell",
    "IndRNNSpec",
    "LSTMCell",
    "LSTMSpec",
    "LayerNormGRU",
    "LayerNormGRUCell",
    "LayerNormGRUSpec",
    "LayerNormLSTM",
    "LayerNormLSTMCell",
    "LayerNormLSTMSpec",
    "PeepholeLSTM",
    "PeepholeLSTMCell",
    "PeepholeLSTMSpec",
    "RNNCell",
    "RNNSpec",
    "RecurrentCell",
    "RecurrentLayer",
    "Regularizers",
]
