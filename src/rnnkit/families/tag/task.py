"""TaggingTask: a SequenceTagger trained on a tag for every step by Lightning."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor
from torchmetrics.classification import MulticlassAccuracy, MulticlassConfusionMatrix

from rnnkit.families.base import FamilyTask, unpack_batch
from rnnkit.families.tag.metrics import SCHEME_METRIC, span_scores, tag_report
from rnnkit.families.tag.model import build_tagger
from rnnkit.models.tag_schemes import tag_scheme
from rnnkit.models.tagger import IGNORE

__all__ = ["TaggingTask", "batch_inputs"]


def batch_inputs(batch: Any) -> tuple[Tensor, Tensor | None, Tensor | None, dict[str, Tensor]]:
    """``(x, lengths, tags or None, {"chars": ..., "bigrams": ...})`` of a batch: a dict
    ``{"tokens" or "features", "lengths", "tags", "chars", "bigrams"}`` or ``(x, lengths, y)``."""
    if isinstance(batch, Mapping):
        x = batch["tokens"] if "tokens" in batch else batch["features"]
        extra = {k: batch[k] for k in ("chars", "bigrams") if k in batch}
        return x, batch.get("lengths"), batch.get("tags"), extra
    x, lengths, y = unpack_batch(batch)
    return x, lengths, y, {}


class TaggingTask(FamilyTask):
    """Sequence tagging: :class:`~rnnkit.models.tagger.SequenceTagger` + cross-entropy per
    step (or the CRF's negative log-likelihood).

    Batches: see :func:`batch_inputs`; ``tags (N, L)`` int64, -100 on padded steps and -1 on a
    tag the training data never had (a certain error).

    Logged: ``train_loss``, ``val_loss``, ``val_acc`` (token accuracy), ``val_f1`` (span F1 for
    BIO/BIOES tags, word F1 for BMES segmentation, else token accuracy), and their ``test_``
    versions. After ``Trainer.test``, :attr:`test_report` holds the span or word precision and
    recall, the per-tag report and the token confusion matrix (rows: true tag).
    """

    family = "tag"

    def __init__(self, config: Mapping[str, Any], info: Mapping[str, Any]) -> None:
        super().__init__(config, info)
        self.tag_names = list(self.info.class_names)
        self.scheme = tag_scheme(self.tag_names)
        self.model = build_tagger(self.run_config.model, self.info)
        classes = len(self.tag_names) + 1  # + one for tags unseen in training: never right
        self.accuracy = {split: MulticlassAccuracy(classes, average="micro",
                                                   ignore_index=IGNORE)
                         for split in ("train", "val", "test")}
        for split, metric in self.accuracy.items():
            self.add_module(f"{split}_acc", metric)
        self.test_confusion = MulticlassConfusionMatrix(classes, ignore_index=IGNORE)
        self._sentences: dict[str, tuple[list[list[str]], list[list[str]]]] = {}

    def forward(self, x: Tensor, lengths: Tensor | None = None, **extra: Tensor) -> Tensor:
        """Emissions ``(N, L, T)``."""
        return self.model(x, lengths, **extra)

    def _step(self, batch: Any, split: str) -> Tensor:
        x, lengths, tags, extra = batch_inputs(batch)
        if tags is None:
            raise ValueError("a training or evaluation batch needs tags")
        emissions = self(x, lengths, **extra)
        loss = self.model.loss(emissions, tags, lengths)
        predicted = self.model.decode(emissions, lengths)
        target = tags.where(tags != -1, torch.full_like(tags, len(self.tag_names)))
        self.accuracy[split](predicted.flatten(), target.flatten())
        self.log(f"{split}_loss", loss, prog_bar=split != "test", batch_size=len(x),
                 on_step=split == "train", on_epoch=True)
        self.log(f"{split}_acc", self.accuracy[split], batch_size=len(x), on_step=False,
                 on_epoch=True, prog_bar=split == "val")
        if split != "train":
            self._collect(split, predicted, tags, lengths)
        if split == "test":
            self.test_confusion.update(predicted.flatten(), target.flatten())
        return loss

    def _collect(self, split: str, predicted: Tensor, tags: Tensor,
                 lengths: Tensor | None) -> None:
        gold, found = self._sentences.setdefault(split, ([], []))
        names = [*self.tag_names, "<unseen>"]
        steps = lengths.tolist() if lengths is not None else [tags.shape[1]] * len(tags)
        for row, (p, t) in enumerate(zip(predicted.tolist(), tags.tolist(), strict=True)):
            n = steps[row]
            gold.append([names[i] for i in t[:n]])
            found.append([names[i] for i in p[:n]])

    def _f1(self, split: str) -> dict[str, float] | None:
        from rnnkit.runs.distributed import gather_objects

        gold, found = [], []
        for g, f in gather_objects(self._sentences.pop(split, ([], []))):  # every process's
            gold += g
            found += f
        scores = span_scores(gold, found, self.scheme) if gold else None
        if scores is not None:
            self.log(f"{split}_f1", scores["f1"])
        else:  # no span scheme: the F1 is the token accuracy (what the monitor reads)
            self.log(f"{split}_f1", self.accuracy[split].compute())
        return scores

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, "test")

    def on_validation_epoch_start(self) -> None:
        self._sentences.pop("val", None)

    def on_validation_epoch_end(self) -> None:
        self._f1("val")

    def on_test_epoch_start(self) -> None:
        self._sentences.pop("test", None)
        self.test_report = {}

    def on_test_epoch_end(self) -> None:
        gold, found = self._sentences.get("test", ([], []))
        report = tag_report(gold, found, self.scheme) if gold else {}
        scores = self._f1("test")
        confusion = self.test_confusion.compute()[: len(self.tag_names), : len(self.tag_names)]
        self.test_report = {
            "scheme": self.scheme,
            "f1_counts": {"span": "entity spans", "word": "words"}.get(
                SCHEME_METRIC.get(self.scheme, ""), "tokens (no span scheme)"),
            **({"precision": scores["precision"], "recall": scores["recall"]}
               if scores else {}),
            "per_tag": report,
            "class_names": list(self.tag_names),
            "confusion_matrix": confusion.cpu().tolist(),
        }
        self.test_confusion.reset()
