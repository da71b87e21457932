"""What every task family is: a model section, a model and a LightningModule built from a
:class:`~rnnkit.data.info.DataInfo`, the metrics it monitors, its predictions and its report.

The run code (:mod:`rnnkit.runs`) knows families only through :class:`TaskFamily`, and a
checkpoint only through :class:`FamilyTask`'s hyperparameters: the family's name, the run's
config and the data description, all plain values (loaded with ``weights_only=True``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import lightning.pytorch as pl
import torch
from torch import Tensor, nn
from torchmetrics import Metric

from rnnkit.config import ConfigError, RunConfig, Section
from rnnkit.data.info import DataInfo
from rnnkit.families.optim import configure_optimizers

__all__ = ["TARGET_WORDS", "FamilyTask", "TaskFamily", "unpack_batch"]

# What each kind of target is, for messages (DataInfo.targets, TaskFamily.targets).
TARGET_WORDS = {"classes": "class labels", "values": "numeric targets",
                "tags": "a label for every step",
                "sequences": "a target sequence for every input",
                "next_tokens": "one long text (its next tokens are the targets)"}


def unpack_batch(batch: Any) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """A batch as ``(x, lengths or None, y or None)``: ``x``, ``(x,)``, ``(x, y)`` or
    ``(x, lengths, y)``."""
    if isinstance(batch, Tensor):
        return batch, None, None
    if isinstance(batch, (list, tuple)) and 1 <= len(batch) <= 3:
        if len(batch) == 1:
            return batch[0], None, None
        if len(batch) == 2:
            return batch[0], None, batch[1]
        return batch[0], batch[1], batch[2]
    raise ValueError(
        "expected a batch x, (x, y) or (x, lengths, y), found "
        f"{type(batch).__name__} of length {len(batch) if hasattr(batch, '__len__') else '?'}"
    )


class FamilyTask(pl.LightningModule):
    """The LightningModule every family's task derives from.

    Args:
        config: a :class:`~rnnkit.config.RunConfig` as a plain dict (``to_dict()``).
        info: a :class:`~rnnkit.data.info.DataInfo` as a plain dict.

    Both are saved as ``hyper_parameters`` with the family's name, so a checkpoint is loaded
    by :func:`rnnkit.runs.evaluate.load_run` without guessing. After ``Trainer.test``,
    :attr:`test_report` holds what the family reports beyond the logged figures.
    """

    family: ClassVar[str] = ""

    def __init__(self, config: Mapping[str, Any], info: Mapping[str, Any]) -> None:
        super().__init__()
        run = RunConfig.from_dict(config)  # validates; a checkpoint's config too
        data = DataInfo.from_dict(info)
        self.save_hyperparameters(
            {"family": self.family, "config": run.to_dict(), "info": data.to_dict()},
            logger=False,
        )
        self.run_config = run
        self.info = data
        self.test_report: dict[str, Any] = {}
        self.build_notes: list[str] = []  # what building it decided (pretrained embeddings)

    def configure_optimizers(self) -> Any:
        total = int(self.trainer.estimated_stepping_batches)
        return configure_optimizers(self.run_config.optim, self, total)

    def log(self, name: str, value: Any, *args: Any, **kwargs: Any) -> None:
        """Lightning's ``log``; a figure that is a plain number is averaged over every process
        of a multi-process run (``sync_dist``), so all of them monitor, checkpoint and stop on
        the same value (torchmetrics objects sync themselves)."""
        if not isinstance(value, Metric):
            kwargs.setdefault("sync_dist", True)
        super().log(name, value, *args, **kwargs)


class TaskFamily:
    """One input/output pattern. Subclasses set the class attributes and implement the methods.

    Class attributes:
        name: the family's name (``task:`` in a config, ``--task`` on the command line).
        task_class: its :class:`FamilyTask`.
        targets: what it learns from: ``"classes"`` (class labels), ``"values"`` (numbers) or
            ``"next_tokens"`` (a stream of text).
        metrics: the validation metrics it logs, each with ``"max"`` or ``"min"`` (better).
        default_monitor: the metric ``trainer.monitor: auto`` means.
        loss_title: what its loss is, for the loss plot.
        distributed: whether it trains on several processes (DDP); when not,
            ``distributed_note`` says why.
    """

    name: ClassVar[str]
    task_class: ClassVar[type[FamilyTask]]
    targets: ClassVar[str]
    metrics: ClassVar[dict[str, str]]
    default_monitor: ClassVar[str]
    loss_title: ClassVar[str]
    distributed: ClassVar[bool] = True
    distributed_note: ClassVar[str] = ""

    def check_data(self, info: DataInfo) -> None:
        """Raise :class:`~rnnkit.config.ConfigError` when the data cannot train this family."""
        if info.targets != self.targets:
            raise ConfigError(f"task {self.name} needs {TARGET_WORDS[self.targets]}; the "
                              f"{info.source} data have {TARGET_WORDS[info.targets]}")

    def resolve(self, model: Section, info: DataInfo) -> tuple[dict[str, Any], list[str]]:
        """The model section with its ``auto`` values decided from the data, and why."""
        return model.to_dict(), []

    def build_model(self, model: Section, info: DataInfo) -> nn.Module:
        """The family's network (no Lightning), for the data ``info`` describes."""
        raise NotImplementedError

    def build(self, config: RunConfig, info: DataInfo, *, fresh: bool = False) -> FamilyTask:
        """The LightningModule; ``fresh`` (a new run, not a checkpoint) also initialises what
        comes from outside the checkpoint, such as pretrained embeddings."""
        return self.task_class(config.to_dict(), info.to_dict())

    def notes(self, task: FamilyTask) -> list[str]:
        """What building ``task`` decided, for the run's notes."""
        return list(task.build_notes)

    def callbacks(self, config: RunConfig, run_dir: Path) -> list[pl.Callback]:
        """Lightning callbacks of the family's own for a training run writing ``run_dir``
        (the language model's samples after every epoch)."""
        return []

    def predict(self, task: FamilyTask, batches: Iterable[Any]) -> dict[str, list[Any]]:
        """Prediction columns (name -> one value per example) for ``batches`` in order."""
        raise NotImplementedError

    def render(self, task: FamilyTask, outputs: Mapping[str, list[Any]],
               data: Any) -> str | None:
        """The predictions ``outputs`` of ``data`` (a :class:`~rnnkit.data.source.PredictData`)
        written in the inputs' own layout, or None to write them as CSV (the default)."""
        return None

    def summary(self, metrics: Mapping[str, Any], split: str) -> str:
        """The test figures as words: ``test accuracy 97.50%``."""
        raise NotImplementedError

    def figures(self, metrics: Mapping[str, Any], split: str) -> str:
        """The figures ``rnnkit train`` and ``evaluate`` print: :meth:`summary`, on how many
        examples, and the loss."""
        note = "no test data; " if split == "validation" else ""
        return (f"{self.summary(metrics, split)} on {metrics['num_examples']} {split} examples "
                f"({note}{split} loss {metrics['test_loss']:.4f})")

    def outputs(self, task: FamilyTask, batches: Iterable[Any]) -> Tensor:
        """``task`` run on every batch (eval mode, no gradients), concatenated."""
        task.eval()
        with torch.inference_mode():
            outs = []
            for batch in batches:
                x, lengths, _ = unpack_batch(batch)
                outs.append(task(x.to(task.device),
                                 None if lengths is None else lengths.to(task.device)))
        return torch.cat(outs).cpu() if outs else torch.empty(0)
