"""Forecast the steps after the end of a file with a trained forecast run (``rnnkit
forecast``), and write the forecast as CSV with a plot of history and forecast beside it."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import default_collate

from rnnkit.atomic import write_atomic, write_text_atomic
from rnnkit.config import Override
from rnnkit.data.series.datamodule import forecast_dataset, read_series
from rnnkit.data.series.dates import Step, show_date
from rnnkit.data.series.regular import Series
from rnnkit.data.spreadsheet import spreadsheet_safe
from rnnkit.runs.evaluate import load_run
from rnnkit.runs.trainer import cpu_threads

__all__ = ["Forecast", "forecast", "plot_forecast", "write_forecast"]

HISTORY_SHOWN = 200  # the plot shows at most this many past points of each series
SERIES_SHOWN = 4  # ... of at most this many series


@dataclass
class Forecast:
    """The forecasts of every series of a file.

    Attributes:
        columns: ``id`` (files of several series), ``date``, ``forecast`` (the point forecast,
            the median for quantile models) and one ``q<level>`` column per quantile
            (``q10``, ``q50``, ``q90``); one row per series and step, series in file order.
        series: the series read (for the plot).
        values: (S, h, Q) the forecasts in the data's units.
        dates: the h forecast dates of each series.
        levels: the quantile levels (() for a point forecast).
        target: the forecast column's name in the training file.
        notes: what reading noticed (series scaled with their own statistics, fills).
    """

    columns: dict[str, list[Any]]
    series: list[Series]
    values: np.ndarray
    dates: list[list[datetime]]
    levels: tuple[float, ...] = ()
    target: str = "value"
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.columns["date"])

    def to_csv(self) -> str:
        """The columns as CSV (numbers with nine significant digits)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(list(self.columns))
        for row in zip(*self.columns.values(), strict=True):
            writer.writerow([f"{v:.9g}" if isinstance(v, float) else spreadsheet_safe(v)
                             for v in row])
        return buffer.getvalue()


def quantile_column(level: float) -> str:
    """``q10`` for 0.1, ``q2.5`` for 0.025."""
    return f"q{100 * level:g}"


def forecast(target: str | os.PathLike, data: str | os.PathLike, horizon: int | None = None,
             overrides: Iterable[Override] = ()) -> Forecast:
    """The ``horizon`` steps after the end of every series of ``data``, forecast by a run's
    best checkpoint (or a given ``.ckpt``).

    The file is read as the training file was (its columns, ``data.fill``); each series the run
    trained on is scaled as in training, a new one with its own history's statistics.

    Raises:
        ValueError: ``horizon`` below 1 or beyond the trained horizon (a direct model forecasts
            the steps it was trained for), a file of another frequency, a series too short.
        RunError: not a forecast run.
    """
    run = load_run(target, overrides, families=("forecast",), command="forecast")
    state = run.info.state
    trained = int(state["horizon"])
    horizon = trained if horizon is None else horizon
    if horizon < 1:
        raise ValueError(f"--horizon is the number of steps to forecast: at least 1, got "
                         f"{horizon}")
    if horizon > trained:
        raise ValueError(f"--horizon {horizon} is beyond the {trained} steps this model was "
                         f"trained to forecast; train it with --set data.horizon={horizon}")
    step = Step.from_dict(state["step"])
    config = replace(run.config.data, train=str(data))  # type: ignore[type-var]
    _, series = read_series(str(data), config, None)
    if series[0].step != step:
        found = series[0].step
        raise ValueError(f"{data}: the series are {found.name} ({found.describe()}); this "
                         f"model was trained on {step.name} data")
    known = set(state["series"])
    new = [s.name for s in series if s.name not in known]
    notes = [f"{len(new)} series the run did not train on ({', '.join(new[:3])}"
             f"{', ...' if len(new) > 3 else ''}) scaled with their own history"] if new else []
    notes += [f"series {s.name}: {s.filled} values filled (data.fill={config.fill})"
              for s in series if s.filled]
    dataset = forecast_dataset(series, state)
    task = run.task
    with cpu_threads(run.config), torch.inference_mode():
        batch = default_collate([dataset[i] for i in range(len(dataset))])
        values = task(batch)[:, :horizon].cpu().numpy()  # (S, h, Q)
    levels = tuple(run.config.model.levels())  # type: ignore[attr-defined]
    point = levels.index(0.5) if levels else 0
    columns: dict[str, list[Any]] = {}
    all_dates = [s.dates(horizon)[len(s):] for s in series]
    if len(series) > 1:
        columns["id"] = [s.name for s in series for _ in range(horizon)]
    columns["date"] = [show_date(d) for dates in all_dates for d in dates]
    columns["forecast"] = [float(v) for v in values[:, :, point].reshape(-1)]
    for j, level in enumerate(levels):
        columns[quantile_column(level)] = [float(v) for v in values[:, :, j].reshape(-1)]
    return Forecast(columns, series, values, all_dates, levels, str(state.get("target", "value")),
                    notes)


def plot_forecast(result: Forecast) -> bytes:
    """A PNG of each series' recent history with its forecast (and the outermost quantile
    interval), at most :data:`SERIES_SHOWN` series."""
    from matplotlib.figure import Figure  # no pyplot: works without a display

    shown = result.series[:SERIES_SHOWN]
    fig = Figure(figsize=(8, 2.6 * len(shown) + 0.6), layout="constrained")
    point = result.levels.index(0.5) if result.levels else 0
    for k, s in enumerate(shown):
        ax = fig.add_subplot(len(shown), 1, k + 1)
        past = min(len(s), HISTORY_SHOWN)
        ax.plot(s.dates()[-past:], s.values[-past:], color="tab:blue", lw=1.2, label="history")
        dates, values = result.dates[k], result.values[k]
        ax.plot([s.dates()[-1], *dates], [s.values[-1], *values[:, point]], color="tab:orange",
                lw=1.6, label="forecast")
        if len(result.levels) > 1:
            low, high = result.levels[0], result.levels[-1]
            ax.fill_between(dates, values[:, 0], values[:, -1], color="tab:orange", alpha=0.25,
                            label=f"{100 * low:g}-{100 * high:g}% interval")
        ax.set_title(f"{s.name}: {len(dates)} steps ahead" if len(result.series) > 1
                     else f"{result.target}: {len(dates)} steps ahead")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    if len(result.series) > len(shown):
        fig.suptitle(f"the first {len(shown)} of {len(result.series)} series")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def plot_path(output: str | os.PathLike) -> Path:
    """The plot written beside ``output``: the same name ending ``.png``."""
    return Path(output).with_suffix(".png")


def write_forecast(result: Forecast, output: str | os.PathLike) -> tuple[Path, Path]:
    """Write the CSV and its plot (:func:`plot_path`), each atomically; the plot is drawn
    before either is written."""
    png = plot_forecast(result)
    text = result.to_csv()
    write_text_atomic(output, text)
    picture = plot_path(output)
    write_atomic(picture, lambda f: f.write(png))
    return Path(output), picture
