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
        lowercase: lower-case the text first.
        pattern: the word regex.
        subword_model: a trained BPE model as JSON (``tokenizers.Tokenizer.to_str()``);
            :meth:`fit` trains one for ``"subword"``.
    """

    def __init__(self, kind: str = "char", *, lowercase: bool = False,
                 pattern: str | None = None, subword_model: str | None = None) -> None:
        if kind not in TOKENIZERS:
            raise ValueError(f"tokenizer must be one of {', '.join(TOKENIZERS)}, got {kind!r}")
        self.kind, self.lowercase = kind, lowercase
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
            return list(re.sub(r"\s+", " ", text.strip()))
        return self._regex.findall(text)

    def state(self) -> dict[str, Any]:
        """Plain values that rebuild this tokenizer (:meth:`from_state`)."""
        return {"kind": self.kind, "lowercase": self.lowercase, "pattern": self.pattern,
                "subword_model": self.subword_model}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Tokenizer:
        return cls(state["kind"], lowercase=bool(state["lowercase"]), pattern=state["pattern"],
                   subword_model=state.get("subword_model"))
