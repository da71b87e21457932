"""rnnkit.nn: recurrent layers and cells, drop-in compatible with torch.nn, on one cell API.

``RNN``, ``LSTM``, ``GRU`` and ``RNNCell``, ``LSTMCell``, ``GRUCell`` take torch.nn's arguments,
create torch.nn's parameters and return torch.nn's shapes. A new cell is a small
:class:`CellSpec` subclass; :class:`RecurrentLayer` gives it stacking, both directions, dropout,
``batch_first``, lengths, initial states and streaming.
"""

from rnnkit.nn.cell import CellSpec, RecurrentCell
from rnnkit.nn.cells import GRUCell, GRUSpec, LSTMCell, LSTMSpec, RNNCell, RNNSpec
from rnnkit.nn.layer import RecurrentLayer
from rnnkit.nn.layers import GRU, LSTM, RNN

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "CellSpec",
    "GRUCell",
    "GRUSpec",
    "LSTMCell",
    "LSTMSpec",
    "RNNCell",
    "RNNSpec",
    "RecurrentCell",
    "RecurrentLayer",
]
