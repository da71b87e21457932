"""Train a run: one path for every task family and data source.

A run directory holds::

    config.yaml              the resolved config (automatic choices resolved, and why, as comments)
    checkpoints/best.ckpt    the best check by trainer.monitor (the family's metric; the final
                             weights when there is no validation data)
    checkpoints/last.ckpt    the latest check (what --resume continues from)
    metrics.csv              Lightning's CSVLogger: losses, the family's metrics, learning rate
    plots/                   loss and metric curves (classify: the confusion matrix too)
    samples.txt              lm: text generated after every epoch
    test_metrics.json        the family's test figures of best.ckpt; without test data, of the
                             validation split (``split`` says which)

The data flow once: the config names a source and a family (``task``); the source builds the
data module, which reads and describes the data; the family (``auto``: the one the labels call
for) builds its model from that description; Lightning's Trainer runs them. Every input is read
and checked before the run directory is created. Resuming is explicit: ``train(config,
resume=True)`` (``rnnkit train --resume RUN_DIR``) continues from ``last.ckpt``.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl

from rnnkit.atomic import write_text_atomic
from rnnkit.config import ConfigError, RunConfig, save_config
from rnnkit.data.info import DataInfo
from rnnkit.data.registry import get_source, source_config
from rnnkit.families import family_config
from rnnkit.families.base import TARGET_WORDS
from rnnkit.runs.budget import Budget, plan_budget
from rnnkit.runs.callbacks import saved_counters
from rnnkit.runs.checkpoint import read_checkpoint
from rnnkit.runs.distributed import (
    RUN_DIR_ENV,
    check_launch,
    end_process_group,
    follower_run_dir,
    gather_objects,
    global_rank,
    process_count,
    weights_checksum,
)
from rnnkit.runs.families import new_task, resolve_family
from rnnkit.runs.guards import check_weights
from rnnkit.runs.interrupt import RunInterrupted, interruptible
from rnnkit.runs.plots import plot_confusion_matrix, plot_curves
from rnnkit.runs.report import test_metrics
from rnnkit.runs.resume import check_resumable
from rnnkit.runs.rundir import (
    RunError,
    check_new_run_dir,
    claim_run_dir,
    default_run_dir,
    is_run_dir,
    lock_run_dir,
)
from rnnkit.runs.trainer import (
    CHECKPOINT_DIR,
    check_trainer_settings,
    cpu_threads,
    make_trainer,
    quiet_lightning,
)

__all__ = ["RunError", "RunInterrupted", "TrainResult", "train"]


@dataclass
class TrainResult:
    """What :func:`train` produced."""

    run_dir: Path
    metrics: dict[str, Any]  # the content of test_metrics.json
    seconds: float  # wall time of fit + test
    notes: list[str]  # the automatic choices (budget, validation, batch size) and why
    config: RunConfig | None = None  # the resolved config, as saved in config.yaml
    primary: bool = True  # False: a process other than the first of a multi-process run,
    # which wrote nothing and tested nothing (metrics empty)


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
            :func:`~rnnkit.runs.resume.resume_config` to get its config).
        callbacks: extra Lightning callbacks.
        announce: called with each automatic choice (family, budget, validation, batch size)
            and why, before training starts (the CLI prints them).

    Raises:
        RunError, ConfigError, ValueError: an input is wrong; nothing was written.
        RunInterrupted: Ctrl-C; everything up to the last check is saved.
        NonFiniteLossError: the loss became NaN or infinite; the last good checkpoints stay.
    """
    quiet_lightning()
    start = time.perf_counter()
    processes = process_count(config)
    if processes > 1 and not resume:
        check_launch(config)
    first = global_rank(config) == 0  # only the first process writes the run directory
    if config.name == RunConfig().name and not resume and config.data.run_name():
        config = _replace(config, name=config.data.run_name())
    run_dir = Path(config.out) if config.out else default_run_dir(config.name) if first \
        else follower_run_dir(config)
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
    elif first:
        check_new_run_dir(run_dir)
    named = bool(config.out)
    config = _replace(config, out=str(run_dir))
    if not resume:
        config = _absolute_paths(config)
    config.data.check_files()
    check_trainer_settings(config, first=first)

    pl.seed_everything(config.trainer.seed, workers=True, verbose=False)
    saved_info = _saved_info(saved, last) if saved else None
    dm = get_source(config.data.name).datamodule(
        config.data, seed=config.trainer.seed, family=config.task, purpose="train",
        state=saved_info.state if saved_info else None)
    dm.setup("fit")  # every split is read and checked now, before anything is written
    dm.setup("test")
    if saved_info:
        dm.check_resume(saved_info.state)
    info = saved_info or dm.describe()
    family = resolve_family(config.task, info)
    if processes > 1 and not family.distributed:
        raise ConfigError(f"the {family.name} family trains in one process: "
                          f"{family.distributed_note}; set trainer.devices=1 and "
                          "trainer.num_nodes=1")
    config, notes = _resolve(config, dm, info, family, resume)
    batches = per_process_batches(dm.train_dataloader(), processes)
    if saved is not None:
        check_resumable(saved, batches, last)
    budget = plan_budget(config.trainer, batches,
                         saved_counters(saved).get("epochs_per_check") if saved else None)
    config = _replace(config, trainer={**config.trainer.to_dict(), "epochs": budget.epochs})
    notes.insert(0, budget.describe() + (f"; {processes} processes share every epoch, each "
                                        f"reading 1/{processes} of its examples" if
                                        processes > 1 else ""))
    task = new_task(family, config, info, fresh=not resume)
    notes += family.notes(task)
    if announce is not None and not resume and first:
        for note in notes:
            announce(note)
    if saved is not None:
        check_weights(task, saved["state_dict"], last)

    if not first:  # the first process claimed the directory and writes everything in it
        config = _replace(config, out=str(run_dir))
        return _fit_and_test(config, run_dir, dm, task, family, budget, saved, notes,
                             callbacks, start, first=False)
    if resume:  # the choices were announced and explained when the run started
        notes = _comment_lines(run_dir / "config.yaml")
        lock = lock_run_dir(run_dir)
    else:
        run_dir, lock = claim_run_dir(run_dir, default=not named)
        config = _replace(config, out=str(run_dir))
    try:
        return _fit_and_test(config, run_dir, dm, task, family, budget, saved, notes,
                             callbacks, start)
    finally:
        os.close(lock)


def per_process_batches(loader: Any, processes: int) -> int:
    """Training batches each process reads per epoch: with several processes, Lightning gives
    each ``ceil(examples / processes)`` of them (its ``DistributedSampler``), in batches of the
    loader's size."""
    batch_sampler = getattr(loader, "batch_sampler", None)
    if processes == 1 or batch_sampler is None or not hasattr(batch_sampler, "sampler"):
        return len(loader)
    share = -(-len(batch_sampler.sampler) // processes)
    size = batch_sampler.batch_size
    return share // size if batch_sampler.drop_last else -(-share // size)


def _fit_and_test(
    config: RunConfig, run_dir: Path, dm: Any, task: pl.LightningModule, family: Any,
    budget: Budget, saved: dict[str, Any] | None, notes: list[str],
    callbacks: Iterable[pl.Callback], start: float, *, first: bool = True,
) -> TrainResult:
    """Write the run directory (already claimed and locked): fit, test the best checkpoint,
    write test_metrics.json and the plots. A process other than the ``first`` of a
    multi-process run only trains with the others."""
    last = run_dir / CHECKPOINT_DIR / "last.ckpt"
    processes = process_count(config)
    if first:
        save_config(config, run_dir / "config.yaml", notes=notes)
    if first and processes > 1:
        os.environ[RUN_DIR_ENV] = str(run_dir)  # the processes Lightning starts inherit it
    monitor = config.trainer.monitor
    metric = None if monitor == "none" else monitor
    extra = [*callbacks, *family.callbacks(config, run_dir)]
    trainer = make_trainer(config, run_dir, budget=budget,
                           resume_epoch=None if saved is None else int(saved.get("epoch", -1)),
                           callbacks=extra, monitor=(metric, family.metrics.get(metric, "min")),
                           first=first)
    with cpu_threads(config), interruptible(trainer, run_dir):
        trainer.fit(task, datamodule=dm, ckpt_path=str(last) if saved is not None else None,
                    weights_only=True)
    os.environ.pop(RUN_DIR_ENV, None)
    # Sharded strategies (FSDP) hold a slice of the weights in each process: nothing to compare.
    compare = processes > 1 and "fsdp" not in config.trainer.strategy
    checksums = gather_objects(weights_checksum(task)) if compare else []
    end_process_group()
    if not first:
        return TrainResult(run_dir, {}, time.perf_counter() - start, notes, config,
                           primary=False)
    if len(set(checksums)) > 1:
        raise RunError(f"the {processes} processes ended training with different weights "
                       f"(checksums {checksums}); this is a bug: please report it")

    ckpt_cb = trainer.checkpoint_callback
    best = Path(ckpt_cb.best_model_path) if ckpt_cb and ckpt_cb.best_model_path else last
    split, loader, num_examples = dm.report_split()
    with cpu_threads(config), interruptible(trainer, run_dir):
        if processes == 1:
            results = trainer.test(task, dataloaders=loader, ckpt_path=str(best),
                                   weights_only=True, verbose=False)
        else:  # in this process alone, so that every test example counts exactly once,
            # on a task of its own (a sharding strategy may have changed the trained one)
            task = new_task(family, config, task.info)
            task.load_state_dict(read_checkpoint(best)["state_dict"])
            results = make_trainer(config, None, callbacks=extra).test(
                task, dataloaders=loader, verbose=False)
    metrics = test_metrics(results, task, family, best, run_dir, num_examples, split)
    if processes > 1:
        metrics.update(processes=processes, **({"weights_checksums": checksums}
                                               if checksums else {}))
    for lg in trainer.loggers:
        lg.save()
    write_text_atomic(run_dir / "test_metrics.json", json.dumps(metrics, indent=2) + "\n")
    plot_curves(run_dir / "metrics.csv", run_dir / "plots", loss_title=family.loss_title)
    if "confusion_matrix" in metrics:
        plot_confusion_matrix(metrics["confusion_matrix"], metrics["class_names"],
                              run_dir / "plots/confusion_matrix.png")
    return TrainResult(run_dir, metrics, time.perf_counter() - start, notes, config)


def _replace(config: RunConfig, **values: Any) -> RunConfig:
    return RunConfig.from_dict({**config.to_dict(), **values})


def _saved_info(saved: dict[str, Any], path: Path) -> DataInfo:
    info = (saved.get("hyper_parameters") or {}).get("info")
    if not isinstance(info, dict):
        raise RunError(f"cannot resume from {path}: it holds no data description (written by "
                       "an earlier rnnkit); start a new run")
    return DataInfo.from_dict(info)


def _comment_lines(path: Path) -> list[str]:
    """The ``# ...`` lines at the top of a saved config.yaml, without the ``# ``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line[2:] for line in itertools.takewhile(lambda x: x.startswith("# "), lines)]


def _absolute_paths(config: RunConfig) -> RunConfig:
    """The config with the files it reads as absolute paths (evaluate may run elsewhere)."""
    return _replace(config, data=config.data.absolute_paths(),
                    model=config.model.absolute_paths())


def _family_model(config: RunConfig, family: Any, info: DataInfo) -> RunConfig:
    """The config with a model section of ``family``'s class. ``task: auto`` builds the
    section of the source's default family; when the data call for another one (labels per
    step: tag), its section is the source's defaults for it, with the values the run set that
    it also has (``hidden_size``, ``cell``, ...)."""
    model_class = family_config(family.name).CONFIG
    if type(config.model) is model_class:
        return config
    base = type(config.model)()
    given = {k: v for k, v in config.model.to_dict().items()
             if k in model_class.keys() and v != getattr(base, k)}
    defaults = source_config(info.source).defaults(family.name).get("model", {})
    return _replace(config, task=family.name, model={**defaults, **given})


def _resolve(
    config: RunConfig, dm: Any, info: DataInfo, family: Any, resume: bool = False
) -> tuple[RunConfig, list[str]]:
    """The config with the family, the data module's and the family's automatic choices and
    the monitor resolved, and the reasons for them (a resumed run's were resolved when it
    started)."""
    notes: list[str] = []
    if config.task == "auto" and len(source_config(info.source).AUTO_FAMILY) > 1:
        notes.append(f"task {family.name}: the training data have {TARGET_WORDS[info.targets]} "
                     "(--task sets it)")
    if not resume:
        config = _family_model(config, family, info)
    notes += dm.notes
    data = {**config.data.to_dict(), **dm.resolved()}
    try:
        dm.report_split()
    except ValueError as err:
        raise RunError(str(err)) from None
    model, model_notes = (config.model.to_dict(), []) if resume else \
        family.resolve(config.model, info)
    notes += model_notes
    monitor, early_stopping = config.trainer.monitor, config.trainer.early_stopping
    if not dm.has_validation():
        if monitor not in ("auto", "none"):
            raise ConfigError(f"trainer.monitor={monitor} needs validation data; this run has "
                              "none (give --val-fraction or data.val)")
        if early_stopping and getattr(config.data, "val_fraction", None) == "auto":
            notes.append("no early stopping: it needs validation data")
            early_stopping = 0
        elif early_stopping:
            raise ConfigError("trainer.early_stopping needs validation data; this run has none "
                              "(give --val-fraction or data.val)")
        monitor = "none"
    elif monitor == "auto":
        monitor = family.default_monitor
    elif monitor != "none" and monitor not in family.metrics:
        raise ConfigError(f"trainer.monitor={monitor}: the {family.name} family logs "
                          f"{', '.join(family.metrics)} on validation data; choose one of them, "
                          "auto or none")
    trainer = {**config.trainer.to_dict(), "monitor": monitor, "early_stopping": early_stopping}
    resolved = {**config.to_dict(), "task": family.name, "data": data, "model": model,
                "trainer": trainer}
    return RunConfig.from_dict(resolved), notes
