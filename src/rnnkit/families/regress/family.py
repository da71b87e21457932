"""The regress family: many-to-one, a number for every sequence (classify's numeric variant)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from torch import nn

from rnnkit.config import Section
from rnnkit.data.info import DataInfo
from rnnkit.families.base import FamilyTask
from rnnkit.families.classify.family import ClassifyFamily
from rnnkit.families.classify.model import build_classifier
from rnnkit.families.regress.task import RegressionTask

__all__ = ["FAMILY", "RegressFamily"]


class RegressFamily(ClassifyFamily):
    """Classify's model with one output, trained on standardised targets; its model section,
    its ``auto`` choices and its embeddings are classify's."""

    name = "regress"
    task_class = RegressionTask
    targets = "values"
    metrics = {"val_loss": "min", "val_mae": "min", "val_rmse": "min"}
    default_monitor = "val_loss"
    loss_title = "MSE of standardised targets"

    def build_model(self, model: Section, info: DataInfo) -> nn.Module:
        return build_classifier(model, info, 1)

    def predict(self, task: FamilyTask, batches: Iterable[Any]) -> dict[str, list[Any]]:
        """``predicted``: the value, in the targets' units."""
        return {"predicted": self.outputs(task, batches).tolist()}

    def summary(self, metrics: Mapping[str, Any], split: str) -> str:
        return f"{split} MAE {metrics['test_mae']:.4g}, RMSE {metrics['test_rmse']:.4g}"


FAMILY = RegressFamily()
