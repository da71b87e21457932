"""Batches of variable-length sequences: a seeded shuffle, length buckets and padding.

Padding a batch to its longest sequence wastes work on the padded steps. Batching sequences of
similar length wastes little: :class:`BucketBatchSampler` takes the (shuffled) order of its
sampler in chunks of ``chunk_batches * batch_size`` indices, sorts each chunk by length, cuts it
into batches and shuffles the order of those batches. Every index appears exactly once per
epoch; the batches depend only on the seed and the epoch.

It is a ``torch.utils.data.BatchSampler`` with ``sampler``/``batch_size``/``drop_last``
arguments, so Lightning can put a ``DistributedSampler`` under it for multi-process training
(each process then buckets its own share) and call ``set_epoch`` on its sampler.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import BatchSampler, Sampler

__all__ = ["BucketBatchSampler", "SeededShuffleSampler", "collate_sequences"]


class SeededShuffleSampler(Sampler[int]):
    """A random permutation of ``range(num_samples)`` determined by ``(seed, epoch)``.

    Unlike ``RandomSampler`` the order does not depend on how many epochs ran before in this
    process, so a resumed run sees the same order. Lightning calls :meth:`set_epoch`.
    """

    def __init__(self, num_samples: int, seed: int = 0):
        if num_samples < 0:
            raise ValueError(f"num_samples must be >= 0, got {num_samples}")
        self.num_samples, self.seed, self.epoch = int(num_samples), int(seed), 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng([self.seed, self.epoch])
        return iter(rng.permutation(self.num_samples).tolist())

    def __len__(self) -> int:
        return self.num_samples


class BucketBatchSampler(BatchSampler):
    """Batches of indices whose sequences have similar lengths.

    Args:
        sampler: yields dataset indices in the order to draw them (e.g.
            :class:`SeededShuffleSampler` for training, ``SequentialSampler`` for evaluation).
        batch_size: indices per batch.
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        lengths: (len(dataset),) sequence lengths, indexed by dataset index.
        chunk_batches: batches per sorted chunk; larger chunks pad less and shuffle less.
        shuffle: shuffle the order of batches within each chunk (seeded by ``seed`` and the
            sampler's ``epoch`` attribute, which ``set_epoch`` sets).
        seed: seed for the batch-order shuffle.

    Outputs:
        lists of indices, at most ``batch_size`` each, covering every index the sampler yields
        exactly once.
    """

    def __init__(
        self,
        sampler: Sampler[int] | Sequence[int],
        batch_size: int,
        drop_last: bool = False,
        *,
        lengths: Sequence[int] | np.ndarray,
        chunk_batches: int = 50,
        shuffle: bool = True,
        seed: int = 0,
    ):
        super().__init__(sampler, batch_size, drop_last)
        if chunk_batches < 1:
            raise ValueError(f"chunk_batches must be >= 1, got {chunk_batches}")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        if self.lengths.ndim != 1:
            raise ValueError(f"lengths must be 1-D, got shape {self.lengths.shape}")
        self.chunk_batches, self.shuffle, self.seed = int(chunk_batches), bool(shuffle), int(seed)

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch of the underlying sampler (when it has one)."""
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[list[int]]:
        order = np.fromiter(iter(self.sampler), dtype=np.int64)
        epoch = int(getattr(self.sampler, "epoch", 0))
        rng = np.random.default_rng([self.seed, epoch])
        chunk = self.chunk_batches * self.batch_size
        for start in range(0, len(order), chunk):
            part = order[start : start + chunk]
            part = part[np.argsort(self.lengths[part], kind="stable")]
            batches = [part[i : i + self.batch_size] for i in range(0, len(part), self.batch_size)]
            if self.drop_last and len(batches[-1]) < self.batch_size:
                batches.pop()
            if self.shuffle:
                batches = [batches[i] for i in rng.permutation(len(batches))]
            for b in batches:
                yield b.tolist()

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def collate_sequences(
    batch: Sequence[tuple[Any, Any]], pad_value: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Pad a list of ``(sequence (L_i, F), target)`` pairs into one batch.

    Returns:
        x: (N, L_max, F) float32, steps past each length set to ``pad_value`` (0).
        lengths: (N,) int64.
        y: (N,) int64 for integer targets (classification), float32 otherwise (regression);
            ``None`` when the targets are ``None`` (unlabelled data).
    """
    seqs = [torch.as_tensor(s, dtype=torch.float32) for s, _ in batch]
    lengths = torch.tensor([s.shape[0] for s in seqs], dtype=torch.int64)  # (N,)
    x = torch.full((len(seqs), int(lengths.max()), seqs[0].shape[1]), pad_value,
                   dtype=torch.float32)  # (N, L_max, F)
    for i, s in enumerate(seqs):
        x[i, : s.shape[0]] = s
    targets = [t for _, t in batch]
    if any(t is None for t in targets):
        return x, lengths, None
    t = np.asarray(targets)
    if t.dtype.kind in "biu":
        return x, lengths, torch.as_tensor(t, dtype=torch.int64)
    return x, lengths, torch.as_tensor(t, dtype=torch.float32)


def make_loader(
    dataset: Any, lengths: Sequence[int] | np.ndarray, batch_size: int, collate: Any, *,
    train: bool, bucket: bool, seed: int, num_workers: int = 0,
) -> Any:
    """A DataLoader over ``dataset``: shuffled with ``seed`` when ``train``, in batches of
    sequences of similar ``lengths`` when ``bucket`` (:class:`BucketBatchSampler`), else in
    order."""
    from torch.utils.data import DataLoader, SequentialSampler

    common: dict[str, Any] = dict(collate_fn=collate, num_workers=num_workers,
                                  persistent_workers=num_workers > 0)
    if bucket:
        sampler = SeededShuffleSampler(len(dataset), seed) if train \
            else SequentialSampler(dataset)
        batches = BucketBatchSampler(sampler, batch_size, False, lengths=lengths,
                                     shuffle=train, seed=seed)
        return DataLoader(dataset, batch_sampler=batches, **common)
    sampler = SeededShuffleSampler(len(dataset), seed) if train else None
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, **common)
