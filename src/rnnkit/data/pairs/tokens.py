"""The tokens of each side of a pair: choosing a tokenizer, building the vocabularies and
encoding tokens as ids."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnnkit.data.pairs.batches import BOS_ID, EOS_ID, UNSEEN_TOKEN, target_vocabulary
from rnnkit.data.text.tokenize import Tokenizer
from rnnkit.data.text.vocab import UNK_ID, Vocabulary

__all__ = ["SINGLE_WORD_SHARE", "SYMBOL_PATTERN", "build_vocabularies", "choose_tokenizer",
           "describe_tokenizer", "encode_target", "spaced_share"]

SYMBOL_PATTERN = r"\S+"  # a dict file's pronunciation: the symbols between spaces
SINGLE_WORD_SHARE = 0.1  # auto: characters when at most this share of a side's texts is spaced


def spaced_share(texts: Sequence[str]) -> float:
    """The share of ``texts`` that hold whitespace (more than one word)."""
    return sum(len(t.split()) > 1 for t in texts) / max(len(texts), 1)


def choose_tokenizer(kind: str, side: str, texts: Sequence[str], format: str,
                     lowercase: bool) -> tuple[Tokenizer, str]:
    """The tokenizer of one side (``"source"`` or ``"target"``) for ``data.<side>_tokenizer``
    ``kind`` (``auto``: a dict file's words as characters and its pronunciations as symbols;
    else characters when at most :data:`SINGLE_WORD_SHARE` of the training ``texts`` hold a
    space, else words), and why (for a note). A subword tokenizer is not yet fitted."""
    why = f"data.{side}_tokenizer={kind}"
    if kind == "auto" and format == "dict":
        kind, why = ("char", "a dict file's words") if side == "source" else \
            ("word", "a dict file's pronunciations")
    elif kind == "auto":
        share = spaced_share(texts)
        kind = "char" if share <= SINGLE_WORD_SHARE else "word"
        why = f"{share:.0%} of the training {side}s hold a space; data.{side}_tokenizer auto"
    pattern = SYMBOL_PATTERN if kind == "word" and format == "dict" and side == "target" \
        else None  # a pronunciation's symbols are what the spaces separate
    return Tokenizer(kind, lowercase=lowercase, pattern=pattern), why


def describe_tokenizer(tokenizer: Tokenizer) -> str:
    """``characters``, ``words``, ``symbols between spaces`` or ``BPE subwords``."""
    if tokenizer.kind == "word":
        return "symbols between spaces" if tokenizer.pattern == SYMBOL_PATTERN else "words"
    return {"char": "characters", "subword": "BPE subwords"}[tokenizer.kind]


def build_vocabularies(sources: Sequence[Sequence[str]], targets: Sequence[Sequence[str]], *,
                       shared: bool, min_count: int,
                       max_size: int) -> tuple[Vocabulary, Vocabulary]:
    """``(source vocabulary, target vocabulary)`` of the training tokens: the source's
    ``<pad> <unk>`` then its tokens, the target's ``<pad> <unk> <s> </s>`` then its tokens
    (:func:`~rnnkit.data.pairs.batches.target_vocabulary`); ``shared``: one target-style
    vocabulary of both sides' tokens, twice."""
    if shared:
        both = target_vocabulary([*sources, *targets], min_count=min_count, max_size=max_size)
        return both, both
    return (Vocabulary.build(sources, min_count=min_count, max_size=max_size),
            target_vocabulary(targets, min_count=min_count, max_size=max_size))


def encode_target(vocabulary: Vocabulary, tokens: Sequence[str], *,
                  unseen_id: int = UNSEEN_TOKEN) -> tuple[np.ndarray, tuple[int, ...], int]:
    """``(ids (T + 2,) int64 with <s> and </s>, reference, unseen)`` of a target: the ids
    read a token the vocabulary lacks as ``<unk>``, the reference (without ``<s>`` and
    ``</s>``) as ``unseen_id`` (:data:`~rnnkit.data.pairs.batches.UNSEEN_TOKEN`, -1, so no
    prediction matches it; training data: ``<unk>``); ``unseen`` counts them."""
    known = [vocabulary.index.get(t) for t in tokens]
    ids = np.array([BOS_ID, *(UNK_ID if k is None else k for k in known), EOS_ID],
                   dtype=np.int64)
    reference = tuple(unseen_id if k is None else k for k in known)
    return ids, reference, sum(k is None for k in known)
