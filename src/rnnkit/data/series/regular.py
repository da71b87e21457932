"""Make a series regular: sorted, unique dates one step apart, no missing values — or say why
it is not.

The gap policy is ``data.fill``:

* ``none`` (the default): a missing date (a gap in the grid) or a missing value (an empty cell,
  NaN) is an error naming the series, the first one and its line, and how to fill it;
* ``interpolate``: missing dates are inserted and missing values drawn on the straight line
  between their neighbours (the first and last value are carried to the ends);
* ``previous``: missing dates are inserted and every missing value repeats the one before it.

Unsorted or duplicated dates, and dates off the series' grid (a Tuesday among Mondays), are
errors whatever the policy: a fill cannot know which value was meant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from rnnkit.data.series.dates import Step, infer_step, show_date
from rnnkit.data.series.readers import RawSeries

__all__ = ["FILLS", "Series", "regularize"]

FILLS = ("none", "interpolate", "previous")


@dataclass
class Series:
    """A regular series: ``T`` values one :class:`~rnnkit.data.series.dates.Step` apart.

    Attributes:
        name: its id.
        start: the first date.
        step: the step between dates.
        values: (T,) float64, finite.
        covariates: name -> (T,) float64 past-observed covariates, finite.
        filled: how many values (or dates) ``data.fill`` supplied.
    """

    name: str
    start: datetime
    step: Step
    values: np.ndarray
    covariates: dict[str, np.ndarray] = field(default_factory=dict)
    filled: int = 0

    def __len__(self) -> int:
        return len(self.values)

    def dates(self, extra: int = 0) -> list[datetime]:
        """The T dates, and ``extra`` more after the end."""
        return [self.step.add(self.start, k) for k in range(len(self.values) + extra)]


def _fill(values: np.ndarray, policy: str) -> np.ndarray:
    missing = np.isnan(values)
    if not missing.any():
        return values
    known = np.flatnonzero(~missing)
    if policy == "interpolate":
        return np.interp(np.arange(len(values)), known, values[known])
    out = values.copy()
    first = known[0]
    out[:first] = values[first]
    for i in range(first + 1, len(out)):
        if np.isnan(out[i]):
            out[i] = out[i - 1]
    return out


def regularize(raw: RawSeries, *, path: str, fill: str = "none",
               step: Step | None = None) -> Series:
    """``raw`` as a regular :class:`Series` (see the module's docstring for ``fill``).

    Args:
        raw: the series as read.
        path: the file, for messages.
        fill: ``none``, ``interpolate`` or ``previous``.
        step: the step (a ``.tsf`` file's frequency); None: inferred from the dates.

    Raises:
        ValueError: unsorted or duplicated dates, a date off the grid, too few values, or
            (``fill="none"``) a gap or a missing value; one line naming the series, the date
            and the file line.
    """
    if fill not in FILLS:
        raise ValueError(f"data.fill must be one of {', '.join(FILLS)}, got {fill!r}")
    where = f"{path}: series {raw.name}"
    dates, lines = raw.dates, raw.lines
    for i in range(1, len(dates)):
        if dates[i] == dates[i - 1]:
            raise ValueError(f"{where}: the date {show_date(dates[i])} appears twice (lines "
                             f"{lines[i - 1]} and {lines[i]}); keep one row per date")
        if dates[i] < dates[i - 1]:
            raise ValueError(f"{where}: dates are not in order: line {lines[i]} "
                             f"({show_date(dates[i])}) comes after line {lines[i - 1]} "
                             f"({show_date(dates[i - 1])}); sort the file by date")
    step = step or infer_step(dates)
    if step is None or not np.isfinite(raw.values).any():
        raise ValueError(f"{where}: {len(dates)} date{'s' if len(dates) != 1 else ''} with "
                         f"{int(np.isfinite(raw.values).sum())} values; a series needs at least"
                         " two")
    positions = [0]
    for i in range(1, len(dates)):
        k = step.steps_between(dates[0], dates[i])
        if abs(k - round(k)) > 1e-6:
            raise ValueError(f"{where}: line {lines[i]}: {show_date(dates[i])} is off the "
                             f"series' grid ({step.name}: {step.describe()} from "
                             f"{show_date(dates[0])}); the dates are irregular")
        positions.append(int(round(k)))
    length = positions[-1] + 1
    values = np.full(length, np.nan)
    values[positions] = raw.values
    covariates = {}
    for name, column in raw.covariates.items():
        full = np.full(length, np.nan)
        full[positions] = column
        covariates[name] = full
    if fill == "none":
        if length > len(dates):
            i = next(j for j in range(1, len(positions)) if positions[j] != positions[j - 1] + 1)
            gap = step.add(dates[0], positions[i - 1] + 1)
            raise ValueError(f"{where}: no row for {show_date(gap)} (the series is "
                             f"{step.name}, {step.describe()}; line {lines[i]} jumps to "
                             f"{show_date(dates[i])}); fill gaps with --set "
                             "data.fill=interpolate (or previous)")
        for name, column in (("value", values), *covariates.items()):
            bad = np.flatnonzero(np.isnan(column))
            if bad.size:
                i = positions.index(int(bad[0]))
                raise ValueError(f"{where}: line {lines[i]}: no {name} (empty or NaN) at "
                                 f"{show_date(dates[i])}; fill missing values with --set "
                                 "data.fill=interpolate (or previous)")
    filled = int(np.isnan(values).sum())
    values = _fill(values, fill)
    covariates = {k: _fill(v, fill) if np.isfinite(v).any() else np.zeros(length)
                  for k, v in covariates.items()}
    if not np.isfinite(values).all():
        raise ValueError(f"{where}: infinite values")
    return Series(raw.name, dates[0], step, values, covariates, filled)
