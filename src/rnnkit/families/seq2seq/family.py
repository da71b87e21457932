"""The seq2seq family: an input sequence to an output sequence of another length."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from torch import nn

from rnnkit.config import RunConfig, Section
from rnnkit.data.info import DataInfo
from rnnkit.families.base import FamilyTask, TaskFamily
from rnnkit.families.seq2seq.model import build_seq2seq
from rnnkit.families.seq2seq.task import Seq2SeqTask

__all__ = ["FAMILY", "Seq2SeqFamily"]


class Seq2SeqFamily(TaskFamily):
    name = "seq2seq"
    task_class = Seq2SeqTask
    targets = "sequences"
    metrics = {"val_token_error_rate": "min", "val_exact_match": "max", "val_loss": "min"}
    default_monitor = "val_token_error_rate"
    loss_title = "loss per target token (nats)"

    def build_model(self, model: Section, info: DataInfo) -> nn.Module:
        return build_seq2seq(model, info)

    def resolve(self, model: Section, info: DataInfo) -> tuple[dict[str, Any], list[str]]:
        values = model.to_dict()
        notes = []
        resolved = {"decoder_cell": model.cell if model.decoder_cell == "auto" else None,
                    "decoder_hidden_size": model.decoder_size()
                    if model.decoder_hidden_size == "auto" else None,
                    "decoder_layers": model.decoder_num_layers()
                    if model.decoder_layers == "auto" else None}
        chosen = {k: v for k, v in resolved.items() if v is not None}
        if chosen:
            values.update(chosen)
            notes.append(f"decoder: {values['decoder_cell']} of {values['decoder_hidden_size']} "
                         f"in {values['decoder_layers']} layer(s) (auto: the encoder's cell, "
                         "its output size and layer count)")
        return values, notes

    def callbacks(self, config: RunConfig, run_dir: Path) -> list[pl.Callback]:
        from rnnkit.families.seq2seq.pictures import AttentionPictures

        return [AttentionPictures(run_dir)]

    def predict(self, task: FamilyTask, batches: Iterable[Any]) -> dict[str, list[Any]]:
        """``predicted`` (the best hypothesis as text) and ``score`` (its log-probability over
        steps ** ``model.length_penalty``: with the default 1, the mean per step); with
        ``model.nbest`` N > 1 also ``predicted_2``, ``score_2``, ... ``predicted_N``."""
        text = task.token_text()
        nbest = task.run_config.model.nbest
        names = [("predicted", "score")] + [(f"predicted_{k}", f"score_{k}")
                                            for k in range(2, nbest + 1)]
        columns: dict[str, list[Any]] = {name: [] for pair in names for name in pair}
        task.eval()
        with torch.inference_mode():
            for batch in batches:
                hyps = task.decode(batch["source"].to(task.device),
                                   batch["source_lengths"].to(task.device), nbest=nbest)
                for found in hyps:
                    for k, (p, s) in enumerate(names):
                        h = found[k] if k < len(found) else None
                        columns[p].append("" if h is None else text.target(h.tokens))
                        columns[s].append(float("nan") if h is None else h.score)
        return columns

    def summary(self, metrics: Mapping[str, Any], split: str) -> str:
        """``test exact match 75.20% (error rate 24.80%), token error rate 5.10%``."""
        exact = 100 * metrics["test_exact_match"]
        text = (f"{split} exact match {exact:.2f}% (error rate {100 - exact:.2f}%), token error "
                f"rate {100 * metrics['test_token_error_rate']:.2f}%")
        if "bleu" in metrics:
            text += f", BLEU {metrics['bleu']:.1f}, chrF {metrics['chrf']:.1f}"
        beam = (metrics.get("decoding") or {}).get("beam_size")
        return text + ("" if beam is None else f", beam {beam}")


FAMILY = Seq2SeqFamily()
