"""The explicit path: the generic driver that turns any cell's single step into a layer.

Everything here works on time-major tensors, ``x (L, N, F)``, and on any
:class:`~rnnkit.nn.cell.CellSpec`. Variable lengths are handled with a step mask: on a padded step
the state is carried unchanged and the output is zero, so the forward direction ends on each
sequence's last valid step and the reverse direction starts on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.nn.cell import CellSpec, State

__all__ = ["length_mask", "run_direction", "run_layers"]


def length_mask(lengths: Tensor, max_len: int) -> Tensor:
    """``(L, N, 1)`` bool mask, True on valid steps, from ``lengths (N,)``."""
    steps = torch.arange(max_len, device=lengths.device)
    return (steps[:, None] < lengths[None, :]).unsqueeze(-1)


def run_direction(
    spec: CellSpec,
    params: Mapping[str, Tensor],
    x: Tensor,
    state: State,
    mask: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, State]:
    """Run one cell over a whole sequence in one direction.

    Args:
        spec: the cell.
        params: its parameters by base name.
        x: ``(L, N, F)`` input.
        state: initial state, each tensor ``(N, S_i)``.
        mask: ``(L, N, 1)`` bool, True on valid steps; None when every step is valid.
        reverse: run from the last step to the first.

    Returns:
        output ``(L, N, H_out)`` (zero on padded steps) and the final state.
    """
    x_proj = spec.project_input(params, x)  # (L, N, G*H)
    fast = spec.run_sequence(params, x_proj, state, mask, reverse)
    if fast is not None:
        return fast
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    outputs: list[Tensor] = [x_proj] * x.shape[0]
    for t in steps:
        new_state = spec.step(params, x_proj[t], state)
        if mask is not None:
            new_state = tuple(torch.where(mask[t], new, old) for new, old in zip(new_state, state))
        state = new_state
        outputs[t] = state[0]
    output = torch.stack(outputs)  # (L, N, H_out)
    if mask is not None:
        output = output.masked_fill(~mask, 0.0)
    return output, state


def run_layers(
    specs: Sequence[CellSpec],
    layer_params: Sequence[Sequence[Mapping[str, Tensor]]],
    x: Tensor,
    initial: Sequence[State],
    mask: Tensor | None = None,
    dropout: float = 0.0,
    training: bool = False,
    merge: Callable[[list[Tensor]], Tensor] | None = None,
) -> tuple[Tensor, list[State]]:
    """Run a stack of layers, each in one or two directions.

    Args:
        specs: one cell spec per layer.
        layer_params: ``layer_params[layer][direction]`` is that cell's parameter dict.
        x: ``(L, N, F)`` input.
        initial: initial states in torch's order ``l0, l0_reverse, l1, ...``.
        mask: ``(L, N, 1)`` valid-step mask or None.
        dropout: dropout on each layer's output except the last, in training only.
        training: whether dropout is active.
        merge: how the directions' outputs become one tensor (default: concatenate features).

    Returns:
        the last layer's output ``(L, N, D*H_out)`` and the final states in torch's order.
    """
    merge = merge or (lambda outs: torch.cat(outs, dim=-1))
    finals: list[State] = []
    index = 0
    for layer, spec in enumerate(specs):
        outputs = []
        for direction, params in enumerate(layer_params[layer]):
            out, final = run_direction(
                spec, params, x, initial[index], mask, reverse=direction == 1
            )
            outputs.append(out)
            finals.append(final)
            index += 1
        x = outputs[0] if len(outputs) == 1 else merge(outputs)
        if dropout > 0 and training and layer < len(specs) - 1:
            x = F.dropout(x, dropout, training=True)
    return x, finals
