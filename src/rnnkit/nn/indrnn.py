r"""Independently recurrent neural network (Li, Li, Cook, Zhu & Gao 2018, "IndRNN").

Each hidden unit sees only its own previous value, through an element-wise recurrent weight
:math:`u`: the units are independent within a layer and mix across stacked layers. Keeping
:math:`|u|` bounded keeps gradients from exploding or vanishing over long sequences
(``recurrent_max_abs``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import Tensor

from rnnkit.nn.cell_api import CellSpec, RecurrentCell, State
from rnnkit.nn.classic_cells import NONLINEARITIES
from rnnkit.nn.docstrings import document_cell, document_layer
from rnnkit.nn.recurrent_layer import RecurrentLayer

__all__ = ["IndRNN", "IndRNNCell", "IndRNNSpec"]

class IndRNNSpec(CellSpec):
    r"""IndRNN step.

    .. math::
        h_t = \sigma(W_{ih} x_t + b_{ih} + u \odot h_{t-1} + b_{hh})

    Parameters: ``weight_ih (H, H_in)``, ``weight_hh (H,)`` (the element-wise recurrent weight
    :math:`u`), ``bias_ih (H)``, ``bias_hh (H)``. ``weight_ih`` and the biases are initialised
    uniformly in ``(-1/sqrt(H), 1/sqrt(H))``, :math:`u` uniformly in ``[0, min(1, m)]``.

    Args:
        nonlinearity: ``"relu"`` (the paper's, default) or ``"tanh"`` (:math:`\sigma`).
        recurrent_max_abs: m > 0 clamps :math:`u` to ``[-m, m]`` in every forward pass (the
            stored parameter is not changed; its gradient is zero where it lies outside). The
            paper suggests ``m = 2 ** (1 / L)`` for relu over sequences of length L. None: no
            constraint. With ``weight_drop`` the clamp applies to the weight as used (after
            DropConnect's ``1/(1-p)`` scaling).
    """

    num_gates = 1
    state_names = ("h",)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "relu",
        recurrent_max_abs: float | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias)
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be 'relu' or 'tanh', got {nonlinearity!r}")
        if recurrent_max_abs is not None and (
            isinstance(recurrent_max_abs, bool)
            or not isinstance(recurrent_max_abs, int | float)
            or not recurrent_max_abs > 0
        ):
            raise ValueError(
                f"recurrent_max_abs must be a positive number or None, got {recurrent_max_abs!r}"
            )
        self.nonlinearity = nonlinearity
        self.activation = NONLINEARITIES[nonlinearity]
        self.recurrent_max_abs = None if recurrent_max_abs is None else float(recurrent_max_abs)

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes = super().parameter_shapes()
        shapes["weight_hh"] = (self.hidden_size,)
        return shapes

    def reset_parameters(self, params: Mapping[str, Tensor]) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        high = min(1.0, self.recurrent_max_abs or 1.0)
        with torch.no_grad():
            for name, tensor in params.items():
                if name == "weight_hh":
                    tensor.uniform_(0.0, high)
                else:
                    tensor.uniform_(-bound, bound)

    def recurrent_weight(self, params: Mapping[str, Tensor]) -> Tensor:
        """:math:`u`, clamped to ``[-m, m]`` when ``recurrent_max_abs`` is set."""
        u = params["weight_hh"]
        if self.recurrent_max_abs is not None:
            u = u.clamp(-self.recurrent_max_abs, self.recurrent_max_abs)
        return u

    def step(
        self,
        params: Mapping[str, Tensor],
        x_proj: Tensor,
        state: State,
        h_rec: Tensor | None = None,
    ) -> State:
        h = state[0] if h_rec is None else h_rec
        return (self.activation(x_proj + self.recurrent_weight(params) * h),)  # (N, H)

    def extra_repr(self) -> str:
        parts = []
        if self.nonlinearity != "relu":
            parts.append(f"nonlinearity={self.nonlinearity!r}")
        if self.recurrent_max_abs is not None:
            parts.append(f"recurrent_max_abs={self.recurrent_max_abs}")
        return ", ".join(parts)


_INDRNN_ARGS = """\
nonlinearity: keyword-only, ``"relu"`` (the paper's, default) or ``"tanh"``, the
    :math:`\\sigma` above.
recurrent_max_abs: keyword-only. m > 0 clamps :math:`u` to ``[-m, m]`` in every forward
    pass (the stored parameter is unchanged; its gradient is zero outside); the paper
    suggests ``2 ** (1 / L)`` for relu over sequences of length L. None (default): no
    bound.
"""


@document_layer(indrnn_args=_INDRNN_ARGS)
class IndRNN(RecurrentLayer):
    r"""A stack of independently recurrent layers (Li et al. 2018, "IndRNN"); explicit path only.

    Each layer and direction computes, for every step t of the sequence,

    ${equations}

    where :math:`x_t` is the layer's input at step t (for layer k > 0, the output of layer
    k - 1), :math:`h_t` its state, :math:`u` the element-wise recurrent weight (each unit sees
    only its own previous value), :math:`\sigma` relu or tanh and :math:`\odot` the
    element-wise product.

    Args:
        ${layer_args}
        ${indrnn_args}
        ${keyword_args}

    ${inputs_outputs}

    ${directions}

    Attributes:
        weight_ih_l[k]: ``(H, H_in)`` for k = 0, else ``(H, D*H)`` (``(H, H)`` when merge_mode
            is sum, mean or mul): :math:`W_{ih}` of layer k.
        weight_hh_l[k]: ``(H)``, the recurrent weight :math:`u`, a vector.
        bias_ih_l[k], bias_hh_l[k]: ``(H)``, :math:`b_{ih}, b_{hh}`.
        ${layer_attributes}
        :math:`W_{ih}` and the biases start uniform in :math:`(-1/\sqrt{H}, 1/\sqrt{H})`,
        :math:`u` uniform in ``[0, min(1, m)]``.

    Example::

        >>> import torch, rnnkit.nn
        >>> rnn = rnnkit.nn.IndRNN(10, 20, num_layers=2, recurrent_max_abs=2 ** (1 / 50))
        >>> output, h_n = rnn(torch.randn(50, 3, 10))  # (L, N, H_in)
        >>> output.shape, h_n.shape
        (torch.Size([50, 3, 20]), torch.Size([2, 3, 20]))
    """

    spec_class = IndRNNSpec


@document_cell(indrnn_args=_INDRNN_ARGS)
class IndRNNCell(RecurrentCell):
    r"""One IndRNN step, with :class:`torch.nn.RNNCell`'s interface.

    ${equations}

    :math:`x_t` is the input, :math:`h_{t-1}` the state before the step and :math:`h_t` after
    it; :math:`u` the element-wise recurrent weight, :math:`\sigma` relu or tanh and
    :math:`\odot` the element-wise product.

    Args:
        ${cell_args}
        ${indrnn_args}

    ${inputs_outputs}

    Attributes:
        weight_ih: ``(H, H_in)``, :math:`W_{ih}`.
        weight_hh: ``(H)``, the recurrent weight :math:`u`, a vector.
        bias_ih, bias_hh: ``(H)``, :math:`b_{ih}, b_{hh}`.
        :math:`W_{ih}` and the biases start uniform in :math:`(-1/\sqrt{H}, 1/\sqrt{H})`,
        :math:`u` uniform in ``[0, min(1, m)]``.

    Example::

        >>> import torch, rnnkit.nn
        >>> cell = rnnkit.nn.IndRNNCell(10, 20, nonlinearity="tanh")
        >>> cell(torch.randn(3, 10)).shape  # one step from a zero state
        torch.Size([3, 20])
    """

    spec_class = IndRNNSpec
