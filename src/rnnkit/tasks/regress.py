"""RegressionTask: one number per sequence, a SequenceClassifier head of size 1 trained with MSE."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning.pytorch as pl
import torch.nn.functional as F
from torch import Tensor
from torchmetrics.regression import MeanAbsoluteError, MeanSquaredError

from rnnkit.config import RunConfig
from rnnkit.models import SequenceClassifier
from rnnkit.tasks.classify import unpack_batch
from rnnkit.tasks.optim import configure_optimizers

__all__ = ["RegressionTask"]


class RegressionTask(pl.LightningModule):
    """Sequence regression: :class:`~rnnkit.models.SequenceClassifier` with one output + MSE.

    The network predicts the *standardised* target ``z = (y - target_mean) / target_std``
    (statistics of the training split), so one learning rate suits targets of any scale; the
    loss is the mean squared error of ``z``. :meth:`forward` and every reported metric are in
    the target's own units.

    All arguments are plain values (saved in every checkpoint as ``hyper_parameters``, loaded
    with ``weights_only=True``).

    Args:
        config: a :class:`~rnnkit.config.RunConfig` as a plain dict; ``model`` and ``optim``
            are used here.
        input_size: F, features per step.
        target_mean: mean of the training targets.
        target_std: standard deviation of the training targets (> 0).
        data_state: what prediction needs to read new files (the data module's ``state_dict``:
            task, feature names, standardizer), or ``None``.

    Batches: ``(x (N, L, F), y (N,))`` or ``(x, lengths (N,), y)``; ``y`` float.

    Logged: ``train_loss``, ``train_mae``, ``val_loss``, ``val_mae``, ``val_rmse``,
    ``test_loss``, ``test_mae``, ``test_rmse`` (loss: MSE of standardised targets; MAE and
    RMSE in target units).
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        input_size: int,
        target_mean: float = 0.0,
        target_std: float = 1.0,
        data_state: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        run = RunConfig.from_dict(config)
        if not target_std > 0:
            raise ValueError(f"target_std must be > 0, got {target_std}")
        self.save_hyperparameters(
            {"config": run.to_dict(), "input_size": int(input_size),
             "target_mean": float(target_mean), "target_std": float(target_std),
             "data_state": None if data_state is None else dict(data_state)},
            logger=False,
        )
        self.run_config = run
        self.target_mean, self.target_std = float(target_mean), float(target_std)
        self.model = SequenceClassifier.from_config(run.model, input_size, 1)
        self.train_mae = MeanAbsoluteError()
        self.val_mae, self.val_rmse = MeanAbsoluteError(), MeanSquaredError(squared=False)
        self.test_mae, self.test_rmse = MeanAbsoluteError(), MeanSquaredError(squared=False)
        self.test_report: dict[str, Any] = {}

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Predicted targets ``(N,)`` (in target units) of ``x (N, L, F)``."""
        z = self.model(x, lengths).squeeze(-1)  # (N,)
        return z * self.target_std + self.target_mean

    def _step(self, batch: Any) -> tuple[Tensor, Tensor, Tensor]:
        x, lengths, y = unpack_batch(batch)
        z = self.model(x, lengths).squeeze(-1)  # (N,) standardised
        y = y.to(z.dtype)
        loss = F.mse_loss(z, (y - self.target_mean) / self.target_std)
        return loss, z.detach() * self.target_std + self.target_mean, y

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        loss, pred, y = self._step(batch)
        self.train_mae(pred, y)
        self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True)
        self.log("train_mae", self.train_mae, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        loss, pred, y = self._step(batch)
        self.val_mae(pred, y)
        self.val_rmse(pred, y)
        self.log("val_loss", loss, prog_bar=True)
        self.log("val_mae", self.val_mae, prog_bar=True)
        self.log("val_rmse", self.val_rmse)

    def test_step(self, batch: Any, batch_idx: int) -> None:
        loss, pred, y = self._step(batch)
        self.test_mae(pred, y)
        self.test_rmse(pred, y)
        self.log("test_loss", loss)
        self.log("test_mae", self.test_mae)
        self.log("test_rmse", self.test_rmse)

    def predict_step(self, batch: Any, batch_idx: int) -> Tensor:
        """Predicted targets ``(N,)``; a batch is ``x``, ``(x,)``, ``(x, y)`` or
        ``(x, lengths, y)``."""
        if isinstance(batch, Tensor):
            return self(batch)
        if isinstance(batch, (list, tuple)) and len(batch) == 1:
            return self(batch[0])
        x, lengths, _ = unpack_batch(batch)
        return self(x, lengths)

    def configure_optimizers(self) -> Any:
        total = int(self.trainer.estimated_stepping_batches)
        return configure_optimizers(self.run_config.optim, self, total)
