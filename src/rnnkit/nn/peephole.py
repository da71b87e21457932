r"""Peephole LSTM (Gers & Schmidhuber 2000, "Recurrent nets that time and count").

The input and forget gates look at the previous cell state, the output gate at the new one,
through diagonal (element-wise) peephole weights :math:`p_i, p_f, p_o`.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.nn.cell_api import CellSpec, RecurrentCell, State
from rnnkit.nn.recurrent_layer import RecurrentLayer

__all__ = ["PeepholeLSTM", "PeepholeLSTMCell", "PeepholeLSTMSpec"]


class PeepholeLSTMSpec(CellSpec):
    r"""LSTM with peephole connections, gate order i, f, g, o.

    .. math::
        \begin{array}{ll}
        i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi} + p_i \odot c_{t-1}) \\
        f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf} + p_f \odot c_{t-1}) \\
        g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\
        c_t = f_t \odot c_{t-1} + i_t \odot g_t \\
        o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho} + p_o \odot c_t) \\
        h_t = o_t \odot \tanh(c_t)
        \end{array}

    Parameters: the LSTM's ``weight_ih (4H, F)``, ``weight_hh (4H, H)``, ``bias_ih (4H)``,
    ``bias_hh (4H)``, then ``weight_ch (3H)``: the peephole weights :math:`p_i, p_f, p_o` in that
    order. All are initialised uniformly in ``(-1/sqrt(H), 1/sqrt(H))``.
    """

    num_gates = 4
    state_names = ("h", "c")

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        return super().parameter_shapes() | {"weight_ch": (3 * self.hidden_size,)}

    def step(
        self,
        params: Mapping[str, Tensor],
        x_proj: Tensor,
        state: State,
        h_rec: Tensor | None = None,
    ) -> State:
        h, c = state
        gates = x_proj + F.linear(h if h_rec is None else h_rec, params["weight_hh"])  # (N, 4H)
        i, f, g, o = gates.chunk(4, dim=1)
        p_i, p_f, p_o = params["weight_ch"].chunk(3)  # (H,) each
        c_new = torch.sigmoid(f + p_f * c) * c + torch.sigmoid(i + p_i * c) * torch.tanh(g)
        h_new = torch.sigmoid(o + p_o * c_new) * torch.tanh(c_new)  # (N, H)
        return h_new, c_new


class PeepholeLSTM(RecurrentLayer):
    """Peephole LSTM layer (see :class:`PeepholeLSTMSpec`); explicit path only.

    Same constructor, inputs and outputs as :class:`rnnkit.nn.LSTM` (without ``proj_size``):
    ``output (L, N, D*H), (h_n, c_n) (D*num_layers, N, H)``; ``merge_mode`` and the regularizers
    are those of :class:`~rnnkit.nn.recurrent_layer.RecurrentLayer`.
    """

    spec_class = PeepholeLSTMSpec


class PeepholeLSTMCell(RecurrentCell):
    """One step of :class:`PeepholeLSTMSpec`, with :class:`torch.nn.LSTMCell`'s interface.

    Inputs: ``input (N, F) or (F,)``, ``(h, c)`` each ``(N, H) or (H,)`` (zeros if omitted).
    Outputs: ``(h', c')``.
    """

    spec_class = PeepholeLSTMSpec
