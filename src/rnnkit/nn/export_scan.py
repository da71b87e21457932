"""A step loop that ``torch.export`` traces as one ``scan`` operator, hence one ONNX ``Scan``.

A Python ``for t in range(L)`` is traced as L copies of its body, which fixes the length of the
exported graph; a scan keeps L a dimension of the input. rnnkit's recurrent layers switch to it
while ``torch.compiler.is_exporting()`` (see :func:`rnnkit.nn.driver.scan_direction`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import Tensor
from torch._higher_order_ops.scan import scan_op

__all__ = ["scan_steps"]

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
