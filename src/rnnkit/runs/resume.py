"""Resuming a run: its saved config, what an override may change, and the checks that the data
still fit the checkpoint."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rnnkit.config import ConfigError, Override, RunConfig, apply_overrides, read_yaml
from rnnkit.runs.callbacks import saved_counters
from rnnkit.runs.checkpoint import read_checkpoint
from rnnkit.runs.rundir import RunError
from rnnkit.runs.trainer import CHECKPOINT_DIR

__all__ = ["check_resumable", "resumable_keys", "resume_config"]

# What a resumed run may change beyond its data section's RESUMABLE keys (the rest would not
# match the checkpoint).
RUN_RESUMABLE = (
    "trainer.epochs", "trainer.accelerator", "trainer.devices", "trainer.num_nodes",
    "trainer.strategy", "trainer.progress_bar",
    "trainer.verbose", "trainer.log_every_n_steps", "trainer.threads",
)


def resumable_keys(config: RunConfig) -> tuple[str, ...]:
    """The keys a resumed run of ``config`` may change."""
    data = tuple(f"data.{k}" for k in config.data.RESUMABLE)
    return ("out", *data, *RUN_RESUMABLE)


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
    try:
        saved = RunConfig.from_dict(read_yaml(run_dir / "config.yaml"))
    except ConfigError as err:
        raise ConfigError(f"{run_dir / 'config.yaml'}: {err}") from None
    allowed = resumable_keys(saved)
    trained = (read_checkpoint(last).get("hyper_parameters") or {}).get("config")
    if isinstance(trained, dict):
        edited = _changed(RunConfig.from_dict(trained).to_dict(), saved.to_dict(), allowed)
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
    fixed = [k for k in changed if k not in allowed]
    if "trainer.epochs" in changed and saved.trainer.steps > 0:
        fixed.append(f"trainer.epochs (the budget is trainer.steps={saved.trainer.steps})")
    elif "trainer.epochs" in changed and merged.optim.schedule in ("onecycle", "cosine"):
        fixed.append("trainer.epochs (the onecycle/cosine schedule was laid out for "
                     f"{saved.trainer.epochs} epochs)")
    if fixed:
        raise RunError(
            f"cannot resume {run_dir} with a different {', '.join(fixed)}; a resumed run may "
            f"only change {', '.join(allowed[1:])}. Start a new run instead"
        )
    return merged


def _changed(old: dict[str, Any], new: dict[str, Any], allowed: tuple[str, ...]) -> list[str]:
    """Keys outside ``allowed`` whose values differ between two config dicts."""
    a, b = _flatten(old), _flatten(new)
    return [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k) and k not in allowed]


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            flat.update(_flatten(v, f"{prefix}{k}."))
        else:
            flat[f"{prefix}{k}"] = v
    return flat


def check_resumable(saved: dict[str, Any], batches_per_epoch: int, path: Path) -> None:
    """The data must give the steps per epoch the run's schedule was laid out for."""
    before = saved_counters(saved).get("train_batches")
    if before is not None and before != batches_per_epoch:
        raise RunError(
            f"cannot resume: the data now gives {batches_per_epoch} training batches per epoch, "
            f"the run was laid out for {before} ({path}); point the data back at what it was "
            "trained on, or start a new run"
        )
