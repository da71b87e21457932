"""The missing-value rule and per-feature standardisation of sequence data.

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

from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnkit.data.sequences.dataset import SequenceDataset

__all__ = ["Standardizer", "forward_fill"]


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
        """A new dataset with every sequence transformed (targets, names and ids shared)."""
        if dataset.num_features != self.num_features:
            raise ValueError(
                f"{dataset.source or 'data'} has {dataset.num_features} features; "
                f"the standardizer was fitted on {self.num_features}"
            )
        return dataset.with_sequences([self.transform(s) for s in dataset.sequences])

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
