"""Evaluate a trained run, and load its task: everything comes from its checkpoint.

The family, the model, the data's description (vocabulary, standardizer, classes) and the split
it was validated on are the checkpoint's; only where the data live, how a new file is read and
where the work runs may be overridden.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnkit.config import ConfigError, Override, RunConfig, apply_overrides, override_key
from rnnkit.data.info import DataInfo
from rnnkit.data.registry import get_source
from rnnkit.families import get_family
from rnnkit.families.base import FamilyTask, TaskFamily
from rnnkit.runs.checkpoint import find_checkpoint, read_checkpoint
from rnnkit.runs.guards import check_model_memory, check_weights
from rnnkit.runs.interrupt import interruptible
from rnnkit.runs.report import test_metrics
from rnnkit.runs.rundir import RunError
from rnnkit.runs.trainer import (
    CHECKPOINT_DIR,
    check_trainer_settings,
    cpu_threads,
    make_trainer,
    quiet_lightning,
)

__all__ = ["EvalResult", "Loaded", "eval_keys", "evaluate", "load_run"]

# What evaluate and predict may override beyond the data section's EVAL_KEYS: where the work
# runs. The model, its preprocessing and its validation split are the checkpoint's.
TRAINER_EVAL_KEYS = (
    "trainer.accelerator", "trainer.devices", "trainer.precision", "trainer.progress_bar",
    "trainer.deterministic", "trainer.verbose", "trainer.threads",
)


@dataclass
class EvalResult:
    """What :func:`evaluate` measured."""

    checkpoint: Path
    metrics: dict[str, Any]
    notes: list[str] = field(default_factory=list)  # what reading the data noticed


@dataclass
class Loaded:
    """A checkpoint's task, ready to run: its config, family and data description."""

    path: Path
    config: RunConfig
    family: TaskFamily
    info: DataInfo
    task: FamilyTask


def eval_keys(config: RunConfig) -> tuple[str, ...]:
    """The keys evaluate and predict may override for a run of ``config``: the data
    section's ``EVAL_KEYS`` (how a new file is read), the model section's (how it decodes:
    seq2seq's beam size) and where the work runs."""
    return (*(f"data.{k}" for k in config.data.EVAL_KEYS),
            *(f"model.{k}" for k in getattr(config.model, "EVAL_KEYS", ())), *TRAINER_EVAL_KEYS)


def load_run(
    target: str | os.PathLike, overrides: Iterable[Override] = (), *,
    families: Iterable[str] | None = None, command: str = "this command",
) -> Loaded:
    """The best checkpoint of a run directory (or a ``.ckpt`` file) as a task in eval mode.

    Args:
        target: a run directory or a checkpoint file.
        overrides: changes of the keys :func:`eval_keys` allows.
        families: the families ``command`` works with (None: any).

    Raises:
        RunError: not an rnnkit checkpoint, of another family than ``families``, an override
            of a key the checkpoint fixes, or weights that do not fit its config.
    """
    quiet_lightning()
    path = find_checkpoint(target, "best")
    checkpoint = read_checkpoint(path)
    hparams = checkpoint.get("hyper_parameters") or {}
    if not isinstance(hparams.get("config"), dict):
        raise RunError(f"{path} holds no rnnkit config; was it written by `rnnkit train`?")
    name = hparams.get("family")
    if not isinstance(name, str) or not isinstance(hparams.get("info"), dict):
        raise RunError(f"{path} names no task family: it was written by an earlier rnnkit; "
                       "train the run again")
    try:
        family = get_family(name)
    except ConfigError:
        raise RunError(f"{path} holds a {name!r} model, a task family this rnnkit does not "
                       "have") from None
    allowed = list(families) if families is not None else None
    if allowed is not None and name not in allowed:
        raise RunError(f"{path} holds a {name} model; {command} needs a "
                       f"{' or '.join(allowed)} model")
    saved = RunConfig.from_dict(hparams["config"])
    overrides = list(overrides)
    keys = eval_keys(saved)
    bad = [k for k in map(override_key, overrides) if k not in keys]
    if bad:
        raise RunError(
            f"cannot override {', '.join(bad)} here: the model, its preprocessing and its "
            f"validation split are the checkpoint's; evaluate and predict may change only "
            f"{', '.join(keys)}"
        )
    # A saved recipe's `download: true` was a request for that training run; evaluating or
    # predicting later downloads only when asked again (--set data.download=true).
    raw = saved.to_dict()
    if "download" in raw["data"]:
        raw["data"]["download"] = False
    config = RunConfig.from_dict(apply_overrides(raw, overrides))
    check_trainer_settings(config)
    info = DataInfo.from_dict(hparams["info"])
    try:
        check_model_memory(family, config, info)
        task = family.build(config, info)
    except (KeyError, TypeError, ValueError) as err:
        if isinstance(err, RunError):
            raise
        raise RunError(f"{path}: its hyperparameters do not describe an rnnkit model "
                       f"({type(err).__name__}: {err})") from None
    check_weights(task, checkpoint["state_dict"], path)
    task.load_state_dict(checkpoint["state_dict"])
    _check_split_reading(config, saved, path)
    return Loaded(path, config, family, info, task.eval())


def _check_split_reading(config: RunConfig, trained: RunConfig, path: Path) -> None:
    """A validation split is rebuilt by index: the training file must be read as it was."""
    if getattr(config.data, "test", None) is not None:
        return
    now, before = config.data.to_dict(), trained.data.to_dict()
    changed = [k for k in config.data.READ_KEYS if now[k] != before[k]]
    if changed:
        raise RunError(
            f"cannot change data.{changed[0]} when evaluating on the validation data: it is "
            f"read as in training ({path}); read options may change only for a test file "
            "(--test FILE)"
        )


def evaluate(target: str | os.PathLike, overrides: Iterable[Override] = ()) -> EvalResult:
    """Test a run's best checkpoint (or a given ``.ckpt``) on the test split of its data.

    ``overrides`` may change the keys :func:`eval_keys` allows (e.g. ``data.source=DIR``,
    ``data.test=FILE``). A run without test data is evaluated on the validation split it was
    trained with, rebuilt from the checkpoint (its training file must be unchanged).
    """
    run = load_run(target, overrides, command="evaluate")
    config = run.config
    dm = get_source(config.data.name).datamodule(
        config.data, seed=config.trainer.seed, family=run.family.name, purpose="evaluate",
        state=run.info.state)
    dm.setup("test")
    try:
        split, loader, num_examples = dm.report_split()
    except ValueError as err:
        raise RunError(str(err)) from None
    trainer = make_trainer(config, None)
    with cpu_threads(config), interruptible(trainer, None):
        results = trainer.test(run.task, dataloaders=loader, verbose=False)
    path = run.path
    run_dir = path.parent.parent if path.parent.name == CHECKPOINT_DIR else None
    metrics = test_metrics(results, run.task, run.family, path, run_dir, num_examples, split)
    return EvalResult(path, metrics, list(dm.notes))
