"""The lm family: one-to-many, a language model of one long text, and the text it generates."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from torch import nn

from rnnkit.config import RunConfig, Section
from rnnkit.data.info import DataInfo
from rnnkit.families.base import FamilyTask, TaskFamily
from rnnkit.families.lm.epoch_samples import EpochSamples
from rnnkit.families.lm.model import build_language_model, resolve_model
from rnnkit.families.lm.task import LanguageModelTask

__all__ = ["FAMILY", "LanguageModelFamily"]

SAMPLE_FILE = "samples.txt"


class LanguageModelFamily(TaskFamily):
    name = "lm"
    task_class = LanguageModelTask
    targets = "next_tokens"
    metrics = {"val_loss": "min"}
    default_monitor = "val_loss"
    loss_title = "cross-entropy (nats per token)"
    distributed = False
    distributed_note = ("its recurrent state carries from each window of the text to the next, "
                        "in order, which one process reads")

    def resolve(self, model: Section, info: DataInfo) -> tuple[dict[str, Any], list[str]]:
        return resolve_model(model, info)

    def build_model(self, model: Section, info: DataInfo) -> nn.Module:
        return build_language_model(model, info)

    def callbacks(self, config: RunConfig, run_dir: Path) -> list[pl.Callback]:
        """Text sampled after every epoch into ``samples.txt``."""
        length = 300 if getattr(config.data, "tokenizer", None) == "char" else 100
        return [EpochSamples(run_dir / SAMPLE_FILE, length, config.trainer.seed)]

    def predict(self, task: FamilyTask, batches: Iterable[Any]) -> dict[str, list[Any]]:
        raise ValueError("a language model generates text: use rnnkit generate RUN --prompt "
                         "TEXT")

    def summary(self, metrics: Mapping[str, Any], split: str) -> str:
        """``validation loss 1.52 nats, 2.19 bits per character, perplexity 4.57``."""
        loss, unit = metrics["test_loss"], metrics.get("unit", "token")
        bits = metrics.get(f"bits_per_{unit}", loss / math.log(2))
        return (f"{split} loss {loss:.4f} nats, {bits:.4f} bits per {unit}, perplexity "
                f"{metrics.get('perplexity', math.exp(min(loss, 700))):.2f}")

    def figures(self, metrics: Mapping[str, Any], split: str) -> str:
        return f"{self.summary(metrics, split)} on {metrics['num_examples']:,} {split} tokens"


FAMILY = LanguageModelFamily()
