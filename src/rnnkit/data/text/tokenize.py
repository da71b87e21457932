"""Tokenizers: characters (the default; right for Chinese), words (a regex), or subwords (a BPE
model trained on the training split by Hugging Face ``tokenizers``).

A tokenizer's whole state is plain values (:meth:`Tokenizer.state`), saved in checkpoints. With
``keep_whitespace`` it keeps a text verbatim (newlines, runs of spaces, tabs), as a language
model's stream needs, and :meth:`Tokenizer.decode` gives the text back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["STREAM_WORD_PATTERN", "TOKENIZERS", "WORD_PATTERN", "Tokenizer"]

TOKENIZERS = ("char", "word", "subword")
WORD_PATTERN = r"\w+|[^\w\s]"  # words and single punctuation marks
STREAM_WORD_PATTERN = r"\w+|[^\w\s]|\n"  # keep_whitespace: newlines are tokens too
PAD, UNK = "<pad>", "<unk>"


class Tokenizer:
    """Text -> tokens, and tokens -> text (:meth:`decode`).

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
        keep_whitespace: keep the text verbatim: ``"char"`` gives every character (each
            space and newline; ``ngram`` must be 1), ``"word"`` also matches newlines (default
            pattern :data:`STREAM_WORD_PATTERN`), ``"subword"`` is a byte-level BPE, so
            :meth:`decode` gives the text back exactly (char, subword) or with single spaces
            between words (word).

    Example:
        >>> tok = Tokenizer("char", keep_whitespace=True)
        >>> tok("a  b\\n")
        ['a', ' ', ' ', 'b', '\\n']
        >>> tok.decode(tok("a  b\\n"))
        'a  b\\n'
    """

    def __init__(self, kind: str = "char", *, lowercase: bool = False,
                 pattern: str | None = None, subword_model: str | None = None,
                 ngram: int = 1, keep_whitespace: bool = False) -> None:
        if kind not in TOKENIZERS:
            raise ValueError(f"tokenizer must be one of {', '.join(TOKENIZERS)}, got {kind!r}")
        if ngram < 1 or (ngram > 1 and kind != "char"):
            raise ValueError(f"ngram must be 1, or > 1 for the char tokenizer; got {ngram} for "
                             f"{kind}")
        if ngram > 1 and keep_whitespace:
            raise ValueError(f"ngram must be 1 with keep_whitespace (a verbatim text); got "
                             f"{ngram}")
        self.kind, self.lowercase, self.ngram = kind, lowercase, ngram
        self.keep_whitespace = keep_whitespace
        self.pattern = pattern or (STREAM_WORD_PATTERN if keep_whitespace else WORD_PATTERN)
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
        """Train the subword model on ``texts`` (the training split, in any pieces); other
        kinds need no training. Returns self."""
        if self.kind != "subword":
            return self
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import decoders, models, normalizers, pre_tokenizers, trainers

        bpe = HFTokenizer(models.BPE(unk_token=UNK))
        lower = [normalizers.Lowercase()] if self.lowercase else []
        alphabet: list[str] = []
        if self.keep_whitespace:  # bytes, so every text is read and decoded exactly
            if lower:
                bpe.normalizer = normalizers.Sequence(lower)
            bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
            bpe.decoder = decoders.ByteLevel()
            alphabet = pre_tokenizers.ByteLevel.alphabet()
        else:
            bpe.normalizer = normalizers.Sequence([normalizers.NFKC(), *lower])
            bpe.pre_tokenizer = pre_tokenizers.Whitespace()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_count,
                                      special_tokens=[PAD, UNK], initial_alphabet=alphabet,
                                      show_progress=False)
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
        if self.kind == "char" and self.keep_whitespace:
            return list(text)
        if self.kind == "char":
            chars = re.sub(r"\s+", " ", text.strip())
            n = self.ngram
            return [chars[max(0, i - n + 1): i + 1] for i in range(len(chars))]
        return self._regex.findall(text)

    def decode(self, tokens: Sequence[str]) -> str:
        """The text of ``tokens``; ``<pad>`` is dropped, ``<unk>`` reads as U+FFFD (char) or
        ``<unk>`` (word, subword).

        char: the characters joined (with ``ngram`` > 1, the last of each n-gram); word: the
        words joined by single spaces, none beside a newline token; subword: the BPE decoder's
        text (exact for the byte-level BPE of ``keep_whitespace``, else pieces joined by
        spaces). Only ``keep_whitespace`` char and subword tokens give back the text exactly.
        """
        tokens = [t for t in tokens if t != PAD]
        if self.kind == "char":
            return "".join("\ufffd" if t == UNK else t[-1] for t in tokens)
        if self.kind == "subword" and self._bpe is not None and self._bpe.decoder is not None:
            return self._bpe.decoder.decode(tokens)  # byte-level: <unk> reads as itself
        if self.kind == "subword" or not self.keep_whitespace:
            return " ".join(tokens)
        parts = []
        for i, t in enumerate(tokens):
            if i and t != "\n" and tokens[i - 1] != "\n":
                parts.append(" ")
            parts.append(t)
        return "".join(parts)

    def state(self) -> dict[str, Any]:
        """Plain values that rebuild this tokenizer (:meth:`from_state`)."""
        return {"kind": self.kind, "lowercase": self.lowercase, "pattern": self.pattern,
                "subword_model": self.subword_model, "ngram": self.ngram,
                "keep_whitespace": self.keep_whitespace}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Tokenizer:
        """The tokenizer :meth:`state` describes (a state without ``keep_whitespace``, from an
        earlier rnnkit, keeps the default)."""
        return cls(state["kind"], lowercase=bool(state["lowercase"]), pattern=state["pattern"],
                   subword_model=state.get("subword_model"), ngram=int(state.get("ngram", 1)),
                   keep_whitespace=bool(state.get("keep_whitespace", False)))
