"""The classic cells: Elman RNN, LSTM and GRU, with torch.nn's equations and parameters.

Each is a :class:`~rnnkit.nn.cell_api.CellSpec` (the equations) plus a drop-in replacement for
the torch.nn cell of the same name (a :class:`~rnnkit.nn.cell_api.RecurrentCell` holding the
parameters).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.nn import sequence_kernels
from rnnkit.nn.cell_api import CellSpec, RecurrentCell, State
from rnnkit.nn.docstrings import document_cell

__all__ = ["NONLINEARITIES", "GRUCell", "GRUSpec", "LSTMCell", "LSTMSpec", "RNNCell", "RNNSpec"]

NONLINEARITIES = {"tanh": torch.tanh, "relu": torch.relu}
"""The activations an Elman-style cell (RNN, IndRNN) takes, by their ``nonlinearity`` name."""


class RNNSpec(CellSpec):
    r"""Elman RNN step.

    .. math::
        h_t = \sigma(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})

    Args:
        nonlinearity: ``"tanh"`` or ``"relu"`` (:math:`\sigma`).
    """

    num_gates = 1
    state_names = ("h",)

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"
    ) -> None:
        super().__init__(input_size, hidden_size, bias)
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.activation = NONLINEARITIES[nonlinearity]

    @property
    def fused_mode(self) -> str:  # type: ignore[override]
        return "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"

    def step(
        self,
        params: Mapping[str, Tensor],
        x_proj: Tensor,
        state: State,
        h_rec: Tensor | None = None,
    ) -> State:
        h = state[0] if h_rec is None else h_rec
        return (self.activation(torch.addmm(x_proj, h, params["weight_hh"].t())),)  # (N, H)

    def run_sequence(
        self,
        params: Mapping[str, Tensor],
        x_proj: Tensor,
        state: State,
        mask: Tensor | None,
        reverse: bool,
    ) -> tuple[Tensor, State] | None:
        """The step loop as one autograd node: :func:`.sequence_kernels.rnn_sequence`."""
        (h,) = state
        if not _kernel_applies(self, RNNSpec, x_proj, mask, h, params["weight_hh"]):
            return None
        out, h_n = sequence_kernels.rnn_sequence(
            x_proj, h, params["weight_hh"], self.nonlinearity, mask, reverse
        )
        return out, (h_n,)

    def extra_repr(self) -> str:
        return "" if self.nonlinearity == "tanh" else f"nonlinearity={self.nonlinearity!r}"


class LSTMSpec(CellSpec):
    r"""Long short-term memory, gate order i, f, g, o as in torch.nn.

    .. math::
        \begin{array}{ll}
        i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) \\
        f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\
        g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\
        o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\
        c_t = f_t \odot c_{t-1} + i_t \odot g_t \\
        h_t = o_t \odot \tanh(c_t) \quad (\text{then } h_t = W_{hr} h_t \text{ if proj\_size} > 0)
        \end{array}

    Args:
        proj_size: P > 0 adds ``weight_hr (P, H)`` and makes ``h`` of size P (``c`` stays H).
    """

    num_gates = 4
    state_names = ("h", "c")
    fused_mode = "LSTM"

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, proj_size: int = 0
    ) -> None:
        super().__init__(input_size, hidden_size, bias)
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError(f"proj_size must be an int >= 0, got {proj_size!r}")
        if proj_size >= hidden_size:
            raise ValueError(
                f"proj_size must be smaller than hidden_size ({hidden_size}), got {proj_size}"
            )
        self.proj_size = proj_size

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes = super().parameter_shapes()
        if self.proj_size:
            shapes["weight_hr"] = (self.proj_size, self.hidden_size)
        return shapes

    def state_sizes(self) -> tuple[int, ...]:
        return (self.proj_size or self.hidden_size, self.hidden_size)

    def step(
        self,
        params: Mapping[str, Tensor],
        x_proj: Tensor,
        state: State,
        h_rec: Tensor | None = None,
    ) -> State:
        h, c = state
        h_in = h if h_rec is None else h_rec  # recurrent dropout masks only the product
        gates = torch.addmm(x_proj, h_in, params["weight_hh"].t())  # (N, 4H)
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # (N, H)
        h = torch.sigmoid(o) * torch.tanh(c)  # (N, H)
        if self.proj_size:
            h = h @ params["weight_hr"].t()  # (N, P)
        return h, c

    def run_sequence(
        self,
        params: Mapping[str, Tensor],
        x_proj: Tensor,
        state: State,
        mask: Tensor | None,
        reverse: bool,
    ) -> tuple[Tensor, State] | None:
        """The step loop as one autograd node: :func:`.sequence_kernels.lstm_sequence`."""
        h, c = state
        w_hr = params["weight_hr"] if self.proj_size else None
        if not _kernel_applies(self, LSTMSpec, x_proj, mask, h, c, params["weight_hh"], w_hr):
            return None
        out, h_n, c_n = sequence_kernels.lstm_sequence(
            x_proj, h, c, params["weight_hh"], w_hr, mask, reverse
        )
        return out, (h_n, c_n)

    def extra_repr(self) -> str:
        return f"proj_size={self.proj_size}" if self.proj_size else ""


class GRUSpec(CellSpec):
    r"""Gated recurrent unit, gate order r, z, n as in torch.nn (``b_hn`` inside the reset product).

    .. math::
        \begin{array}{ll}
        r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) \\
        z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) \\
        n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})) \\
        h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}
        \end{array}
    """

    num_gates = 3
    state_names = ("h",)
    fused_mode = "GRU"

    def project_input(self, params: Mapping[str, Tensor], x: Tensor) -> Tensor:
        return F.linear(x, params["weight_ih"], params.get("bias_ih"))  # (..., 3H)

    def step(
        self,
        params: Mapping[str, Tensor],
        x_proj: Tensor,
        state: State,
        h_rec: Tensor | None = None,
    ) -> State:
        (h,) = state
        h_in = h if h_rec is None else h_rec  # recurrent dropout masks only the product
        hidden = F.linear(h_in, params["weight_hh"], params.get("bias_hh"))  # (N, 3H)
        x_r, x_z, x_n = x_proj.chunk(3, dim=1)
        h_r, h_z, h_n = hidden.chunk(3, dim=1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)
        return (n + z * (h - n),)  # (N, H)

    def run_sequence(
        self,
        params: Mapping[str, Tensor],
        x_proj: Tensor,
        state: State,
        mask: Tensor | None,
        reverse: bool,
    ) -> tuple[Tensor, State] | None:
        """The step loop as one autograd node: :func:`.sequence_kernels.gru_sequence`."""
        (h,) = state
        b_hh = params.get("bias_hh")
        if not _kernel_applies(self, GRUSpec, x_proj, mask, h, params["weight_hh"], b_hh):
            return None
        out, h_n = sequence_kernels.gru_sequence(
            x_proj, h, params["weight_hh"], b_hh, mask, reverse
        )
        return out, (h_n,)


def _kernel_applies(
    spec: CellSpec, base: type[CellSpec], x_proj: Tensor, mask: Tensor | None, *tensors
) -> bool:
    """Whether ``base``'s whole-sequence kernel computes exactly ``spec``'s step loop here.

    Not when a subclass changed the step (its equations are no longer the kernel's), for an
    empty sequence, a mask that is not ``(L, N, 1)`` bool, or tensors the kernels do not take.
    """
    if type(spec).step is not base.step or x_proj.dim() != 3 or x_proj.shape[0] == 0:
        return False
    if mask is not None and (mask.dtype != torch.bool or mask.shape != (*x_proj.shape[:2], 1)):
        return False
    return sequence_kernels.supports(x_proj, *tensors)


@document_cell()
class RNNCell(RecurrentCell):
    r"""One step of an Elman RNN; a drop-in replacement for :class:`torch.nn.RNNCell`.

    ${equations}

    :math:`x_t` is the input, :math:`h_{t-1}` the state before the step, :math:`h_t` the state
    after it and :math:`\sigma` tanh or relu. The equations are :class:`RNNSpec`'s.

    Args:
        ${cell_args}
        nonlinearity: ``"tanh"`` (default) or ``"relu"``, the :math:`\sigma` above.

    ${inputs_outputs}

    Attributes:
        weight_ih: ``(H, H_in)``, :math:`W_{ih}`.
        weight_hh: ``(H, H)``, :math:`W_{hh}`.
        bias_ih: ``(H)``, :math:`b_{ih}`.
        bias_hh: ``(H)``, :math:`b_{hh}`.
        All start uniform in :math:`(-1/\sqrt{H}, 1/\sqrt{H})`, as in torch.nn.

    Example::

        >>> import torch, rnnkit.nn
        >>> cell = rnnkit.nn.RNNCell(10, 20)
        >>> x = torch.randn(6, 3, 10)  # (L, N, H_in)
        >>> h = torch.zeros(3, 20)
        >>> for x_t in x:
        ...     h = cell(x_t, h)
        >>> h.shape
        torch.Size([3, 20])
    """

    spec_class = RNNSpec

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, device, dtype, nonlinearity=nonlinearity)


@document_cell(states=("h", "c"), h_out="H_out")
class LSTMCell(RecurrentCell):
    r"""One step of an LSTM; a drop-in replacement for :class:`torch.nn.LSTMCell`.

    ${equations}

    :math:`x_t` is the input; :math:`h_{t-1}, c_{t-1}` the hidden and cell state before the
    step, :math:`h_t, c_t` after it; :math:`i, f, g, o` the input, forget, cell and output gates;
    :math:`\sigma` the sigmoid and :math:`\odot` the element-wise product. The equations are
    :class:`LSTMSpec`'s. ``H_out`` is ``proj_size`` if it is set, else H.

    Args:
        ${cell_args}
        proj_size: keyword-only (rnnkit's addition). P > 0 projects :math:`h_t` to P units
            with ``weight_hr``, as :class:`torch.nn.LSTM` does; 0 (default) does not.

    ${inputs_outputs}

    Attributes:
        weight_ih: ``(4H, H_in)``, :math:`W_{ii} | W_{if} | W_{ig} | W_{io}` stacked.
        weight_hh: ``(4H, H_out)``, :math:`W_{hi} | W_{hf} | W_{hg} | W_{ho}`.
        bias_ih: ``(4H)``, :math:`b_{ii} | b_{if} | b_{ig} | b_{io}`.
        bias_hh: ``(4H)``, :math:`b_{hi} | b_{hf} | b_{hg} | b_{ho}`.
        weight_hr: ``(H_out, H)``, :math:`W_{hr}`, only when ``proj_size > 0``.
        All start uniform in :math:`(-1/\sqrt{H}, 1/\sqrt{H})`, as in torch.nn.

    Example::

        >>> import torch, rnnkit.nn
        >>> cell = rnnkit.nn.LSTMCell(10, 20)
        >>> x = torch.randn(6, 3, 10)  # (L, N, H_in)
        >>> h, c = torch.zeros(3, 20), torch.zeros(3, 20)
        >>> for x_t in x:
        ...     h, c = cell(x_t, (h, c))
        >>> h.shape, c.shape
        (torch.Size([3, 20]), torch.Size([3, 20]))
    """

    spec_class = LSTMSpec


@document_cell()
class GRUCell(RecurrentCell):
    r"""One step of a GRU; a drop-in replacement for :class:`torch.nn.GRUCell`.

    ${equations}

    :math:`x_t` is the input, :math:`h_{t-1}` the state before the step and :math:`h_t` after
    it; :math:`r, z, n` the reset gate, update gate and candidate; :math:`\sigma` the sigmoid and
    :math:`\odot` the element-wise product. :math:`b_{hn}` sits inside the reset product, as in
    torch.nn. The equations are :class:`GRUSpec`'s.

    Args:
        ${cell_args}

    ${inputs_outputs}

    Attributes:
        weight_ih: ``(3H, H_in)``, :math:`W_{ir} | W_{iz} | W_{in}` stacked.
        weight_hh: ``(3H, H)``, :math:`W_{hr} | W_{hz} | W_{hn}`.
        bias_ih: ``(3H)``, :math:`b_{ir} | b_{iz} | b_{in}`.
        bias_hh: ``(3H)``, :math:`b_{hr} | b_{hz} | b_{hn}`.
        All start uniform in :math:`(-1/\sqrt{H}, 1/\sqrt{H})`, as in torch.nn.

    Example::

        >>> import torch, rnnkit.nn
        >>> cell = rnnkit.nn.GRUCell(10, 20)
        >>> h = cell(torch.randn(3, 10))  # one step from a zero state
        >>> h.shape
        torch.Size([3, 20])
    """

    spec_class = GRUSpec
