"""rnnkit.nn: recurrent layers and cells, drop-in compatible with torch.nn, on one cell API.

``RNN``, ``LSTM``, ``GRU`` and ``RNNCell``, ``LSTMCell``, ``GRUCell`` take torch.nn's arguments,
create torch.nn's parameters and return torch.nn's shapes. A new cell is a small
:class:`CellSpec` subclass; :class:`RecurrentLayer` gives it stacking, both directions with merge
modes, dropout, ``batch_first``, lengths, initial states, streaming and the regularizers
(variational input/recurrent dropout, zoneout, weight drop). Beyond torch.nn: layer-normalised
LSTM/GRU, peephole LSTM and IndRNN; MinGRU and MinLSTM, trained by a parallel scan
(:mod:`rnnkit.nn.scan`). The explicit path runs LSTM/GRU/RNN through whole-sequence kernels
(:mod:`rnnkit.nn.sequence_kernels`).
"""

from rnnkit.nn.cell_api import CellSpec, RecurrentCell
from rnnkit.nn.classic_cells import GRUCell, GRUSpec, LSTMCell, LSTMSpec, RNNCell, RNNSpec
from rnnkit.nn.classic_layers import GRU, LSTM, RNN
from rnnkit.nn.driver import MERGE_MODES
from rnnkit.nn.indrnn import IndRNN, IndRNNCell, IndRNNSpec
from rnnkit.nn.layernorm import (
    LayerNormGRU,
    LayerNormGRUCell,
    LayerNormGRUSpec,
    LayerNormLSTM,
    LayerNormLSTMCell,
    LayerNormLSTMSpec,
)
from rnnkit.nn.masks import length_mask
from rnnkit.nn.minimal import MinGRU, MinGRUCell, MinGRUSpec, MinLSTM, MinLSTMCell, MinLSTMSpec
from rnnkit.nn.peephole import PeepholeLSTM, PeepholeLSTMCell, PeepholeLSTMSpec
from rnnkit.nn.recurrent_layer import RecurrentLayer
from rnnkit.nn.regularizers import Regularizers

LAYERS: dict[str, type[RecurrentLayer]] = {
    "rnn": RNN,
    "lstm": LSTM,
    "gru": GRU,
    "layernorm_lstm": LayerNormLSTM,
    "layernorm_gru": LayerNormGRU,
    "peephole_lstm": PeepholeLSTM,
    "indrnn": IndRNN,
    "mingru": MinGRU,
    "minlstm": MinLSTM,
}
"""Every layer by the name configs and the CLI use (``model.cell``, ``rnnkit shapes --cell``)."""

__all__ = [
    "GRU",
    "LAYERS",
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
    "MinGRU",
    "MinGRUCell",
    "MinGRUSpec",
    "MinLSTM",
    "MinLSTMCell",
    "MinLSTMSpec",
    "PeepholeLSTM",
    "PeepholeLSTMCell",
    "PeepholeLSTMSpec",
    "RNNCell",
    "RNNSpec",
    "RecurrentCell",
    "RecurrentLayer",
    "Regularizers",
    "length_mask",
]
