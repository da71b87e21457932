"""SeriesDataModule: a file of series as training, validation and test windows."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from torch.utils.data import DataLoader

from rnnkit.data.info import DataInfo
from rnnkit.data.series.config import SeriesConfig
from rnnkit.data.series.dates import Step, calendar_kinds, show_date
from rnnkit.data.series.readers import SeriesFile, read_series_file
from rnnkit.data.series.regular import Series, regularize
from rnnkit.data.series.windows import (
    SeriesSplit,
    WindowDataset,
    fit_scaling,
    mase_scale,
    split_series,
)
from rnnkit.data.source import PredictData, PredictInputs, SourceDataModule

__all__ = ["SeriesDataModule", "forecast_dataset", "read_series", "series_stats"]

# data.horizon=auto by frequency (the M4 competition's horizons)
HORIZONS = {"yearly": 6, "quarterly": 8, "monthly": 18, "weekly": 13, "daily": 14, "hourly": 48}
MAX_LOOKBACK = 200
TEST_WINDOWS = 10  # data.backtest=auto: origins for this many test windows in all ...
HOLDOUT_SHARE = 0.2  # ... the holdout at most this part of the shortest series


def read_series(path: str, config: SeriesConfig,
                step: Step | None = None) -> tuple[SeriesFile, list[Series]]:
    """The file's series, regular (``data.fill``), all of one step."""
    file = read_series_file(path, **config.read_options())
    series = [regularize(raw, path=path, fill=config.fill, step=file.step or step)
              for raw in file.series]
    steps = {s.step for s in series}
    if len(steps) > 1:
        names = ", ".join(sorted(f"{s.name} {s.step.name}" for s in series)[:4])
        raise ValueError(f"{path}: the series have different steps ({names}); one model "
                         "forecasts series of one frequency")
    return file, series


def series_stats(series: Series, fit_end: int, test_start: int, covariates: Sequence[str],
                 season: int) -> dict[str, Any]:
    """A series' scaling (fitted on ``values[:fit_end]``) and MASE scale (in-sample: before
    ``test_start``), as plain values."""
    loc, scale = fit_scaling(series.values[:fit_end])
    return {"loc": loc, "scale": scale,
            "mase_scale": mase_scale(series.values[:test_start], season),
            "cov": {c: list(fit_scaling(series.covariates[c][:fit_end])) for c in covariates},
            "length": len(series), "end": show_date(series.dates()[-1])}


def forecast_dataset(series: Sequence[Series], state: Mapping[str, Any]) -> WindowDataset:
    """One window per series at its end, forecasting the H steps after it. A series the run did
    not train on is scaled with its own history's statistics."""
    stats = dict(state["series"])
    for s in series:
        if s.name not in stats:
            stats[s.name] = series_stats(s, len(s), len(s), state["covariates"],
                                         int(state["season"]))
    need = int(state["min_lookback"])
    for s in series:
        if len(s) < need:
            raise ValueError(f"series {s.name} has {len(s)} points; the model reads at least "
                             f"{need} (data.min_lookback)")
    return WindowDataset(series, [(i, len(s)) for i, s in enumerate(series)],
                         {**state, "series": stats}, extra=int(state["horizon"]))


class SeriesDataModule(SourceDataModule):
    """The series of ``data.train`` as windows (see :mod:`rnnkit.data.series.windows`).

    Args:
        config: the ``data:`` section.
        seed: unused (windows are shuffled by Lightning's seeded loader).
        purpose: ``"train"`` or ``"evaluate"`` (the test windows, scaled as ``state`` says).
        state: a checkpoint's data state, or None.

    Batches: dicts of the items of :class:`~rnnkit.data.series.windows.WindowDataset`, each
    with a leading N.
    """

    def __init__(self, config: SeriesConfig, *, seed: int = 0, purpose: str = "train",
                 state: Mapping[str, Any] | None = None,
                 predict: PredictInputs | None = None) -> None:
        super().__init__()
        self.config, self.purpose = config, purpose
        self.state: dict[str, Any] = dict(state or {})
        self.series: list[Series] = []
        self.splits: list[SeriesSplit] = []
        self.datasets: dict[str, WindowDataset] = {}
        self.batch_size = 64
        self._read = False

    # ---- reading ---------------------------------------------------------------------------
    def _resolve(self, file: SeriesFile, series: list[Series]) -> dict[str, Any]:
        c, step = self.config, series[0].step
        if self.state:
            return {k: self.state[k] for k in ("horizon", "lookback", "min_lookback", "season",
                                                "validation", "backtest", "backtest_step")}
        horizon = c.horizon if isinstance(c.horizon, int) else \
            file.horizon or HORIZONS.get(step.name, 12)
        if c.horizon == "auto":
            why = "the file's @horizon" if file.horizon else f"{step.name} data"
            self.notes.append(f"horizon {horizon} steps ({why}; --set data.horizon=N)")
        season = c.season if isinstance(c.season, int) else step.season
        shortest = min(len(s) for s in series)
        validation = max(horizon, shortest // 10) if c.validation == "auto" \
            else int(c.validation)
        if 0 < validation < horizon:
            raise ValueError(f"data.validation={validation} is shorter than one horizon "
                             f"({horizon}): give 0 (no validation) or at least {horizon}")
        backtest_step = horizon if c.backtest_step == "auto" else int(c.backtest_step)
        backtest = c.backtest
        if backtest == "auto":
            room = int(HOLDOUT_SHARE * shortest) - horizon  # the holdout beyond one horizon
            backtest = max(1, min(math.ceil(TEST_WINDOWS / len(series)),
                                  1 + room // backtest_step if room > 0 else 1))
            if backtest > 1:
                self.notes.append(f"test: {backtest} rolling origins {backtest_step} steps "
                                  "apart in each series (data.backtest)")
        holdout = horizon + (backtest - 1) * backtest_step
        shortest -= holdout + validation + horizon  # room for a training window's past
        lookback = c.lookback
        if lookback == "auto":
            lookback = max(1, min(MAX_LOOKBACK, max(3 * season, 3 * horizon), shortest))
            self.notes.append(f"lookback {lookback} steps (data.lookback)")
        min_lookback = lookback if c.min_lookback == "auto" else int(c.min_lookback)
        return {"horizon": horizon, "lookback": int(lookback), "min_lookback": min_lookback,
                "season": season, "validation": validation, "backtest": int(backtest),
                "backtest_step": backtest_step}

    def _load(self) -> None:
        c = self.config
        path = str(c.train)
        step = Step.from_dict(self.state["step"]) if self.state.get("step") else None
        file, series = read_series(path, c, step)
        chosen = self._resolve(file, series)
        H, Lmin = chosen["horizon"], chosen["min_lookback"]
        self.splits = [split_series(s, horizon=H, min_lookback=Lmin,
                                    validation=chosen["validation"], backtest=chosen["backtest"],
                                    backtest_step=chosen["backtest_step"], path=path)
                       for s in series]
        self.series = series
        covariates = list(c.covariates or ())
        kinds = list(calendar_kinds(series[0].step)) if c.calendar else []
        if not self.state:
            stats = {}
            for s, sp in zip(series, self.splits, strict=True):
                fit_end = sp.val_start if sp.val_start >= 2 else sp.test_start
                stats[s.name] = series_stats(s, fit_end, sp.test_start, covariates,
                                             chosen["season"])
            self.state = {**chosen, "step": series[0].step.to_dict(), "calendar": kinds,
                          "covariates": covariates, "scaling": c.scaling, "series": stats,
                          "target": file.target, "layout": file.layout,
                          "input_size": 1 + len(covariates) + 2 * len(kinds),
                          "future_size": 2 * len(kinds),
                          "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest()}
            filled = sum(s.filled for s in series)
            what = f"{len(series)} series" if len(series) > 1 else f"series {series[0].name}"
            self.notes.append(f"{what}, {series[0].step.name}, {sum(map(len, series)):,} points"
                              + (f" ({filled} filled by data.fill={c.fill})" if filled else ""))
        else:
            for s in series:
                if s.name not in self.state["series"]:
                    raise ValueError(f"{path}: series {s.name} was not in the run's training "
                                     "data; rnnkit forecast RUN --data FILE forecasts it")
        self._make_windows()

    def _make_windows(self) -> None:
        st, c = self.state, self.config
        H, Lmin = int(st["horizon"]), int(st["min_lookback"])
        origins: dict[str, list[tuple[int, int]]] = {"train": [], "val": [], "test": []}
        for i, sp in enumerate(self.splits):
            origins["train"] += [(i, t) for t in range(Lmin, sp.val_start - H + 1, c.stride)]
            if sp.val_start < sp.test_start:
                origins["val"] += [(i, t) for t in range(sp.val_start, sp.test_start - H + 1)
                                   if t >= Lmin]
            origins["test"] += [(i, sp.length - H - k * int(st["backtest_step"]))
                                for k in reversed(range(int(st["backtest"])))]
        if self.purpose == "train" and not origins["train"]:
            longest = max(sp.val_start for sp in self.splits)
            raise ValueError(f"{c.train}: no training window: the longest training part holds "
                             f"{longest} points and a window needs lookback + horizon = "
                             f"{Lmin} + {H}; use a smaller data.lookback or data.validation")
        self.datasets = {k: WindowDataset(self.series, v, st) for k, v in origins.items() if v}
        if self.purpose == "train":
            n = len(origins["train"])
            if c.batch_size == "auto":
                self.batch_size = max(1, min(64, n // 4))
            else:
                self.batch_size = int(c.batch_size)
            self.notes.append(f"{n:,} training windows, {len(origins['val']):,} validation, "
                              f"{len(origins['test']):,} test (the last {H} points"
                              + (f" and {int(st['backtest']) - 1} earlier origins"
                                 if int(st["backtest"]) > 1 else "")
                              + " of each series)")
        elif isinstance(c.batch_size, int):
            self.batch_size = c.batch_size

    def setup(self, stage: str | None = None) -> None:
        """Read and window the file (once, whatever ``stage``)."""
        if not self._read:
            self._load()
            self._read = True

    # ---- the source interface --------------------------------------------------------------
    def resolved(self) -> dict[str, Any]:
        st = self.state
        return {"horizon": st["horizon"], "lookback": st["lookback"],
                "min_lookback": st["min_lookback"], "season": st["season"],
                "validation": st["validation"], "backtest": st["backtest"],
                "backtest_step": st["backtest_step"],
                "batch_size": self.batch_size}

    def describe(self) -> DataInfo:
        return DataInfo(source="series", input_size=int(self.state["input_size"]),
                        max_length=int(self.state["lookback"]),
                        num_train=len(self.datasets.get("train", ())), state=self.state)

    def has_validation(self) -> bool:
        return "val" in self.datasets

    def check_resume(self, state: Mapping[str, Any]) -> None:
        if state.get("sha256") != self.state.get("sha256"):
            raise ValueError(f"{self.config.train} changed since the run started; restore it "
                             "to resume")

    def _loader(self, split: str, shuffle: bool = False) -> DataLoader:
        return DataLoader(self.datasets[split], batch_size=self.batch_size, shuffle=shuffle,
                          num_workers=self.config.num_workers)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> Any:
        return self._loader("val") if "val" in self.datasets else []

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")

    def report_split(self) -> tuple[str, Any, int]:
        """``("test", loader, windows)``: the holdout of every series."""
        return "test", self._loader("test"), len(self.datasets["test"])

    def predict_data(self) -> PredictData:
        raise ValueError("a forecaster forecasts the steps after the data: use rnnkit forecast "
                         "RUN --data FILE --horizon H --output forecast.csv")
