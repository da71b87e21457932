"""Labels: the task they make (classification or regression), whether there is one per
sequence or one per step, and their encoding as targets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from rnnkit.data.sequences.errors import SequenceFileError

__all__ = ["LABEL_KINDS", "TASKS", "UNSEEN", "Task", "encode_labels", "infer_task",
           "label_kind", "label_order", "split_steps", "step_classes", "whole_sequence_labels"]

Task = Literal["classification", "regression"]
TASKS = ("classification", "regression")
# labels=: "auto" (per step where the file has a label per step that varies, or an NPZ y of
# shape (N, L); else per sequence), "sequence" (one per sequence) or "step" (one per step).
LABEL_KINDS = ("auto", "sequence", "step")
UNSEEN = -1  # a per-step class index: a label the training data never had (an error when scored)


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


def label_kind(labels: str) -> str:
    """``labels`` checked to be one of :data:`LABEL_KINDS`."""
    if labels not in LABEL_KINDS:
        raise ValueError(f"labels must be one of {', '.join(LABEL_KINDS)}; got {labels!r}")
    return labels


def whole_sequence_labels(labels: str, path: str | Path, what: str) -> None:
    """Check ``labels=`` for a reader whose files hold one label per sequence (``what``: the
    kind of file, for the message)."""
    if label_kind(labels) == "step":
        raise SequenceFileError(
            f"labels=step asks for a label per step; {what} holds one label per sequence (a "
            "label per step comes from a long CSV's label column or an NPZ y of shape (N, L))",
            path,
        )


def step_classes(labels: Sequence[str], lines: Sequence[int | None], task: Task | None,
                 path: str | Path | None, where: Callable[[int], str] | None = None) -> None:
    """Check that per-step labels are classes (``task`` ``None`` or classification): by the rule
    of :func:`infer_task`, numbers of which one has a fraction are regression targets, and
    per-step regression is not supported. The error names the first such number's line, or
    where ``where(i)`` says label ``i`` is (`` at sequence 3, step 2``)."""
    if task == "regression":
        raise SequenceFileError("per-step labels must be class labels; found a label per step "
                                "where regression targets were asked for (per-step regression "
                                "is not supported)", path)
    if task is None and infer_task(labels) == "regression":
        i = next(i for i, s in enumerate(labels) if float(s) != round(float(s)))
        raise SequenceFileError(
            f"per-step labels must be class labels; found numbers with a fraction such as "
            f"{labels[i]!r}{where(i) if where else ''} (per-step regression is not supported)",
            path, lines[i])


def split_steps(codes: np.ndarray, lengths: Sequence[int] | np.ndarray) -> list[np.ndarray]:
    """The per-step class indices of all sequences, one after the other (sum L_i,), cut into
    one (L_i,) array per sequence."""
    return np.split(codes, np.cumsum(np.asarray(lengths, dtype=np.int64))[:-1])


def encode_labels(
    labels: Sequence[str],
    lines: Sequence[int | None],
    task: Task,
    class_names: Sequence[str] | None,
    path: str | Path | None,
    *,
    unseen: int | None = None,
) -> tuple[np.ndarray, list[str] | None]:
    """Turn label strings into targets: class indices (int64) or numbers (float32).

    ``class_names`` fixes the mapping (e.g. the training file's classes for a test file); a label
    outside it is an error naming its line, or with ``unseen`` given (per-step labels:
    :data:`UNSEEN`) becomes that index. Without it the classes follow :func:`label_order`.
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
        k = index.get(s, unseen)
        if k is None:
            raise SequenceFileError(
                f"label {s!r} is not one of the classes {names}", path, line
            )
        out[i] = k
    return out, names
