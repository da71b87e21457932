"""The one cell API: what a recurrent step is, and a module that runs one step.

A :class:`CellSpec` describes a recurrent cell without holding any tensors: which parameters it
needs (names and shapes), how they are initialised, how the input half of the step is computed for
all time steps at once, and how one step updates the state. Whoever owns the parameters passes them
in as a dict keyed by the spec's base names (``weight_ih``, ``weight_hh``, ``bias_ih``, ...):

* :class:`RecurrentCell` owns them under those names, as ``torch.nn.RNNCell`` does, and runs a
  single step;
* :class:`rnnkit.nn.recurrent_layer.RecurrentLayer` owns them under torch.nn's layer names
  (``weight_ih_l0``, ``bias_hh_l1_reverse``, ...) and runs the generic driver: stacking, both
  directions, dropout between layers, ``batch_first``, lengths and initial states.

A new cell is therefore one small ``CellSpec`` subclass; it gets everything else for free.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.nn.docstrings import document_cell
from rnnkit.nn.layer_io import check_dtype_device, check_features

__all__ = ["CellSpec", "RecurrentCell", "State"]

State = tuple[Tensor, ...]
"""A cell's state: ``(h,)`` for RNN/GRU, ``(h, c)`` for LSTM. ``state[0]`` is the step's output."""


class CellSpec:
    """What one recurrent step computes. Subclass it to define a new cell.

    Subclasses set ``num_gates`` (rows of ``weight_ih`` per hidden unit) and ``state_names``, and
    implement :meth:`step`. The defaults give the classic parameter set
    ``weight_ih (G*H, H_in)``, ``weight_hh (G*H, H)``, ``bias_ih (G*H)``, ``bias_hh (G*H)``,
    initialised uniformly in ``(-1/sqrt(H), 1/sqrt(H))`` in that order, as torch.nn does.

    Args:
        input_size: H_in, features per step.
        hidden_size: H, units of the recurrent state.
        bias: whether the bias vectors exist.
    """

    num_gates: ClassVar[int] = 1
    state_names: ClassVar[tuple[str, ...]] = ("h",)
    fused_mode: ClassVar[str | None] = None
    """Name of torch's fused kernel computing exactly this cell (``"LSTM"``, ``"GRU"``,
    ``"RNN_TANH"``, ``"RNN_RELU"``), or None when only the explicit path can run it."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not isinstance(bias, bool):
            raise ValueError(f"bias must be a bool, got {bias!r}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias

    def options(self) -> dict[str, Any]:
        """The cell's own constructor options (beyond input_size, hidden_size, bias) by name."""
        names = list(inspect.signature(type(self).__init__).parameters)[4:]
        return {name: getattr(self, name) for name in names}

    # -- parameters -------------------------------------------------------------------------
    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        """Base parameter names and shapes, in creation order."""
        gh = self.num_gates * self.hidden_size
        shapes = {
            "weight_ih": (gh, self.input_size),
            "weight_hh": (gh, self.state_sizes()[0]),
        }
        if self.bias:
            shapes |= {"bias_ih": (gh,), "bias_hh": (gh,)}
        return shapes

    def reset_parameters(self, params: Mapping[str, Tensor]) -> None:
        """Initialise ``params`` in place, in creation order (torch.nn's scheme by default)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for tensor in params.values():
                tensor.uniform_(-bound, bound)

    # -- state ------------------------------------------------------------------------------
    def state_sizes(self) -> tuple[int, ...]:
        """Feature size of each state tensor; the first is the output size."""
        return (self.hidden_size,) * len(self.state_names)

    @property
    def output_size(self) -> int:
        return self.state_sizes()[0]

    # -- computation ------------------------------------------------------------------------
    def project_input(self, params: Mapping[str, Tensor], x: Tensor) -> Tensor:
        """The input half of the step for every time step at once: ``(..., H_in) -> (..., G*H)``.

        The default is ``x W_ih^T + b_ih + b_hh``; cells whose ``b_hh`` cannot be folded in
        (GRU) override it.
        """
        bias = None
        if self.bias:
            bias = params["bias_ih"] + params["bias_hh"]
        return F.linear(x, params["weight_ih"], bias)

    def step(
        self,
        params: Mapping[str, Tensor],
        x_proj: Tensor,
        state: State,
        h_rec: Tensor | None = None,
    ) -> State:
        """One time step: ``x_proj (N, G*H)`` from :meth:`project_input`, ``state`` -> new state.

        ``h_rec (N, H_out)``, when given, is ``h_{t-1}`` as it enters the recurrent product
        (``W_hh h_{t-1}``) in place of ``state[0]``; everywhere else (GRU's ``z * h_{t-1}``) the
        step uses ``state[0]``. The driver passes it for recurrent dropout only; a cell that does
        not accept it cannot take ``recurrent_dropout``.
        """
        raise NotImplementedError

    def run_sequence(
        self,
        params: Mapping[str, Tensor],
        x_proj: Tensor,
        state: State,
        mask: Tensor | None,
        reverse: bool,
    ) -> tuple[Tensor, State] | None:
        """Optional whole-sequence implementation of the step loop, for speed.

        Same contract as :func:`rnnkit.nn.driver.run_direction` from ``x_proj (L, N, G*H)`` on:
        returns ``(output (L, N, H_out), final state)``, or None to let the driver loop over
        :meth:`step` (the default, and always correct).

        It must read every weight from ``params`` (which may hold a weight-dropped ``weight_hh``,
        a new tensor per forward pass). The driver does not call it while recurrent dropout or
        zoneout act, since they change every step.
        """
        return None

    def extra_repr(self) -> str:
        return ""


@document_cell(states=("h", "c"), h_out="H_out")
class RecurrentCell(nn.Module):
    r"""A module that computes one step of a :class:`CellSpec`, as ``torch.nn.*Cell`` do.

    A subclass sets ``spec_class``; the cell holds the spec's parameters under its base names and
    computes :math:`s_t = \mathrm{step}(x_t, s_{t-1})` for one step, where the state :math:`s`
    is :math:`h`, or :math:`(h, c)` for cells with a cell state. H_out is the size of
    :math:`h` (the spec's ``output_size``; H unless a projection changes it).

    Args:
        ${cell_args}
        ``**spec_options``: the cell's own options, keyword-only, passed to ``spec_class``.

    ${inputs_outputs}

    A cell with one state (RNN, GRU, ...) takes and returns h alone: ``hx`` is ``h`` and the
    output is ``h'``.

    Attributes:
        {name}: every parameter the spec names in ``spec.parameter_shapes()`` (``weight_ih``,
            ``weight_hh``, ``bias_ih``, ``bias_hh``, ...), with that shape.
        spec: the cell's :class:`CellSpec`.

    Example::

        >>> import torch, rnnkit.nn
        >>> class TanhSpec(rnnkit.nn.CellSpec):  # h_t = tanh(W_ih x_t + b + W_hh h_{t-1})
        ...     def step(self, params, x_proj, state, h_rec=None):
        ...         h = state[0] if h_rec is None else h_rec
        ...         return (torch.tanh(x_proj + h @ params["weight_hh"].T),)
        >>> class TanhCell(rnnkit.nn.RecurrentCell):
        ...     spec_class = TanhSpec
        >>> cell = TanhCell(10, 20)
        >>> cell(torch.randn(3, 10)).shape
        torch.Size([3, 20])
    """

    spec_class: ClassVar[type[CellSpec]]

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        **spec_options,
    ) -> None:
        super().__init__()
        self.spec = self.spec_class(input_size, hidden_size, bias, **spec_options)
        for option, value in self.spec.options().items():  # torch.nn's `nonlinearity`, ...
            setattr(self, option, value)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        for name, shape in self.spec.parameter_shapes().items():
            empty = torch.empty(shape, device=device, dtype=dtype)
            self.register_parameter(name, nn.Parameter(empty))
        if not bias:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.spec.reset_parameters(dict(self.named_parameters()))

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        extra = self.spec.extra_repr()
        return f"{text}, {extra}" if extra else text

    def forward(self, input: Tensor, hx: Tensor | State | None = None) -> Tensor | State:
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(
                f"{name}: expected input of shape (N, {self.input_size}) or ({self.input_size},), "
                f"found {tuple(input.shape)}"
            )
        check_features(name, input, self.input_size, self.weight_ih)
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        n = x.shape[0]
        sizes = self.spec.state_sizes()
        if hx is None:
            state = tuple(x.new_zeros(n, size) for size in sizes)
        else:
            hx_tuple = hx if isinstance(hx, tuple | list) else (hx,)
            if len(hx_tuple) != len(sizes):
                shapes = ", ".join(
                    f"{state} of shape {(n, size) if batched else (size,)}"
                    for state, size in zip(self.spec.state_names, sizes, strict=True))
                expected = f"one tensor, {shapes}" if len(sizes) == 1 else (
                    f"a tuple of {len(sizes)} tensors ({shapes})")
                found = "one tensor" if isinstance(hx, Tensor) else (
                    f"a {type(hx).__name__} of {len(hx_tuple)} tensors")
                hint = ("; an (h, c) pair is for LSTM-like cells"
                        if len(sizes) == 1 and len(hx_tuple) == 2 else "")
                raise ValueError(f"{name}: expected hx as {expected}, found {found}{hint}")
            state = []
            for state_name, size, h in zip(self.spec.state_names, sizes, hx_tuple, strict=True):
                expected = (n, size) if batched else (size,)
                if tuple(h.shape) != expected:
                    raise ValueError(
                        f"{name}: expected {state_name} of shape {expected}, "
                        f"found {tuple(h.shape)}"
                    )
                check_dtype_device(f"{name} {state_name}", h, self.weight_ih)
                state.append(h if batched else h.unsqueeze(0))
            state = tuple(state)
        params = dict(self.named_parameters())
        new_state = self.spec.step(params, self.spec.project_input(params, x), state)
        if not batched:
            new_state = tuple(s.squeeze(0) for s in new_state)
        return new_state if len(new_state) > 1 else new_state[0]

