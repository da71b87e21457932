"""The Trainer factory: Lightning's Trainer with rnnkit's callbacks, loggers and checkpoint I/O."""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import logging
import os
import sys
import time
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import (
    EarlyStopping,
    LearningRateMonitor,
    ModelCheckpoint,
    TQDMProgressBar,
)
from lightning.pytorch.loggers import CSVLogger, Logger, TensorBoardLogger

from rnnkit.config import ConfigError, RunConfig
from rnnkit.runs.budget import Budget
from rnnkit.runs.callbacks import EpochSeed, FiniteLossGuard, RunCounters
from rnnkit.runs.checkpoint import AtomicCheckpointIO

__all__ = [
    "CHECKPOINT_DIR",
    "ProgressLines",
    "RunCheckpoint",
    "check_trainer_settings",
    "cpu_threads",
    "one_device",
    "make_trainer",
    "make_loggers",
    "quiet_lightning",
]

CHECKPOINT_DIR = "checkpoints"


def quiet_lightning() -> None:
    """Silence Lightning's device banners and advice that does not apply to rnnkit's runs."""
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # In-memory tensors load fastest in the main process; more workers only cost start-up time.
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*The number of training batches.*")
    # Lightning 2.6 on torch >= 2.10 calls a deprecated torch.utils._pytree API.
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")
    # A resumed run writes into its own checkpoint directory (new runs refuse a used one).
    warnings.filterwarnings("ignore", message="Checkpoint directory .* exists and is not empty")


class RunCheckpoint(ModelCheckpoint):
    """ModelCheckpoint whose state survives moving or copying the run directory.

    Lightning keeps absolute paths in a checkpoint's callback state and drops the best score
    when the directory differs on resume, so the next epoch always became "best". This one
    saves file names relative to its folder and, on loading, maps every saved path (absolute
    or relative, from any earlier location) into the folder it writes to now.
    """

    @property
    def state_key(self) -> str:
        # ModelCheckpoint's own key (runs written before this class load their state), and
        # best.ckpt without a monitor (no validation data) must not share last.ckpt's.
        key = "ModelCheckpoint" + super().state_key.removeprefix(type(self).__qualname__)
        return key if self.monitor is not None or self.filename == "last" else \
            f"{key}[{self.filename}]"

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        name = lambda p: Path(p).name if p else p  # noqa: E731
        state.update(
            dirpath=".", best_model_path=name(state["best_model_path"]),
            kth_best_model_path=name(state["kth_best_model_path"]),
            last_model_path=name(state["last_model_path"]),
            best_k_models={name(k): v for k, v in state["best_k_models"].items()},
        )
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        here = lambda p: str(Path(self.dirpath) / Path(p).name) if p else p  # noqa: E731
        state = dict(state_dict)
        state.update(
            dirpath=self.dirpath, best_model_path=here(state.get("best_model_path", "")),
            kth_best_model_path=here(state.get("kth_best_model_path", "")),
            last_model_path=here(state.get("last_model_path", "")),
            best_k_models={here(k): v for k, v in state.get("best_k_models", {}).items()},
        )
        super().load_state_dict(state)


class ProgressLines(pl.Callback):
    """One plain line per check (for logs and pipes, where a progress bar is noise)::

        epoch 14/224  step 98/1568  train_loss 0.4123  val_loss 0.3810  val_acc 87.50%  9 s
    """

    def __init__(self, epochs_per_check: int = 1) -> None:
        self.epochs_per_check = epochs_per_check
        self._start = 0.0

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch = trainer.current_epoch + 1
        if epoch % self.epochs_per_check and epoch != trainer.max_epochs:
            return
        parts = [f"epoch {epoch}/{trainer.max_epochs}",
                 f"step {trainer.global_step}/{trainer.estimated_stepping_batches}"]
        metrics = trainer.callback_metrics
        for key in ["train_loss_epoch", *sorted(k for k in metrics if k.startswith("val_"))]:
            if key in metrics:
                value = float(metrics[key])
                text = f"{100 * value:.2f}%" if key.endswith("acc") else f"{value:.4f}"
                parts.append(f"{key.removesuffix('_epoch')} {text}")
        parts.append(f"{time.perf_counter() - self._start:.0f} s")
        print("  ".join(parts), flush=True)


class _RunCSVLogger(CSVLogger):
    """CSVLogger that leaves hyperparameters to the run's config.yaml (no hparams.yaml)."""

    def log_hyperparams(self, params: Any = None, *args: Any, **kwargs: Any) -> None:
        return None


def _carry_metrics(path: Path, until_epoch: int) -> list[dict[str, float]]:
    """Rows of an earlier metrics.csv for epochs <= ``until_epoch`` (a resumed run keeps them)."""
    if not path.is_file():
        return []
    rows = []
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            values = {k: float(v) for k, v in row.items() if k and v not in ("", None)}
            if values.get("epoch", 0.0) <= until_epoch:
                if "step" in values:
                    values["step"] = int(values["step"])
                if "epoch" in values:
                    values["epoch"] = int(values["epoch"])
                rows.append(values)
    return rows


def make_loggers(run_dir: Path, resume_epoch: int | None = None, *,
                 first: bool = True) -> list[Logger]:
    """CSVLogger writing ``run_dir/metrics.csv`` (+ TensorBoard in ``run_dir/tensorboard`` when
    tensorboard is installed). When resuming after epoch ``resume_epoch``, the rows logged up
    to that epoch are kept and later ones (from the interrupted epoch) dropped. Only the
    ``first`` process of a multi-process run writes (Lightning's loggers log on rank 0 only);
    the others' loggers never touch the file."""
    csv_logger = _RunCSVLogger(save_dir=str(run_dir), name="", version="")
    previous = [] if resume_epoch is None or not first else \
        _carry_metrics(run_dir / "metrics.csv", resume_epoch)
    if first:
        with warnings.catch_warnings():  # "directory not empty": the run dir holds config.yaml
            warnings.simplefilter("ignore")
            csv_logger.experiment.metrics.extend(previous)  # creates the writer (clears the file)
    if previous:
        csv_logger.experiment.save()  # the history is back on disk now, not at the next flush
    loggers: list[Logger] = [csv_logger]
    if importlib.util.find_spec("tensorboard") is not None:
        loggers.append(TensorBoardLogger(save_dir=str(run_dir), name="tensorboard", version=""))
    return loggers


def make_trainer(
    config: RunConfig,
    run_dir: Path | None,
    *,
    budget: Budget | None = None,
    resume_epoch: int | None = None,
    callbacks: Iterable[pl.Callback] = (),
    monitor: tuple[str | None, str] = (None, "min"),
    first: bool = True,
) -> pl.Trainer:
    """A Trainer for ``config`` writing into ``run_dir``.

    With a ``run_dir``: checks every ``budget.epochs_per_check`` epochs (validation, a progress
    line, checkpoints); ``checkpoints/best.ckpt`` keeps the best value of ``monitor`` (a metric
    and ``"max"`` or ``"min"``; the final weights when the metric is None),
    ``checkpoints/last.ckpt`` the latest check, both written atomically; metrics go to
    ``metrics.csv``; with several processes (``trainer.devices`` x ``trainer.num_nodes``)
    Lightning's DDP runs them, the ``first`` writing. Without one (evaluation, prediction, the
    test after a multi-process run): one process, no checkpoints and no logs. Always:
    gradient-norm clipping, early stopping when ``budget.patience > 0``, a stop on NaN/inf
    losses, per-epoch seeding. Progress: a bar on a
    terminal, :class:`ProgressLines` otherwise (``trainer.progress_bar=false``: neither).
    """
    quiet_lightning()
    t = config.trainer
    budget = budget or Budget(1, t.epochs, 1)
    every = budget.epochs_per_check
    monitor_metric, mode = monitor
    cbs: list[pl.Callback] = [FiniteLossGuard(), EpochSeed(t.seed), RunCounters(every)]
    loggers: list[Logger] | bool = False
    if run_dir is not None:
        folder = str(run_dir / CHECKPOINT_DIR)
        # Two callbacks: Lightning 2.6's save_last=True rewrites last.ckpt only in epochs that
        # improve the monitored metric; a monitor-less top-1 checkpoint is rewritten every check.
        for name, metric in (("best", monitor_metric), ("last", None)):
            cbs.append(RunCheckpoint(
                dirpath=folder, filename=name, monitor=metric, mode=mode, save_top_k=1,
                auto_insert_metric_name=False, enable_version_counter=False,
                every_n_epochs=every, save_on_train_epoch_end=True,  # after validation
            ))
        cbs.append(LearningRateMonitor(logging_interval="epoch"))
        loggers = make_loggers(run_dir, resume_epoch, first=first)
    if budget.patience > 0 and monitor_metric is not None:
        cbs.append(EarlyStopping(monitor=monitor_metric, mode=mode, patience=budget.patience))
    bar = t.progress_bar and sys.stdout.isatty()
    if bar:
        cbs.append(TQDMProgressBar(leave=True))
    elif t.progress_bar and run_dir is not None:
        cbs.append(ProgressLines(every))
    cbs.extend(callbacks)
    return pl.Trainer(
        max_epochs=budget.epochs,
        check_val_every_n_epoch=every,
        limit_val_batches=None if monitor_metric is not None else 0,
        accelerator=t.accelerator,
        devices=t.devices if run_dir is not None else one_device(t.devices),
        num_nodes=t.num_nodes if run_dir is not None else 1,
        strategy=t.strategy if run_dir is not None else "auto",
        use_distributed_sampler=True,  # each process a disjoint share, the same seed per epoch
        precision=t.precision,  # type: ignore[arg-type]
        deterministic=t.deterministic,
        gradient_clip_val=t.grad_clip or None,
        gradient_clip_algorithm="norm",
        callbacks=cbs,
        logger=loggers,
        log_every_n_steps=t.log_every_n_steps,
        enable_checkpointing=run_dir is not None,
        enable_progress_bar=bar,
        enable_model_summary=run_dir is not None and t.verbose,
        default_root_dir=str(run_dir) if run_dir is not None else None,
        plugins=[AtomicCheckpointIO()],
    )


@contextlib.contextmanager
def cpu_threads(config: RunConfig) -> Iterator[None]:
    """Run the block with ``trainer.threads`` CPU threads for torch, then restore the count.

    ``auto``: one thread when batch size x hidden size is below 4096 (the matrix products of a
    small recurrent step are too small to split, and on a busy machine threads that wait for
    each other make a step many times slower), else torch's default.
    """
    before = torch.get_num_threads()
    threads = config.trainer.threads
    if threads == "auto":
        batch = getattr(config.data, "batch_size", 64)
        batch = batch if isinstance(batch, int) else 64
        threads = 1 if batch * getattr(config.model, "hidden_size", 128) < 4096 else before
    torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def one_device(devices: int | str) -> int | str:
    """The first of ``trainer.devices``: one process (evaluation, prediction, tests)."""
    if isinstance(devices, str) and devices != "auto":
        return devices.split(",")[0].strip() + ","
    return 1


def check_trainer_settings(config: RunConfig, *, first: bool = True) -> None:
    """Raise :class:`~rnnkit.config.ConfigError` (one line) when Lightning refuses
    ``trainer.accelerator``, ``devices``, ``num_nodes``, ``strategy`` or ``precision`` on this
    machine, when more CPU processes or threads are asked for than it has cores, or (the
    ``first`` process of several) when ``MASTER_PORT`` is taken; nothing is written."""
    from rnnkit.runs.distributed import check_port, process_count

    t = config.trainer
    cores = os.cpu_count() or 1
    if t.threads != "auto" and int(t.threads) > cores:
        raise ConfigError(f"trainer.threads={t.threads}, but this machine has {cores} CPU "
                          "cores; more threads than cores only wait on each other")
    on_cpu = t.accelerator == "cpu" or (t.accelerator == "auto"
                                        and not torch.cuda.is_available())
    local = process_count(config) // t.num_nodes
    if on_cpu and local > cores:
        raise ConfigError(f"trainer.devices={t.devices} asks for {local} CPU processes on "
                          f"this machine, which has {cores} CPU cores; give at most {cores}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pl.Trainer(accelerator=t.accelerator, devices=t.devices, num_nodes=t.num_nodes,
                       strategy=t.strategy, precision=t.precision,  # type: ignore[arg-type]
                       logger=False, enable_checkpointing=False, enable_progress_bar=False,
                       enable_model_summary=False)
    except Exception as err:  # MisconfigurationException, ValueError, RuntimeError, ...
        line = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ConfigError(
            f"trainer.accelerator={t.accelerator}, trainer.devices={t.devices}, "
            f"trainer.num_nodes={t.num_nodes}, trainer.strategy={t.strategy}, "
            f"trainer.precision={t.precision} cannot run here: {line}"
        ) from None
    if first and process_count(config) > 1:
        check_port()
