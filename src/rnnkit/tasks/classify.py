"""ClassificationTask: a SequenceClassifier trained with cross-entropy by Lightning."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics.classification import MulticlassAccuracy, MulticlassConfusionMatrix

from rnnkit.config import RunConfig
from rnnkit.models import SequenceClassifier
from rnnkit.tasks.optim import configure_optimizers

__all__ = ["ClassificationTask", "unpack_batch"]


def unpack_batch(batch: Any) -> tuple[Tensor, Tensor | None, Tensor]:
    """``(x, y)`` or ``(x, lengths, y)`` -> ``(x, lengths or None, y)``."""
    if isinstance(batch, (list, tuple)):
        if len(batch) == 2:
            return batch[0], None, batch[1]
        if len(batch) == 3:
            return batch[0], batch[1], batch[2]
    raise ValueError(
        "expected a batch (x, y) or (x, lengths, y), found "
        f"{type(batch).__name__} of length {len(batch) if hasattr(batch, '__len__') else '?'}"
    )


class ClassificationTask(pl.LightningModule):
    """Sequence classification: :class:`~rnnkit.models.SequenceClassifier` + cross-entropy.

    All arguments are plain values (they are saved in every checkpoint as
    ``hyper_parameters`` and loaded with ``weights_only=True``).

    Args:
        config: a :class:`~rnnkit.config.RunConfig` as a plain dict (``RunConfig.to_dict()``);
            its ``model`` and ``optim`` sections are used here.
        input_size: F, features per step of the data.
        num_classes: C.
        class_names: C names for reports and plots; default ``"0" .. "C-1"``.
        data_state: what prediction needs to read new files (the data module's ``state_dict``:
            task, class and feature names, standardizer), or ``None``.

    Batches: ``(x (N, L, F), y (N,))`` or ``(x, lengths (N,), y)``; ``y`` int64 in 0..C-1.

    Logged: ``train_loss`` (per step and epoch), ``train_acc``, ``val_loss``, ``val_acc``,
    ``test_loss``, ``test_acc`` and ``test_acc/<class>``. After ``Trainer.test``,
    :attr:`test_report` holds the per-class accuracy and the confusion matrix (rows: true
    class, columns: predicted).
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        input_size: int,
        num_classes: int,
        class_names: Sequence[str] | None = None,
        data_state: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        run = RunConfig.from_dict(config)  # validates; a checkpoint's config too
        names = [str(c) for c in (class_names or range(num_classes))]
        if len(names) != num_classes:
            raise ValueError(f"expected {num_classes} class names, found {len(names)}")
        self.save_hyperparameters(
            {"config": run.to_dict(), "input_size": int(input_size),
             "num_classes": int(num_classes), "class_names": names,
             "data_state": None if data_state is None else dict(data_state)},
            logger=False,
        )
        self.run_config = run
        self.class_names = names
        self.model = SequenceClassifier.from_config(run.model, input_size, num_classes)
        self.train_acc = MulticlassAccuracy(num_classes, average="micro")
        self.val_acc = MulticlassAccuracy(num_classes, average="micro")
        self.test_acc = MulticlassAccuracy(num_classes, average="micro")
        self.test_class_acc = MulticlassAccuracy(num_classes, average=None)
        self.test_confusion = MulticlassConfusionMatrix(num_classes)
        self.test_report: dict[str, Any] = {}

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Logits ``(N, C)`` of ``x (N, L, F)``."""
        return self.model(x, lengths)

    def _step(self, batch: Any) -> tuple[Tensor, Tensor, Tensor]:
        x, lengths, y = unpack_batch(batch)
        logits = self(x, lengths)  # (N, C)
        return F.cross_entropy(logits, y), logits, y

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        loss, logits, y = self._step(batch)
        self.train_acc(logits, y)
        self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True)
        self.log("train_acc", self.train_acc, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        loss, logits, y = self._step(batch)
        self.val_acc(logits, y)
        self.log("val_loss", loss, prog_bar=True)
        self.log("val_acc", self.val_acc, prog_bar=True)

    def test_step(self, batch: Any, batch_idx: int) -> None:
        loss, logits, y = self._step(batch)
        self.test_acc(logits, y)
        self.test_class_acc.update(logits, y)
        self.test_confusion.update(logits, y)
        self.log("test_loss", loss)
        self.log("test_acc", self.test_acc)

    def on_test_epoch_start(self) -> None:
        self.test_report = {}

    def on_test_epoch_end(self) -> None:
        per_class = self.test_class_acc.compute()  # (C,)
        confusion = self.test_confusion.compute()  # (C, C)
        for name, value in zip(self.class_names, per_class, strict=True):
            self.log(f"test_acc/{name}", value)
        self.test_report = {
            "class_names": list(self.class_names),
            "per_class_accuracy": {
                n: float(v) for n, v in zip(self.class_names, per_class, strict=True)
            },
            "confusion_matrix": confusion.cpu().tolist(),
        }
        self.test_class_acc.reset()
        self.test_confusion.reset()

    def predict_step(self, batch: Any, batch_idx: int) -> Tensor:
        """Class probabilities ``(N, C)``; a batch is ``x``, ``(x,)``, ``(x, y)`` or
        ``(x, lengths, y)``."""
        if isinstance(batch, Tensor):
            return torch.softmax(self(batch), dim=-1)
        if isinstance(batch, (list, tuple)) and len(batch) == 1:
            return torch.softmax(self(batch[0]), dim=-1)
        x, lengths, _ = unpack_batch(batch)
        return torch.softmax(self(x, lengths), dim=-1)

    def configure_optimizers(self) -> Any:
        total = int(self.trainer.estimated_stepping_batches)
        return configure_optimizers(self.run_config.optim, self, total)
