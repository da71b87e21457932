"""RegressionTask: one number per sequence, a SequenceClassifier head of size 1 trained with MSE."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch.nn.functional as F
from torch import Tensor
from torchmetrics.regression import MeanAbsoluteError, MeanSquaredError

from rnnkit.families.base import FamilyTask, unpack_batch
from rnnkit.families.classify.model import build_classifier

__all__ = ["RegressionTask"]


class RegressionTask(FamilyTask):
    """Sequence regression: :class:`~rnnkit.models.SequenceClassifier` with one output + MSE.

    The network predicts the *standardised* target ``z = (y - target_mean) / target_std``
    (statistics of the training split), so one learning rate suits targets of any scale; the
    loss is the mean squared error of ``z``. :meth:`forward` and every reported metric are in
    the target's own units.

    Args:
        config: a :class:`~rnnkit.config.RunConfig` as a plain dict; ``model`` and ``optim``
            are used here.
        info: a :class:`~rnnkit.data.info.DataInfo` as a plain dict, with the training
            targets' ``target_mean`` and ``target_std`` (> 0).

    Batches: ``(x (N, L, F), y (N,))`` or ``(x, lengths (N,), y)``; ``y`` float.

    Logged: ``train_loss``, ``train_mae``, ``val_loss``, ``val_mae``, ``val_rmse``,
    ``test_loss``, ``test_mae``, ``test_rmse`` (loss: MSE of standardised targets; MAE and
    RMSE in target units).
    """

    family = "regress"

    def __init__(self, config: Mapping[str, Any], info: Mapping[str, Any]) -> None:
        super().__init__(config, info)
        if not self.info.target_std > 0:
            raise ValueError(f"target_std must be > 0, got {self.info.target_std}")
        self.target_mean, self.target_std = self.info.target_mean, self.info.target_std
        self.model = build_classifier(self.run_config.model, self.info, 1)
        self.train_mae = MeanAbsoluteError()
        self.val_mae, self.val_rmse = MeanAbsoluteError(), MeanSquaredError(squared=False)
        self.test_mae, self.test_rmse = MeanAbsoluteError(), MeanSquaredError(squared=False)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Predicted targets ``(N,)`` (in target units) of ``x (N, L, F)``."""
        z = self.model(x, lengths).squeeze(-1)  # (N,)
        return z * self.target_std + self.target_mean

    def _loss(self, batch: Any) -> tuple[Tensor, Tensor, Tensor]:
        x, lengths, y = unpack_batch(batch)
        if y is None:
            raise ValueError("a training or evaluation batch needs targets: (x, lengths, y)")
        z = self.model(x, lengths).squeeze(-1)  # (N,) standardised
        y = y.to(z.dtype)
        loss = F.mse_loss(z, (y - self.target_mean) / self.target_std)
        return loss, z.detach() * self.target_std + self.target_mean, y

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        loss, pred, y = self._loss(batch)
        self.train_mae(pred, y)
        self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True)
        self.log("train_mae", self.train_mae, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        loss, pred, y = self._loss(batch)
        self.val_mae(pred, y)
        self.val_rmse(pred, y)
        self.log("val_loss", loss, prog_bar=True)
        self.log("val_mae", self.val_mae, prog_bar=True)
        self.log("val_rmse", self.val_rmse)

    def test_step(self, batch: Any, batch_idx: int) -> None:
        loss, pred, y = self._loss(batch)
        self.test_mae(pred, y)
        self.test_rmse(pred, y)
        self.log("test_loss", loss)
        self.log("test_mae", self.test_mae)
        self.log("test_rmse", self.test_rmse)

    def predict_step(self, batch: Any, batch_idx: int) -> Tensor:
        """Predicted targets ``(N,)``."""
        x, lengths, _ = unpack_batch(batch)
        return self(x, lengths)
