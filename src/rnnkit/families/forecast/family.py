"""The forecast family: windows of dated series, the next H values, the baselines beside."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from torch import nn

from rnnkit.config import ConfigError, Section
from rnnkit.data.info import DataInfo
from rnnkit.families.base import FamilyTask, TaskFamily
from rnnkit.families.forecast.baselines import BASELINES
from rnnkit.families.forecast.config import ForecastModelConfig
from rnnkit.families.forecast.model import build_forecaster
from rnnkit.families.forecast.task import ForecastTask

__all__ = ["FAMILY", "ForecastFamily"]

BASELINE_NAMES = {"seasonal_naive": "seasonal naive", "naive": "naive", "drift": "drift",
                  "mean": "mean"}


class ForecastFamily(TaskFamily):
    """Multi-horizon forecasting (data.name=series); reports MASE and sMAPE of the model and
    of the naive, seasonal naive, drift and mean baselines on the same test windows."""

    name = "forecast"
    task_class = ForecastTask
    targets = "values"
    metrics = {"val_mase": "min", "val_loss": "min", "val_mae": "min"}
    default_monitor = "val_mase"
    loss_title = "loss of scaled targets (model.loss)"

    def check_data(self, info: DataInfo) -> None:
        if info.source != "series":
            raise ConfigError(f"task forecast reads dated series (data.name=series, rnnkit "
                              f"train --series FILE); the {info.source} data are not")

    def build_model(self, model: Section, info: DataInfo) -> nn.Module:
        assert isinstance(model, ForecastModelConfig)
        return build_forecaster(model, info)

    def predict(self, task: FamilyTask, batches: Iterable[Any]) -> dict[str, list[Any]]:
        raise ValueError("a forecaster forecasts the steps after the data: use rnnkit forecast "
                         "RUN --data FILE --horizon H --output forecast.csv")

    def summary(self, metrics: Mapping[str, Any], split: str) -> str:
        """``test MASE 0.712, sMAPE 4.10% | same windows: seasonal naive 1.000 / 5.21%, ...``"""
        text = (f"{split} MASE {metrics['test_mase']:.3f}, sMAPE "
                f"{metrics.get('test_smape', float('nan')):.2f}%")
        baselines = metrics.get("baselines") or {}
        if baselines:
            text += " | baselines, MASE / sMAPE: " + ", ".join(
                f"{BASELINE_NAMES[b]} {baselines[b]['mase']:.3f} / {baselines[b]['smape']:.2f}%"
                for b in BASELINES if b in baselines)
        return text

    def figures(self, metrics: Mapping[str, Any], split: str) -> str:
        horizon = metrics.get("horizon", "?")
        season = metrics.get("season", "?")
        return (f"{self.summary(metrics, split)} (on the same {metrics['num_examples']} {split} "
                f"windows of {horizon} steps; MASE season {season}; {split} loss "
                f"{metrics['test_loss']:.4f})")


FAMILY = ForecastFamily()
