"""Front ends that shorten a sequence before the recurrent layer: patches and a strided
convolution, and the rule that sizes them (``model.patch=auto``)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.nn import length_mask

__all__ = [
    "FRONTENDS",
    "PATCH_TARGET_STEPS",
    "ConvFrontend",
    "auto_patch",
    "patch_steps",
]

PATCH_TARGET_STEPS = 64  # model.patch=auto: patches that leave about this many steps
FRONTENDS = ("patch", "conv")


def auto_patch(max_length: int, target_steps: int = PATCH_TARGET_STEPS) -> int:
    """``model.patch=auto``: the patch size k = ceil(L / target_steps) (1 for short data), so
    a sequence of L steps reaches the recurrent layer as about ``target_steps`` steps."""
    return max(1, math.ceil(int(max_length) / target_steps))


def patch_steps(x: Tensor, lengths: Tensor | None, k: int) -> tuple[Tensor, Tensor | None]:
    """``(N, L, F) -> (N, ceil(L/k), k*F)``: every k consecutive steps become one step.

    The time axis is zero-padded to a multiple of k; lengths become ``ceil(lengths / k)``. A
    sequence's patches start at its step 0, so its result never depends on how long the other
    sequences of its batch are (padding is zero in every batch).
    """
    if k == 1:
        return x, lengths
    n, steps, features = x.shape
    extra = -steps % k
    if extra:
        x = torch.cat([x, x.new_zeros(n, extra, features)], dim=1)
    if lengths is not None:
        valid = length_mask(lengths.to(x.device), x.shape[1])  # (N, L)
        x = torch.where(valid[..., None], x, x.new_zeros(()))  # NaN padding too
        lengths = torch.div(lengths + k - 1, k, rounding_mode="floor")
    return x.reshape(n, -1, k * features), lengths  # (N, L/k, kF)


class ConvFrontend(nn.Module):
    """A strided 1-D convolution that shortens a sequence k times: ``Conv1d(F, C, 2k+1,
    stride=k, padding=k)`` and GELU over time.

    Output step j sees input steps ``jk - k .. jk + k``; a sequence of T valid steps gives
    ``ceil(T / k)`` valid outputs. Padded input steps are zeroed first, so they read as the
    convolution's own zero padding and a sequence gives the same outputs in any batch.

    Args:
        input_size: F. channels: C, features of each output step. k: the stride.

    Inputs: ``x (N, L, F)``, ``lengths (N,)`` or None. Outputs: ``(N, ceil(L/k), C)`` and the
    output lengths (or None).
    """

    def __init__(self, input_size: int, channels: int, k: int) -> None:
        super().__init__()
        self.k = k
        self.conv = nn.Conv1d(input_size, channels, 2 * k + 1, stride=k, padding=k)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        if lengths is not None:
            valid = length_mask(lengths.to(x.device), x.shape[1])  # (N, L)
            x = torch.where(valid[..., None], x, x.new_zeros(()))  # (N, L, F), padding 0
            lengths = torch.div(lengths + self.k - 1, self.k, rounding_mode="floor")
        out = F.gelu(self.conv(x.transpose(1, 2))).transpose(1, 2)  # (N, ceil(L/k), C)
        return out, lengths


