r"""MinGRU and MinLSTM (Feng, Tung, Ahmed, Bengio, Hajimirsadeghi 2024, "Were RNNs All We
Needed?").

The minimal cells drop the previous state from the gates and the candidate: everything the step
mixes is computed from the input alone. What is left is a linear recurrence in the state,

.. math::
    h_t = a_t \odot h_{t-1} + b_t,

with ``a = 1 - w`` and ``b = w c`` known for every step before the recurrence runs (``w`` the
update gate, ``c`` the candidate). Training evaluates it for the whole sequence as one autograd
node per layer and direction, :func:`rnnkit.nn.minimal_kernels.minimal_sequence` (a hand-derived
backward pass; it also computes the input projection block by block, so
:meth:`~_MinimalSpec.project_input` is the identity); :func:`rnnkit.nn.scan.gated_scan` is the
same recurrence for any :class:`~rnnkit.nn.scan.Gates`. Streaming runs the same equations
one step at a time (:meth:`~_MinimalSpec.step`, :class:`MinGRUCell`, or the layer fed one step at
a time with its state). Both give the same result.

Both cells use the paper's :math:`g(x) = x + 0.5` for :math:`x > 0` and :math:`\sigma(x)`
otherwise on the candidate (continuous, positive, and linear for large inputs), as in the paper's
log-space version. There is no recurrent weight matrix: the parameters are ``weight_ih (G*H, H_in)``
and ``bias_ih (G*H)``, initialised like :class:`torch.nn.Linear` (uniform in
``(-1/sqrt(H_in), 1/sqrt(H_in))``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.nn import minimal_kernels, sequence_kernels
from rnnkit.nn.cell_api import CellSpec, RecurrentCell, State
from rnnkit.nn.docstrings import document_cell, document_layer
from rnnkit.nn.recurrent_layer import RecurrentLayer
from rnnkit.nn.scan import Gates

__all__ = [
    "MinGRU",
    "MinGRUCell",
    "MinGRUGates",
    "MinGRUSpec",
    "MinLSTM",
    "MinLSTMCell",
    "MinLSTMGates",
    "MinLSTMSpec",
    "positive_candidate",
]


_SIGMOID_BW = torch.ops.aten.sigmoid_backward.default  # grad * y * (1 - y)
_SIGMOID_BW_OUT = torch.ops.aten.sigmoid_backward.grad_input  # the same, into grad_input
_RELU_BW = torch.ops.aten.threshold_backward.default  # grad * (x > threshold)


def positive_candidate(x: Tensor) -> Tensor:
    r"""The paper's :math:`g(x)`: :math:`x + 0.5` for :math:`x > 0`, :math:`\sigma(x)` otherwise.

    Continuous and positive; its derivative is 1 for :math:`x > 0` and :math:`\sigma'(x)` for
    :math:`x \le 0`. Written ``sigmoid(min(x, 0)) + relu(x)`` so that autograd gives exactly
    that derivative.
    """
    return torch.sigmoid(torch.clamp(x, max=0.0)) + torch.relu(x)


def _candidate(x: Tensor) -> Tensor:
    """:func:`positive_candidate` without autograd, in fewer operations (the same values)."""
    return torch.maximum(x + 0.5, torch.sigmoid(x))


def _candidate_backward(x: Tensor, y: Tensor, grad: Tensor, out: Tensor) -> None:
    """``dL/dx`` of ``y = positive_candidate(x)`` into ``out``, with no comparisons.

    ``s = min(y, 0.5)`` is ``sigmoid(min(x, 0))``, so ``sigmoid'`` at it is ``sigma'(x)`` for
    ``x <= 0`` and 0.25 above; ``0.75 relu'(x)`` makes the latter 1.
    """
    slope = _SIGMOID_BW(grad, torch.clamp(y, max=0.5))
    torch.add(slope, _RELU_BW(grad, x, 0.0), alpha=0.75, out=out)


class MinGRUGates:
    """MinGRU's ``w = z = sigmoid(k_z)`` and ``c = g(k_h)`` from ``k = [k_z, k_h] (..., 2H)``."""

    def forward(self, k: Tensor) -> tuple[Tensor, Tensor]:
        hid = k.shape[-1] // 2
        if torch.is_grad_enabled():
            return torch.sigmoid(k[..., :hid]), positive_candidate(k[..., hid:])
        s = torch.sigmoid(k)  # both halves in one call
        return s[..., :hid], torch.maximum(k[..., hid:] + 0.5, s[..., hid:])

    def backward(
        self, k: Tensor, w: Tensor, c: Tensor, grad_w: Tensor, grad_c: Tensor, out: Tensor
    ) -> None:
        hid = w.shape[-1]
        _SIGMOID_BW_OUT(grad_w, w, grad_input=out[..., :hid])
        _candidate_backward(k[..., hid:], c, grad_c, out[..., hid:])


class MinLSTMGates:
    """MinLSTM's ``w = i' = i / (f + i)`` and ``c = g(k_h)`` from ``k = [k_f, k_i, k_h]``.

    ``i' = sigmoid(log i - log f)`` with ``logsigmoid``: finite even where both gates underflow.
    """

    def forward(self, k: Tensor) -> tuple[Tensor, Tensor]:
        hid = k.shape[-1] // 3
        if torch.is_grad_enabled():
            log_f, log_i = F.logsigmoid(k[..., :hid]), F.logsigmoid(k[..., hid:2 * hid])
            return torch.sigmoid(log_i - log_f), positive_candidate(k[..., 2 * hid:])
        logs = F.logsigmoid(k[..., :2 * hid])  # log f, log i in one call
        w = torch.sigmoid(logs[..., hid:] - logs[..., :hid])
        return w, _candidate(k[..., 2 * hid:])

    def backward(
        self, k: Tensor, w: Tensor, c: Tensor, grad_w: Tensor, grad_c: Tensor, out: Tensor
    ) -> None:
        hid = w.shape[-1]
        grad_d = _SIGMOID_BW(grad_w, w)  # dL/d(log i - log f)
        slopes = torch.sigmoid(k[..., :2 * hid].neg())  # d logsigmoid(x) / dx = sigmoid(-x)
        torch.mul(grad_d, slopes[..., :hid], out=out[..., :hid]).neg_()
        torch.mul(grad_d, slopes[..., hid:], out=out[..., hid:2 * hid])
        _candidate_backward(k[..., 2 * hid:], c, grad_c, out[..., 2 * hid:])


class _MinimalSpec(CellSpec):
    """Shared parts of the minimal cells: input-only parameters and the scan over a sequence.

    ``h_t = h_{t-1} + w_t (c_t - h_{t-1})``, i.e. ``a = 1 - w`` and ``b = w c``, with
    ``(w, c) = gates.forward(W_ih x_t + b_ih)``.
    """

    state_names = ("h",)
    fused_mode = None
    gates: ClassVar[Gates]  # the step's gates (and :func:`~rnnkit.nn.scan.gated_scan`'s)
    kernel_cell: ClassVar[str]  # the whole-sequence kernel's gate map, MINIMAL_GATES[...]

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        gh = self.num_gates * self.hidden_size
        shapes = {"weight_ih": (gh, self.input_size)}
        if self.bias:
            shapes["bias_ih"] = (gh,)
        return shapes

    def reset_parameters(self, params: Mapping[str, Tensor]) -> None:
        bound = 1.0 / math.sqrt(self.input_size)
        with torch.no_grad():
            for tensor in params.values():
                tensor.uniform_(-bound, bound)

    def project_input(self, params: Mapping[str, Tensor], x: Tensor) -> Tensor:
        """The identity: the projection ``W x + b`` is part of :meth:`step` and of the scan.

        :func:`~rnnkit.nn.minimal_kernels.minimal_sequence` computes it one block of steps at a
        time, in cache, so the ``(L, N, G*H)`` projections are never stored for the whole
        sequence.
        """
        return x

    def step(self, params: Mapping[str, Tensor], x_proj: Tensor, state: State) -> State:
        k = F.linear(x_proj, params["weight_ih"], params.get("bias_ih"))  # (N, G*H)
        w, c = self.gates.forward(k)  # (N, H) each
        return (torch.lerp(state[0], c, w),)  # h + w (c - h) = (1 - w) h + w c

    def run_sequence(
        self,
        params: Mapping[str, Tensor],
        x_proj: Tensor,
        state: State,
        mask: Tensor | None,
        reverse: bool,
    ) -> tuple[Tensor, State] | None:
        """The whole sequence as one autograd node,
        :func:`~rnnkit.nn.minimal_kernels.minimal_sequence` (gates stored, fused backward).

        On padded steps ``w = 0`` carries the state; the output there is zero.
        """
        (h0,) = state
        own = type(self).step is _MinimalSpec.step
        own = own and type(self).project_input is _MinimalSpec.project_input
        if not own or x_proj.dim() != 3 or x_proj.shape[0] == 0:
            return None
        if mask is not None and (mask.dtype != torch.bool or mask.shape != (*x_proj.shape[:2], 1)):
            return None
        weight, bias = params["weight_ih"], params.get("bias_ih")
        if not sequence_kernels.supports(x_proj, h0, weight, bias):
            return None
        h = minimal_kernels.minimal_sequence(x_proj, h0, self.kernel_cell, weight, bias, mask,
                                             reverse)  # (L, N, H)
        final = h[0] if reverse else h[-1]
        return (h if mask is None else h * mask), (final,)


class MinGRUSpec(_MinimalSpec):
    r"""MinGRU step on ``k = W_{ih} x_t + b_{ih} = [k_z, k_h]``, ``weight_ih (2H, H_in)``:

    .. math::
        \begin{array}{ll}
        z_t = \sigma(W_z x_t + b_z) \\
        \tilde h_t = g(W_h x_t + b_h) \\
        h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t
        \end{array}
    """

    num_gates = 2
    gates = MinGRUGates()
    kernel_cell = "mingru"


class MinLSTMSpec(_MinimalSpec):
    r"""MinLSTM step on ``k = W_{ih} x_t + b_{ih} = [k_f, k_i, k_h]``, ``weight_ih (3H, H_in)``:

    .. math::
        \begin{array}{ll}
        f_t = \sigma(W_f x_t + b_f), \quad i_t = \sigma(W_i x_t + b_i) \\
        f'_t = f_t / (f_t + i_t), \quad i'_t = i_t / (f_t + i_t) \\
        \tilde h_t = g(W_h x_t + b_h) \\
        h_t = f'_t \odot h_{t-1} + i'_t \odot \tilde h_t
        \end{array}
    """

    num_gates = 3
    gates = MinLSTMGates()
    kernel_cell = "minlstm"


_MINIMAL_INIT = """\
Everything starts uniform in :math:`(-1/\\sqrt{H_{in}}, 1/\\sqrt{H_{in}})`, as in
:class:`torch.nn.Linear` (for layer k > 0, its own input size in place of H_in).
"""


@document_layer(recurrent=False, minimal_init=_MINIMAL_INIT)
class MinGRU(RecurrentLayer):
    r"""A stack of MinGRU layers (Feng et al. 2024, "Were RNNs All We Needed?").

    Each layer and direction computes, for every step t of the sequence,

    ${equations}

    where :math:`x_t` is the layer's input at step t (for layer k > 0, the output of layer
    k - 1), :math:`h_t` its state, :math:`z_t` the update gate, :math:`\tilde h_t` the
    candidate, :math:`g(x) = x + 0.5` for :math:`x > 0` and :math:`\sigma(x)` otherwise,
    :math:`\sigma` the sigmoid and :math:`\odot` the element-wise product. Neither gate nor
    candidate reads :math:`h_{t-1}`, so training runs the whole sequence as one scan per layer
    and direction (:func:`~rnnkit.nn.minimal_kernels.minimal_sequence`); it is always the
    explicit path.

    Args:
        ${layer_args}
        ${keyword_args}

    ${inputs_outputs}

    ${directions}

    Attributes:
        weight_ih_l[k]: ``(2H, H_in)`` for k = 0, else ``(2H, D*H)`` (``(2H, H)`` when merge_mode
            is sum, mean or mul): :math:`W_z | W_h` of layer k.
        bias_ih_l[k]: ``(2H)``, :math:`b_z | b_h`.
        ${layer_attributes}
        ${minimal_init}

    Example::

        >>> import torch, rnnkit.nn
        >>> rnn = rnnkit.nn.MinGRU(10, 20, num_layers=2, batch_first=True)
        >>> output, h_n = rnn(torch.randn(3, 100, 10))  # (N, L, H_in)
        >>> output.shape, h_n.shape
        (torch.Size([3, 100, 20]), torch.Size([2, 3, 20]))
    """

    spec_class = MinGRUSpec


@document_layer(recurrent=False, minimal_init=_MINIMAL_INIT)
class MinLSTM(RecurrentLayer):
    r"""A stack of MinLSTM layers (Feng et al. 2024, "Were RNNs All We Needed?").

    Each layer and direction computes, for every step t of the sequence,

    ${equations}

    where :math:`x_t` is the layer's input at step t (for layer k > 0, the output of layer
    k - 1), :math:`h_t` its state (there is no cell state), :math:`f_t, i_t` the forget and
    input gates, :math:`\tilde h_t` the candidate, :math:`g(x) = x + 0.5` for :math:`x > 0`
    and :math:`\sigma(x)` otherwise, :math:`\sigma` the sigmoid and :math:`\odot` the
    element-wise product. Neither gates nor candidate read :math:`h_{t-1}`, so training runs
    the whole sequence as one scan per layer and direction
    (:func:`~rnnkit.nn.minimal_kernels.minimal_sequence`); it is always the explicit path.

    Args:
        ${layer_args}
        ${keyword_args}

    ${inputs_outputs}

    ${directions}

    Attributes:
        weight_ih_l[k]: ``(3H, H_in)`` for k = 0, else ``(3H, D*H)`` (``(3H, H)`` when merge_mode
            is sum, mean or mul): :math:`W_f | W_i | W_h` of layer k.
        bias_ih_l[k]: ``(3H)``, :math:`b_f | b_i | b_h`.
        ${layer_attributes}
        ${minimal_init}

    Example::

        >>> import torch, rnnkit.nn
        >>> rnn = rnnkit.nn.MinLSTM(10, 20, bidirectional=True)
        >>> output, h_n = rnn(torch.randn(100, 3, 10), lengths=torch.tensor([100, 60, 7]))
        >>> output.shape, h_n.shape
        (torch.Size([100, 3, 40]), torch.Size([2, 3, 20]))
    """

    spec_class = MinLSTMSpec


@document_cell(minimal_init=_MINIMAL_INIT)
class MinGRUCell(RecurrentCell):
    r"""One MinGRU step, with :class:`torch.nn.GRUCell`'s interface (for streaming).

    ${equations}

    :math:`x_t` is the input, :math:`h_{t-1}` the state before the step and :math:`h_t` after
    it; :math:`z_t` the update gate, :math:`\tilde h_t` the candidate, :math:`g(x) = x + 0.5`
    for :math:`x > 0` and :math:`\sigma(x)` otherwise. Fed one step at a time it gives what
    :class:`MinGRU`'s scan gives for the whole sequence.

    Args:
        ${cell_args}

    ${inputs_outputs}

    Attributes:
        weight_ih: ``(2H, H_in)``, :math:`W_z | W_h`.
        bias_ih: ``(2H)``, :math:`b_z | b_h`.
        ${minimal_init}

    Example::

        >>> import torch, rnnkit.nn
        >>> cell = rnnkit.nn.MinGRUCell(10, 20)
        >>> h = torch.zeros(3, 20)
        >>> for x_t in torch.randn(6, 3, 10):  # (L, N, H_in), one step at a time
        ...     h = cell(x_t, h)
        >>> h.shape
        torch.Size([3, 20])
    """

    spec_class = MinGRUSpec


@document_cell(minimal_init=_MINIMAL_INIT)
class MinLSTMCell(RecurrentCell):
    r"""One MinLSTM step, with :class:`torch.nn.GRUCell`'s interface (for streaming).

    ${equations}

    :math:`x_t` is the input, :math:`h_{t-1}` the state before the step and :math:`h_t` after
    it (there is no cell state); :math:`f_t, i_t` the forget and input gates,
    :math:`\tilde h_t` the candidate, :math:`g(x) = x + 0.5` for :math:`x > 0` and
    :math:`\sigma(x)` otherwise. Fed one step at a time it gives what :class:`MinLSTM`'s scan
    gives for the whole sequence.

    Args:
        ${cell_args}

    ${inputs_outputs}

    Attributes:
        weight_ih: ``(3H, H_in)``, :math:`W_f | W_i | W_h`.
        bias_ih: ``(3H)``, :math:`b_f | b_i | b_h`.
        ${minimal_init}

    Example::

        >>> import torch, rnnkit.nn
        >>> cell = rnnkit.nn.MinLSTMCell(10, 20)
        >>> cell(torch.randn(3, 10)).shape  # one step from a zero state
        torch.Size([3, 20])
    """

    spec_class = MinLSTMSpec
