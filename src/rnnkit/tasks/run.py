"""Runs: train into a run directory, resume it; the pieces evaluation shares with training.

A run directory holds::

    config.yaml              the resolved config (automatic choices resolved, and why, as comments)
    checkpoints/best.ckpt    the best check by trainer.monitor (val_acc, or val_loss for regression;
                             the final weights when there is no validation data)
    checkpoints/last.ckpt    the latest check (what --resume continues from)
    metrics.csv              Lightning's CSVLogger: losses, accuracies, learning rate
    plots/loss.png  plots/accuracy.png (or mae.png)  plots/confusion_matrix.png
    test_metrics.json        test accuracy (or MAE and RMSE) and loss of best.ckpt, per-class
                             accuracy, confusion matrix

With ``data.name: files`` the data are the user's sequence files (:mod:`rnnkit.tasks.files`):
the task (classification or regression) follows their labels, and without ``data.test`` the
"test" figures are measured on the validation split (``test_metrics.json`` says which).

Every input is read and checked before the run directory is created: the training, validation
and test data, the trainer settings, the model's memory. Resuming is explicit:
``train(config, resume=True)`` (``rnnkit train --resume RUN_DIR``) continues from ``last.ckpt``
with the saved config, so an interrupted run loses at most the steps since its last check.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl

from rnnkit.atomic import write_text_atomic
from rnnkit.config import (
    ConfigError,
    DataConfig,
    Override,
    RunConfig,
    apply_overrides,
    read_yaml,
    save_config,
)
from rnnkit.models.classifier import auto_patch
from rnnkit.tasks.budget import Budget, plan_budget
from rnnkit.tasks.callbacks import saved_counters
from rnnkit.tasks.checkpoint import read_checkpoint
from rnnkit.tasks.classify import ClassificationTask
from rnnkit.tasks.files import files_datamodule, target_statistics
from rnnkit.tasks.guards import check_model_memory, check_weights
from rnnkit.tasks.plots import plot_confusion_matrix, plot_curves
from rnnkit.tasks.regress import RegressionTask
from rnnkit.tasks.rundir import (
    RunError,
    check_new_run_dir,
    claim_run_dir,
    default_run_dir,
    is_run_dir,
    lock_run_dir,
)
from rnnkit.tasks.trainer import (
    CHECKPOINT_DIR,
    check_trainer_settings,
    cpu_threads,
    make_trainer,
    quiet_lightning,
)

__all__ = [
    "RunError",
    "RunInterrupted",
    "TrainResult",
    "interruptible",
    "make_datamodule",
    "resume_config",
    "test_metrics",
    "test_split",
    "train",
]

# What may change when a run is resumed (the rest would not match the checkpoint).
RESUMABLE_KEYS = (
    "out", "data.source", "data.download", "data.num_workers", "trainer.epochs",
    "trainer.accelerator", "trainer.devices",
    "trainer.progress_bar", "trainer.verbose", "trainer.log_every_n_steps", "trainer.threads",
)


class RunInterrupted(RuntimeError):
    """Training was interrupted (Ctrl-C); ``run_dir`` can be resumed."""

    def __init__(self, run_dir: Path) -> None:
        if (run_dir / CHECKPOINT_DIR / "last.ckpt").is_file():
            message = f"training interrupted; continue it with: rnnkit train --resume {run_dir}"
        else:
            message = (f"training interrupted before its first check, so there is nothing to "
                       f"resume; the same command starts it again in {run_dir}")
        super().__init__(message)
        self.run_dir = run_dir


@dataclass
class TrainResult:
    """What :func:`train` produced."""

    run_dir: Path
    metrics: dict[str, Any]  # the content of test_metrics.json
    seconds: float  # wall time of fit + test
    notes: list[str]  # the automatic choices (budget, validation, batch size) and why
    config: RunConfig | None = None  # the resolved config, as saved in config.yaml


def make_datamodule(
    data: DataConfig, seed: int, *, state: dict[str, Any] | None = None
) -> pl.LightningDataModule:
    """The LightningDataModule for a data config (``seed`` splits train/validation); ``state``
    is a checkpoint's data description (sequence files: its split and standardizer)."""
    if data.name == "mnist":
        from rnnkit.data.mnist.datamodule import MNISTDataModule

        return MNISTDataModule(
            data.source,
            download=data.download,
            view=data.view,
            batch_size=int(data.batch_size),
            val_size=data.val_size,
            seed=seed,
            num_workers=data.num_workers,
            normalize=data.normalize == "feature",
            perm_seed=data.perm_seed,
        )
    if data.name == "files":
        return files_datamodule(data, seed, state=state)
    raise ConfigError(f"data.name must be mnist or files, got {data.name!r}")


def resume_config(run_dir: str | os.PathLike, overrides: Iterable[Override] = ()) -> RunConfig:
    """The saved config of ``run_dir`` with ``overrides`` that a resumed run may change.

    Raises:
        RunError: no ``config.yaml`` or ``checkpoints/last.ckpt``, ``config.yaml`` was edited
            since the checkpoint was written, or an override changes something the checkpoint
            fixes (the model, optimizer, data view, ...).
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"cannot resume {run_dir}: no such directory")
    if not (run_dir / "config.yaml").is_file():
        raise RunError(f"cannot resume {run_dir}: it holds no config.yaml (not a run directory)")
    last = run_dir / CHECKPOINT_DIR / "last.ckpt"
    if not last.is_file():
        raise RunError(
            f"cannot resume {run_dir}: no {CHECKPOINT_DIR}/last.ckpt (the run ended before its "
            "first check did); start it again with rnnkit train"
        )
    saved_yaml = read_yaml(run_dir / "config.yaml")
    try:
        saved = RunConfig.from_dict(saved_yaml)
    except ConfigError as err:
        raise ConfigError(f"{run_dir / 'config.yaml'}: {err}") from None
    trained = (read_checkpoint(last).get("hyper_parameters") or {}).get("config")
    if isinstance(trained, dict):
        edited = _changed(RunConfig.from_dict(trained).to_dict(), saved.to_dict())
        if edited:
            raise RunError(
                f"cannot resume {run_dir}: its config.yaml differs from the config its "
                f"checkpoint was trained with in {', '.join(edited)}; restore config.yaml or "
                "start a new run"
            )
    merged = RunConfig.from_dict(
        apply_overrides(saved.to_dict(), [*overrides, ("out", str(run_dir))])
    )
    old, new = _flatten(saved.to_dict()), _flatten(merged.to_dict())
    changed = [k for k in new if new[k] != old.get(k) and k != "out"]
    fixed = [k for k in changed if k not in RESUMABLE_KEYS]
    if "trainer.epochs" in changed and saved.trainer.steps > 0:
        fixed.append(f"trainer.epochs (the budget is trainer.steps={saved.trainer.steps})")
    elif "trainer.epochs" in changed and merged.optim.schedule in ("onecycle", "cosine"):
        fixed.append("trainer.epochs (the onecycle/cosine schedule was laid out for "
                     f"{saved.trainer.epochs} epochs)")
    if fixed:
        raise RunError(
            f"cannot resume {run_dir} with a different {', '.join(fixed)}; a resumed run may "
            f"only change {', '.join(RESUMABLE_KEYS[1:])}. Start a new run instead"
        )
    return merged


def _changed(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Keys outside RESUMABLE_KEYS whose values differ between two config dicts."""
    a, b = _flatten(old), _flatten(new)
    return [k for k in sorted(set(a) | set(b))
            if a.get(k) != b.get(k) and k not in RESUMABLE_KEYS]


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            flat.update(_flatten(v, f"{prefix}{k}."))
        else:
            flat[f"{prefix}{k}"] = v
    return flat


def train(
    config: RunConfig,
    *,
    resume: bool = False,
    callbacks: Iterable[pl.Callback] = (),
    announce: Callable[[str], None] | None = None,
) -> TrainResult:
    """Check every input, train, test the best checkpoint, and write the run directory.

    Args:
        config: the run; ``config.out`` is the run directory (default
            ``runs/<name>-<timestamp>``), which must not exist, be empty, or (``resume``)
            hold this run.
        resume: continue the run in ``config.out`` from its ``last.ckpt`` (use
            :func:`resume_config` to get its config).
        callbacks: extra Lightning callbacks.
        announce: called with each automatic choice (budget, validation, batch size) and
            why, before training starts (the CLI prints them).

    Raises:
        RunError, ConfigError, ValueError: an input is wrong; nothing was written.
        RunInterrupted: Ctrl-C; everything up to the last check is saved.
        NonFiniteLossError: the loss became NaN or infinite; the last good checkpoints stay.
    """
    quiet_lightning()
    start = time.perf_counter()
    if config.data.name == "files" and config.name == RunConfig().name and not resume:
        config = RunConfig.from_dict({**config.to_dict(), "name": Path(config.data.train).stem})
    run_dir = Path(config.out) if config.out else default_run_dir(config.name)
    last = run_dir / CHECKPOINT_DIR / "last.ckpt"
    saved: dict[str, Any] | None = None
    if resume:
        best = run_dir / CHECKPOINT_DIR / "best.ckpt"
        for path in (last, best):
            if not is_run_dir(run_dir) or not path.is_file():
                raise RunError(f"cannot resume {run_dir}: no {CHECKPOINT_DIR}/{path.name} (a run "
                               "writes both at every check)")
        saved = read_checkpoint(last)
        read_checkpoint(best)  # readable, before anything is written
    else:
        check_new_run_dir(run_dir)
    named = bool(config.out)
    config = RunConfig.from_dict({**config.to_dict(), "out": str(run_dir)})
    if config.data.name == "files" and not resume:
        config = _absolute_paths(config)
    config.data.check_files()
    check_trainer_settings(config)

    pl.seed_everything(config.trainer.seed, workers=True, verbose=False)
    state = (saved.get("hyper_parameters") or {}).get("data_state") if saved else None
    dm = make_datamodule(config.data, config.trainer.seed, state=state)
    dm.setup("fit")  # every split is read and checked now, before anything is written
    dm.setup("test")
    if state:
        _check_test_file(state, dm, config)
    config, notes = _resolve(config, dm)
    batches = len(dm.train_dataloader())
    if saved is not None:
        _check_resumable(saved, batches, last)
    budget = plan_budget(config.trainer, batches,
                         saved_counters(saved).get("epochs_per_check") if saved else None)
    trainer_section = {**config.trainer.to_dict(), "epochs": budget.epochs}
    config = RunConfig.from_dict({**config.to_dict(), "trainer": trainer_section})
    notes.insert(0, budget.describe())
    if announce is not None and not resume:
        for note in notes:
            announce(note)
    task = new_task(config, dm)
    if saved is not None:
        check_weights(task, saved["state_dict"], last)

    if resume:  # the choices were announced and explained when the run started
        notes = _comment_lines(run_dir / "config.yaml")
        lock = lock_run_dir(run_dir)
    else:
        run_dir, lock = claim_run_dir(run_dir, default=not named)
        config = RunConfig.from_dict({**config.to_dict(), "out": str(run_dir)})
    try:
        return _fit_and_test(config, run_dir, dm, task, budget, saved, notes, callbacks, start)
    finally:
        os.close(lock)


def _fit_and_test(
    config: RunConfig, run_dir: Path, dm: pl.LightningDataModule, task: pl.LightningModule,
    budget: Budget, saved: dict[str, Any] | None, notes: list[str],
    callbacks: Iterable[pl.Callback], start: float,
) -> TrainResult:
    """Write the run directory (already claimed and locked): fit, test the best checkpoint,
    write test_metrics.json and the plots."""
    resume = saved is not None
    last = run_dir / CHECKPOINT_DIR / "last.ckpt"
    save_config(config, run_dir / "config.yaml", notes=notes)
    trainer = make_trainer(config, run_dir, budget=budget,
                           resume_epoch=None if saved is None else int(saved.get("epoch", -1)),
                           callbacks=callbacks)
    with cpu_threads(config), interruptible(trainer, run_dir):
        trainer.fit(task, datamodule=dm, ckpt_path=str(last) if resume else None,
                    weights_only=True)

    ckpt_cb = trainer.checkpoint_callback
    best = Path(ckpt_cb.best_model_path) if ckpt_cb and ckpt_cb.best_model_path else last
    split, data, num_examples = test_split(dm)
    with cpu_threads(config), interruptible(trainer, run_dir):
        results = trainer.test(task, ckpt_path=str(best), weights_only=True, verbose=False,
                               **data)
    metrics = test_metrics(results, task, best, run_dir, num_examples, split)
    for lg in trainer.loggers:
        lg.save()
    write_text_atomic(run_dir / "test_metrics.json", json.dumps(metrics, indent=2) + "\n")
    kind = metrics["task"]
    plot_curves(run_dir / "metrics.csv", run_dir / "plots",
                loss_title="cross-entropy loss" if kind == "classification"
                else "MSE of standardised targets")
    if "confusion_matrix" in metrics:
        plot_confusion_matrix(metrics["confusion_matrix"], metrics["class_names"],
                              run_dir / "plots/confusion_matrix.png")
    return TrainResult(run_dir, metrics, time.perf_counter() - start, notes, config)


def _comment_lines(path: Path) -> list[str]:
    """The ``# ...`` lines at the top of a saved config.yaml, without the ``# ``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line[2:] for line in itertools.takewhile(lambda x: x.startswith("# "), lines)]


def _absolute_paths(config: RunConfig) -> RunConfig:
    """The config with its data files as absolute paths (evaluate may run from elsewhere)."""
    data = config.data.to_dict()
    for key in ("train", "test", "val"):
        if data[key] is not None:
            data[key] = str(Path(data[key]).absolute())
    return RunConfig.from_dict({**config.to_dict(), "data": data})


def _resolve(config: RunConfig, dm: pl.LightningDataModule) -> tuple[RunConfig, list[str]]:
    """The config with the data module's automatic choices and the monitor resolved, and the
    reasons for them."""
    data = config.data.to_dict()
    notes: list[str] = []
    has_val = True
    if config.data.name == "files":
        data.update(batch_size=dm.batch_size, val_fraction=float(dm.val_fraction),
                    normalize=dm.normalize)
        notes += dm.notes  # type: ignore[attr-defined]
        has_val = dm.has_split("val")  # type: ignore[attr-defined]
        if not has_val and not dm.has_split("test"):  # type: ignore[attr-defined]
            raise RunError(f"no test file and no validation split of {config.data.train}: "
                           "there would be nothing to report a figure on; give --test FILE or "
                           "--val-fraction > 0")
    model = config.model.to_dict()
    if config.model.patch == "auto":
        longest = int(dm.dataset("train").lengths.max()) if config.data.name == "files" \
            else int(dm.seq_len)  # type: ignore[attr-defined]
        model["patch"] = k = auto_patch(longest)
        how = f"{k * dm.input_size} features (patches of {k} steps)" \
            if config.model.frontend == "patch" else \
            f"{config.model.hidden_size} features (a convolution over {2 * k + 1} steps, " \
            f"stride {k})"
        notes.append(
            f"the longest training sequence ({longest} steps) reaches the recurrent layer as "
            f"{math.ceil(longest / k)} steps of {how}" if k > 1 else
            f"the recurrent layer reads every step: the longest training sequence has {longest}")
    kind = _data_kind(config, dm)
    monitor = config.trainer.monitor
    early_stopping = config.trainer.early_stopping
    if not has_val:
        if monitor not in ("auto", "none"):
            raise ConfigError(f"trainer.monitor={monitor} needs validation data; this run has "
                              "none (give --val-fraction or data.val)")
        if config.trainer.early_stopping and config.data.val_fraction == "auto":
            notes.append("no early stopping: it needs validation data")
            early_stopping = 0
        elif config.trainer.early_stopping:
            raise ConfigError("trainer.early_stopping needs validation data; this run has none "
                              "(give --val-fraction or data.val)")
        monitor = "none"
    elif monitor == "auto":
        monitor = "val_acc" if kind == "classification" else "val_loss"
    elif kind == "regression" and monitor == "val_acc":
        raise ConfigError("trainer.monitor=val_acc needs class labels; this data has numeric "
                          "targets (regression): use val_loss or auto")
    trainer = {**config.trainer.to_dict(), "monitor": monitor, "early_stopping": early_stopping}
    resolved = {**config.to_dict(), "data": data, "model": model, "trainer": trainer}
    return RunConfig.from_dict(resolved), notes


def _data_kind(config: RunConfig, dm: pl.LightningDataModule) -> str:
    return dm.task if config.data.name == "files" else "classification"  # type: ignore[attr-defined]


def _check_test_file(state: dict[str, Any], dm: pl.LightningDataModule, config: RunConfig) -> None:
    """A resumed run reports on the test file it started with (``state``: the checkpoint's
    data state), unchanged."""
    before = state.get("test_sha256")
    now = getattr(dm, "test_digest", None)
    if before is not None and now is not None and before != now:
        raise RunError(f"{config.data.test} changed since the run started (its SHA-256 "
                       "differs from the checkpoint's); restore it to resume, or evaluate the "
                       "run on the new file with rnnkit evaluate RUN --test FILE")


def _check_resumable(saved: dict[str, Any], batches_per_epoch: int, path: Path) -> None:
    """The data must give the steps per epoch the run's schedule was laid out for."""
    before = saved_counters(saved).get("train_batches")
    if before is not None and before != batches_per_epoch:
        raise RunError(
            f"cannot resume: the data now gives {batches_per_epoch} training batches per epoch, "
            f"the run was laid out for {before} ({path}); point data.source back at the data "
            "it was trained on, or start a new run"
        )


def new_task(config: RunConfig, dm: pl.LightningDataModule) -> pl.LightningModule:
    """The task for ``dm``'s data: classification, or regression for numeric targets."""
    regression = _data_kind(config, dm) == "regression"
    check_model_memory(config.model, dm.input_size, 1 if regression else dm.num_classes)
    if config.data.name != "files":
        return ClassificationTask(
            config.to_dict(), dm.input_size, dm.num_classes, list(dm.class_names)
        )
    state = dm.state_dict()
    if regression:
        mean, std = target_statistics(dm)  # type: ignore[arg-type]
        return RegressionTask(config.to_dict(), dm.input_size, mean, std, state)
    return ClassificationTask(
        config.to_dict(), dm.input_size, dm.num_classes, list(dm.class_names), state
    )


def test_split(dm: pl.LightningDataModule) -> tuple[str, dict[str, Any], int]:
    """(split name, Trainer.test data argument, number of examples): the test split, or for
    sequence files without a test file, the validation split."""
    if not hasattr(dm, "dataset"):  # MNIST
        dm.setup("test")
        return "test", {"datamodule": dm}, len(dm.test_set)  # type: ignore[attr-defined]
    if dm.test_path is not None:  # type: ignore[attr-defined]
        return "test", {"datamodule": dm}, len(dm.dataset("test"))  # type: ignore[operator]
    if not dm.has_split("val"):  # type: ignore[attr-defined]
        raise RunError("this run has no validation split and no test file: nothing to report "
                       "a figure on; give a test file with --test FILE")
    return "val", {"dataloaders": dm.val_dataloader()}, len(dm.dataset("val"))  # type: ignore


@contextlib.contextmanager
def interruptible(trainer: pl.Trainer, run_dir: Path | None) -> Iterator[None]:
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


def task_kind(task: pl.LightningModule) -> str:
    return "regression" if isinstance(task, RegressionTask) else "classification"


def test_metrics(
    results: Sequence[dict[str, float]], task: pl.LightningModule, checkpoint: Path,
    run_dir: Path | None, num_examples: int, split: str = "test",
) -> dict[str, Any]:
    """The content of ``test_metrics.json`` from ``Trainer.test``'s results."""
    logged = results[0] if results else {}
    epoch = read_checkpoint(checkpoint).get("epoch")
    full, base = checkpoint.absolute(), run_dir.absolute() if run_dir else None
    shown = full.relative_to(base) if base and full.is_relative_to(base) else checkpoint
    kind = task_kind(task)
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
