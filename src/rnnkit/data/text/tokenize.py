"""Tokenizers: characters (the default; right for Chinese), words (a regex), or subwords (a BPE
model trained on the training split by Hugging Face ``tokenizers``).

A tokenizer's whole state is plain values (:meth:`Tokenizer.state`), saved in checkpoints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["TOKENIZERS", "WORD_PATTERN", "Tokenizer"]

TOKENIZERS = ("char", "word", "subword")
WORD_PATTERN = r"\w+|[^\w\s]"  # words and single punctuation marks
PAD, UNK = "<pad>", "<unk>"


class Tokenizer:
    """Text -> tokens.

    Args:
        kind: ``"char"``: every character, a run of whitespace as one space; ``"word"``: the
            matches of ``pattern`` (default :data:`WORD_PATTERN`); ``"subword"``: BPE pieces.
        ngram: ``"char"`` only: each step's token is the ``ngram`` characters ending there
            (2: ``这本书`` -> ``这 这本 本书``); a vocabulary falls back to the shorter ones
            (:meth:`~rnnkit.data.text.vocab.Vocabulary.encode` with ``backoff``).
        lowercase: lower-case the text first.
        pattern: the word regex.
        subword_model: a trained BPE model as JSON (``tokenizers.Tokenizer.to_str()``);
            :meth:`fit` trains one for ``"subword"``.
    """

    def __init__(self, kind: str = "char", *, lowercase: bool = False,
                 pattern: str | None = None, subword_model: str | None = None,
                 ngram: int = 1) -> None:
        if kind not in TOKENIZERS:
            raise ValueError(f"tokenizer must be one of {', '.join(TOKENIZERS)}, got {kind!r}")
        if ngram < 1 or (ngram > 1 and kind != "char"):
            raise ValueError(f"ngram must be 1, or > 1 for the char tokenizer; got {ngram} for "
                             f"{kind}")
        self.kind, self.lowercase, self.ngram = kind, lowercase, ngram
        self.pattern = pattern or WORD_PATTERN
        try:
            self._regex = re.compile(self.pattern)
        except re.error as err:
            raise ValueError(f"data.token_pattern {self.pattern!r} is not a regex: {err}") from None
        self.subword_model = subword_model
        self._bpe: Any = None
        if subword_model is not None:
            from tokenizers import Tokenizer as HFTokenizer

            self._bpe = HFTokenizer.from_str(subword_model)

    def fit(self, texts: Iterable[str], vocab_size: int, min_count: int = 1) -> Tokenizer:
        """Train the subword model on ``texts`` (the training split); other kinds need no
        training. Returns self."""
        if self.kind != "subword":
            return self
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import models, normalizers, pre_tokenizers, trainers

        bpe = HFTokenizer(models.BPE(unk_token=UNK))
        bpe.normalizer = normalizers.Sequence(
            [normalizers.NFKC(), *([normalizers.Lowercase()] if self.lowercase else [])])
        bpe.pre_tokenizer = pre_tokenizers.Whitespace()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_count,
                                      special_tokens=[PAD, UNK], show_progress=False)
        bpe.train_from_iterator(texts, trainer=trainer)
        self._bpe, self.subword_model = bpe, bpe.to_str()
        return self

    def __call__(self, text: str) -> list[str]:
        if self.kind == "subword":
            if self._bpe is None:
                raise RuntimeError("the subword tokenizer is not trained: call fit() first")
            return list(self._bpe.encode(text).tokens)
        if self.lowercase:
            text = text.lower()
        if self.kind == "char":
            chars = re.sub(r"\s+", " ", text.strip())
            n = self.ngram
            return [chars[max(0, i - n + 1): i + 1] for i in range(len(chars))]
        return self._regex.findall(text)

    def state(self) -> dict[str, Any]:
        """Plain values that rebuild this tokenizer (:meth:`from_state`)."""
        return {"kind": self.kind, "lowercase": self.lowercase, "pattern": self.pattern,
                "subword_model": self.subword_model, "ngram": self.ngram}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Tokenizer:
        return cls(state["kind"], lowercase=bool(state["lowercase"]), pattern=state["pattern"],
                   subword_model=state.get("subword_model"), ngram=int(state.get("ngram", 1)))
