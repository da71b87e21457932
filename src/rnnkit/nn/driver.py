"""The explicit path: the generic driver that turns any cell's single step into a layer.

Everything here works on time-major tensors, ``x (L, N, H_in)``, and on any
:class:`~rnnkit.nn.cell_api.CellSpec`. Variable lengths are handled with a step mask: on a padded
step the state is carried unchanged and the output is zero, so the forward direction ends on each
sequence's last valid step and the reverse direction starts on it.

Bidirectional outputs are combined by a merge mode (:data:`MERGE_MODES`). Regularizers
(:mod:`rnnkit.nn.regularizers`) reach the loop as one
:class:`~rnnkit.nn.regularizers.RegularizerPlan` per layer and direction, drawn once per forward
pass: input dropout and weight drop are applied
before the loop (a cell's ``run_sequence`` may still run); recurrent dropout and zoneout act in
every step, so the loop over :meth:`~rnnkit.nn.cell_api.CellSpec.step` runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.nn.cell_api import CellSpec, State
from rnnkit.nn.export_scan import exporting, scan_steps
from rnnkit.nn.masks import length_mask
from rnnkit.nn.regularizers import RegularizerPlan, Regularizers

__all__ = ["MERGE_MODES", "merge_directions", "run_direction", "run_layers", "scan_direction"]

MERGE_MODES = ("concat", "sum", "mean", "mul", "none")
"""How a bidirectional layer combines its directions' outputs ``f`` and ``b`` (each ``(..., H)``):
``concat`` ``[f, b]`` (torch.nn's layout), ``sum`` ``f + b``, ``mean`` ``(f + b) / 2``,
``mul`` ``f * b``, ``none`` ``stack([f, b], dim=-2)`` (the last layer's output is ``(..., 2, H)``;
between stacked layers ``none`` concatenates)."""


def run_direction(
    spec: CellSpec,
    params: Mapping[str, Tensor],
    x: Tensor,
    state: State,
    mask: Tensor | None = None,
    reverse: bool = False,
    plan: RegularizerPlan | None = None,
) -> tuple[Tensor, State]:
    """Run one cell over a whole sequence in one direction.

    Args:
        spec: the cell.
        params: its parameters by base name.
        x: ``(L, N, H_in)`` input.
        state: initial state, each tensor ``(N, S_i)``.
        mask: ``(L, N, 1)`` bool, True on valid steps (``length_mask(lengths, L).T[..., None]``);
            None when every step is valid.
        reverse: run from the last step to the first.
        plan: this layer and direction's regularizer masks for this forward pass, or None.
            Input dropout and weight drop are applied here, before the loop; recurrent dropout
            and zoneout act in every step, so with them the cell's ``run_sequence`` is skipped.

    Returns:
        output ``(L, N, H_out)`` (zero on padded steps) and the final state.
    """
    if plan is not None:
        x = plan.input(x)
        params = plan.parameters(params)
    x_proj = spec.project_input(params, x)  # (L, N, G*H)
    tracing = exporting()
    if tracing and not _one_step(x_proj):
        return scan_direction(spec, params, x_proj, state, mask, reverse, plan)
    per_step = plan is not None and plan.per_step
    if not per_step and not tracing:
        fast = spec.run_sequence(params, x_proj, state, mask, reverse)
        if fast is not None:
            return fast
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    # unbind, not x_proj[t]: indexing makes every step's backward allocate a whole-sequence
    # gradient, which turns the backward pass quadratic in L.
    x_steps = x_proj.unbind(0)
    outputs: list[Tensor] = list(x_steps)
    for t in steps:
        if per_step:
            new_state = plan.step(spec, params, x_steps[t], state, t)
        else:
            new_state = spec.step(params, x_steps[t], state)
        if mask is not None:
            valid = mask[t]  # (N, 1)
            new_state = tuple(
                torch.where(valid, new, old) for new, old in zip(new_state, state, strict=True)
            )
        state = new_state
        outputs[t] = state[0]
    output = torch.stack(outputs)  # (L, N, H_out)
    if mask is not None:
        output = output.masked_fill(~mask, 0.0)
    return output, state


def _one_step(x: Tensor) -> bool:
    """Whether ``x (L, ...)`` is one step of a fixed length (a streaming step graph): traced as
    it stands, no scan is needed."""
    return isinstance(x.shape[0], int) and x.shape[0] == 1


def scan_direction(
    spec: CellSpec,
    params: Mapping[str, Tensor],
    x_proj: Tensor,
    state: State,
    mask: Tensor | None,
    reverse: bool,
    plan: RegularizerPlan | None = None,
) -> tuple[Tensor, State]:
    """:func:`run_direction`'s step loop as one ``scan``, for ``torch.export`` (ONNX export).

    A Python loop would be traced as L copies of the step, fixing the length; ``scan`` becomes
    one ONNX ``Scan`` node, so the exported graph takes any length. Evaluation only (a plan's
    per-step masks are training-time). ``x_proj (L, N, G*H)``; the rest as for
    :func:`run_direction`.
    """
    if plan is not None and plan.zoneout_masks is not None:
        raise ValueError("a layer is traced in training mode, whose zoneout draws a mask per "
                         "step; export the module in evaluation mode (.eval())")
    valid = torch.ones_like(x_proj[..., :1], dtype=torch.bool) if mask is None else mask
    if reverse:
        x_proj, valid = x_proj.flip(0), valid.flip(0)
    names = list(params)

    def one_step(carry: list[Tensor], inputs: list[Tensor], weights: list[Tensor]):
        x_t, valid_t = inputs  # (N, G*H), (N, 1)
        step_params = dict(zip(names, weights, strict=True))
        old = tuple(carry)
        if plan is None:
            new = spec.step(step_params, x_t, old)
        else:
            new = plan.step(spec, step_params, x_t, old, 0)
        new = [torch.where(valid_t, n, o) for n, o in zip(new, old, strict=True)]
        return new, [new[0].masked_fill(~valid_t, 0.0)]

    final, (output,) = scan_steps(one_step, state, [x_proj, valid], list(params.values()))
    return (output.flip(0) if reverse else output), tuple(final)


def merge_directions(outputs: Sequence[Tensor], mode: str = "concat", last: bool = True) -> Tensor:
    """Combine the forward and backward outputs ``(..., H)`` by ``mode`` (see MERGE_MODES).

    ``last`` is False between stacked layers, where ``none`` concatenates (the next layer reads
    both directions).
    """
    forward, backward = outputs
    if mode == "sum":
        return forward + backward
    if mode == "mean":
        return (forward + backward) / 2
    if mode == "mul":
        return forward * backward
    if mode == "none" and last:
        return torch.stack([forward, backward], dim=-2)  # (..., 2, H)
    if mode in ("concat", "none"):
        return torch.cat([forward, backward], dim=-1)  # (..., 2H)
    raise ValueError(f"merge_mode must be one of {MERGE_MODES}, got {mode!r}")


def run_layers(
    specs: Sequence[CellSpec],
    layer_params: Sequence[Sequence[Mapping[str, Tensor]]],
    x: Tensor,
    initial: Sequence[State],
    lengths: Tensor | None = None,
    dropout: float = 0.0,
    training: bool = False,
    merge_mode: str = "concat",
    regularizers: Regularizers | None = None,
) -> tuple[Tensor, list[State]]:
    """Run a stack of layers, each in one or two directions.

    Args:
        specs: one cell spec per layer.
        layer_params: ``layer_params[layer][direction]`` is that cell's parameter dict.
        x: ``(L, N, H_in)`` input.
        initial: initial states in torch's order ``l0, l0_reverse, l1, ...``.
        lengths: ``(N,)`` valid steps of each sequence, or None when every step is valid.
        dropout: dropout on each layer's output except the last, in training only.
        training: whether dropout and the regularizers' training behaviour are active.
        merge_mode: how the two directions' outputs become one tensor (see MERGE_MODES).
        regularizers: input/recurrent dropout, zoneout and weight drop; masks are drawn once per
            call for each layer and direction.

    Returns:
        the last layer's output ``(L, N, D*H_out)`` (``(L, N, H_out)`` for sum/mean/mul,
        ``(L, N, 2, H_out)`` for none) and the final states in torch's order.
    """
    mask = None
    if lengths is not None:
        mask = length_mask(lengths.to(x.device), x.shape[0]).T[..., None]  # (L, N, 1)
    finals: list[State] = []
    index = 0
    for layer, spec in enumerate(specs):
        outputs = []
        for direction, params in enumerate(layer_params[layer]):
            plan = None if regularizers is None else regularizers.sample(spec, params, x, training)
            out, final = run_direction(
                spec, params, x, initial[index], mask, reverse=direction == 1, plan=plan
            )
            outputs.append(out)
            finals.append(final)
            index += 1
        last = layer == len(specs) - 1
        x = outputs[0] if len(outputs) == 1 else merge_directions(outputs, merge_mode, last)
        if dropout > 0 and training and layer < len(specs) - 1:
            x = F.dropout(x, dropout, training=True)
    return x, finals
