"""Labels: the task they make (classification or regression) and their encoding as targets."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from rnnkit.data.sequences.errors import SequenceFileError

__all__ = ["TASKS", "Task", "encode_labels", "infer_task", "label_order"]

Task = Literal["classification", "regression"]
TASKS = ("classification", "regression")


def label_order(labels: Sequence[str]) -> list[str]:
    """The distinct labels in class-index order: numerically if all labels are numbers, else sorted
    as strings. (``.ts`` files instead use the order of their ``@classLabel`` header.)"""
    distinct = set(labels)
    try:
        return sorted(distinct, key=lambda s: (float(s), s))
    except ValueError:
        return sorted(distinct)


def infer_task(labels: Sequence[str]) -> Task:
    """``"regression"`` if every label is a number and at least one is not a whole number,
    else ``"classification"``. Pass ``task=`` to a reader to override."""
    try:
        values = np.array([float(s) for s in labels])
    except ValueError:
        return "classification"
    if values.size and np.all(np.isfinite(values)) and np.any(values != np.round(values)):
        return "regression"
    return "classification"


def encode_labels(
    labels: Sequence[str],
    lines: Sequence[int | None],
    task: Task,
    class_names: Sequence[str] | None,
    path: str | Path | None,
) -> tuple[np.ndarray, list[str] | None]:
    """Turn label strings into targets: class indices (int64) or numbers (float32).

    ``class_names`` fixes the mapping (e.g. the training file's classes for a test file); a label
    outside it is an error naming its line. Without it the classes follow :func:`label_order`.
    """
    if task == "regression":
        out = np.empty(len(labels), dtype=np.float32)
        for i, (s, line) in enumerate(zip(labels, lines, strict=True)):
            try:
                out[i] = float(s)
            except ValueError:
                raise SequenceFileError(
                    f"regression target {s!r} is not a number", path, line
                ) from None
            if not np.isfinite(out[i]):
                raise SequenceFileError(f"regression target {s!r} is not finite", path, line)
        return out, None
    names = list(class_names) if class_names is not None else label_order(labels)
    index = {name: i for i, name in enumerate(names)}
    out = np.empty(len(labels), dtype=np.int64)
    for i, (s, line) in enumerate(zip(labels, lines, strict=True)):
        k = index.get(s)
        if k is None:
            raise SequenceFileError(
                f"label {s!r} is not one of the classes {names}", path, line
            )
        out[i] = k
    return out, names
