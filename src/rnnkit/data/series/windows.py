"""Windows of regular series: the past a forecaster reads and the horizon it forecasts.

A window of series s at origin t reads the past ``values[t - l : t]`` (l = min(L, t) steps,
at least ``min_lookback``) and forecasts ``values[t : t + H]``: its inputs end where its targets
begin, so no target is ever among its own inputs. Each series is split by time
(:class:`SeriesSplit`): training windows' targets end before the validation part, validation
windows' before the test holdout; scaling statistics come from the training part alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from rnnkit.data.series.dates import calendar_features
from rnnkit.data.series.regular import Series

__all__ = ["SeriesSplit", "WindowDataset", "fit_scaling", "history_summary", "mase_scale",
           "split_series"]


@dataclass(frozen=True)
class SeriesSplit:
    """Where a series of T points is cut: ``[0, val_start)`` training, ``[val_start,
    test_start)`` validation, ``[test_start, T)`` the test holdout."""

    length: int
    val_start: int
    test_start: int


def split_series(series: Series, *, horizon: int, min_lookback: int, validation: int,
                 backtest: int, backtest_step: int, path: str) -> SeriesSplit:
    """The split of ``series``; ValueError naming the series and both lengths when it is too
    short for one test window (``min_lookback + horizon + (backtest - 1) * backtest_step``)."""
    holdout = horizon + (backtest - 1) * backtest_step
    need = min_lookback + holdout
    if len(series) < need:
        extra = f" + {(backtest - 1) * backtest_step} backtest" if backtest > 1 else ""
        raise ValueError(f"{path}: series {series.name} has {len(series)} points, shorter than "
                         f"lookback + horizon = {min_lookback} + {horizon}{extra} = {need}; use a"
                         " smaller --set data.lookback=... (or data.min_lookback, "
                         "data.horizon)")
    test_start = len(series) - holdout
    return SeriesSplit(len(series), max(0, test_start - validation), test_start)


def fit_scaling(values: np.ndarray) -> tuple[float, float]:
    """(mean, std) of ``values``; a constant part gets std |mean| (or 1), so it divides."""
    if len(values) == 0:
        return 0.0, 1.0
    loc, scale = float(values.mean()), float(values.std())
    if not scale > 1e-12:
        scale = abs(loc) if abs(loc) > 1e-12 else 1.0
    return loc, scale


def mase_scale(values: np.ndarray, season: int) -> float:
    """MASE's denominator: the mean absolute seasonal difference ``|y_t - y_{t-m}|`` of the
    in-sample ``values`` (m = 1 when they are shorter than a season and one step); 1 when it is
    0 (a constant series)."""
    m = season if len(values) > season else 1
    if len(values) <= m:
        return 1.0
    scale = float(np.abs(values[m:] - values[:-m]).mean())
    return scale if scale > 1e-12 else 1.0


def history_summary(history: np.ndarray, season: int) -> dict[str, np.ndarray]:
    """What the baselines need of the history before an origin (see
    :mod:`rnnkit.families.forecast.baselines`): ``season_tail`` (m,) the last m values (the
    earliest repeated on the left when the history is shorter), ``first``, ``mean`` and
    ``count`` (t)."""
    t = len(history)
    tail = history[max(0, t - season):]
    tail = np.concatenate([np.full(season - len(tail), tail[0]), tail])
    return {"season_tail": tail.astype(np.float32), "first": np.float32(history[0]),
            "mean": np.float32(history.mean()), "count": np.float32(t)}


class WindowDataset(Dataset):
    """The windows ``(series index, origin t)`` of some series, as dicts of tensors.

    Args:
        series: the regular series.
        origins: ``(series index, origin)`` pairs.
        state: the data state (``lookback``, ``horizon``, ``season``, ``calendar``,
            ``covariates``, ``scaling`` and per series ``loc``/``scale``/``mase_scale``/``cov``).
        extra: known-future steps beyond each series' end (forecasting past the data).

    Items (F = 1 + covariates + 2 * calendar kinds, K = 2 * calendar kinds):
        ``past`` (L, F) float32, right-padded with zeros after ``length`` valid steps: the
        scaled value, the scaled covariates, the calendar features; ``length`` int64;
        ``future`` (H, K) float32 calendar features of the horizon; ``target`` (H,) float32
        scaled targets and ``y`` (H,) the targets in the data's units (zeros past the end);
        ``loc``, ``scale`` the window's scaling (``y = target * scale + loc``);
        ``mase_scale``; the baselines' ``season_tail`` (m,), ``first``, ``mean``, ``count``;
        ``series`` and ``origin`` int64.
    """

    def __init__(self, series: Sequence[Series], origins: Sequence[tuple[int, int]],
                 state: Mapping[str, Any], extra: int = 0) -> None:
        self.series, self.origins, self.state = list(series), list(origins), state
        self.L, self.H = int(state["lookback"]), int(state["horizon"])
        self.season = int(state["season"])
        kinds = list(state["calendar"])
        self.calendar = [calendar_features(s.dates(extra), kinds) for s in self.series]
        self.stats = [state["series"][s.name] for s in self.series]

    def __len__(self) -> int:
        return len(self.origins)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        i, t = self.origins[index]
        s, stats, calendar = self.series[i], self.stats[i], self.calendar[i]
        start = max(0, t - self.L)
        past = s.values[start:t]
        if self.state["scaling"] == "window":
            loc, scale = fit_scaling(past)
        else:
            loc, scale = float(stats["loc"]), float(stats["scale"])
        columns = [(past - loc) / scale]
        for name in self.state["covariates"]:
            c_loc, c_scale = stats["cov"][name]
            columns.append((s.covariates[name][start:t] - c_loc) / c_scale)
        features = np.concatenate([np.stack(columns, axis=1), calendar[start:t]], axis=1)
        x = np.zeros((self.L, features.shape[1]), dtype=np.float32)
        x[: t - start] = features
        y = np.zeros(self.H)
        known = s.values[t:t + self.H]
        y[: len(known)] = known
        summary = history_summary(s.values[:t], self.season)
        return {
            "past": torch.from_numpy(x),
            "length": torch.tensor(t - start, dtype=torch.int64),
            "future": torch.from_numpy(np.ascontiguousarray(calendar[t:t + self.H])),
            "target": torch.from_numpy(((y - loc) / scale).astype(np.float32)),
            "y": torch.from_numpy(y.astype(np.float32)),
            "loc": torch.tensor(loc, dtype=torch.float32),
            "scale": torch.tensor(scale, dtype=torch.float32),
            "mase_scale": torch.tensor(float(stats["mase_scale"]), dtype=torch.float32),
            **{k: torch.as_tensor(v) for k, v in summary.items()},
            "series": torch.tensor(i, dtype=torch.int64),
            "origin": torch.tensor(t, dtype=torch.int64),
        }
