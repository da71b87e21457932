"""Read and write labelled sequences as NumPy ``.npz`` archives.

Arrays in the archive:

- ``X`` (or ``x``): (N, L, F) or (N, L) (then F = 1), any real dtype; ``NaN`` = missing.
- ``lengths`` (optional): (N,) integers, 1 <= lengths[i] <= L; sequence i is ``X[i, :lengths[i]]``.
  Without it every sequence has length L.
- ``y`` (optional): (N,) labels. Strings or integers make a classification task (classes in
  sorted order, numerically for numbers), a float dtype a regression task, unless ``task=``
  (or a ``task`` array) says otherwise. Without ``y`` the data is unlabelled.
  ``y`` of shape (N, L) holds a label per step (tagging; with ``lengths``, the labels past each
  length are ignored): class labels only, strings, integers or whole-number floats.
- ``class_names`` (optional): (C,) strings; then integer ``y`` are indices into it.
- ``feature_names`` (optional): (F,) strings.
- ``task`` (optional): a 0-d string array, ``"classification"`` or ``"regression"``.
- ``ids`` (optional): (N,) sequence ids, strings or numbers (read as strings).

Archives are read by :func:`rnnkit.data.npy.read_npz_arrays`, which never unpickles: store
strings as fixed-width unicode arrays (``np.array(["a", "b"])``), not object arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rnnkit.data.npy import NpyFormatError, read_npz_arrays
from rnnkit.data.sequences.dataset import SequenceDataset
from rnnkit.data.sequences.errors import SequenceFileError
from rnnkit.data.sequences.labels import (
    UNSEEN,
    Task,
    encode_labels,
    label_kind,
    label_order,
    split_steps,
    step_classes,
)

__all__ = ["read_npz", "write_npz"]


def _labels(y: np.ndarray, file_names: list[str] | None, task: Task | None,
            class_names: Sequence[str] | None, path: Path, unseen: int | None = None):
    if y.dtype.kind == "S":
        y = y.astype(str)
    if y.dtype.kind not in "biufU":
        raise SequenceFileError(f"y has dtype {y.dtype}; expected numbers or strings", path)
    if task is None:
        task = "regression" if y.dtype.kind == "f" else "classification"
    if task == "regression":
        if y.dtype.kind not in "biuf":
            raise SequenceFileError(f"regression targets y have dtype {y.dtype}", path)
        if not np.isfinite(y).all():
            raise SequenceFileError("y holds a missing or infinite regression target", path)
        return y.astype(np.float32), None
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise SequenceFileError("class labels y are floats that are not whole numbers", path)
        y = y.astype(np.int64)
    if file_names is not None:
        if y.dtype.kind not in "biu":
            raise SequenceFileError("with class_names in the file, y must hold indices", path)
        if y.size and (y.min() < 0 or y.max() >= len(file_names)):
            raise SequenceFileError(
                f"y spans {y.min()}..{y.max()}; class_names has {len(file_names)} entries", path
            )
        labels = [file_names[int(k)] for k in y]
        order = file_names
    else:
        labels = [str(v) for v in y.tolist()]
        order = label_order(labels)
    return encode_labels(labels, [None] * len(labels), task,
                         class_names if class_names is not None else order, path,
                         unseen=unseen)


def _step_labels(y: np.ndarray, lengths: np.ndarray, file_names: list[str] | None,
                 task: Task | None, class_names: Sequence[str] | None,
                 path: Path) -> tuple[list[np.ndarray], list[str] | None]:
    """``y (N, L)``: the labels of each sequence's valid steps as class indices, one (L_i,)
    array per sequence; a label outside ``class_names`` is :data:`UNSEEN`."""
    valid = np.arange(y.shape[1]) < lengths[:, None]  # (N, L)
    flat = y[valid]  # (sum L_i,): the sequences' steps one after the other
    starts = np.concatenate([[0], np.cumsum(lengths)])

    def where(i: int) -> str:
        seq = int(np.searchsorted(starts, i, side="right")) - 1
        return f" at sequence {seq}, step {i - starts[seq]}"

    if flat.dtype.kind == "f":
        missing = np.flatnonzero(~np.isfinite(flat))
        if missing.size:
            raise SequenceFileError(f"y holds a missing label{where(int(missing[0]))}", path)
    if task == "regression" or flat.dtype.kind == "f":
        step_classes([str(v) for v in flat.tolist()], [None] * flat.size, task, path, where)
    codes, names = _labels(flat, file_names, "classification", class_names, path, UNSEEN)
    return split_steps(codes, lengths), names


def _ids(arrays: dict[str, np.ndarray], n: int, path: Path) -> list[str] | None:
    """The archive's ``ids`` as strings, one per sequence, or ``None`` when it has none."""
    if "ids" not in arrays:
        return None
    ids = arrays["ids"]
    if ids.shape != (n,) or ids.dtype.kind not in "biufUS":
        raise SequenceFileError(
            f"ids has shape {ids.shape} and dtype {ids.dtype}; expected ({n},) strings or "
            "numbers, one id per sequence", path,
        )
    return [str(i) for i in (ids.astype(str) if ids.dtype.kind == "S" else ids).tolist()]


def read_npz(
    path: str | Path,
    *,
    task: Task | None = None,
    class_names: Sequence[str] | None = None,
    labels: str = "auto",
) -> SequenceDataset:
    """Read an ``.npz`` archive (see the module docstring for its arrays).

    Args:
        path: the file.
        task: ``"classification"`` or ``"regression"``; inferred from ``y``'s dtype when ``None``.
        class_names: fixed class order (e.g. the training file's); a label outside is an error,
            or for labels per step :data:`~rnnkit.data.sequences.labels.UNSEEN` (-1).
        labels: ``"auto"`` (by the shape of ``y``: (N,) one label per sequence, (N, L) one
            per step), ``"sequence"`` or ``"step"`` (``y`` must have that shape).

    Returns:
        A :class:`~rnnkit.data.sequences.SequenceDataset`; its sequences are views into ``X``,
        its ``ids`` the archive's ``ids`` as strings (``None`` without them).
    """
    path = Path(path)
    try:
        arrays = read_npz_arrays(path)
    except NpyFormatError as e:
        raise SequenceFileError(e.reason, path) from None
    key = "X" if "X" in arrays else "x" if "x" in arrays else None
    if key is None:
        raise SequenceFileError(f"no array 'X' in the archive (found {sorted(arrays)})", path)
    x = arrays[key]
    if x.ndim in (2, 3) and x.shape[0] == 0:
        raise SequenceFileError(f"X has shape {x.shape}: the file holds no sequences", path)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3 or 0 in x.shape:
        raise SequenceFileError(
            f"X has shape {arrays[key].shape}; expected (N, L, F) or (N, L), none zero", path
        )
    if x.dtype.kind not in "biuf":
        raise SequenceFileError(f"X has dtype {x.dtype}; expected numbers", path)
    x = np.ascontiguousarray(x, dtype=np.float32)  # (N, L, F)
    n, length, f = x.shape
    if np.isinf(x).any():
        raise SequenceFileError("X holds an infinite value", path)
    if "lengths" in arrays:
        lengths = arrays["lengths"]
        if lengths.shape != (n,) or lengths.dtype.kind not in "iu":
            raise SequenceFileError(
                f"lengths has shape {lengths.shape} and dtype {lengths.dtype}; expected ({n},) "
                "integers", path,
            )
        bad = np.flatnonzero((lengths < 1) | (lengths > length))
        if bad.size:
            raise SequenceFileError(
                f"lengths[{bad[0]}] = {lengths[bad[0]]}; expected 1..{length} (X is {x.shape})",
                path,
            )
        sequences = [x[i, : int(k)] for i, k in enumerate(lengths)]
    else:
        lengths = np.full(n, length, dtype=np.int64)
        sequences = list(x)
    feature_names = None
    if "feature_names" in arrays:
        feature_names = [str(s) for s in arrays["feature_names"].reshape(-1)]
        if len(feature_names) != f:
            raise SequenceFileError(f"{len(feature_names)} feature_names for F = {f}", path)
    file_names = None
    if "class_names" in arrays:
        file_names = [str(s) for s in arrays["class_names"].reshape(-1)]
    if task is None and "task" in arrays:
        task = str(arrays["task"])
        if task not in ("classification", "regression"):
            raise SequenceFileError(f"task {task!r} in the archive is not known", path)
    label_kind(labels)
    targets, names, per_step = None, None, False
    if "y" in arrays:
        y = arrays["y"]
        shapes = {"sequence": (n,), "step": (n, length)}
        wanted = [k for k in shapes if labels in ("auto", k)]
        if y.shape not in [shapes[k] for k in wanted]:
            expected = " or ".join(
                f"{'(N,)' if k == 'sequence' else '(N, L)'} = {shapes[k]} for a label per {k}"
                for k in wanted)
            raise SequenceFileError(f"y has shape {y.shape}; expected {expected}", path)
        per_step = y.shape == shapes["step"]
        if per_step:
            targets, names = _step_labels(y, lengths.astype(np.int64), file_names, task,
                                          class_names, path)
        else:
            targets, names = _labels(y, file_names, task, class_names, path)
    final: Task = "classification" if per_step else task or (
        "regression" if targets is not None and names is None else "classification")
    return SequenceDataset(sequences, targets, final, names, feature_names, str(path),
                           _ids(arrays, n, path), per_step or labels == "step")


def write_npz(
    dataset: SequenceDataset,
    path: str | Path,
    *,
    compressed: bool = False,
    ids: Sequence[str] | None = None,
) -> None:
    """Write ``dataset`` so that :func:`read_npz` reads it back unchanged: ``X`` padded with 0,
    ``lengths``, ``y`` (class indices with ``class_names``, or regression targets; (N, L) for
    labels per step) and ``ids``.

    Args:
        dataset: the sequences to write.
        path: the archive (NumPy adds ``.npz`` when the name lacks it).
        compressed: deflate the arrays.
        ids: N sequence ids to store instead of ``dataset.ids`` (``None``: ``dataset.ids``,
            written when the dataset has them).

    Raises:
        ValueError: ``ids`` does not hold one id per sequence.
    """
    if ids is None:
        ids = dataset.ids
    elif isinstance(ids, str) or len(ids) != len(dataset):
        raise ValueError(f"ids must hold one id per sequence ({len(dataset)}), got {ids!r:.60}")
    x, lengths = dataset.padded()
    arrays = {"X": x, "lengths": lengths, "feature_names": np.array(dataset.feature_names),
              "task": np.array(dataset.task)}
    if dataset.targets is not None:
        y = dataset.targets
        if dataset.step_labels:
            y = np.zeros(x.shape[:2], dtype=np.int64)  # (N, L): 0 past each length
            for i, tags in enumerate(dataset.targets):
                y[i, : len(tags)] = tags
        arrays["y"] = y
        if dataset.class_names is not None:
            arrays["class_names"] = np.array(dataset.class_names)
    if ids is not None:
        arrays["ids"] = np.array([str(i) for i in ids])
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
