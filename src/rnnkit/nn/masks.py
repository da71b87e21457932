"""Valid-step masks from sequence lengths: the one mask every part of rnnkit builds."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["length_mask"]


def length_mask(lengths: Tensor, max_len: int) -> Tensor:
    """Which steps of a padded batch are real: ``mask[n, t] = t < lengths[n]``.

    Args:
        lengths: ``(N,)`` integer, the valid steps of each sequence.
        max_len: L, the padded length.

    Returns:
        ``(N, L)`` bool on ``lengths``' device, True on valid steps, False on padding. Code that
        works time-major, as the driver does, takes ``mask.T[..., None]`` ``(L, N, 1)``.

    Example::

        >>> length_mask(torch.tensor([3, 1]), 4)
        tensor([[ True,  True,  True, False],
                [ True, False, False, False]])
    """
    steps = torch.arange(max_len, device=lengths.device)  # (L,)
    return steps[None, :] < lengths[:, None]  # (N, L)
