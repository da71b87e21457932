"""Regularizers for recurrent layers: variational dropout, zoneout and weight drop.

Every :class:`~rnnkit.nn.recurrent_layer.RecurrentLayer` (RNN, LSTM, GRU and the extended cells)
takes them as keyword arguments. They act in training only, except zoneout, whose evaluation mode
uses its expected value; evaluation is always deterministic.

=====================  ===========================================================================
keyword                what it does (per layer and direction, sampled once per forward pass)
=====================  ===========================================================================
``input_dropout``      variational dropout on the layer's input ``x_t`` (every layer's input, not
                       only the first): one mask per sequence ``(N, H_in)``, reused at every step
                       (Gal & Ghahramani 2016). Scaled by ``1/(1-p)``.
``recurrent_dropout``  variational dropout on ``h_{t-1}`` *where it enters the recurrent product*
                       (``W_hh h_{t-1}``) only: one mask per sequence ``(N, H_out)``, reused at
                       every step. The state itself is not dropped (GRU's ``z * h_{t-1}`` and
                       LSTM's ``c`` see the true state). Scaled by ``1/(1-p)``.
``zoneout``            each unit keeps its previous value with probability p (Krueger et al.
                       2017): training ``s_t = m_t ? s_{t-1} : s~_t`` with a fresh Bernoulli mask
                       per step, unit and sequence, as in the paper; evaluation uses the
                       expectation ``s_t = p s_{t-1} + (1-p) s~_t``. A float applies to every
                       state tensor (h, and c for LSTM-like cells); a pair ``(p_h, p_c)`` gives
                       each its own rate (cells with a c state only).
``weight_drop``        DropConnect on the recurrent weight ``weight_hh`` (Merity et al. 2017): one
                       mask of the weight's shape per forward pass, shared by every sequence and
                       step. Scaled by ``1/(1-p)``.
=====================  ===========================================================================

``input_dropout`` and ``weight_drop`` are applied outside the step loop, so a cell's fast
``run_sequence`` still runs; ``recurrent_dropout`` and ``zoneout`` change every step, so the
driver loops over :meth:`~rnnkit.nn.cell_api.CellSpec.step` (passing the masked state as ``h_rec``).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor

from rnnkit.nn.cell_api import CellSpec, State

__all__ = ["RegularizerPlan", "Regularizers"]


def _check_rate(name: str, value: object, allow_one: bool) -> float:
    ok = not isinstance(value, bool) and isinstance(value, int | float)
    if ok:
        ok = 0 <= value <= 1 if allow_one else 0 <= value < 1
    if not ok:
        interval = "[0, 1]" if allow_one else "[0, 1)"
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")
    return float(value)


def _bernoulli_scaled(like: Tensor, shape: tuple[int, ...], p: float) -> Tensor:
    """Inverted-dropout mask: 0 with probability p, else ``1/(1-p)``."""
    return like.new_empty(shape).bernoulli_(1.0 - p) / (1.0 - p)


@dataclass(frozen=True)
class Regularizers:
    """The regularizer settings of one layer (validated; see the module docstring).

    Args:
        input_dropout: variational dropout rate on each layer's input, in [0, 1).
        recurrent_dropout: variational dropout rate on ``h_{t-1}`` in the recurrent product.
        zoneout: rate in [0, 1] for every state tensor, or a pair ``(p_h, p_c)``.
        weight_drop: DropConnect rate on ``weight_hh``, in [0, 1).
    """

    input_dropout: float = 0.0
    recurrent_dropout: float = 0.0
    zoneout: float | tuple[float, float] = 0.0
    weight_drop: float = 0.0

    def __post_init__(self) -> None:
        for name in ("input_dropout", "recurrent_dropout", "weight_drop"):
            object.__setattr__(self, name, _check_rate(name, getattr(self, name), False))
        zoneout = self.zoneout
        if isinstance(zoneout, tuple | list):
            if len(zoneout) != 2:
                raise ValueError(f"zoneout must be a float or a pair (h, c), got {zoneout!r}")
            zoneout = (
                _check_rate("zoneout (h)", zoneout[0], True),
                _check_rate("zoneout (c)", zoneout[1], True),
            )
        else:
            zoneout = _check_rate("zoneout", zoneout, True)
        object.__setattr__(self, "zoneout", zoneout)

    # -- queries ----------------------------------------------------------------------------
    @property
    def has_zoneout(self) -> bool:
        rates = self.zoneout if isinstance(self.zoneout, tuple) else (self.zoneout,)
        return any(rate > 0 for rate in rates)

    def zoneout_rates(self, num_states: int) -> tuple[float, ...]:
        """The zoneout rate of each state tensor."""
        if isinstance(self.zoneout, tuple):
            return self.zoneout
        return (self.zoneout,) * num_states

    def active(self, training: bool) -> dict[str, object]:
        """The settings that act in this mode: all non-zero ones in training, zoneout in eval."""
        names = ("input_dropout", "recurrent_dropout", "zoneout", "weight_drop")
        if not training:
            names = ("zoneout",)
        return {
            name: getattr(self, name)
            for name in names
            if (self.has_zoneout if name == "zoneout" else getattr(self, name) > 0)
        }

    def describe(self, training: bool) -> str:
        """``"input_dropout=0.2, zoneout=0.1"`` for the active settings ('' when none)."""
        return ", ".join(f"{k}={v}" for k, v in self.active(training).items())

    def per_step(self, training: bool) -> bool:
        """Whether the active settings change every step (then the step loop must run)."""
        return self.has_zoneout or (training and self.recurrent_dropout > 0)

    def check(self, spec: CellSpec, owner: str) -> None:
        """Raise ValueError if ``spec`` cannot take these settings."""
        num_states = len(spec.state_names)
        if isinstance(self.zoneout, tuple) and num_states != 2:
            raise ValueError(
                f"{owner}: zoneout=(h, c) needs a cell with an (h, c) state; "
                f"{type(spec).__name__} has states {spec.state_names}: pass a float"
            )
        if self.recurrent_dropout > 0 and "h_rec" not in inspect.signature(spec.step).parameters:
            raise ValueError(
                f"{owner}: recurrent_dropout needs a cell whose step() takes h_rec (h_{{t-1}} as "
                f"it enters the recurrent product); {type(spec).__name__}.step does not"
            )
        if self.weight_drop > 0 and "weight_hh" not in spec.parameter_shapes():
            raise ValueError(
                f"{owner}: weight_drop drops entries of weight_hh, which "
                f"{type(spec).__name__} does not have"
            )

    # -- sampling ---------------------------------------------------------------------------
    def sample(
        self, spec: CellSpec, params: Mapping[str, Tensor], x: Tensor, training: bool
    ) -> RegularizerPlan | None:
        """Draw the masks of one layer and direction for one forward pass over ``x (L, N, H_in)``.

        Returns None when nothing acts in this mode.
        """
        if not self.active(training):
            return None
        seq_len, batch, features = x.shape
        sizes = spec.state_sizes()
        input_mask = recurrent_mask = weight_mask = None
        zoneout_masks: tuple[Tensor | None, ...] | None = None
        rates = self.zoneout_rates(len(sizes))
        if training:
            if self.input_dropout > 0:
                input_mask = _bernoulli_scaled(x, (batch, features), self.input_dropout)
            if self.recurrent_dropout > 0:
                recurrent_mask = _bernoulli_scaled(x, (batch, sizes[0]), self.recurrent_dropout)
            if self.weight_drop > 0:
                weight = params["weight_hh"]
                weight_mask = _bernoulli_scaled(weight, tuple(weight.shape), self.weight_drop)
            zoneout_masks = tuple(
                x.new_empty(seq_len, batch, size).bernoulli_(rate).bool() if rate > 0 else None
                for size, rate in zip(sizes, rates, strict=True)
            )  # each (L, N, S), True keeps the old value
        return RegularizerPlan(input_mask, recurrent_mask, weight_mask, rates, zoneout_masks)


@dataclass(frozen=True)
class RegularizerPlan:
    """The masks of one layer and direction for one forward pass (from :meth:`Regularizers.sample`).

    Attributes:
        input_mask: ``(N, H_in)`` scaled mask on the input, or None.
        recurrent_mask: ``(N, H_out)`` scaled mask on ``h_{t-1}`` in the recurrent product.
        weight_mask: scaled mask of ``weight_hh``'s shape, or None.
        zoneout_rates: rate per state tensor.
        zoneout_masks: training only: per state tensor ``(L, N, S)`` bool (True keeps the
            previous value) or None; None as a whole in evaluation (the expectation is used).
    """

    input_mask: Tensor | None = None
    recurrent_mask: Tensor | None = None
    weight_mask: Tensor | None = None
    zoneout_rates: tuple[float, ...] = ()
    zoneout_masks: tuple[Tensor | None, ...] | None = None

    @property
    def per_step(self) -> bool:
        """Whether the plan changes every step (then a cell's ``run_sequence`` must not run)."""
        return self.recurrent_mask is not None or any(rate > 0 for rate in self.zoneout_rates)

    def input(self, x: Tensor) -> Tensor:
        """``x (L, N, H_in)`` with the input mask applied."""
        return x if self.input_mask is None else x * self.input_mask

    def parameters(self, params: Mapping[str, Tensor]) -> Mapping[str, Tensor]:
        """``params`` with ``weight_hh`` DropConnect-masked (the parameter itself is untouched)."""
        if self.weight_mask is None:
            return params
        return {**params, "weight_hh": params["weight_hh"] * self.weight_mask}

    def step(
        self,
        spec: CellSpec,
        params: Mapping[str, Tensor],
        x_proj: Tensor,
        state: State,
        t: int,
    ) -> State:
        """Step ``t``: the cell's step with recurrent dropout, then zoneout."""
        if self.recurrent_mask is None:
            new_state = spec.step(params, x_proj, state)
        else:
            new_state = spec.step(params, x_proj, state, h_rec=state[0] * self.recurrent_mask)
        if not any(rate > 0 for rate in self.zoneout_rates):
            return new_state
        zoned = []
        pairs = zip(new_state, state, self.zoneout_rates, strict=True)
        for i, (new, old, rate) in enumerate(pairs):
            if rate > 0 and self.zoneout_masks is not None:
                new = torch.where(self.zoneout_masks[i][t], old, new)
            elif rate > 0:
                new = rate * old + (1.0 - rate) * new  # the expectation, in evaluation
            zoned.append(new)
        return tuple(zoned)
