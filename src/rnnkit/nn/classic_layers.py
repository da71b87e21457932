"""RNN, LSTM and GRU layers: drop-in replacements for their torch.nn namesakes.

Each is a :class:`~rnnkit.nn.recurrent_layer.RecurrentLayer` over one of the classic cells,
with exactly torch.nn's constructor signature (plus the keyword-only ``path``, ``merge_mode`` and
the regularizers ``input_dropout``, ``recurrent_dropout``, ``zoneout``, ``weight_drop``, which
:class:`~rnnkit.nn.recurrent_layer.RecurrentLayer` takes) and forward signature (plus
``lengths=``). See :class:`~rnnkit.nn.recurrent_layer.RecurrentLayer` for inputs, outputs, shapes
and the keyword options.
"""

from __future__ import annotations

import torch

from rnnkit.nn.classic_cells import GRUSpec, LSTMSpec, RNNSpec
from rnnkit.nn.recurrent_layer import Path, RecurrentLayer

__all__ = ["GRU", "LSTM", "RNN"]


class RNN(RecurrentLayer):
    r"""Elman RNN layer, :math:`h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})`.

    Drop-in for :class:`torch.nn.RNN`: ``output (L, N, D*H), h_n (D*num_layers, N, H)``.
    ``nonlinearity="relu"`` replaces tanh.
    """

    spec_class = RNNSpec

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        path: Path = "auto",
        **options,
    ) -> None:
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
            device, dtype, path=path, nonlinearity=nonlinearity, **options,
        )


class LSTM(RecurrentLayer):
    """LSTM layer (gates i, f, g, o; see :class:`~rnnkit.nn.classic_cells.LSTMSpec`).

    Drop-in for :class:`torch.nn.LSTM`: ``output (L, N, D*H_out), (h_n (D*num_layers, N, H_out),
    c_n (D*num_layers, N, H))`` where ``H_out = proj_size or hidden_size``.
    """

    spec_class = LSTMSpec

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        path: Path = "auto",
        **options,
    ) -> None:
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
            device, dtype, path=path, proj_size=proj_size, **options,
        )


class GRU(RecurrentLayer):
    """GRU layer (gates r, z, n, ``b_hn`` inside the reset product; see
    :class:`~rnnkit.nn.classic_cells.GRUSpec`).

    Drop-in for :class:`torch.nn.GRU`, whose constructor is exactly
    :class:`~rnnkit.nn.recurrent_layer.RecurrentLayer`'s:
    ``output (L, N, D*H), h_n (D*num_layers, N, H)``.
    """

    spec_class = GRUSpec
