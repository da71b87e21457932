"""Evaluate and predict with a trained run: everything comes from its checkpoint.

The model, its preprocessing (MNIST normalisation and view, the files' standardizer) and the
split it was validated on are the checkpoint's; only where the data lives, how a new file is
read and where the work runs may be overridden.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch

from rnnkit.config import READ_OPTION_KEYS, Override, RunConfig, apply_overrides, override_key
from rnnkit.tasks.checkpoint import find_checkpoint, read_checkpoint
from rnnkit.tasks.classify import ClassificationTask
from rnnkit.tasks.files import SequencePredictions, files_datamodule, predict_sequences
from rnnkit.tasks.guards import check_model_memory, check_weights
from rnnkit.tasks.regress import RegressionTask
from rnnkit.tasks.run import (
    RunError,
    interruptible,
    make_datamodule,
    test_metrics,
    test_split,
)
from rnnkit.tasks.trainer import (
    CHECKPOINT_DIR,
    check_trainer_settings,
    cpu_threads,
    make_trainer,
    quiet_lightning,
)

__all__ = ["EVAL_KEYS", "EvalResult", "Prediction", "evaluate", "load_task", "predict",
           "predict_file"]

# What evaluate and predict may override: where the data are and how a new file is read, and
# where the work runs. The model, its preprocessing and its validation split are the checkpoint's.
EVAL_KEYS = (
    "data.source", "data.download", "data.num_workers", "data.batch_size", "data.bucket",
    "data.test", "data.train", *(f"data.{key}" for key in READ_OPTION_KEYS),
    "trainer.accelerator", "trainer.devices", "trainer.precision", "trainer.progress_bar",
    "trainer.deterministic", "trainer.verbose", "trainer.threads",
)


@dataclass
class EvalResult:
    """What :func:`evaluate` measured."""

    checkpoint: Path
    metrics: dict[str, Any]


@dataclass
class Prediction:
    """Predictions for the images of one file."""

    path: Path
    classes: list[str]  # predicted class name per image
    probabilities: torch.Tensor  # (n, C)
    labels: list[str] = field(default_factory=list)  # all class names, in column order


def _eval_config(
    checkpoint: dict[str, Any], overrides: Iterable[Override], path: Path
) -> RunConfig:
    quiet_lightning()
    hparams = checkpoint.get("hyper_parameters") or {}
    if not isinstance(hparams.get("config"), dict):
        raise RunError(f"{path} holds no rnnkit config; was it written by `rnnkit train`?")
    overrides = list(overrides)
    bad = [k for k in map(override_key, overrides) if k not in EVAL_KEYS]
    if bad:
        raise RunError(
            f"cannot override {', '.join(bad)} here: the model, its preprocessing and its "
            "validation split are the checkpoint's; evaluate and predict may change only "
            f"{', '.join(EVAL_KEYS)}"
        )
    # A saved recipe's `download: true` was a request for that training run; evaluating or
    # predicting later downloads only when asked again (--set data.download=true).
    saved = {**hparams["config"]}
    saved["data"] = {**saved.get("data", {}), "download": False}
    config = RunConfig.from_dict(apply_overrides(saved, overrides))
    check_trainer_settings(config)
    return config


def load_task(
    path: Path, config: RunConfig, checkpoint: dict[str, Any] | None = None
) -> pl.LightningModule:
    """The checkpoint's task in eval mode, built from ``config`` and checked against the
    weights before they are loaded; ``checkpoint`` is the file's content when already read."""
    checkpoint = read_checkpoint(path) if checkpoint is None else checkpoint
    hparams = dict(checkpoint.get("hyper_parameters") or {})
    cls = RegressionTask if "target_std" in hparams else ClassificationTask
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    kwargs = {k: v for k, v in hparams.items() if k in accepted}
    kwargs["config"] = config.to_dict()
    outputs = 1 if cls is RegressionTask else kwargs.get("num_classes")
    try:
        check_model_memory(config.model, kwargs["input_size"], outputs)  # type: ignore[arg-type]
        task = cls(**kwargs)
    except (KeyError, TypeError, ValueError) as err:
        if isinstance(err, RunError):
            raise
        raise RunError(f"{path}: its hyperparameters do not describe an rnnkit model "
                       f"({type(err).__name__}: {err})") from None
    check_weights(task, checkpoint["state_dict"], path)
    task.load_state_dict(checkpoint["state_dict"])
    return task.eval()


def _data_state(task: pl.LightningModule, path: Path) -> dict[str, Any]:
    state = task.hparams.get("data_state")
    if not state:
        raise RunError(f"{path} holds no data description (standardizer, classes); it was "
                       "not trained on sequence files by this version of rnnkit")
    return state


def _check_split_reading(config: RunConfig, checkpoint: dict[str, Any], path: Path) -> None:
    """The validation split is rebuilt by index: the training file must be read as it was."""
    trained = checkpoint["hyper_parameters"]["config"].get("data", {})
    now = config.data.to_dict()
    changed = [k for k in READ_OPTION_KEYS if k in trained and trained[k] != now[k]]
    if changed:
        raise RunError(
            f"cannot change data.{changed[0]} when evaluating on the validation data: it is "
            f"read as in training ({path}); read options may change only for a test file "
            "(--test FILE)"
        )


def evaluate(target: str | os.PathLike, overrides: Iterable[Override] = ()) -> EvalResult:
    """Test a run's best checkpoint (or a given ``.ckpt``) on the test split of its data.

    ``overrides`` may change the keys in :data:`EVAL_KEYS` (e.g. ``data.source=DIR``,
    ``data.test=FILE``). A run on sequence files without a test file is evaluated on the
    validation split it was trained with, rebuilt from the indices in the checkpoint; that
    needs its training file unchanged (its SHA-256 is checked).
    """
    quiet_lightning()
    path = find_checkpoint(target, "best")
    checkpoint = read_checkpoint(path)
    config = _eval_config(checkpoint, overrides, path)
    task = load_task(path, config, checkpoint)
    if config.data.name == "files":
        need_train = config.data.test is None
        if need_train:
            _check_split_reading(config, checkpoint, path)
        if need_train and not Path(str(config.data.train)).is_file():
            raise RunError(f"this run has no test file and its training file "
                           f"{config.data.train} (for the validation split) is gone; pass "
                           "a test file with --test FILE")
        dm = files_datamodule(config.data, config.trainer.seed,
                              state=_data_state(task, path), need_train=need_train)
    else:
        dm = make_datamodule(config.data, config.trainer.seed)
    trainer = make_trainer(config, None)
    split, data, num_examples = test_split(dm)
    with cpu_threads(config), interruptible(trainer, None):
        results = trainer.test(task, verbose=False, **data)
    run_dir = path.parent.parent if path.parent.name == CHECKPOINT_DIR else None
    metrics = test_metrics(results, task, path, run_dir, num_examples, split)
    return EvalResult(path, metrics)


def predict_file(
    target: str | os.PathLike,
    data: str | os.PathLike,
    *,
    overrides: Iterable[Override] = (),
    batch_size: int = 256,
) -> SequencePredictions:
    """Predict every sequence of the file ``data`` with a run trained on sequence files.

    Needs only the checkpoint: the standardizer, classes and read options are in it (overrides
    may change ``data.*`` read options, e.g. ``data.label_col=none`` for a wide CSV without
    labels). The file may hold labels; they are kept as :attr:`SequencePredictions.targets`.
    """
    path = find_checkpoint(target, "best")
    checkpoint = read_checkpoint(path)
    config = _eval_config(checkpoint, overrides, path)
    if config.data.name != "files":
        raise RunError(f"--data predicts sequence files; this model was trained on "
                       f"{config.data.name!r} (pass image files instead)")
    task = load_task(path, config, checkpoint)
    dm = files_datamodule(config.data, config.trainer.seed, state=_data_state(task, path),
                          need_train=False, use_test=False, predict_path=data)
    return predict_sequences(task, dm, data, config.data, batch_size=batch_size)


def predict(
    target: str | os.PathLike,
    files: Sequence[str | os.PathLike],
    *,
    invert: bool | None = None,
    overrides: Iterable[Override] = (),
    batch_size: int = 256,
) -> list[Prediction]:
    """Classify the images in ``files`` (IDX, ``.npy`` or pictures such as PNG).

    Each file may hold one image or many; images must be 28x28. ``invert`` as in
    :func:`rnnkit.data.mnist.load_images` (None: invert dark-on-light images).
    """
    from rnnkit.data.mnist import load_images

    if not files:
        raise RunError("predict needs at least one image file")
    path = find_checkpoint(target, "best")
    checkpoint = read_checkpoint(path)
    config = _eval_config(checkpoint, overrides, path)
    if config.data.name != "mnist":
        raise RunError(f"this model was trained on sequence files ({config.data.train}); "
                       "predict a file of sequences with --data FILE")
    task = load_task(path, config, checkpoint)
    dm = make_datamodule(config.data, config.trainer.seed)
    names = task.class_names
    predictions = []
    for file in files:
        images = load_images(file, invert=invert)  # (n, 28, 28) uint8
        x = dm.transform(images)  # type: ignore[attr-defined]  # (n, L, F)
        with torch.inference_mode():
            probs = torch.cat(
                [torch.softmax(task(chunk), dim=-1) for chunk in x.split(batch_size)]
            )  # (n, C)
        classes = [names[i] for i in probs.argmax(dim=-1).tolist()]
        predictions.append(Prediction(Path(file), classes, probs, list(names)))
    return predictions
