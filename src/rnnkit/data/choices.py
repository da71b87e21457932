"""The automatic choices every source makes the same way: batch size, validation split, and the
digest that ties a checkpoint to its training file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

__all__ = ["MIN_VAL_SEQUENCES", "auto_batch_size", "auto_val_fraction", "file_digest",
           "target_statistics"]

MIN_VAL_SEQUENCES = 50  # below this a validation accuracy moves by > 2 points per sequence


def auto_batch_size(num_train: int) -> int:
    """``data.batch_size=auto``: a quarter of the training sequences, between 8 and 64 (and at
    most all of them).

    Small data needs small batches to learn in a step budget (measured on the UCR problems in
    benchmarks/bench_small.py); large data gains speed from larger ones.
    """
    return int(max(1, min(64, max(8, num_train // 4), num_train)))


def auto_val_fraction(num_sequences: int, has_test: bool,
                      what: str = "training sequences") -> tuple[float, str]:
    """``data.val_fraction=auto``: the fraction held out for validation, and why.

    * 10 % when that is at least :data:`MIN_VAL_SEQUENCES` sequences;
    * else, with a test file: none. A split of a few sequences picks checkpoints by noise and
      costs training data; the model trains on everything and keeps its final weights;
    * else (no test file, so the held-out part is also what is reported): enough for
      :data:`MIN_VAL_SEQUENCES` sequences, at most 25 %.
    """
    n = num_sequences
    if round(0.1 * n) >= MIN_VAL_SEQUENCES:
        return 0.1, f"10% of the {n} {what} held out for validation"
    if has_test:
        return 0.0, (
            f"no validation split: 10% of {n} would be {round(0.1 * n)}, fewer than "
            f"{MIN_VAL_SEQUENCES}; training on all {n} and keeping the final weights "
            "(set --val-fraction to hold some out)")
    fraction = min(0.25, max(0.1, MIN_VAL_SEQUENCES / max(n, 1)))
    return fraction, (
        f"{fraction:.0%} of the {n} {what} held out (no test data: the reported figure is "
        "measured on them)")


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex), read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def target_statistics(targets: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation (1 if constant) of regression targets."""
    y = np.asarray(targets, dtype=np.float64)
    mean, std = float(y.mean()), float(y.std())
    return mean, std if std > 1e-12 * max(1.0, abs(mean)) else 1.0
