"""Optimizers and learning-rate schedules from an :class:`~rnnkit.config.OptimConfig`."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from rnnkit.config import OptimConfig

__all__ = ["make_optimizer", "make_scheduler", "configure_optimizers"]


def make_optimizer(config: OptimConfig, params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    """Adam, AdamW or SGD (with momentum, optionally Nesterov) with weight decay."""
    if config.name == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.name == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.name == "sgd":
        return torch.optim.SGD(
            params, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov,
            weight_decay=config.weight_decay,
        )
    raise ValueError(f"optim.name must be adam, adamw or sgd, got {config.name!r}")


def make_scheduler(
    config: OptimConfig, optimizer: torch.optim.Optimizer, total_steps: int
) -> dict[str, Any] | None:
    """A Lightning ``lr_scheduler`` dict for ``config.schedule``, or None for ``"none"``.

    ``onecycle`` and ``cosine`` step every batch over ``total_steps`` optimizer steps;
    ``step`` multiplies the rate by ``gamma`` every ``step_size`` epochs.
    """
    sched = torch.optim.lr_scheduler
    if config.schedule == "none":
        return None
    if config.schedule == "onecycle":
        # Each phase needs two steps (OneCycleLR divides by its length - 1); a tiny run gets a
        # schedule a few steps longer than itself rather than a ZeroDivisionError.
        shortest = max(min(config.pct_start, 1 - config.pct_start), 1e-3)
        scheduler: Any = sched.OneCycleLR(
            optimizer, max_lr=config.lr, pct_start=config.pct_start,
            total_steps=max(total_steps, math.ceil(2 / shortest) + 1),
        )
        return {"scheduler": scheduler, "interval": "step"}
    if config.schedule == "cosine":
        scheduler = sched.CosineAnnealingLR(optimizer, T_max=max(total_steps, 1))
        return {"scheduler": scheduler, "interval": "step"}
    if config.schedule == "step":
        scheduler = sched.StepLR(optimizer, step_size=config.step_size, gamma=config.gamma)
        return {"scheduler": scheduler, "interval": "epoch"}
    raise ValueError(
        f"optim.schedule must be onecycle, cosine, step or none, got {config.schedule!r}"
    )


def configure_optimizers(
    config: OptimConfig, module: nn.Module, total_steps: int
) -> Any:
    """What ``LightningModule.configure_optimizers`` returns for ``config``."""
    optimizer = make_optimizer(config, module.parameters())
    scheduler = make_scheduler(config, optimizer, total_steps)
    if scheduler is None:
        return optimizer
    return {"optimizer": optimizer, "lr_scheduler": scheduler}
