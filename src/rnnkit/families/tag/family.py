"""The tag family: many-to-many, a label for every step."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import nn

from rnnkit.config import Section
from rnnkit.data.info import DataInfo
from rnnkit.data.spreadsheet import spreadsheet_safe
from rnnkit.families.base import FamilyTask, TaskFamily
from rnnkit.families.tag.metrics import SCHEME_METRIC, words_of
from rnnkit.families.tag.model import build_tagger
from rnnkit.families.tag.task import TaggingTask, batch_inputs
from rnnkit.models.tag_schemes import tag_scheme

__all__ = ["FAMILY", "TagFamily"]


class TagFamily(TaskFamily):
    name = "tag"
    task_class = TaggingTask
    targets = "tags"
    metrics = {"val_f1": "max", "val_acc": "max", "val_loss": "min"}
    default_monitor = "val_f1"
    loss_title = "loss per tagged step"

    def build_model(self, model: Section, info: DataInfo) -> nn.Module:
        return build_tagger(model, info)

    def predict(self, task: FamilyTask, batches: Iterable[Any]) -> dict[str, list[Any]]:
        """``predicted``: the tags of each sequence (a list per example), and ``probability``:
        each predicted tag's probability (the CRF's posterior marginal)."""
        task.eval()
        names = list(task.info.class_names)
        tags: list[list[str]] = []
        probabilities: list[list[float]] = []
        with torch.inference_mode():
            for batch in batches:
                x, lengths, _, extra = batch_inputs(batch)
                device = task.device
                lengths = None if lengths is None else lengths.to(device)
                emissions = task(x.to(device), lengths,
                                 **{k: v.to(device) for k, v in extra.items()})
                best = task.model.decode(emissions, lengths)
                probs = task.model.probabilities(emissions, lengths).gather(
                    -1, best[..., None])[..., 0]
                steps = lengths.tolist() if lengths is not None else [x.shape[1]] * len(x)
                for row, n in enumerate(steps):
                    tags.append([names[i] for i in best[row, :n].tolist()])
                    probabilities.append(probs[row, :n].tolist())
        return {"predicted": tags, "probability": probabilities}

    def render(self, task: FamilyTask, outputs: Mapping[str, list[Any]],
               data: Any) -> str | None:
        """Tagged sentences in the layout they came in: CoNLL columns or ``word/TAG`` lines
        with the predicted tags; raw texts (``--text``) as words separated by spaces (BMES
        segmentation) or ``token/TAG`` pairs; numeric sequences (``data.format`` ``"steps"``)
        as a CSV of one row per step: the sequence's keys (``index``, ``id``), ``step``
        (0-based), ``predicted``, ``probability`` and the file's ``label``, if any."""
        from rnnkit.data.tagged.readers import write_conll, write_slash

        tokens, tags = data.keys.get("tokens"), outputs["predicted"]
        if data.format == "steps":
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            per_step = {**outputs, **data.labels}
            writer.writerow([*data.keys, "step", *per_step])
            for i, predicted in enumerate(tags):
                keys = [spreadsheet_safe(column[i]) for column in data.keys.values()]
                for step in range(len(predicted)):
                    values = [column[i][step] for column in per_step.values()]
                    writer.writerow([*keys, step, *(f"{v:.6f}" if isinstance(v, float)
                                                    else spreadsheet_safe(v) for v in values)])
            return buffer.getvalue()
        if tokens is None or data.format not in ("conll", "slash", "text"):
            return None
        if data.format == "text":
            segments = tag_scheme(task.info.class_names) == "BMES"
            lines = [" ".join("".join(sentence[a:b]) for a, b in words_of(predicted))
                     if segments else " ".join(f"{t}/{g}" for t, g in
                                               zip(sentence, predicted, strict=True))
                     for sentence, predicted in zip(tokens, tags, strict=True)]
            return "".join(f"{line}\n" for line in lines)
        buffer = io.StringIO()
        (write_conll if data.format == "conll" else write_slash)(buffer, tokens, tags)
        return buffer.getvalue()

    def summary(self, metrics: Mapping[str, Any], split: str) -> str:
        """``test accuracy 97.20%, word F1 96.70%``."""
        scheme = metrics.get("scheme", "")
        kind = {"span": "span F1", "word": "word F1"}.get(SCHEME_METRIC.get(scheme, ""))
        text = f"{split} accuracy {100 * metrics['test_acc']:.2f}%"
        return f"{text}, {kind} {100 * metrics['test_f1']:.2f}%" if kind else text


FAMILY = TagFamily()
