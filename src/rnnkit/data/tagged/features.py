"""Token features beyond the token itself: the characters of each word, and the bigram each
token starts with the next one.

* **characters** (``data.char_features``): a word's characters as ids, so a character-level
  word encoder (a CNN or RNN over them) reads the spelling of words it never saw — what helps
  words (English, German), not single characters.
* **bigrams** (``data.bigram_features``): ``tok[i] + tok[i + 1]`` (the last token with
  :data:`END`), what a character tagger for word segmentation gains most from (Chinese: 迈向,
  向充, ...).

Both are read through a :class:`~rnnkit.data.text.vocab.Vocabulary` built on the training
split, ``<pad>`` 0 and ``<unk>`` 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from rnnkit.data.text.vocab import UNK_ID, Vocabulary

__all__ = ["CHAR_TOKEN_LENGTH", "END", "bigrams", "char_ids", "char_vocabulary",
           "mean_token_length"]

END = "</s>"  # what follows the last token of a sentence in its bigram
CHAR_TOKEN_LENGTH = 1.5  # tokens at most this long on average are characters, not words


def mean_token_length(sentences: Iterable[Sequence[str]]) -> float:
    """Characters per token over all tokens (0 for none)."""
    chars = tokens = 0
    for sentence in sentences:
        chars += sum(len(t) for t in sentence)
        tokens += len(sentence)
    return chars / tokens if tokens else 0.0


def bigrams(tokens: Sequence[str]) -> list[str]:
    """The bigram each token starts: ``tokens[i] + tokens[i + 1]``, the last one's
    ``tokens[-1] + END`` (``["迈", "向"]`` -> ``["迈向", "向</s>"]``)."""
    return [a + b for a, b in zip(tokens, [*tokens[1:], END], strict=True)]


def char_vocabulary(sentences: Iterable[Sequence[str]]) -> Vocabulary:
    """Every character of the tokens (their case kept), the most frequent first."""
    return Vocabulary.build(list(t) for sentence in sentences for t in sentence)


def char_ids(tokens: Sequence[str], vocabulary: Vocabulary, max_chars: int) -> np.ndarray:
    """The characters of each token as ids: ``(L, C)`` int64, ``C`` the longest token's
    length capped at ``max_chars`` (a longer token keeps its first ``max_chars``), shorter
    tokens padded with 0; an unknown character is ``<unk>`` (1)."""
    width = min(max_chars, max((len(t) for t in tokens), default=1))
    out = np.zeros((len(tokens), width), dtype=np.int64)  # (L, C)
    index = vocabulary.index
    for i, token in enumerate(tokens):
        for j, ch in enumerate(token[:width]):
            out[i, j] = index.get(ch, UNK_ID)
    return out
