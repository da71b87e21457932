"""Vocabulary: tokens <-> ids, built on the training split; 0 is ``<pad>``, 1 is ``<unk>``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from rnnkit.data.text.tokenize import PAD, UNK

__all__ = ["PAD_ID", "UNK_ID", "Vocabulary"]

PAD_ID, UNK_ID = 0, 1


class Vocabulary:
    """The tokens a model knows, in id order: ``<pad>`` (0), ``<unk>`` (1), then the rest.

    Args:
        tokens: every token in id order, starting with ``<pad>`` and ``<unk>``.
    """

    def __init__(self, tokens: Sequence[str]) -> None:
        tokens = list(tokens)
        if tokens[:2] != [PAD, UNK]:
            raise ValueError(f"a vocabulary starts with {PAD!r} and {UNK!r}, found {tokens[:2]}")
        if len(set(tokens)) != len(tokens):
            raise ValueError("a vocabulary holds every token once")
        self.tokens = tokens
        self.index = {t: i for i, t in enumerate(tokens)}

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], *, min_count: int = 1,
              max_size: int = 0, backoff: bool = False) -> Vocabulary:
        """The tokens seen at least ``min_count`` times, the most frequent first (ties in
        alphabetical order), at most ``max_size`` in all (0: no limit) counting the two
        special tokens. ``backoff``: every token's suffixes count too (character n-grams:
        ``这本`` also counts ``本``), so :meth:`encode` can fall back to them."""
        counts = Counter(t[k:] if backoff else t for tokens in token_lists for t in tokens
                         for k in range(len(t) if backoff else 1))
        return cls.from_counts(counts, min_count=min_count, max_size=max_size)

    @classmethod
    def from_counts(cls, counts: Mapping[str, int], *, min_count: int = 1,
                    max_size: int = 0) -> Vocabulary:
        """:meth:`build` from tokens already counted: ``counts`` token -> times seen."""
        counts = dict(counts)
        for special in (PAD, UNK):
            counts.pop(special, None)
        kept = sorted((t for t, c in counts.items() if c >= min_count),
                      key=lambda t: (-counts[t], t))
        if max_size:
            kept = kept[: max(0, max_size - 2)]
        return cls([PAD, UNK, *kept])

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: Sequence[str], backoff: bool = False) -> tuple[np.ndarray, int]:
        """``(ids (L,) int64, how many tokens were unknown)``; ``backoff``: an unknown token
        is replaced by its longest known suffix (``这本`` -> ``本``) before it is unknown."""
        ids = np.empty(len(tokens), dtype=np.int64)
        unknown = 0
        for i, t in enumerate(tokens):
            while backoff and t not in self.index and len(t) > 1:
                t = t[1:]
            ids[i] = self.index.get(t, UNK_ID)
            unknown += ids[i] == UNK_ID
        return ids, int(unknown)
