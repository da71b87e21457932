"""ClassificationTask: a SequenceClassifier trained with cross-entropy by Lightning."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch.nn.functional as F
from torch import Tensor
from torchmetrics.classification import MulticlassAccuracy, MulticlassConfusionMatrix

from rnnkit.families.base import FamilyTask, unpack_batch
from rnnkit.families.classify.model import build_classifier

__all__ = ["ClassificationTask"]


class ClassificationTask(FamilyTask):
    """Sequence classification: :class:`~rnnkit.models.SequenceClassifier` + cross-entropy.

    Args:
        config: a :class:`~rnnkit.config.RunConfig` as a plain dict; its ``model`` and
            ``optim`` sections are used here.
        info: a :class:`~rnnkit.data.info.DataInfo` as a plain dict, with C ``class_names``.

    Batches: ``(x, y)`` or ``(x, lengths (N,), y (N,))``; ``x`` (N, L, F) float or (N, L)
    token ids; ``y`` int64 in 0..C-1.

    Logged: ``train_loss`` (per step and epoch), ``train_acc``, ``val_loss``, ``val_acc``,
    ``test_loss``, ``test_acc`` and ``test_acc/<class>``. After ``Trainer.test``,
    :attr:`test_report` holds the per-class accuracy and the confusion matrix (rows: true
    class, columns: predicted).
    """

    family = "classify"

    def __init__(self, config: Mapping[str, Any], info: Mapping[str, Any]) -> None:
        super().__init__(config, info)
        self.class_names = list(self.info.class_names)
        num_classes = len(self.class_names)
        if num_classes < 2:
            raise ValueError(f"classification needs at least 2 classes, found {num_classes}")
        self.model = build_classifier(self.run_config.model, self.info)
        self.train_acc = MulticlassAccuracy(num_classes, average="micro")
        self.val_acc = MulticlassAccuracy(num_classes, average="micro")
        self.test_acc = MulticlassAccuracy(num_classes, average="micro")
        self.test_class_acc = MulticlassAccuracy(num_classes, average=None)
        self.test_confusion = MulticlassConfusionMatrix(num_classes)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Logits ``(N, C)``."""
        return self.model(x, lengths)

    def _loss(self, batch: Any) -> tuple[Tensor, Tensor, Tensor]:
        x, lengths, y = unpack_batch(batch)
        if y is None:
            raise ValueError("a training or evaluation batch needs labels: (x, lengths, y)")
        logits = self(x, lengths)  # (N, C)
        return F.cross_entropy(logits, y), logits, y

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        loss, logits, y = self._loss(batch)
        self.train_acc(logits, y)
        self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True)
        self.log("train_acc", self.train_acc, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        loss, logits, y = self._loss(batch)
        self.val_acc(logits, y)
        self.log("val_loss", loss, prog_bar=True)
        self.log("val_acc", self.val_acc, prog_bar=True)

    def test_step(self, batch: Any, batch_idx: int) -> None:
        loss, logits, y = self._loss(batch)
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
        """Class probabilities ``(N, C)``."""
        x, lengths, _ = unpack_batch(batch)
        return self(x, lengths).softmax(dim=-1)
