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
from rnnkit.nn.docstrings import document_cell, document_layer
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

    Parameters: the LSTM's ``weight_ih (4H, H_in)``, ``weight_hh (4H, H)``, ``bias_ih (4H)``,
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


@document_layer(states=("h", "c"))
class PeepholeLSTM(RecurrentLayer):
    r"""A stack of peephole LSTM layers (Gers & Schmidhuber 2000); explicit path only.

    Each layer and direction computes, for every step t of the sequence,

    ${equations}

    where :math:`x_t` is the layer's input at step t (for layer k > 0, the output of layer
    k - 1), :math:`h_t, c_t` its hidden and cell state, :math:`p_i, p_f, p_o` the diagonal
    peephole weights, :math:`\sigma` the sigmoid and :math:`\odot` the element-wise product.

    Args:
        ${layer_args}
        ${keyword_args}

    ${inputs_outputs}

    ${directions}

    Attributes:
        weight_ih_l[k]: ``(4H, H_in)`` for k = 0, else ``(4H, D*H)`` (``(4H, H)`` when merge_mode
            is sum, mean or mul): :math:`W_{ii} | W_{if} | W_{ig} | W_{io}` of layer k.
        weight_hh_l[k]: ``(4H, H)``, :math:`W_{hi} | W_{hf} | W_{hg} | W_{ho}`.
        bias_ih_l[k], bias_hh_l[k]: ``(4H)``, :math:`b_{i\cdot}` and :math:`b_{h\cdot}`.
        weight_ch_l[k]: ``(3H)``, the peephole weights :math:`p_i | p_f | p_o`.
        ${layer_attributes}
        All parameters start uniform in :math:`(-1/\sqrt{H}, 1/\sqrt{H})`.

    Example::

        >>> import torch, rnnkit.nn
        >>> lstm = rnnkit.nn.PeepholeLSTM(10, 20, bidirectional=True, zoneout=(0.1, 0.05))
        >>> output, (h_n, c_n) = lstm(torch.randn(5, 3, 10))  # (L, N, H_in)
        >>> output.shape, h_n.shape, c_n.shape
        (torch.Size([5, 3, 40]), torch.Size([2, 3, 20]), torch.Size([2, 3, 20]))
    """

    spec_class = PeepholeLSTMSpec


@document_cell(states=("h", "c"))
class PeepholeLSTMCell(RecurrentCell):
    r"""One step of a peephole LSTM, with :class:`torch.nn.LSTMCell`'s interface.

    ${equations}

    :math:`x_t` is the input; :math:`h_{t-1}, c_{t-1}` the state before the step,
    :math:`h_t, c_t` after it; :math:`p_i, p_f, p_o` the diagonal peephole weights;
    :math:`\sigma` the sigmoid and :math:`\odot` the element-wise product.

    Args:
        ${cell_args}

    ${inputs_outputs}

    Attributes:
        weight_ih: ``(4H, H_in)``, :math:`W_{ii} | W_{if} | W_{ig} | W_{io}`.
        weight_hh: ``(4H, H)``, :math:`W_{hi} | W_{hf} | W_{hg} | W_{ho}`.
        bias_ih, bias_hh: ``(4H)``.
        weight_ch: ``(3H)``, the peephole weights :math:`p_i | p_f | p_o`.
        All start uniform in :math:`(-1/\sqrt{H}, 1/\sqrt{H})`.

    Example::

        >>> import torch, rnnkit.nn
        >>> cell = rnnkit.nn.PeepholeLSTMCell(10, 20)
        >>> h, c = cell(torch.randn(3, 10))  # one step from a zero state
        >>> h.shape, c.shape
        (torch.Size([3, 20]), torch.Size([3, 20]))
    """

    spec_class = PeepholeLSTMSpec
