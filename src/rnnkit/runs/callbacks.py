"""Callbacks of ours: stop on a non-finite loss, seed every epoch for exact resumes, and record
the counters a resume is checked against."""

from __future__ import annotations

import random
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch import Tensor

__all__ = ["EpochSeed", "FiniteLossGuard", "NonFiniteLossError", "RunCounters", "saved_counters"]


class NonFiniteLossError(RuntimeError):
    """The training (or validation) loss became NaN or infinite; the run was stopped."""


class FiniteLossGuard(pl.Callback):
    """Stop the run with :class:`NonFiniteLossError` when a loss is NaN or infinite.

    The training loss is checked before ``backward``, so the weights are never updated with
    non-finite gradients; the validation loss before checkpoints are written (this callback
    runs in ``on_validation_epoch_end``, ModelCheckpoint in ``on_validation_end``). Raising
    ends ``Trainer.fit`` before anything else is saved, so ``last.ckpt`` and ``best.ckpt`` stay
    the last good ones.
    """

    def _stop(self, trainer: pl.Trainer, what: str, value: float) -> None:
        saved = [
            getattr(cb, "best_model_path", "") or getattr(cb, "last_model_path", "")
            for cb in trainer.checkpoint_callbacks
        ]
        saved = [path for path in saved if path]
        kept = (
            f"the last good checkpoint is {saved[-1]}" if saved else "no checkpoint was saved yet"
        )
        raise NonFiniteLossError(
            f"{what} became {value} at epoch {trainer.current_epoch + 1}, step "
            f"{trainer.global_step + 1}; "
            f"training stopped and {kept}. Try a smaller optim.lr or trainer.grad_clip, or "
            "check the data for NaN/inf values"
        )

    def on_before_backward(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, loss: Tensor
    ) -> None:
        finite = bool(torch.isfinite(loss).all())
        if trainer.world_size > 1:  # every process stops at the same step, or none does
            finite = not trainer.strategy.reduce_boolean_decision(not finite, all=False)
        if not finite:
            self._stop(trainer, "the training loss", float(loss.detach().float().mean()))

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        value = trainer.callback_metrics.get("val_loss")
        if value is not None and not torch.isfinite(value).all():
            self._stop(trainer, "the validation loss", float(value))


class EpochSeed(pl.Callback):
    """Reseed torch, NumPy and ``random`` at the start of every training epoch.

    Epoch ``e`` of a run with seed ``s`` draws its shuffling order and dropout masks from
    ``s * 100003 + e``, whatever happened before it (validation, a restart), so a run resumed
    from the checkpoint written at the end of epoch ``e - 1`` continues exactly as the
    uninterrupted run would have.

    One detail makes that exact: in an uninterrupted run, the epoch's DataLoader iterator is
    created after this hook and draws its base seed from the global generator; in the first
    epoch of a resumed run Lightning created the iterator earlier, with the generator
    isolated. That draw is replayed here, so the shuffling order and dropout masks match.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._resume_epoch: int | None = None

    def on_load_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        if "epoch" in checkpoint:
            self._resume_epoch = int(checkpoint["epoch"]) + 1

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch = trainer.current_epoch
        seed = (self.seed * 100003 + epoch) % 2**32
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)  # all devices
        if self._resume_epoch is not None:
            if self._resume_epoch == epoch:
                torch.empty((), dtype=torch.int64).random_()  # the DataLoader's base seed
            self._resume_epoch = None


class RunCounters(pl.Callback):
    """Write ``checkpoint["rnnkit"] = {"train_batches": optimizer steps per epoch,
    "epochs_per_check": epochs between checks}``.

    A learning-rate schedule is laid out over ``epochs x train_batches`` steps, so a run may
    only be resumed on data that gives the same number of batches, and with the same checks
    (see :func:`saved_counters`).
    """

    def __init__(self, epochs_per_check: int = 1) -> None:
        self.epochs_per_check = epochs_per_check

    def on_save_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        checkpoint["rnnkit"] = {"train_batches": int(trainer.num_training_batches),
                                "epochs_per_check": self.epochs_per_check}


def saved_counters(checkpoint: dict[str, Any]) -> dict[str, int]:
    """The counters :class:`RunCounters` wrote into ``checkpoint`` (empty for older runs)."""
    counters = checkpoint.get("rnnkit")
    return dict(counters) if isinstance(counters, dict) else {}
