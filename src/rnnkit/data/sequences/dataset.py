"""The common container for labelled sequence data, its missing-value rule and standardisation.

Every reader (UEA/UCR ``.ts``, CSV long and wide form, NPZ) returns a :class:`SequenceDataset`:
a list of float32 arrays of shape (L_i, F) (lengths may differ), one target per sequence, and
the names that give those numbers meaning.

Missing values
--------------
A missing value (``?`` or ``NaN`` in a file, an empty CSV cell) is kept as ``NaN`` by the readers
and filled by :class:`Standardizer` when data is prepared for a model:

1. within each sequence and feature, the last observed value is carried forward;
2. values still missing (before the first observation, or a feature missing for the whole
   sequence) are set to the training mean of that feature, which is 0 after standardisation.

Standardisation subtracts the per-feature mean and divides by the per-feature standard deviation,
both computed over every observed (non-missing) step of the *training* split only. A feature that
is constant or never observed in training keeps a standard deviation of 1.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Sequence
from dataclasses import InitVar, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

__all__ = [
    "SequenceDataset",
    "SequenceFileError",
    "Standardizer",
    "Task",
    "forward_fill",
    "read_sequences",
    "text_lines",
]

Task = Literal["classification", "regression"]
TASKS = ("classification", "regression")


class SequenceFileError(ValueError):
    """A sequence file could not be read. The message names the file, the line and the reason.

    Attributes:
        path: the file (``None`` when not from a file).
        line: 1-based line number, or ``None`` when the problem is not on one line.
        reason: what was expected and what was found.
    """

    def __init__(self, reason: str, path: str | Path | None = None, line: int | None = None):
        self.path = None if path is None else str(path)
        self.line = line
        self.reason = reason
        where = self.path or "<data>"
        if line is not None:
            where = f"{where}, line {line}"
        super().__init__(f"{where}: {reason}")


def _not_text(path: str | Path, encoding: str) -> SequenceFileError:
    """The error for a file that is not ``encoding`` text, naming the first line that is not."""
    name = "UTF-8" if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig") else encoding
    decoder = codecs.getincrementaldecoder(encoding)()
    lineno = 0
    with open(path, "rb") as f:
        try:
            for raw in f:
                lineno += 1
                decoder.decode(raw)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as e:
            found = f"the byte 0x{e.object[e.start:e.end].hex()}"
            return SequenceFileError(
                f"expected {name} text, found {found}: the file is not {name} text; save it as "
                f"{name}", path, lineno,
            )
    return SequenceFileError(f"expected {name} text, found bytes that are not", path)


def text_lines(path: str | Path, encoding: str, newline: str | None = None) -> Iterator[str]:
    """The lines of a text file, like iterating over ``open(path, encoding=encoding)``; a byte
    that is not ``encoding`` raises :class:`SequenceFileError` naming file and line (not
    ``UnicodeDecodeError``). Wrap it in ``contextlib.closing`` to close the file early."""
    with open(path, encoding=encoding, newline=newline) as f:
        try:
            yield from f
        except UnicodeDecodeError:
            raise _not_text(path, encoding) from None


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


@dataclass(eq=False, repr=False)
class SequenceDataset:
    """Labelled sequences of varying length: the common result of every reader.

    Args:
        sequences: N arrays of shape (L_i, F), float32 (converted); a 1-D array is (L_i, 1).
            ``NaN`` marks a missing value. Every L_i >= 1, every F the same.
        targets: (N,) class indices (int64, 0..C-1) for classification, numbers (float32) for
            regression, or ``None`` for unlabelled data (e.g. to predict).
        task: ``"classification"`` or ``"regression"``.
        class_names: C label strings as given in the file; ``targets`` index into it. Filled with
            ``"0".."C-1"`` when omitted for classification; ``None`` for regression.
        feature_names: F names; ``dim_0..dim_{F-1}`` when omitted.
        source: where the data came from (a path), for messages.
        check: validate and convert (readers and :meth:`subset` skip it for speed).

    Indexing gives ``(sequence (L_i, F), target)`` so the dataset can feed a torch DataLoader.
    """

    sequences: list[np.ndarray]
    targets: np.ndarray | None
    task: Task = "classification"
    class_names: list[str] | None = None
    feature_names: list[str] | None = None
    source: str | None = None
    check: InitVar[bool] = True

    def __post_init__(self, check: bool) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        if check:
            self._validate()

    def _validate(self) -> None:
        where = self.source
        if len(self.sequences) == 0:
            raise SequenceFileError("no sequences", where)
        seqs = []
        for i, s in enumerate(self.sequences):
            a = np.asarray(s, dtype=np.float32)
            if a.ndim == 1:
                a = a[:, None]
            if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
                raise SequenceFileError(
                    f"sequence {i} has shape {a.shape}; expected (L, F) with L >= 1, F >= 1", where
                )
            if np.isinf(a).any():
                raise SequenceFileError(f"sequence {i} contains an infinite value", where)
            seqs.append(np.ascontiguousarray(a))
        widths = {a.shape[1] for a in seqs}
        if len(widths) > 1:
            raise SequenceFileError(
                f"sequences have different feature counts {sorted(widths)}", where
            )
        self.sequences = seqs
        f = seqs[0].shape[1]
        if self.feature_names is None:
            self.feature_names = [f"dim_{j}" for j in range(f)]
        elif len(self.feature_names) != f:
            raise ValueError(f"{len(self.feature_names)} feature_names for {f} features")
        self.feature_names = [str(n) for n in self.feature_names]
        if self.targets is None:
            return
        t = np.asarray(self.targets)
        if t.shape != (len(seqs),):
            raise ValueError(f"targets have shape {t.shape}; expected ({len(seqs)},)")
        if self.task == "regression":
            self.targets = t.astype(np.float32)
            if not np.isfinite(self.targets).all():
                raise SequenceFileError("a regression target is missing or not finite", where)
            self.class_names = None
            return
        if t.dtype.kind not in "biuf" or (t.dtype.kind == "f" and not np.all(t == np.round(t))):
            raise ValueError(f"classification targets must be class indices, got dtype {t.dtype}")
        self.targets = t.astype(np.int64)
        if self.class_names is None:
            self.class_names = [str(k) for k in range(int(self.targets.max()) + 1)]
        self.class_names = [str(n) for n in self.class_names]
        lo, hi = int(self.targets.min()), int(self.targets.max())
        if lo < 0 or hi >= len(self.class_names):
            raise ValueError(
                f"class indices span {lo}..{hi}; expected 0..{len(self.class_names) - 1}"
            )

    def __len__(self) -> int:
        return len(self.sequences)

    def __repr__(self) -> str:
        lengths = self.lengths
        return (f"SequenceDataset(n={len(self)}, task={self.task!r}, "
                f"features={self.num_features}, classes={self.num_classes}, "
                f"lengths={lengths.min()}..{lengths.max()}, labelled={self.labelled}, "
                f"source={self.source!r})")

    def __getitem__(self, i: int) -> tuple[np.ndarray, Any]:
        return self.sequences[i], None if self.targets is None else self.targets[i]

    @property
    def lengths(self) -> np.ndarray:
        """(N,) int64: the length L_i of each sequence."""
        return np.fromiter((len(s) for s in self.sequences), dtype=np.int64, count=len(self))

    @property
    def num_features(self) -> int:
        """F, the number of values per time step."""
        return int(self.sequences[0].shape[1])

    @property
    def num_classes(self) -> int | None:
        """C for classification, ``None`` for regression."""
        return None if self.class_names is None else len(self.class_names)

    @property
    def labelled(self) -> bool:
        return self.targets is not None

    def padded(
        self, indices: Sequence[int] | np.ndarray | None = None, pad_value: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Stack sequences into one array.

        Returns:
            x: (N, L_max, F) float32, steps past each length set to ``pad_value``.
            lengths: (N,) int64.
        """
        idx = range(len(self)) if indices is None else indices
        seqs = [self.sequences[i] for i in idx]
        lengths = np.array([len(s) for s in seqs], dtype=np.int64)
        x = np.full((len(seqs), int(lengths.max(initial=0)), self.num_features), pad_value,
                    dtype=np.float32)  # (N, L_max, F)
        for i, s in enumerate(seqs):
            x[i, : len(s)] = s
        return x, lengths

    def subset(self, indices: Sequence[int] | np.ndarray) -> SequenceDataset:
        """The sequences at ``indices`` (arrays shared, not copied), with the same names."""
        idx = np.asarray(indices, dtype=np.int64)
        return SequenceDataset(
            [self.sequences[i] for i in idx],
            None if self.targets is None else self.targets[idx],
            self.task, self.class_names, self.feature_names, self.source, check=False,
        )


def forward_fill(x: np.ndarray) -> np.ndarray:
    """Carry the last observed value forward along axis 0 of ``x`` (L, F); leading NaNs stay."""
    mask = np.isnan(x)
    if not mask.any():
        return x
    steps = np.where(mask, 0, np.arange(x.shape[0])[:, None])  # (L, F)
    np.maximum.accumulate(steps, axis=0, out=steps)
    return x[steps, np.arange(x.shape[1])]


class Standardizer:
    """Per-feature standardisation, fitted on the training split, applied everywhere after.

    ``transform`` computes ``(x - mean) / std`` and then fills missing values by the rule in this
    module's docstring (carry forward, else 0 = the training mean). Save it with :meth:`to_dict`
    (plain lists, safe in a ``weights_only`` checkpoint) and restore it with :meth:`from_dict`.

    Args:
        mean: (F,) per-feature mean.
        std: (F,) per-feature standard deviation, all > 0.
    """

    def __init__(self, mean: Sequence[float] | np.ndarray, std: Sequence[float] | np.ndarray):
        self.mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        self.std = np.asarray(std, dtype=np.float64).reshape(-1)
        if self.mean.shape != self.std.shape or self.mean.size == 0:
            raise ValueError(f"mean {self.mean.shape} and std {self.std.shape} must match, F >= 1")
        if not (np.isfinite(self.mean).all() and np.isfinite(self.std).all()):
            raise ValueError("mean and std must be finite")
        if (self.std <= 0).any():
            raise ValueError("std must be > 0")

    @classmethod
    def fit(cls, data: SequenceDataset | Sequence[np.ndarray]) -> Standardizer:
        """Mean and std (population) per feature over every observed step of ``data``."""
        seqs = data.sequences if isinstance(data, SequenceDataset) else list(data)
        allsteps = np.concatenate([np.asarray(s, dtype=np.float64) for s in seqs])  # (sum L, F)
        observed = ~np.isnan(allsteps)
        count = observed.sum(axis=0)
        total = np.where(observed, allsteps, 0.0).sum(axis=0)
        mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
        dev = np.where(observed, allsteps - mean, 0.0)
        var = np.divide((dev**2).sum(axis=0), count, out=np.zeros_like(total), where=count > 0)
        std = np.sqrt(var)
        std = np.where(std > 1e-12 * np.maximum(1.0, np.abs(mean)), std, 1.0)
        return cls(mean, std)

    @classmethod
    def identity(cls, num_features: int) -> Standardizer:
        """Mean 0, std 1: fills missing values by the same rule but leaves values as they are."""
        return cls(np.zeros(num_features), np.ones(num_features))

    @property
    def num_features(self) -> int:
        return int(self.mean.size)

    def transform(self, x: np.ndarray) -> np.ndarray:
        """(L, F) with NaNs -> (L, F) float32, standardised, no NaNs."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(
                f"expected a sequence of shape (L, {self.num_features}), got {x.shape}"
            )
        z = forward_fill((x - self.mean) / self.std)
        return np.nan_to_num(z, nan=0.0).astype(np.float32)

    def apply(self, dataset: SequenceDataset) -> SequenceDataset:
        """A new dataset with every sequence transformed (targets and names shared)."""
        if dataset.num_features != self.num_features:
            raise ValueError(
                f"{dataset.source or 'data'} has {dataset.num_features} features; "
                f"the standardizer was fitted on {self.num_features}"
            )
        return SequenceDataset(
            [self.transform(s) for s in dataset.sequences], dataset.targets, dataset.task,
            dataset.class_names, dataset.feature_names, dataset.source, check=False,
        )

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Standardizer:
        missing = {"mean", "std"} - set(state)
        if missing:
            raise ValueError(f"standardizer state lacks {sorted(missing)}")
        return cls(state["mean"], state["std"])

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Standardizer) and np.array_equal(self.mean, other.mean)
                and np.array_equal(self.std, other.std))

    def __repr__(self) -> str:
        return f"Standardizer(num_features={self.num_features})"


FORMATS = ("ts", "npz", "csv", "csv-long", "csv-wide", "tsv")


def read_sequences(path: str | Path, format: str | None = None, **options: Any) -> SequenceDataset:
    """Read labelled sequences from a file, choosing the reader by extension or ``format``.

    Args:
        path: a ``.ts`` (UEA/UCR), ``.csv``/``.tsv`` or ``.npz`` file.
        format: one of ``ts``, ``npz``, ``csv`` (long form if an id column is named or found,
            else wide form), ``csv-long``, ``csv-wide``, ``tsv`` (wide, tab-separated, label
            first: the UCR 2018 layout). Default: from the extension.
        **options: passed to the reader (:func:`~rnnkit.data.sequences.ts.read_ts`,
            :func:`~rnnkit.data.sequences.tabular.read_csv`,
            :func:`~rnnkit.data.sequences.npz.read_npz`), e.g. ``task``, ``class_names``,
            ``id_col``, ``label_col``.
    """
    from rnnkit.data.sequences import npz, tabular, ts

    fmt = (format or Path(path).suffix.lstrip(".")).lower()
    if fmt == "ts":
        return ts.read_ts(path, **options)
    if fmt == "npz":
        return npz.read_npz(path, **options)
    if fmt == "csv":
        return tabular.read_csv(path, **options)
    if fmt == "csv-long":
        return tabular.read_csv_long(path, **options)
    if fmt in ("csv-wide", "tsv"):
        if fmt == "tsv":
            options.setdefault("delimiter", "\t")
        return tabular.read_csv_wide(path, **options)
    raise ValueError(
        f"cannot tell the format of {str(path)!r}; pass format= one of {FORMATS}"
    )
