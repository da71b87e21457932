r"""Layer-normalised LSTM and GRU (Ba, Kiros & Hinton 2016, "Layer Normalization").

The input pre-activations :math:`W_{ih} x_t` and the recurrent pre-activations
:math:`W_{hh} h_{t-1}` are normalised *separately*, each with its own gain :math:`\gamma` (init 1)
and shift :math:`\beta` (init 0), and the LSTM also normalises its cell state before the output
tanh (the state it carries stays un-normalised), as in the paper and in haste's LayerNormLSTM:

.. math::
    \mathrm{LN}(a; \gamma, \beta) = \gamma \odot \frac{a - \mu(a)}{\sqrt{\sigma^2(a) + \epsilon}}
    + \beta

By default :math:`\mu, \sigma^2` are taken over all gates of a vector at once (``4H`` for the
LSTM, ``3H`` for the GRU: the paper's and haste's choice); ``per_gate=True`` takes them over each
gate's ``H`` units separately. The usual biases ``b_ih``, ``b_hh`` are added after normalising.
Because :meth:`~rnnkit.nn.cell_api.CellSpec.project_input` runs once for all steps, the input half's
normalisation costs nothing per step. Over a whole sequence each layer and direction runs as one
autograd node (:mod:`rnnkit.nn.layernorm_kernels`, hand-derived backward, layer norm's included);
the step loop runs instead where the kernels do not apply (recurrent dropout, zoneout, double
backward via :func:`rnnkit.nn.sequence_kernels.disabled`).

``bias=False`` removes every additive term: ``b_ih``, ``b_hh`` and the shifts :math:`\beta`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.nn import layernorm_kernels
from rnnkit.nn.cell_api import CellSpec, RecurrentCell, State
from rnnkit.nn.docstrings import document_cell, document_layer
from rnnkit.nn.recurrent_layer import RecurrentLayer

__all__ = [
    "LayerNormGRU",
    "LayerNormGRUCell",
    "LayerNormGRUSpec",
    "LayerNormLSTM",
    "LayerNormLSTMCell",
    "LayerNormLSTMSpec",
]


class _LayerNormSpec(CellSpec):
    """Shared parameters and normalisation of the layer-normalised cells.

    ``norms`` names the normalised vectors and their sizes, in creation order.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        per_gate: bool = False,
        eps: float = 1e-5,
    ) -> None:
        super().__init__(input_size, hidden_size, bias)
        if not isinstance(per_gate, bool):
            raise ValueError(f"per_gate must be a bool, got {per_gate!r}")
        if isinstance(eps, bool) or not isinstance(eps, int | float) or eps <= 0:
            raise ValueError(f"eps must be a positive number, got {eps!r}")
        self.per_gate = per_gate
        self.eps = float(eps)

    def norms(self) -> dict[str, int]:
        gh = self.num_gates * self.hidden_size
        return {"ih": gh, "hh": gh}

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes = super().parameter_shapes()  # weight_ih, weight_hh[, bias_ih, bias_hh]
        for name, size in self.norms().items():
            shapes[f"ln_weight_{name}"] = (size,)
            if self.bias:
                shapes[f"ln_bias_{name}"] = (size,)
        return shapes

    def reset_parameters(self, params: Mapping[str, Tensor]) -> None:
        """Weights and biases uniform in ``(-1/sqrt(H), 1/sqrt(H))``; gains 1, shifts 0."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for name, tensor in params.items():
                if name.startswith("ln_weight"):
                    tensor.fill_(1.0)
                elif name.startswith("ln_bias"):
                    tensor.zero_()
                else:
                    tensor.uniform_(-bound, bound)

    def norm(
        self, params: Mapping[str, Tensor], name: str, a: Tensor, gates: int,
        shift: Tensor | None,
    ) -> Tensor:
        """``gain * LN(a) + shift`` with the gain of ``name``; ``a (..., gates*H)``, ``shift``
        a vector (the shift of ``name`` plus any bias added after it) or None."""
        gain = params[f"ln_weight_{name}"]
        if self.per_gate and gates > 1:
            split = a.unflatten(-1, (gates, self.hidden_size))  # (..., G, H)
            normed = F.layer_norm(split, (self.hidden_size,), eps=self.eps).flatten(-2)
            return normed * gain if shift is None else torch.addcmul(shift, normed, gain)
        return F.layer_norm(a, (a.shape[-1],), gain, shift, eps=self.eps)  # one fused op

    def groups(self) -> int:
        """How many groups the recurrent normalisation takes its statistics over (1 or G)."""
        return self.num_gates if self.per_gate else 1

    def extra_repr(self) -> str:
        parts = []
        if self.per_gate:
            parts.append("per_gate=True")
        if self.eps != 1e-5:
            parts.append(f"eps={self.eps}")
        return ", ".join(parts)


class LayerNormLSTMSpec(_LayerNormSpec):
    r"""Layer-normalised LSTM, gate order i, f, g, o.

    .. math::
        \begin{array}{ll}
        (i, f, g, o) = \mathrm{LN}_{ih}(W_{ih} x_t) + \mathrm{LN}_{hh}(W_{hh} h_{t-1})
                       + b_{ih} + b_{hh} \\
        c_t = \sigma(f) \odot c_{t-1} + \sigma(i) \odot \tanh(g) \\
        h_t = \sigma(o) \odot \tanh(\mathrm{LN}_c(c_t))
        \end{array}

    Parameters: ``weight_ih (4H, H_in)``, ``weight_hh (4H, H)``, ``bias_ih (4H)``, ``bias_hh (4H)``
    (as the LSTM), then ``ln_weight_ih, ln_bias_ih, ln_weight_hh, ln_bias_hh (4H)`` and
    ``ln_weight_c, ln_bias_c (H)``.

    Args:
        per_gate: normalise each gate's H units separately instead of all 4H together.
        eps: the :math:`\epsilon` added to the variance.
    """

    num_gates = 4
    state_names = ("h", "c")

    def norms(self) -> dict[str, int]:
        return super().norms() | {"c": self.hidden_size}

    def project_input(self, params: Mapping[str, Tensor], x: Tensor) -> Tensor:
        """``LN_ih(W_ih x) + b_ih + b_hh``, and LN_hh's shift (a constant added every step)."""
        shift = None
        if self.bias:
            shift = (params["ln_bias_ih"] + params["bias_ih"] + params["bias_hh"]
                     + params["ln_bias_hh"])
        return self.norm(params, "ih", F.linear(x, params["weight_ih"]), 4, shift)  # (..., 4H)

    def step(
        self,
        params: Mapping[str, Tensor],
        x_proj: Tensor,
        state: State,
        h_rec: Tensor | None = None,
    ) -> State:
        h, c = state
        recurrent = F.linear(h if h_rec is None else h_rec, params["weight_hh"])  # (N, 4H)
        gates = x_proj + self.norm(params, "hh", recurrent, 4, None)  # shift in x_proj
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # (N, H)
        h = torch.sigmoid(o) * torch.tanh(self.norm(params, "c", c, 1, params.get("ln_bias_c")))
        return h, c

    def run_sequence(
        self,
        params: Mapping[str, Tensor],
        x_proj: Tensor,
        state: State,
        mask: Tensor | None,
        reverse: bool,
    ) -> tuple[Tensor, State] | None:
        """The step loop as one node: :func:`.layernorm_kernels.layernorm_lstm_sequence`."""
        h, c = state
        names = ("weight_hh", "ln_weight_hh", "ln_weight_c", "ln_bias_c")
        weights = [params.get(name) for name in names]
        if type(self).step is not LayerNormLSTMSpec.step:
            return None
        if not layernorm_kernels.sequence_applies(x_proj, mask, h, c, *weights):
            return None
        out, h_n, c_n = layernorm_kernels.layernorm_lstm_sequence(
            x_proj, h, c, *weights, self.groups(), self.eps, mask, reverse
        )
        return out, (h_n, c_n)


class LayerNormGRUSpec(_LayerNormSpec):
    r"""Layer-normalised GRU, gate order r, z, n (``b_hn`` inside the reset product, as torch.nn).

    .. math::
        \begin{array}{ll}
        (a_r, a_z, a_n) = \mathrm{LN}_{ih}(W_{ih} x_t) + b_{ih} \\
        (u_r, u_z, u_n) = \mathrm{LN}_{hh}(W_{hh} h_{t-1}) + b_{hh} \\
        r_t = \sigma(a_r + u_r), \quad z_t = \sigma(a_z + u_z) \\
        n_t = \tanh(a_n + r_t \odot u_n) \\
        h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}
        \end{array}

    Parameters: ``weight_ih (3H, H_in)``, ``weight_hh (3H, H)``, ``bias_ih (3H)``, ``bias_hh (3H)``
    (as the GRU), then ``ln_weight_ih, ln_bias_ih, ln_weight_hh, ln_bias_hh (3H)``.

    Args:
        per_gate: normalise each gate's H units separately instead of all 3H together.
        eps: the :math:`\epsilon` added to the variance.
    """

    num_gates = 3
    state_names = ("h",)

    def project_input(self, params: Mapping[str, Tensor], x: Tensor) -> Tensor:
        """``LN_ih(W_ih x) + b_ih``."""
        shift = params["ln_bias_ih"] + params["bias_ih"] if self.bias else None
        return self.norm(params, "ih", F.linear(x, params["weight_ih"]), 3, shift)  # (..., 3H)

    def step(
        self,
        params: Mapping[str, Tensor],
        x_proj: Tensor,
        state: State,
        h_rec: Tensor | None = None,
    ) -> State:
        (h,) = state
        recurrent = F.linear(h if h_rec is None else h_rec, params["weight_hh"])
        shift = params["ln_bias_hh"] + params["bias_hh"] if self.bias else None
        hidden = self.norm(params, "hh", recurrent, 3, shift)  # (N, 3H)
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
        """The step loop as one node: :func:`.layernorm_kernels.layernorm_gru_sequence`."""
        (h,) = state
        weight, gain = params["weight_hh"], params["ln_weight_hh"]
        if type(self).step is not LayerNormGRUSpec.step:
            return None
        bias_hh = params.get("bias_hh")
        if not layernorm_kernels.sequence_applies(x_proj, mask, h, weight, gain, bias_hh):
            return None
        shift = None
        if self.bias:  # LN_hh's shift and b_hh are both added after normalising
            shift = params["ln_bias_hh"] + params["bias_hh"]
        out, h_n = layernorm_kernels.layernorm_gru_sequence(
            x_proj, h, weight, gain, shift, self.groups(), self.eps, mask, reverse
        )
        return out, (h_n,)


_LN_ARGS = """\
per_gate: keyword-only. True normalises each gate's H units separately instead of all
    gates together. Default False.
eps: keyword-only, the :math:`\\epsilon` added to the variance. Default 1e-5.
"""

_LN_INIT = """\
Weights and biases start uniform in :math:`(-1/\\sqrt{H}, 1/\\sqrt{H})`, the gains at 1
and the shifts at 0. ``bias=False`` also leaves out the shifts ``ln_bias_*``.
"""


@document_layer(states=("h", "c"), ln_args=_LN_ARGS, ln_init=_LN_INIT)
class LayerNormLSTM(RecurrentLayer):
    r"""A stack of layer-normalised LSTM layers (Ba, Kiros & Hinton 2016); explicit path.

    Each layer and direction computes, for every step t of the sequence,

    ${equations}

    where :math:`x_t` is the layer's input at step t (for layer k > 0, the output of layer
    k - 1), :math:`h_t, c_t` its hidden and cell state, :math:`\mathrm{LN}` layer normalisation
    with its own gain and shift per vector (``ih``, ``hh``, ``c``), :math:`\sigma` the sigmoid
    and :math:`\odot` the element-wise product. The carried :math:`c_t` is not normalised.

    Args:
        ${layer_args}
        ${ln_args}
        ${keyword_args}

    ${inputs_outputs}

    ${directions}

    Attributes:
        weight_ih_l[k]: ``(4H, H_in)`` for k = 0, else ``(4H, D*H)`` (``(4H, H)`` when merge_mode
            is sum, mean or mul): :math:`W_{ih}`, gates i, f, g, o stacked.
        weight_hh_l[k]: ``(4H, H)``, :math:`W_{hh}`.
        bias_ih_l[k], bias_hh_l[k]: ``(4H)``, :math:`b_{ih}, b_{hh}`.
        ln_weight_ih_l[k], ln_bias_ih_l[k]: ``(4H)``, gain and shift of :math:`\mathrm{LN}_{ih}`.
        ln_weight_hh_l[k], ln_bias_hh_l[k]: ``(4H)``, gain and shift of :math:`\mathrm{LN}_{hh}`.
        ln_weight_c_l[k], ln_bias_c_l[k]: ``(H)``, gain and shift of :math:`\mathrm{LN}_c`.
        ${layer_attributes}
        ${ln_init}

    Example::

        >>> import torch, rnnkit.nn
        >>> lstm = rnnkit.nn.LayerNormLSTM(10, 20, num_layers=2, per_gate=True)
        >>> output, (h_n, c_n) = lstm(torch.randn(5, 3, 10))  # (L, N, H_in)
        >>> output.shape, h_n.shape, c_n.shape
        (torch.Size([5, 3, 20]), torch.Size([2, 3, 20]), torch.Size([2, 3, 20]))
    """

    spec_class = LayerNormLSTMSpec


@document_layer(ln_args=_LN_ARGS, ln_init=_LN_INIT)
class LayerNormGRU(RecurrentLayer):
    r"""A stack of layer-normalised GRU layers (Ba, Kiros & Hinton 2016); explicit path.

    Each layer and direction computes, for every step t of the sequence,

    ${equations}

    where :math:`x_t` is the layer's input at step t (for layer k > 0, the output of layer
    k - 1), :math:`h_t` its state, :math:`\mathrm{LN}` layer normalisation with its own gain
    and shift per vector (``ih``, ``hh``), :math:`\sigma` the sigmoid and :math:`\odot` the
    element-wise product.

    Args:
        ${layer_args}
        ${ln_args}
        ${keyword_args}

    ${inputs_outputs}

    ${directions}

    Attributes:
        weight_ih_l[k]: ``(3H, H_in)`` for k = 0, else ``(3H, D*H)`` (``(3H, H)`` when merge_mode
            is sum, mean or mul): :math:`W_{ih}`, gates r, z, n stacked.
        weight_hh_l[k]: ``(3H, H)``, :math:`W_{hh}`.
        bias_ih_l[k], bias_hh_l[k]: ``(3H)``, :math:`b_{ih}, b_{hh}`.
        ln_weight_ih_l[k], ln_bias_ih_l[k]: ``(3H)``, gain and shift of :math:`\mathrm{LN}_{ih}`.
        ln_weight_hh_l[k], ln_bias_hh_l[k]: ``(3H)``, gain and shift of :math:`\mathrm{LN}_{hh}`.
        ${layer_attributes}
        ${ln_init}

    Example::

        >>> import torch, rnnkit.nn
        >>> gru = rnnkit.nn.LayerNormGRU(10, 20, batch_first=True)
        >>> output, h_n = gru(torch.randn(3, 5, 10), lengths=torch.tensor([5, 4, 1]))
        >>> output.shape, h_n.shape
        (torch.Size([3, 5, 20]), torch.Size([1, 3, 20]))
    """

    spec_class = LayerNormGRUSpec


@document_cell(states=("h", "c"), ln_args=_LN_ARGS, ln_init=_LN_INIT)
class LayerNormLSTMCell(RecurrentCell):
    r"""One step of a layer-normalised LSTM, with :class:`torch.nn.LSTMCell`'s interface.

    ${equations}

    :math:`x_t` is the input; :math:`h_{t-1}, c_{t-1}` the state before the step,
    :math:`h_t, c_t` after it; :math:`\mathrm{LN}` layer normalisation with its own gain and
    shift per vector; :math:`\sigma` the sigmoid and :math:`\odot` the element-wise product.

    Args:
        ${cell_args}
        ${ln_args}

    ${inputs_outputs}

    Attributes:
        weight_ih: ``(4H, H_in)``; weight_hh: ``(4H, H)``; bias_ih, bias_hh: ``(4H)``.
        ln_weight_ih, ln_bias_ih, ln_weight_hh, ln_bias_hh: ``(4H)``, gains and shifts of
            :math:`\mathrm{LN}_{ih}` and :math:`\mathrm{LN}_{hh}`.
        ln_weight_c, ln_bias_c: ``(H)``, gain and shift of :math:`\mathrm{LN}_c`.
        ${ln_init}

    Example::

        >>> import torch, rnnkit.nn
        >>> cell = rnnkit.nn.LayerNormLSTMCell(10, 20)
        >>> h, c = cell(torch.randn(3, 10))  # one step from a zero state
        >>> h.shape, c.shape
        (torch.Size([3, 20]), torch.Size([3, 20]))
    """

    spec_class = LayerNormLSTMSpec


@document_cell(ln_args=_LN_ARGS, ln_init=_LN_INIT)
class LayerNormGRUCell(RecurrentCell):
    r"""One step of a layer-normalised GRU, with :class:`torch.nn.GRUCell`'s interface.

    ${equations}

    :math:`x_t` is the input, :math:`h_{t-1}` the state before the step and :math:`h_t` after
    it; :math:`\mathrm{LN}` layer normalisation with its own gain and shift per vector;
    :math:`\sigma` the sigmoid and :math:`\odot` the element-wise product.

    Args:
        ${cell_args}
        ${ln_args}

    ${inputs_outputs}

    Attributes:
        weight_ih: ``(3H, H_in)``; weight_hh: ``(3H, H)``; bias_ih, bias_hh: ``(3H)``.
        ln_weight_ih, ln_bias_ih, ln_weight_hh, ln_bias_hh: ``(3H)``, gains and shifts of
            :math:`\mathrm{LN}_{ih}` and :math:`\mathrm{LN}_{hh}`.
        ${ln_init}

    Example::

        >>> import torch, rnnkit.nn
        >>> cell = rnnkit.nn.LayerNormGRUCell(10, 20)
        >>> cell(torch.randn(10), torch.zeros(20)).shape  # one unbatched step
        torch.Size([20])
    """

    spec_class = LayerNormGRUSpec
