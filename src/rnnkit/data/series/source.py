"""The series source: dated values in CSV or ``.tsf`` files, for the forecast family."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rnnkit.config import ConfigError
from rnnkit.data.series.config import SeriesConfig
from rnnkit.data.series.datamodule import SeriesDataModule
from rnnkit.data.source import DataSource, PredictInputs

__all__ = ["SOURCE", "SeriesSource"]


class SeriesSource(DataSource):
    name = "series"

    def datamodule(
        self, config: SeriesConfig, *, seed: int, family: str, purpose: str = "train",
        state: Mapping[str, Any] | None = None, predict: PredictInputs | None = None,
    ) -> SeriesDataModule:
        if family not in ("forecast", "auto"):
            raise ConfigError(f"data.name=series is read by the forecast family, not {family} "
                              "(--task forecast)")
        if purpose == "predict":
            raise ValueError("a forecaster forecasts the steps after the data: use rnnkit "
                             "forecast RUN --data FILE --horizon H --output forecast.csv")
        return SeriesDataModule(config, seed=seed, purpose=purpose, state=state)


SOURCE = SeriesSource()
