"""Tagged sentences as tensors: a dataset of id arrays, the batch dict, and long sentences cut
into pieces."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

__all__ = ["IGNORE_TAG", "UNSEEN_TAG", "TaggedDataset", "collate_tagged", "piece_bounds"]

IGNORE_TAG = -100  # a padded step: no tag (torch's cross-entropy ignore_index)
UNSEEN_TAG = -1  # a tag the training data never had: any prediction of it is wrong


class TaggedDataset(Dataset):
    """Sentences as id arrays: item i is a dict ``{"tokens": (L_i,), "tags": (L_i,),
    "chars": (L_i, C_i), "bigrams": (L_i,)}`` of int64 arrays, ``tags`` absent for sentences
    without tags, ``chars`` and ``bigrams`` when those features are on.

    Attributes:
        lengths: (S,) int64, tokens of each sentence (for length buckets).
    """

    def __init__(self, items: Sequence[Mapping[str, np.ndarray]]) -> None:
        self.items = list(items)
        self.lengths = np.array([len(x["tokens"]) for x in self.items], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Mapping[str, np.ndarray]:
        return self.items[i]


def collate_tagged(batch: Sequence[Mapping[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """One batch of :class:`TaggedDataset` items, padded to the longest sentence:

    * ``tokens`` (N, L) int64, 0 (``<pad>``) past each length;
    * ``lengths`` (N,) int64;
    * ``tags`` (N, L) int64, :data:`IGNORE_TAG` (-100) past each length and
      :data:`UNSEEN_TAG` (-1) for a tag the training data never had; absent unless every
      sentence has tags;
    * ``chars`` (N, L, C) int64, C the longest word's characters in the batch, 0 padding;
    * ``bigrams`` (N, L) int64, 0 padding.
    """
    lengths = torch.tensor([len(x["tokens"]) for x in batch], dtype=torch.int64)  # (N,)
    n, length = len(batch), int(lengths.max())
    out = {"tokens": torch.zeros(n, length, dtype=torch.int64), "lengths": lengths}
    if all("tags" in x for x in batch):
        out["tags"] = torch.full((n, length), IGNORE_TAG, dtype=torch.int64)
    if "chars" in batch[0]:
        width = max(x["chars"].shape[1] for x in batch)
        out["chars"] = torch.zeros(n, length, width, dtype=torch.int64)  # (N, L, C)
    if "bigrams" in batch[0]:
        out["bigrams"] = torch.zeros(n, length, dtype=torch.int64)
    for i, item in enumerate(batch):
        for key, values in out.items():
            if key == "lengths":
                continue
            x = torch.from_numpy(item[key])
            if x.ndim > 1:
                values[i, : len(x), : x.shape[1]] = x  # chars: (L_i, C_i)
            else:
                values[i, : len(x)] = x
    return out


def piece_bounds(length: int, limit: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of the fewest pieces of at most ``limit`` tokens a sentence of
    ``length`` is cut into, as equal as can be (1000 by 400: 333, 334, 333)."""
    count = -(-length // limit)
    cuts = [round(k * length / count) for k in range(count + 1)]
    return list(zip(cuts[:-1], cuts[1:], strict=True))
