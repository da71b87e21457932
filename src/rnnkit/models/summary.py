"""Sequence summaries: one vector per sequence from a recurrent layer's outputs.

Every summary reads the last layer's output ``out (N, L, D*H)`` (batch first; the forward
direction in ``[..., :H]``, the backward direction in ``[..., H:]``) and the valid lengths, and
returns ``(N, D*H)``. Padded steps (``t >= lengths[n]``) never reach the result, whatever they
hold.

=============  ============================================================================
summary        result for sequence n with length T = lengths[n]
=============  ============================================================================
``last``       forward: ``out[n, T-1, :H]`` (its last valid step); backward: ``out[n, 0, H:]``
               (the backward direction ends at the FIRST step). Never ``out[:, -1]``, which
               for a bidirectional layer holds the backward direction after one step, and
               for padded sequences a padded step.
``mean``       mean of ``out[n, :T]`` over time
``max``        element-wise maximum of ``out[n, :T]`` over time
``meanmax``    ``mean`` and ``max`` concatenated: ``(N, 2*D*H)``
``attention``  ``sum_t a_t out[n, t]`` with ``a = softmax_t(v . tanh(W out[n, t] + b))`` over
               the valid steps (additive attention pooling, one learned query)
=============  ============================================================================
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.nn import length_mask

__all__ = [
    "SUMMARIES",
    "AttentionPool",
    "LastStep",
    "MaxPool",
    "MeanMaxPool",
    "MeanPool",
    "make_summary",
    "summary_size",
]

SUMMARIES = ("last", "mean", "max", "meanmax", "attention")


def _check(out: Tensor, lengths: Tensor | None) -> None:
    if out.dim() != 3:
        raise ValueError(
            f"expected recurrent outputs of shape (N, L, D*H), found {tuple(out.shape)}"
        )
    if lengths is not None and (lengths.dim() != 1 or lengths.shape[0] != out.shape[0]):
        raise ValueError(
            f"expected lengths of shape ({out.shape[0]},), found {tuple(lengths.shape)}"
        )


class LastStep(nn.Module):
    """Direction-aware last step: forward at each sequence's last valid step, backward at step 0.

    Args:
        num_directions: D, 1 or 2.

    Inputs: ``out, lengths=None``
        * out: ``(N, L, D*H)``.
        * lengths: ``(N,)`` int64, 1 <= lengths <= L; None means all sequences have length L.

    Outputs: ``(N, D*H)``, ``[forward out[n, T-1, :H], backward out[n, 0, H:]]``.
    """

    def __init__(self, num_directions: int = 1) -> None:
        super().__init__()
        if num_directions not in (1, 2):
            raise ValueError(f"num_directions must be 1 or 2, got {num_directions!r}")
        self.num_directions = num_directions

    def forward(self, out: Tensor, lengths: Tensor | None = None) -> Tensor:
        _check(out, lengths)
        n, seq_len, features = out.shape
        if lengths is None:
            last = out[:, -1]  # (N, D*H)
        else:
            index = (lengths.to(out.device) - 1).view(n, 1, 1).expand(n, 1, features)
            last = out.gather(1, index).squeeze(1)  # (N, D*H)
        if self.num_directions == 1:
            return last
        hidden = features // 2
        return torch.cat([last[:, :hidden], out[:, 0, hidden:]], dim=-1)  # (N, 2H)

    def extra_repr(self) -> str:
        return f"num_directions={self.num_directions}"


class MeanPool(nn.Module):
    """Mean over the valid steps. Inputs ``out (N, L, F), lengths (N,) or None``; output (N, F)."""

    def forward(self, out: Tensor, lengths: Tensor | None = None) -> Tensor:
        _check(out, lengths)
        if lengths is None:
            return out.mean(dim=1)
        mask = length_mask(lengths.to(out.device), out.shape[1])  # (N, L)
        total = torch.where(mask[..., None], out, out.new_zeros(())).sum(dim=1)  # (N, F)
        return total / lengths.to(out.device, out.dtype)[:, None]


class MaxPool(nn.Module):
    """Maximum over the valid steps. Inputs ``out (N, L, F), lengths (N,) or None``; out (N, F)."""

    def forward(self, out: Tensor, lengths: Tensor | None = None) -> Tensor:
        _check(out, lengths)
        if lengths is None:
            return out.amax(dim=1)
        mask = length_mask(lengths.to(out.device), out.shape[1])  # (N, L)
        return out.masked_fill(~mask[..., None], float("-inf")).amax(dim=1)  # (N, F)


class MeanMaxPool(nn.Module):
    """Mean and maximum over the valid steps, concatenated. Inputs ``out (N, L, F), lengths
    (N,) or None``; output (N, 2F): ``[mean, max]``."""

    def __init__(self) -> None:
        super().__init__()
        self.mean, self.max = MeanPool(), MaxPool()

    def forward(self, out: Tensor, lengths: Tensor | None = None) -> Tensor:
        return torch.cat([self.mean(out, lengths), self.max(out, lengths)], dim=-1)  # (N, 2F)


class AttentionPool(nn.Module):
    """Additive attention pooling over the valid steps.

    ``e_t = v . tanh(W out_t + b)``, ``a = softmax(e)`` over the valid steps, and the result is
    ``sum_t a_t out_t``.

    Args:
        features: F = D*H, features of each step.
        attention_size: width of ``W``; default ``features``.

    Inputs: ``out (N, L, F)``, ``lengths (N,)`` or None.

    Outputs: ``(N, F)``; the weights of the last call are kept in ``last_weights`` ``(N, L)``.
    """

    def __init__(self, features: int, attention_size: int | None = None) -> None:
        super().__init__()
        size = attention_size or features
        self.proj = nn.Linear(features, size)
        self.score = nn.Linear(size, 1, bias=False)
        self.last_weights: Tensor | None = None

    def forward(self, out: Tensor, lengths: Tensor | None = None) -> Tensor:
        _check(out, lengths)
        scores = self.score(torch.tanh(self.proj(out))).squeeze(-1)  # (N, L)
        if lengths is not None:
            mask = length_mask(lengths.to(out.device), out.shape[1])  # (N, L)
            scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=1)  # (N, L)
        self.last_weights = weights.detach()
        if lengths is not None:  # padded steps have weight 0; keep their values out entirely
            out = torch.where(mask[..., None], out, out.new_zeros(()))
        return torch.einsum("nl,nlf->nf", weights, out)  # (N, F)


def make_summary(kind: str, features: int, num_directions: int) -> nn.Module:
    """The summary module named ``kind`` for outputs of ``features = D*H`` features."""
    if kind == "last":
        return LastStep(num_directions)
    if kind == "mean":
        return MeanPool()
    if kind == "max":
        return MaxPool()
    if kind == "meanmax":
        return MeanMaxPool()
    if kind == "attention":
        return AttentionPool(features)
    raise ValueError(f"summary must be one of {', '.join(SUMMARIES)}, got {kind!r}")


def summary_size(kind: str, features: int) -> int:
    """Features of the summary ``kind`` of outputs with ``features = D*H`` features."""
    return 2 * features if kind == "meanmax" else features
