"""Plots of a run (matplotlib, written as PNG): learning curves and the confusion matrix."""

from __future__ import annotations

import csv
import math
import warnings
from collections.abc import Sequence
from pathlib import Path

__all__ = ["plot_curves", "plot_confusion_matrix", "read_metrics"]


def read_metrics(path: str | Path) -> list[dict[str, float]]:
    """Rows of a CSVLogger ``metrics.csv`` with the empty cells left out."""
    with Path(path).open(newline="") as f:
        return [
            {k: float(v) for k, v in row.items() if k and v not in ("", None)}
            for row in csv.DictReader(f)
        ]


def _per_epoch(rows: list[dict[str, float]], key: str) -> tuple[list[int], list[float]]:
    values: dict[int, float] = {}
    for row in rows:
        if key in row and "epoch" in row and math.isfinite(row[key]):
            values[int(row["epoch"])] = row[key]  # the latest value of each epoch
    epochs = sorted(values)
    return [e + 1 for e in epochs], [values[e] for e in epochs]


def plot_curves(
    metrics_csv: str | Path, out_dir: str | Path, *, loss_title: str = "cross-entropy loss"
) -> list[Path]:
    """``loss.png`` and ``accuracy.png`` (classification) or ``mae.png`` (regression): training
    and validation curves per epoch. ``loss_title`` names the loss on its plot.

    Returns the files written (none when the CSV holds no epoch-level values).
    """
    from matplotlib.figure import Figure  # no pyplot: works without a display

    rows = read_metrics(metrics_csv)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, title, keys in (
        ("loss.png", loss_title, ("train_loss_epoch", "val_loss")),
        ("accuracy.png", "accuracy", ("train_acc", "val_acc")),
        ("mae.png", "mean absolute error", ("train_mae", "val_mae")),
    ):
        series = {k: _per_epoch(rows, k) for k in keys}
        if not any(x for x, _ in series.values()):
            continue
        fig = Figure(figsize=(6, 4), layout="constrained")
        ax = fig.add_subplot()
        for key, (x, y) in series.items():
            if x:
                label = "train" if key.startswith("train") else "validation"
                ax.plot(x, y, marker="o", markersize=3, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(title)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.savefig(out_dir / name, dpi=110)
        written.append(out_dir / name)
    return written


def plot_confusion_matrix(
    confusion: Sequence[Sequence[int]], class_names: Sequence[str], path: str | Path
) -> Path:
    """Draw a confusion matrix (rows: true class, columns: predicted) with torchmetrics' plot."""
    import matplotlib.pyplot as plt
    import torch
    from torchmetrics.classification import MulticlassConfusionMatrix

    matrix = torch.as_tensor(confusion)
    metric = MulticlassConfusionMatrix(num_classes=len(class_names))
    with warnings.catch_warnings():  # matplotlib asks tensors for __array__(copy=...)
        warnings.simplefilter("ignore", DeprecationWarning)
        fig, ax = metric.plot(val=matrix, labels=list(class_names))
    ax.set_title("test confusion matrix")
    fig.set_size_inches(6.5, 6)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
