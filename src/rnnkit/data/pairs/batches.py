"""Pairs as tensors: the target vocabulary's special tokens, a dataset of id arrays and the batch
dict."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from rnnkit.data.text.tokenize import PAD, UNK
from rnnkit.data.text.vocab import Vocabulary

__all__ = ["BOS", "BOS_ID", "EOS", "EOS_ID", "UNSEEN_TOKEN", "PairsDataset", "collate_pairs",
           "target_vocabulary"]

BOS, EOS = "<s>", "</s>"  # a target's start and end
BOS_ID, EOS_ID = 2, 3
UNSEEN_TOKEN = -1  # in a reference: a token the training targets never had; nothing matches it


def target_vocabulary(token_lists: Iterable[Sequence[str]], *, min_count: int = 1,
                      max_size: int = 0) -> Vocabulary:
    """The vocabulary of targets: ``<pad>`` (0), ``<unk>`` (1), ``<s>`` (2), ``</s>`` (3),
    then the tokens seen at least ``min_count`` times, the most frequent first (ties in
    alphabetical order), at most ``max_size`` in all counting the four (0: no limit)."""
    counts = Counter(t for tokens in token_lists for t in tokens)
    for special in (BOS, EOS):
        counts.pop(special, None)
    rest = Vocabulary.from_counts(counts, min_count=min_count,
                                  max_size=max(2, max_size - 2) if max_size else 0)
    return Vocabulary([PAD, UNK, BOS, EOS, *rest.tokens[2:]])


class PairsDataset(Dataset):
    """Examples as id arrays: item i is a dict ``{"source": (S_i,) int64, "target": (T_i,)
    int64 (<s> ... </s>), "references": tuple of tuples of target ids, "index": i}``,
    ``target`` and ``references`` absent for examples without targets.

    Args:
        sources: E source id arrays.
        targets: E target id arrays with ``<s>`` and ``</s>``, or None.
        references: E tuples of the correct targets' ids (without ``<s>``, ``</s>``), or None.

    Attributes:
        lengths: (E,) int64, tokens of each source (for length buckets).
    """

    def __init__(self, sources: Sequence[np.ndarray], targets: Sequence[np.ndarray] | None,
                 references: Sequence[tuple[tuple[int, ...], ...]] | None) -> None:
        self.sources = list(sources)
        self.targets = None if targets is None else list(targets)
        self.references = None if references is None else list(references)
        for name, values in (("targets", self.targets), ("references", self.references)):
            if values is not None and len(values) != len(self.sources):
                raise ValueError(f"{len(self.sources)} sources but {len(values)} {name}")
        self.lengths = np.array([len(x) for x in self.sources], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.sources)

    def __getitem__(self, i: int) -> dict[str, Any]:
        item: dict[str, Any] = {"source": self.sources[i], "index": i}
        if self.targets is not None:
            item["target"] = self.targets[i]
        if self.references is not None:
            item["references"] = self.references[i]
        return item


def collate_pairs(batch: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One batch of :class:`PairsDataset` items, padded with 0 (``<pad>``):

    * ``source`` (N, S) int64, S the longest source of the batch;
    * ``source_lengths`` (N,) int64;
    * ``target`` (N, T) int64: ``<s>`` (2), the target's ids, ``</s>`` (3), then 0; T the
      longest target + 2. Absent unless every example has a target;
    * ``references``: N lists of tuples, every correct target's ids without ``<s>`` and
      ``</s>`` (-1, :data:`UNSEEN_TOKEN`, for a token the training targets never had). Absent
      unless every example has them;
    * ``index`` (N,) int64: each example's index in its dataset.
    """
    lengths = torch.tensor([len(x["source"]) for x in batch], dtype=torch.int64)  # (N,)
    n = len(batch)
    source = torch.zeros(n, int(lengths.max()), dtype=torch.int64)  # (N, S)
    for i, item in enumerate(batch):
        source[i, : len(item["source"])] = torch.from_numpy(item["source"])
    out: dict[str, Any] = {"source": source, "source_lengths": lengths}
    if all("target" in x for x in batch):
        width = max(len(x["target"]) for x in batch)
        target = torch.zeros(n, width, dtype=torch.int64)  # (N, T)
        for i, item in enumerate(batch):
            target[i, : len(item["target"])] = torch.from_numpy(item["target"])
        out["target"] = target
    if all("references" in x for x in batch):
        out["references"] = [list(x["references"]) for x in batch]
    out["index"] = torch.tensor([int(x["index"]) for x in batch], dtype=torch.int64)
    return out
