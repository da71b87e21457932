"""Runs: train into a run directory, resume it, evaluate and predict from its checkpoints.

A run directory holds::

    config.yaml              the resolved config
    checkpoints/best.ckpt    the best epoch by trainer.monitor (val_acc, or val_loss for regression)
    checkpoints/last.ckpt    the end of the latest epoch (what --resume continues from)
    metrics.csv              Lightning's CSVLogger: losses, accuracies, learning rate
    plots/loss.png  plots/accuracy.png (or mae.png)  plots/confusion_matrix.png
    test_metrics.json        test accuracy (or MAE and RMSE) and loss of best.ckpt, per-class
                             accuracy, confusion matrix

With ``data.name: files`` the data are the user's sequence files (:mod:`rnnkit.tasks.files`):
the task (classification or regression) follows their labels, and without ``data.test`` the
"test" figures are measured on the validation split (``test_metrics.json`` says which).

Resuming is explicit: ``train(config, resume=True)`` (``rnnkit train --resume RUN_DIR``)
continues from ``last.ckpt`` with the saved config, so an interrupted run loses at most the
epoch it was in. Starting a new run in a directory that already holds checkpoints is an error.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch

from rnnkit.config import (
    ConfigError,
    DataConfig,
    Override,
    RunConfig,
    apply_overrides,
    read_yaml,
    save_config,
)
from rnnkit.tasks.checkpoint import find_checkpoint, read_checkpoint
from rnnkit.tasks.classify import ClassificationTask
from rnnkit.tasks.files import (
    SequencePredictions,
    files_datamodule,
    predict_sequences,
    target_statistics,
)
from rnnkit.tasks.plots import plot_confusion_matrix, plot_curves
from rnnkit.tasks.regress import RegressionTask
from rnnkit.tasks.trainer import CHECKPOINT_DIR, make_trainer, quiet_lightning

__all__ = [
    "RunError",
    "RunInterrupted",
    "TrainResult",
    "EvalResult",
    "Prediction",
    "make_datamodule",
    "resume_config",
    "train",
    "evaluate",
    "predict",
    "predict_file",
]

# What may change when a run is resumed (the rest would not match the checkpoint).
RESUMABLE_KEYS = (
    "out", "data.source", "data.download", "data.num_workers", "trainer.epochs",
    "trainer.early_stopping", "trainer.accelerator", "trainer.devices",
    "trainer.progress_bar", "trainer.log_every_n_steps",
)
# What evaluate/predict may change (the model and its training are the checkpoint's).
EVAL_SECTIONS = ("data.", "trainer.")


class RunError(ValueError):
    """A run cannot start or continue as asked (the message says why and what to do)."""


class RunInterrupted(RuntimeError):
    """Training was interrupted (Ctrl-C); ``run_dir`` can be resumed."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__(
            f"training interrupted; continue it with: rnnkit train --resume {run_dir}"
        )
        self.run_dir = run_dir


@dataclass
class TrainResult:
    """What :func:`train` produced."""

    run_dir: Path
    metrics: dict[str, Any]  # the content of test_metrics.json
    seconds: float  # wall time of fit + test


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


def make_datamodule(data: DataConfig, seed: int) -> pl.LightningDataModule:
    """The LightningDataModule for a data config (``seed`` splits train/validation)."""
    if data.name == "mnist":
        from rnnkit.data.mnist_datamodule import MNISTDataModule

        return MNISTDataModule(
            data.source,
            download=data.download,
            view=data.view,
            batch_size=data.batch_size,
            val_size=data.val_size,
            seed=seed,
            num_workers=data.num_workers,
            normalize=data.normalize,
            perm_seed=data.perm_seed,
        )
    if data.name == "files":
        return files_datamodule(data, seed)
    raise ConfigError(f"data.name must be mnist or files, got {data.name!r}")


def _default_run_dir(config: RunConfig) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{config.name}-{stamp}"
    path, i = base, 1
    while path.exists():
        i += 1
        path = base.with_name(f"{base.name}-{i}")
    return path


def resume_config(run_dir: str | os.PathLike, overrides: Iterable[Override] = ()) -> RunConfig:
    """The saved config of ``run_dir`` with ``overrides`` that a resumed run may change.

    Raises:
        RunError: no ``config.yaml`` or ``checkpoints/last.ckpt``, or an override changes
            something the checkpoint fixes (the model, optimizer, data view, ...).
    """
    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        raise RunError(f"cannot resume {run_dir}: it holds no config.yaml (not a run directory)")
    if not (run_dir / CHECKPOINT_DIR / "last.ckpt").is_file():
        raise RunError(
            f"cannot resume {run_dir}: no {CHECKPOINT_DIR}/last.ckpt (the run ended before its "
            "first epoch did); start it again with rnnkit train"
        )
    saved = RunConfig.from_dict(read_yaml(run_dir / "config.yaml"))
    merged = RunConfig.from_dict(
        apply_overrides(saved.to_dict(), [*overrides, ("out", str(run_dir))])
    )
    old, new = _flatten(saved.to_dict()), _flatten(merged.to_dict())
    changed = [k for k in new if new[k] != old.get(k) and k != "out"]
    fixed = [k for k in changed if k not in RESUMABLE_KEYS]
    if "trainer.epochs" in changed and merged.optim.schedule in ("onecycle", "cosine"):
        fixed.append("trainer.epochs (the onecycle/cosine schedule was laid out for "
                     f"{saved.trainer.epochs} epochs)")
    if fixed:
        raise RunError(
            f"cannot resume {run_dir} with a different {', '.join(fixed)}; a resumed run may "
            f"only change {', '.join(RESUMABLE_KEYS[1:])}. Start a new run instead"
        )
    return merged


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            flat.update(_flatten(v, f"{prefix}{k}."))
        else:
            flat[f"{prefix}{k}"] = v
    return flat


def train(
    config: RunConfig, *, resume: bool = False, callbacks: Iterable[pl.Callback] = ()
) -> TrainResult:
    """Train, test the best checkpoint, and write the run directory.

    Args:
        config: the run; ``config.out`` is the run directory (default
            ``runs/<name>-<timestamp>``).
        resume: continue the run in ``config.out`` from its ``last.ckpt`` (use
            :func:`resume_config` to get its config).
        callbacks: extra Lightning callbacks.

    Raises:
        RunError: ``config.out`` already holds a run (and ``resume`` is False).
        RunInterrupted: Ctrl-C; everything up to the last finished epoch is saved.
        NonFiniteLossError: the loss became NaN or infinite; the last good checkpoints stay.
    """
    quiet_lightning()
    start = time.perf_counter()
    if config.data.name == "files" and config.name == RunConfig().name and not resume:
        config = RunConfig.from_dict({**config.to_dict(), "name": Path(config.data.train).stem})
    run_dir = Path(config.out) if config.out else _default_run_dir(config)
    last = run_dir / CHECKPOINT_DIR / "last.ckpt"
    resume_epoch = None
    if resume:
        if not last.is_file():
            raise RunError(f"cannot resume {run_dir}: no {CHECKPOINT_DIR}/last.ckpt")
        resume_epoch = int(read_checkpoint(last).get("epoch", -1))
    elif last.is_file() or (run_dir / CHECKPOINT_DIR / "best.ckpt").is_file():
        raise RunError(
            f"{run_dir} already holds a run; continue it with `rnnkit train --resume "
            f"{run_dir}` or choose another --out"
        )
    config = RunConfig.from_dict({**config.to_dict(), "out": str(run_dir)})
    if config.data.name == "files" and not resume:
        config = _absolute_paths(config)
    config.data.check_files()

    pl.seed_everything(config.trainer.seed, workers=True, verbose=False)
    dm = make_datamodule(config.data, config.trainer.seed)  # sequence files are read here
    kind = dm.task if config.data.name == "files" else "classification"  # type: ignore[attr-defined]
    config = _resolve_monitor(config, kind)
    task = _new_task(config, dm)
    run_dir.mkdir(parents=True, exist_ok=True)  # only once the data could be read
    trainer = make_trainer(config, run_dir, resume_epoch=resume_epoch, callbacks=callbacks)
    save_config(config, run_dir / "config.yaml")
    with _interruptible(trainer, run_dir):
        trainer.fit(task, datamodule=dm, ckpt_path=str(last) if resume else None,
                    weights_only=True)

    ckpt_cb = trainer.checkpoint_callback
    best = Path(ckpt_cb.best_model_path) if ckpt_cb and ckpt_cb.best_model_path else last
    split, data, num_examples = _test_split(dm)
    with _interruptible(trainer, run_dir):
        results = trainer.test(task, ckpt_path=str(best), weights_only=True, verbose=False,
                               **data)
    metrics = _report(results, task, best, run_dir, num_examples, split)
    for lg in trainer.loggers:
        lg.save()
    (run_dir / "test_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    plot_curves(run_dir / "metrics.csv", run_dir / "plots",
                loss_title="cross-entropy loss" if kind == "classification"
                else "MSE of standardised targets")
    if "confusion_matrix" in metrics:
        plot_confusion_matrix(metrics["confusion_matrix"], metrics["class_names"],
                              run_dir / "plots/confusion_matrix.png")
    return TrainResult(run_dir, metrics, time.perf_counter() - start)


def _absolute_paths(config: RunConfig) -> RunConfig:
    """The config with its data files as absolute paths (evaluate may run from elsewhere)."""
    data = config.data.to_dict()
    for key in ("train", "test", "val"):
        if data[key] is not None:
            data[key] = str(Path(data[key]).absolute())
    return RunConfig.from_dict({**config.to_dict(), "data": data})


def _new_task(config: RunConfig, dm: pl.LightningDataModule) -> pl.LightningModule:
    """The task for ``dm``'s data: classification, or regression for numeric targets."""
    if config.data.name != "files":
        return ClassificationTask(
            config.to_dict(), dm.input_size, dm.num_classes, list(dm.class_names)
        )
    state = dm.state_dict()
    if dm.task == "regression":
        mean, std = target_statistics(dm)  # type: ignore[arg-type]
        return RegressionTask(config.to_dict(), dm.input_size, mean, std, state)
    return ClassificationTask(
        config.to_dict(), dm.input_size, dm.num_classes, list(dm.class_names), state
    )


def _task_kind(task: pl.LightningModule) -> str:
    return "regression" if isinstance(task, RegressionTask) else "classification"


def _resolve_monitor(config: RunConfig, kind: str) -> RunConfig:
    """``trainer.monitor=auto`` -> val_acc (classification) or val_loss (regression)."""
    monitor = config.trainer.monitor
    if monitor == "auto":
        monitor = "val_acc" if kind == "classification" else "val_loss"
    elif kind == "regression" and monitor == "val_acc":
        raise ConfigError("trainer.monitor=val_acc needs class labels; this data has numeric "
                          "targets (regression): use val_loss or auto")
    trainer = {**config.trainer.to_dict(), "monitor": monitor}
    return RunConfig.from_dict({**config.to_dict(), "trainer": trainer})


def _test_split(dm: pl.LightningDataModule) -> tuple[str, dict[str, Any], int]:
    """(split name, Trainer.test data argument, number of examples): the test split, or for
    sequence files without a test file, the validation split."""
    if not hasattr(dm, "dataset"):  # MNIST
        dm.setup("test")
        return "test", {"datamodule": dm}, len(dm.test_set)  # type: ignore[attr-defined]
    if dm.test_path is not None:  # type: ignore[attr-defined]
        return "test", {"datamodule": dm}, len(dm.dataset("test"))  # type: ignore[operator]
    return "val", {"dataloaders": dm.val_dataloader()}, len(dm.dataset("val"))  # type: ignore


@contextlib.contextmanager
def _interruptible(trainer: pl.Trainer, run_dir: Path | None) -> Iterator[None]:
    """Turn Lightning's Ctrl-C handling (it ends with ``sys.exit(1)`` and leaves SIGINT
    ignored) into :class:`RunInterrupted` (or KeyboardInterrupt) with SIGINT restored."""
    main = threading.current_thread() is threading.main_thread()
    handler = signal.getsignal(signal.SIGINT) if main else None
    try:
        yield
    except SystemExit:
        if not trainer.interrupted:
            raise
        if run_dir is None:
            raise KeyboardInterrupt from None
        raise RunInterrupted(run_dir) from None
    finally:
        if main and handler is not None and signal.getsignal(signal.SIGINT) is not handler:
            signal.signal(signal.SIGINT, handler)


def _report(
    results: Sequence[dict[str, float]], task: pl.LightningModule, checkpoint: Path,
    run_dir: Path | None, num_examples: int, split: str = "test",
) -> dict[str, Any]:
    logged = results[0] if results else {}
    epoch = read_checkpoint(checkpoint).get("epoch")
    full, base = checkpoint.absolute(), run_dir.absolute() if run_dir else None
    shown = full.relative_to(base) if base and full.is_relative_to(base) else checkpoint
    kind = _task_kind(task)
    names = ("test_acc", "test_loss") if kind == "classification" else \
        ("test_mae", "test_rmse", "test_loss")
    return {
        **{name: float(logged.get(name, float("nan"))) for name in names},
        "task": kind,
        "split": split,  # "val": no test file; the figures are the validation split's
        "num_examples": int(num_examples),
        "checkpoint": str(shown),
        "epoch": None if epoch is None else int(epoch) + 1,  # 1-based, as people count
        **task.test_report,
    }


def _eval_config(
    checkpoint: dict[str, Any], overrides: Iterable[Override], path: Path
) -> RunConfig:
    hparams = checkpoint.get("hyper_parameters") or {}
    if "config" not in hparams:
        raise RunError(f"{path} holds no rnnkit config; was it written by `rnnkit train`?")
    overrides = list(overrides)
    keys = [o[0] if isinstance(o, tuple) else o.strip() for o in overrides]
    bad = [k.partition("=")[0] for k in keys if not k.startswith(EVAL_SECTIONS)]
    if bad:
        raise RunError(
            f"cannot override {', '.join(bad)} here: the model is the checkpoint's; "
            "only data.* and trainer.* settings can change"
        )
    # A saved recipe's `download: true` was a request for that training run; evaluating or
    # predicting later downloads only when asked again (--set data.download=true).
    saved = {**hparams["config"]}
    saved["data"] = {**saved.get("data", {}), "download": False}
    return RunConfig.from_dict(apply_overrides(saved, overrides))


def _load_task(path: Path, config: RunConfig) -> pl.LightningModule:
    hparams = read_checkpoint(path).get("hyper_parameters") or {}
    cls = RegressionTask if "target_std" in hparams else ClassificationTask
    task = cls.load_from_checkpoint(
        path, map_location="cpu", weights_only=True, config=config.to_dict()
    )
    return task.eval()


def _data_state(task: pl.LightningModule, path: Path) -> dict[str, Any]:
    state = task.hparams.get("data_state")
    if not state:
        raise RunError(f"{path} holds no data description (standardizer, classes); it was "
                       "not trained on sequence files by this version of rnnkit")
    return state


def evaluate(target: str | os.PathLike, overrides: Iterable[Override] = ()) -> EvalResult:
    """Test a run's best checkpoint (or a given ``.ckpt``) on the test split of its data.

    ``overrides`` may change ``data.*`` (e.g. ``data.source=DIR``, ``data.test=FILE``) and
    ``trainer.*``. A run on sequence files without a test file is evaluated on its validation
    split (which needs ``data.train``); its standardizer is the checkpoint's.
    """
    quiet_lightning()
    path = find_checkpoint(target, "best")
    config = _eval_config(read_checkpoint(path), overrides, path)
    task = _load_task(path, config)
    if config.data.name == "files":
        need_train = config.data.test is None
        if need_train and not Path(str(config.data.train)).is_file():
            raise RunError(f"this run has no test file and its training file "
                           f"{config.data.train} (for the validation split) is gone; pass "
                           "a test file with --test FILE")
        dm = files_datamodule(config.data, config.trainer.seed,
                              state=_data_state(task, path), need_train=need_train)
    else:
        dm = make_datamodule(config.data, config.trainer.seed)
    trainer = make_trainer(config, None)
    split, data, num_examples = _test_split(dm)
    with _interruptible(trainer, None):
        results = trainer.test(task, verbose=False, **data)
    run_dir = path.parent.parent if path.parent.name == CHECKPOINT_DIR else None
    metrics = _report(results, task, path, run_dir, num_examples, split)
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
    config = _eval_config(read_checkpoint(path), overrides, path)
    if config.data.name != "files":
        raise RunError(f"--data predicts sequence files; this model was trained on "
                       f"{config.data.name!r} (pass image files instead)")
    task = _load_task(path, config)
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
    config = _eval_config(read_checkpoint(path), overrides, path)
    if config.data.name != "mnist":
        raise RunError(f"this model was trained on sequence files ({config.data.train}); "
                       "predict a file of sequences with --data FILE")
    task = _load_task(path, config)
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
