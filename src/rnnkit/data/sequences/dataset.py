"""The common container for labelled sequence data: :class:`SequenceDataset`.

Every reader (UEA/UCR ``.ts``, CSV long and wide form, NPZ) returns a :class:`SequenceDataset`:
a list of float32 arrays of shape (L_i, F) (lengths may differ), one target per sequence (or,
with ``step_labels``, a class per step), the names that give those numbers meaning and, where
the file has them, the sequence ids.
``NaN`` marks a missing value; :mod:`rnnkit.data.sequences.standardizer` fills them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import InitVar, dataclass
from typing import Any

import numpy as np

from rnnkit.data.sequences.errors import SequenceFileError
from rnnkit.data.sequences.labels import TASKS, UNSEEN, Task

__all__ = ["SequenceDataset"]


@dataclass(eq=False, repr=False)
class SequenceDataset:
    """Labelled sequences of varying length: the common result of every reader.

    Args:
        sequences: N arrays of shape (L_i, F), float32 (converted); a 1-D array is (L_i, 1).
            ``NaN`` marks a missing value. Every L_i >= 1, every F the same.
        targets: (N,) class indices (int64, 0..C-1) for classification, numbers (float32) for
            regression, or ``None`` for unlabelled data (e.g. to predict). With
            ``step_labels``: N arrays (L_i,) of class indices, one per step, where
            :data:`~rnnkit.data.sequences.labels.UNSEEN` (-1) marks a label the training
            data never had.
        task: ``"classification"`` or ``"regression"``.
        class_names: C label strings as given in the file; ``targets`` index into it. Filled with
            ``"0".."C-1"`` when omitted for classification; ``None`` for regression.
        feature_names: F names; ``dim_0..dim_{F-1}`` when omitted.
        source: where the data came from (a path), for messages.
        ids: N sequence ids as the file gives them (a long CSV's id column, an NPZ ``ids``
            array), in the order of ``sequences``; ``None`` when the file has none.
        step_labels: the labels are per step (tagging), not per sequence; only for
            classification.
        check: validate and convert (readers and :meth:`subset` skip it for speed).

    Attributes:
        sequences, targets, task, class_names, feature_names, source, ids, step_labels: as
            given (after conversion), kept by :meth:`subset`, :meth:`with_sequences` and
            :meth:`~rnnkit.data.sequences.Standardizer.apply`.
        lengths: (N,) int64, each L_i.
        num_features: F.
        num_classes: C, or ``None`` for regression.

    Indexing gives ``(sequence (L_i, F), target)`` (with ``step_labels``: ``target (L_i,)``)
    so the dataset can feed a torch DataLoader.

    Example::

        >>> ds = SequenceDataset([np.zeros((3, 2)), np.ones((5, 2))], np.array([0, 1]),
        ...                      class_names=["low", "high"], ids=["a", "b"])
        >>> ds.subset([1]).ids, ds.padded()[0].shape
        (['b'], (2, 5, 2))
    """

    sequences: list[np.ndarray]
    targets: np.ndarray | list[np.ndarray] | None
    task: Task = "classification"
    class_names: list[str] | None = None
    feature_names: list[str] | None = None
    source: str | None = None
    ids: list[str] | None = None
    step_labels: bool = False
    check: InitVar[bool] = True

    def __post_init__(self, check: bool) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        if self.step_labels and self.task != "classification":
            raise ValueError("per-step labels must be class labels; found task "
                             f"{self.task!r} (per-step regression is not supported)")
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
        if self.ids is not None:
            if isinstance(self.ids, str):
                raise ValueError("ids must hold one id per sequence, not be one string")
            ids = [str(i) for i in self.ids]
            if len(ids) != len(seqs):
                raise SequenceFileError(
                    f"{len(ids)} ids for {len(seqs)} sequences; expected one id per sequence",
                    where,
                )
            self.ids = ids
        if self.targets is None:
            return
        if self.step_labels:
            self._validate_steps()
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

    def _validate_steps(self) -> None:
        if isinstance(self.targets, np.ndarray) and self.targets.dtype != object:
            raise ValueError(f"per-step targets are N arrays (L_i,), one per sequence; got an "
                             f"array of shape {self.targets.shape}")
        if len(self.targets) != len(self.sequences):
            raise ValueError(f"{len(self.targets)} per-step targets for {len(self.sequences)} "
                             "sequences")
        steps = []
        for i, (s, t) in enumerate(zip(self.sequences, self.targets, strict=True)):
            t = np.asarray(t)
            if t.shape != (len(s),):
                raise ValueError(f"the targets of sequence {i} have shape {t.shape}; expected "
                                 f"({len(s)},), one per step")
            if t.dtype.kind not in "biu":
                raise ValueError(f"per-step targets must be class indices, got dtype {t.dtype}")
            steps.append(t.astype(np.int64))
        self.targets = steps
        flat = np.concatenate(steps)
        if self.class_names is None:
            self.class_names = [str(k) for k in range(int(flat.max(initial=0)) + 1)]
        self.class_names = [str(n) for n in self.class_names]
        lo, hi = int(flat.min()), int(flat.max())
        if lo < UNSEEN or hi >= len(self.class_names):
            raise ValueError(f"class indices span {lo}..{hi}; expected {UNSEEN} (a label the "
                             f"training data never had) or 0..{len(self.class_names) - 1}")

    def __len__(self) -> int:
        return len(self.sequences)

    def __repr__(self) -> str:
        lengths = self.lengths
        task = f"{self.task} per step" if self.step_labels else self.task
        return (f"SequenceDataset(n={len(self)}, task={task!r}, "
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
        """The sequences at ``indices`` (arrays shared, not copied) with their targets and ids,
        and the same names."""
        idx = np.asarray(indices, dtype=np.int64)
        targets = self.targets
        if targets is not None:
            targets = [targets[i] for i in idx] if self.step_labels else targets[idx]
        return SequenceDataset(
            [self.sequences[i] for i in idx], targets,
            self.task, self.class_names, self.feature_names, self.source,
            None if self.ids is None else [self.ids[i] for i in idx], self.step_labels,
            check=False,
        )

    def with_sequences(self, sequences: Sequence[np.ndarray]) -> SequenceDataset:
        """A dataset of ``sequences`` (N arrays (L_i, F), float32, e.g. these transformed)
        with this one's targets, names, source and ids: the way to derive a dataset."""
        if len(sequences) != len(self):
            raise ValueError(f"{len(sequences)} sequences for a dataset of {len(self)}")
        return SequenceDataset(
            list(sequences), self.targets, self.task, self.class_names, self.feature_names,
            self.source, self.ids, self.step_labels, check=False,
        )
