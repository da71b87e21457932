"""The classify family: many-to-one, a class for every sequence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import nn

from rnnkit.config import RunConfig, Section
from rnnkit.data.info import DataInfo
from rnnkit.families.base import FamilyTask, TaskFamily
from rnnkit.families.classify.model import build_classifier, resolve_model
from rnnkit.families.classify.task import ClassificationTask

__all__ = ["FAMILY", "ClassifyFamily", "load_pretrained_embeddings"]


def load_pretrained_embeddings(task: FamilyTask, path: str, freeze: bool) -> str:
    """Copy the vectors of ``path`` (word2vec/GloVe text) into ``task.model``'s embedding for
    the vocabulary tokens the file holds; returns a note saying how many it held."""
    from rnnkit.data.text.vectors import read_vectors

    embedding: nn.Embedding = task.model.encoder.embedding
    vocabulary = list(task.info.vocabulary)
    vectors, found = read_vectors(path, vocabulary, embedding.embedding_dim)
    with torch.no_grad():
        rows = torch.as_tensor(found, dtype=torch.long)
        embedding.weight[rows] = vectors[rows]
    if freeze:
        embedding.weight.requires_grad_(False)
    return (f"embeddings: {len(found):,} of the {len(vocabulary):,} vocabulary tokens "
            f"initialised from {path}" + (" (kept fixed)" if freeze else ""))


class ClassifyFamily(TaskFamily):
    name = "classify"
    task_class = ClassificationTask
    targets = "classes"
    metrics = {"val_acc": "max", "val_loss": "min"}
    default_monitor = "val_acc"
    loss_title = "cross-entropy loss"

    def resolve(self, model: Section, info: DataInfo) -> tuple[dict[str, Any], list[str]]:
        return resolve_model(model, info)

    def build_model(self, model: Section, info: DataInfo) -> nn.Module:
        return build_classifier(model, info)

    def build(self, config: RunConfig, info: DataInfo, *, fresh: bool = False) -> FamilyTask:
        task = self.task_class(config.to_dict(), info.to_dict())
        model = config.model
        if info.tokens and model.freeze_embeddings:
            task.model.encoder.embedding.weight.requires_grad_(False)
        if fresh and info.tokens and model.embeddings:
            task.build_notes = [load_pretrained_embeddings(
                task, model.embeddings, model.freeze_embeddings)]
        return task

    def predict(self, task: FamilyTask, batches: Iterable[Any]) -> dict[str, list[Any]]:
        """``predicted`` (class name), ``probability`` (of that class), then one
        ``prob_<class>`` column per class."""
        probs = self.outputs(task, batches).softmax(dim=-1)  # (N, C)
        names = list(task.info.class_names)
        best = probs.argmax(dim=-1).tolist() if len(probs) else []
        columns: dict[str, list[Any]] = {
            "predicted": [names[i] for i in best],
            "probability": [float(probs[j, i]) for j, i in enumerate(best)],
        }
        for c, name in enumerate(names):
            columns[f"prob_{name}"] = probs[:, c].tolist()
        return columns

    def summary(self, metrics: Mapping[str, Any], split: str) -> str:
        return f"{split} accuracy {100 * metrics['test_acc']:.2f}%"


FAMILY = ClassifyFamily()
