"""RNN, LSTM and GRU layers: drop-in replacements for their torch.nn namesakes.

Each is a :class:`~rnnkit.nn.recurrent_layer.RecurrentLayer` over one of the classic cells, with
exactly torch.nn's constructor and forward signature, parameters and shapes, plus rnnkit's
keyword-only extras (``path``, ``merge_mode``, the regularizers) and ``lengths=``.
"""

from __future__ import annotations

import torch

from rnnkit.nn.classic_cells import GRUSpec, LSTMSpec, RNNSpec
from rnnkit.nn.docstrings import document_layer
from rnnkit.nn.recurrent_layer import Path, RecurrentLayer

__all__ = ["GRU", "LSTM", "RNN"]


@document_layer()
class RNN(RecurrentLayer):
    r"""A stack of Elman RNN layers; a drop-in replacement for :class:`torch.nn.RNN`.

    Each layer and direction computes, for every step t of the sequence,

    ${equations}

    where :math:`x_t` is the layer's input at step t (for layer k > 0, the output of layer
    k - 1), :math:`h_t` its state and :math:`\sigma` tanh or relu.

    Args:
        ${layer_args}
        nonlinearity: ``"tanh"`` (default) or ``"relu"``, the :math:`\sigma` above.
        ${keyword_args}

    ${inputs_outputs}

    ${directions}

    Attributes:
        weight_ih_l[k]: ``(H, H_in)`` for k = 0, else ``(H, D*H)`` (``(H, H)`` when merge_mode
            is sum, mean or mul): :math:`W_{ih}` of layer k.
        weight_hh_l[k]: ``(H, H)``, :math:`W_{hh}`.
        bias_ih_l[k]: ``(H)``, :math:`b_{ih}`.
        bias_hh_l[k]: ``(H)``, :math:`b_{hh}`.
        ${layer_attributes}
        All parameters start uniform in :math:`(-1/\sqrt{H}, 1/\sqrt{H})`, as in torch.nn.

    Example::

        >>> import torch, rnnkit.nn
        >>> rnn = rnnkit.nn.RNN(10, 20, num_layers=2, nonlinearity="relu")
        >>> x = torch.randn(5, 3, 10)  # (L, N, H_in)
        >>> output, h_n = rnn(x, torch.zeros(2, 3, 20))
        >>> output.shape, h_n.shape
        (torch.Size([5, 3, 20]), torch.Size([2, 3, 20]))
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


@document_layer(states=("h", "c"), h_out="H_out")
class LSTM(RecurrentLayer):
    r"""A stack of LSTM layers; a drop-in replacement for :class:`torch.nn.LSTM`.

    Each layer and direction computes, for every step t of the sequence,

    ${equations}

    where :math:`x_t` is the layer's input at step t (for layer k > 0, the output of layer
    k - 1), :math:`h_t` and :math:`c_t` its hidden and cell state, :math:`i, f, g, o` the input,
    forget, cell and output gates, :math:`\sigma` the sigmoid and :math:`\odot` the element-wise
    product. ``H_out`` is ``proj_size`` if it is set, else H.

    Args:
        ${layer_args}
        proj_size: P > 0 projects each layer's :math:`h_t` to P units with ``weight_hr``
            (H_out = P; the cell state keeps H). Must be smaller than ``hidden_size``. Default 0.
        ${keyword_args}

    ${inputs_outputs}

    ${directions}

    Attributes:
        weight_ih_l[k]: ``(4H, H_in)`` for k = 0, else ``(4H, D*H_out)`` (``(4H, H_out)`` when
            merge_mode is sum, mean or mul): :math:`W_{ii} | W_{if} | W_{ig} | W_{io}` of layer k.
        weight_hh_l[k]: ``(4H, H_out)``, :math:`W_{hi} | W_{hf} | W_{hg} | W_{ho}`.
        bias_ih_l[k]: ``(4H)``, :math:`b_{ii} | b_{if} | b_{ig} | b_{io}`.
        bias_hh_l[k]: ``(4H)``, :math:`b_{hi} | b_{hf} | b_{hg} | b_{ho}`.
        weight_hr_l[k]: ``(H_out, H)``, :math:`W_{hr}`, only when ``proj_size > 0``.
        ${layer_attributes}
        All parameters start uniform in :math:`(-1/\sqrt{H}, 1/\sqrt{H})`, as in torch.nn.

    Example::

        >>> import torch, rnnkit.nn
        >>> lstm = rnnkit.nn.LSTM(10, 20, num_layers=2, batch_first=True, bidirectional=True)
        >>> x = torch.randn(3, 5, 10)  # (N, L, H_in)
        >>> output, (h_n, c_n) = lstm(x, lengths=torch.tensor([5, 2, 4]))
        >>> output.shape, h_n.shape, c_n.shape
        (torch.Size([3, 5, 40]), torch.Size([4, 3, 20]), torch.Size([4, 3, 20]))
        >>> torch.allclose(h_n[-2, 1], output[1, 1, :20])  # forward, last valid step
        True
        >>> torch.allclose(h_n[-1, 1], output[1, 0, 20:])  # backward, first step
        True
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


@document_layer()
class GRU(RecurrentLayer):
    r"""A stack of GRU layers; a drop-in replacement for :class:`torch.nn.GRU`.

    Each layer and direction computes, for every step t of the sequence,

    ${equations}

    where :math:`x_t` is the layer's input at step t (for layer k > 0, the output of layer
    k - 1), :math:`h_t` its state, :math:`r, z, n` the reset gate, update gate and candidate,
    :math:`\sigma` the sigmoid and :math:`\odot` the element-wise product. :math:`b_{hn}` sits
    inside the reset product, as in torch.nn.

    Args:
        ${layer_args}
        ${keyword_args}

    ${inputs_outputs}

    ${directions}

    Attributes:
        weight_ih_l[k]: ``(3H, H_in)`` for k = 0, else ``(3H, D*H)`` (``(3H, H)`` when merge_mode
            is sum, mean or mul): :math:`W_{ir} | W_{iz} | W_{in}` of layer k.
        weight_hh_l[k]: ``(3H, H)``, :math:`W_{hr} | W_{hz} | W_{hn}`.
        bias_ih_l[k]: ``(3H)``, :math:`b_{ir} | b_{iz} | b_{in}`.
        bias_hh_l[k]: ``(3H)``, :math:`b_{hr} | b_{hz} | b_{hn}`.
        ${layer_attributes}
        All parameters start uniform in :math:`(-1/\sqrt{H}, 1/\sqrt{H})`, as in torch.nn.

    Example::

        >>> import torch, rnnkit.nn
        >>> gru = rnnkit.nn.GRU(10, 20, bidirectional=True, merge_mode="sum")
        >>> output, h_n = gru(torch.randn(5, 3, 10))  # (L, N, H_in)
        >>> output.shape, h_n.shape
        (torch.Size([5, 3, 20]), torch.Size([2, 3, 20]))
    """

    spec_class = GRUSpec
