"""test_metrics.json: a family's test figures, with where they were measured."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rnnkit.families.base import FamilyTask, TaskFamily
from rnnkit.runs.checkpoint import read_checkpoint

__all__ = ["test_metrics"]


def test_metrics(
    results: Sequence[dict[str, float]], task: FamilyTask, family: TaskFamily,
    checkpoint: Path, run_dir: Path | None, num_examples: int, split: str = "test",
) -> dict[str, Any]:
    """The content of ``test_metrics.json`` from ``Trainer.test``'s results: the family's
    figures (``test_acc``, ``test_loss``, ...), its report, and where they come from."""
    logged = results[0] if results else {}
    epoch = read_checkpoint(checkpoint).get("epoch")
    full, base = checkpoint.absolute(), run_dir.absolute() if run_dir else None
    shown = full.relative_to(base) if base and full.is_relative_to(base) else checkpoint
    names = [f"test_{name.removeprefix('val_')}" for name in family.metrics]
    return {
        **{name: float(logged.get(name, float("nan"))) for name in names},
        "task": family.name,
        "split": split,  # "val": no test data; the figures are the validation split's
        "num_examples": int(num_examples),
        "checkpoint": str(shown),
        "epoch": None if epoch is None else int(epoch) + 1,  # 1-based, as people count
        **task.test_report,
    }
