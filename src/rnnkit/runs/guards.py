"""Checks made before anything big is allocated or loaded: the model's memory, a checkpoint's
weights against the model its config builds."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from rnnkit.config import RunConfig
from rnnkit.data.info import DataInfo
from rnnkit.families.base import TaskFamily
from rnnkit.runs.rundir import RunError

__all__ = ["check_model_memory", "check_weights"]


def check_model_memory(family: TaskFamily, config: RunConfig, info: DataInfo) -> None:
    """Refuse a model whose weights, gradients and Adam state cannot fit in this machine's
    memory, before allocating anything (the model is built on the meta device to count)."""
    with torch.device("meta"):
        net = family.build_model(config.model, info)
    count = sum(p.numel() for p in net.parameters())
    need = 16 * count  # float32 weights, gradients, two Adam moments
    try:
        have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return
    if need > have:
        sizes = ", ".join(f"model.{k}={v}" for k, v in config.model.to_dict().items()
                          if k in ("hidden_size", "num_layers", "embedding_dim"))
        raise RunError(
            f"the model has {count:,} parameters: training needs about {need / 2**30:,.1f} GiB "
            f"for weights, gradients and optimizer state, and this machine has "
            f"{have / 2**30:,.1f} GiB ({sizes})"
        )


def check_weights(module: torch.nn.Module, state_dict: dict[str, Any], path: Path) -> None:
    """Raise :class:`RunError` unless ``state_dict`` has ``module``'s parameter names and
    shapes (a checkpoint whose config or weights were edited)."""
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state_dict.items() if isinstance(v, torch.Tensor)}
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    wrong = [k for k in expected if k in found and expected[k] != found[k]]
    if wrong:
        k = wrong[0]
        raise RunError(f"{path} does not match its config: {k} has shape {found[k]} in the file "
                       f"and {expected[k]} from the config (was the config or the checkpoint "
                       "edited?)")
    if missing or extra:
        what = f"lacks {missing[0]}" if missing else f"has an unexpected {extra[0]}"
        raise RunError(f"{path} does not match its config: the file {what} (was the config or "
                       "the checkpoint edited?)")
