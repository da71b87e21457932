"""A step loop that ``torch.export`` traces as one ``scan`` operator, hence one ONNX ``Scan``.

A Python ``for t in range(L)`` is traced as L copies of its body, which fixes the length of the
exported graph; a scan keeps L a dimension of the input. rnnkit's recurrent layers switch to it
while :func:`exporting` (see :func:`rnnkit.nn.driver.scan_direction`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

__all__ = ["exporting", "scan_steps"]


def exporting() -> bool:
    """Whether ``torch.export`` is tracing the caller (False on a torch without the flag,
    < 2.7, which cannot export rnnkit's layers anyway)."""
    is_exporting = getattr(torch.compiler, "is_exporting", None)
    return bool(is_exporting is not None and is_exporting())

Step = Callable[[list[Tensor], list[Tensor], list[Tensor]], tuple[list[Tensor], list[Tensor]]]


def scan_steps(
    step: Step, carry: Sequence[Tensor], xs: Sequence[Tensor], constants: Sequence[Tensor] = ()
) -> tuple[list[Tensor], list[Tensor]]:
    """Run ``step(carry, x_t, constants) -> (carry, y_t)`` over dim 0 of every ``xs`` tensor.

    Args:
        step: one step, on lists of tensors; it must return new tensors (no input as is).
        carry: the initial carry, each ``(*)``; every step returns the same shapes.
        xs: the inputs, each ``(L, *)``: step t reads ``x[t]`` of each.
        constants: tensors every step reads (weights); passed in, not closed over, so that
            the traced step is a function of its inputs alone.

    Returns:
        the final carry, and the stacked outputs, each ``(L, *)``.
    """
    from torch._higher_order_ops.scan import scan_op  # torch >= 2.9; only export needs it

    carry, xs, constants = list(carry), list(xs), list(constants)
    count, inputs = len(carry), len(xs)

    def flat_step(*args: Tensor) -> list[Tensor]:
        new, outputs = step(list(args[:count]), list(args[count:count + inputs]),
                            list(args[count + inputs:]))
        return [*new, *outputs]

    # The operator itself, not torch's scan() wrapper: that one first compiles the step with
    # dynamo, several seconds per call; the operator is traced as it stands.
    leaves = scan_op(flat_step, carry, xs, additional_inputs=tuple(constants))
    return list(leaves[:count]), list(leaves[count:])
