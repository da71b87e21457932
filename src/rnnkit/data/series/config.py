"""The series source's ``data:`` section: dated values to forecast, their windows and splits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rnnkit.config.section import ConfigError, DataSection, option
from rnnkit.data.series.regular import FILLS

__all__ = ["AUTO_FAMILY", "CONFIG", "DEFAULT_FAMILY", "READ_KEYS", "SeriesConfig", "claims",
           "defaults"]

DEFAULT_FAMILY = "forecast"
AUTO_FAMILY = {"values": "forecast"}
READ_KEYS = ("format", "date_col", "id_col", "target", "covariates", "delimiter", "fill")


@dataclass(frozen=True)
class SeriesConfig(DataSection):
    """Time series read from a CSV file (wide: a date column and one column per series or
    feature; long: id, date, value) or a Monash ``.tsf`` file, cut into windows of
    ``data.lookback`` past steps and ``data.horizon`` future steps.

    Splits, per series, by time: the last ``horizon + (backtest - 1) * backtest_step`` points
    are the test holdout (``backtest`` rolling origins), the ``data.validation`` points before
    them the validation part; training windows end before both.
    """

    FILE_KEYS: ClassVar[tuple[str, ...]] = ("train",)
    PATH_KEYS: ClassVar[tuple[str, ...]] = FILE_KEYS
    RESUMABLE: ClassVar[tuple[str, ...]] = ("num_workers",)
    EVAL_KEYS: ClassVar[tuple[str, ...]] = ("num_workers", "batch_size", "train")
    READ_KEYS: ClassVar[tuple[str, ...]] = READ_KEYS

    name: str = option("series", "data source: series (dated values to forecast)")
    train: str | None = option(None, "the file of series: .csv (wide or long) or .tsf "
                               "(rnnkit train --series FILE)")
    format: str = option("auto", "auto (from the extension), csv or tsf",
                         choices=("auto", "csv", "tsf"))
    date_col: str | None = option(None, "CSV: the date column (default: one named date, time, "
                                  "ds, year, quarter, ... or the first that reads as dates)")
    id_col: str | None = option(None, "long CSV: the column naming each series (default: the "
                                "text column, when dates repeat)")
    target: str | list[str] | None = option(
        None, "CSV: the column to forecast (a list: one series per column of a wide file); "
        "default: the only numeric column")
    covariates: list[str] | None = option(None, "CSV: numeric columns observed in the past "
                                          "(model inputs, not forecast)")
    delimiter: str | None = option(None, "CSV: the field separator (default: detected)")
    fill: str = option("none", "gaps and missing values: none (an error naming the first), "
                       "interpolate (linear) or previous (repeat the last value)", choices=FILLS)
    horizon: int | str = option("auto", "H, steps to forecast; auto: the .tsf file's @horizon, "
                                "else by frequency (yearly 6, quarterly 8, monthly 18, weekly "
                                "13, daily 14, hourly 48)", min=1, auto=True)
    lookback: int | str = option("auto", "L, past steps a window reads; auto: 3 seasons or 3 "
                                 "horizons, whichever is longer, at most 200 and at most the "
                                 "shortest series' training part less a horizon", min=1, auto=True)
    min_lookback: int | str = option("auto", "windows may read fewer past steps, down to this "
                                     "many (short series: early windows); auto: lookback",
                                     min=1, auto=True)
    validation: int | str = option("auto", "points before the test holdout of each series "
                                   "whose windows (one per origin) validate; auto: a tenth of "
                                   "the shortest series, at least the horizon; 0: none",
                                   min=0, auto=True)
    backtest: int | str = option("auto", "rolling-origin backtest: test windows per series, "
                                 "their origins backtest_step apart, the last forecasting the "
                                 "final horizon; auto: enough for 10 test windows in all, the "
                                 "holdout at most a fifth of the shortest series", min=1,
                                 auto=True)
    backtest_step: int | str = option("auto", "steps between backtest origins (auto: horizon)",
                                      min=1, auto=True)
    season: int | str = option("auto", "the seasonal period of MASE and seasonal naive, in steps;"
                               " auto: from the frequency (monthly 12, quarterly 4, weekly 52, "
                               "daily 7, hourly 24, else 1)", min=1, auto=True)
    scaling: str = option("series", "series: standardise each series with the mean and std of "
                          "its training part; window: each window by its own past's mean and "
                          "std (trending series)", choices=("series", "window"))
    calendar: bool = option(True, "calendar features of every date (hour, day of week, month, "
                            "as sine and cosine): inputs, and known for the future")
    stride: int = option(1, "steps between the origins of consecutive training windows", min=1)
    batch_size: int | str = option("auto", "windows per batch (auto: 64, fewer for few windows)",
                                   min=1, auto=True)
    num_workers: int = option(0, "DataLoader worker processes (0 = load in the main process)",
                              min=0)

    def _check(self) -> None:
        if self.train is None:
            raise ConfigError("data.name=series needs data.train, the file of series (rnnkit "
                              "train --series FILE)")
        if isinstance(self.min_lookback, int) and isinstance(self.lookback, int) \
                and self.min_lookback > self.lookback:
            raise ConfigError(f"data.min_lookback={self.min_lookback} is more than "
                              f"data.lookback={self.lookback}")

    def read_options(self) -> dict[str, Any]:
        """The keywords of :func:`~rnnkit.data.series.readers.read_series_file`."""
        return {"format": self.format, "target": self.target, "id_col": self.id_col,
                "covariates": tuple(self.covariates or ()), "date_col": self.date_col,
                "delimiter": self.delimiter}


CONFIG = SeriesConfig

# A small global model a laptop trains in a minute: one LSTM layer of 64 over the windows of
# every series, 1500 steps, the best checkpoint by validation MASE.
_DEFAULTS: dict[str, Any] = {
    "model": {"cell": "lstm", "hidden_size": 64, "num_layers": 1},
    "optim": {"name": "adamw", "lr": 3e-3, "weight_decay": 1e-4, "schedule": "onecycle",
              "pct_start": 0.1},
    "trainer": {"steps": 1500},
}


def defaults(family: str) -> dict[str, Any]:
    """The defaults of a run on series (the forecast family's)."""
    return _DEFAULTS if family == "forecast" else {}


def claims(path: str) -> bool:
    """Never: ``rnnkit train --train PATH`` does not pick the series source; ``--series FILE``
    (``data.name=series``) does."""
    return False
