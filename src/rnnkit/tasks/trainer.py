"""The Trainer factory: Lightning's Trainer with rnnkit's callbacks, loggers and checkpoint I/O."""

from __future__ import annotations

import csv
import importlib.util
import logging
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import (
    EarlyStopping,
    LearningRateMonitor,
    ModelCheckpoint,
    TQDMProgressBar,
)
from lightning.pytorch.loggers import CSVLogger, Logger, TensorBoardLogger

from rnnkit.config import RunConfig
from rnnkit.tasks.callbacks import EpochSeed, FiniteLossGuard
from rnnkit.tasks.checkpoint import AtomicCheckpointIO

__all__ = ["CHECKPOINT_DIR", "make_trainer", "make_loggers", "quiet_lightning"]

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


def make_loggers(run_dir: Path, resume_epoch: int | None = None) -> list[Logger]:
    """CSVLogger writing ``run_dir/metrics.csv`` (+ TensorBoard in ``run_dir/tensorboard`` when
    tensorboard is installed). When resuming after epoch ``resume_epoch``, the rows logged up
    to that epoch are kept and later ones (from the interrupted epoch) dropped."""
    previous = [] if resume_epoch is None else _carry_metrics(run_dir / "metrics.csv", resume_epoch)
    csv_logger = _RunCSVLogger(save_dir=str(run_dir), name="", version="")
    with warnings.catch_warnings():  # "directory not empty": the run dir holds config.yaml
        warnings.simplefilter("ignore")
        csv_logger.experiment.metrics.extend(previous)  # creates the writer (clears the file)
    loggers: list[Logger] = [csv_logger]
    if importlib.util.find_spec("tensorboard") is not None:
        loggers.append(TensorBoardLogger(save_dir=str(run_dir), name="tensorboard", version=""))
    return loggers


def make_trainer(
    config: RunConfig,
    run_dir: Path | None,
    *,
    resume_epoch: int | None = None,
    callbacks: Iterable[pl.Callback] = (),
) -> pl.Trainer:
    """A Trainer for ``config`` writing into ``run_dir``.

    With a ``run_dir``: ModelCheckpoint keeps ``checkpoints/best.ckpt`` (best
    ``trainer.monitor``; the first checkpoint callback) and ``checkpoints/last.ckpt`` (end of
    the latest epoch), written atomically; metrics go to ``metrics.csv``. Without one
    (evaluation, prediction): no checkpoints and no logs. Always: gradient-norm clipping,
    early stopping when ``trainer.early_stopping > 0``, a stop on NaN/inf losses, per-epoch
    seeding, a progress bar when ``trainer.progress_bar``.
    """
    quiet_lightning()
    t = config.trainer
    monitor = "val_acc" if t.monitor == "auto" else t.monitor  # train() resolves auto by task
    mode = "max" if monitor.endswith("acc") else "min"
    cbs: list[pl.Callback] = [FiniteLossGuard(), EpochSeed(t.seed)]
    loggers: list[Logger] | bool = False
    if run_dir is not None:
        folder = str(run_dir / CHECKPOINT_DIR)
        # Two callbacks: Lightning 2.6's save_last=True rewrites last.ckpt only in epochs that
        # improve the monitored metric; a monitor-less top-1 checkpoint is rewritten every epoch.
        cbs.append(
            ModelCheckpoint(
                dirpath=folder, filename="best", monitor=monitor, mode=mode, save_top_k=1,
                auto_insert_metric_name=False, enable_version_counter=False,
            )
        )
        cbs.append(
            ModelCheckpoint(
                dirpath=folder, filename="last", monitor=None, save_top_k=1,
                auto_insert_metric_name=False, enable_version_counter=False,
            )
        )
        cbs.append(LearningRateMonitor(logging_interval="epoch"))
        loggers = make_loggers(run_dir, resume_epoch)
    if t.early_stopping > 0:
        cbs.append(EarlyStopping(monitor=monitor, mode=mode, patience=t.early_stopping))
    if t.progress_bar:
        cbs.append(TQDMProgressBar(leave=True))
    cbs.extend(callbacks)
    devices: int | str = t.devices
    return pl.Trainer(
        max_epochs=t.epochs,
        accelerator=t.accelerator,
        devices=devices,
        precision=t.precision,  # type: ignore[arg-type]
        deterministic=t.deterministic,
        gradient_clip_val=t.grad_clip or None,
        gradient_clip_algorithm="norm",
        callbacks=cbs,
        logger=loggers,
        log_every_n_steps=t.log_every_n_steps,
        enable_checkpointing=run_dir is not None,
        enable_progress_bar=t.progress_bar,
        enable_model_summary=run_dir is not None,
        default_root_dir=str(run_dir) if run_dir is not None else None,
        plugins=[AtomicCheckpointIO()],
    )
