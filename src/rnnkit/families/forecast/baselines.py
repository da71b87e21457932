"""The classic baselines, computed from the history before each window's origin.

For a history ``y_0 .. y_{t-1}`` and steps ``h = 1 .. H`` (m the seasonal period):

=================  ==========================================================================
naive              ``y_{t-1}``
seasonal naive     ``y_{t-m+((h-1) mod m)}``: the value a season before (the last season
                   repeated; the naive forecast where the history is shorter than m)
drift              ``y_{t-1} + h (y_{t-1} - y_0) / (t - 1)``: the line through the first and
                   the last value
mean               ``mean(y_0 .. y_{t-1})``
=================  ==========================================================================

They read the whole history (not only the model's lookback), as the textbooks define them; the
window items of :mod:`rnnkit.data.series.windows` carry what they need (``season_tail``,
``first``, ``mean``, ``count``).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["BASELINES", "baseline_forecasts"]

BASELINES = ("seasonal_naive", "naive", "drift", "mean")


def baseline_forecasts(season_tail: Tensor, first: Tensor, mean: Tensor, count: Tensor,
                       horizon: int) -> dict[str, Tensor]:
    """Each baseline's forecasts ``(N, H)``.

    Args:
        season_tail: (N, m) the last m values before each origin.
        first: (N,) the first value of each history. mean: (N,) its mean. count: (N,) its
            length t.
        horizon: H.
    """
    N, m = season_tail.shape
    steps = torch.arange(1, horizon + 1, dtype=season_tail.dtype, device=season_tail.device)
    last = season_tail[:, -1:]  # (N, 1)
    slope = (last[:, 0] - first) / (count - 1).clamp(min=1)  # (N,)
    seasonal = season_tail[:, torch.arange(horizon, device=season_tail.device) % m]  # (N, H)
    return {
        "seasonal_naive": seasonal,
        "naive": last.expand(N, horizon),
        "drift": last + slope[:, None] * steps,
        "mean": mean[:, None].expand(N, horizon),
    }
