"""The corpus source's ``data:`` section: one long text, its tokenizer and its windows."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from rnnkit.config.section import ConfigError, DataSection, option
from rnnkit.data.text.tokenize import TOKENIZERS

__all__ = ["AUTO_FAMILY", "CONFIG", "DEFAULT_FAMILY", "READ_KEYS", "CorpusConfig", "claims",
           "defaults"]

DEFAULT_FAMILY = "lm"
AUTO_FAMILY = {"next_tokens": "lm"}
# Nothing: evaluating on the validation part reads the training text as the checkpoint's state
# says (its tokenizer, vocabulary and split point), whatever the config.
READ_KEYS: tuple[str, ...] = ()


@dataclass(frozen=True)
class CorpusConfig(DataSection):
    """One long UTF-8 text (a book, a corpus; e.g. Tiny Shakespeare) read as a stream of tokens
    for a language model: ``data.batch_size`` parallel streams, each read in windows of
    ``data.bptt`` tokens."""

    FILE_KEYS: ClassVar[tuple[str, ...]] = ("train", "val", "test")
    PATH_KEYS: ClassVar[tuple[str, ...]] = ("train", "val", "test", "cache_dir")
    RESUMABLE: ClassVar[tuple[str, ...]] = ("num_workers", "cache_dir")
    EVAL_KEYS: ClassVar[tuple[str, ...]] = ("num_workers", "batch_size", "test", "train",
                                            "cache_dir")
    READ_KEYS: ClassVar[tuple[str, ...]] = READ_KEYS

    name: str = option("corpus", "data source: corpus (one long text for a language model)")
    train: str | None = option(None, "the UTF-8 text file to train on (rnnkit train --text FILE)")
    val: str | None = option(None, "a validation text file instead of the last part of "
                             "data.train")
    test: str | None = option(None, "a test text file; given, the run reports its figures on it "
                              "(else on the validation part)")
    val_fraction: float = option(0.1, "without data.val: the last part of data.train held out "
                                 "for validation, by characters (0: no validation)",
                                 min=0.0, max=0.5)
    tokenizer: str = option("char", "char (every character, newlines and spaces included), "
                            "word (the matches of data.token_pattern, and newlines) or subword "
                            "(a byte-level BPE model trained on the training part)",
                            choices=TOKENIZERS)
    lowercase: bool = option(False, "lower-case the text first")
    token_pattern: str | None = option(None, "word: the regex of a token (default "
                                       r"'\w+|[^\w\s]|\n': words, punctuation marks, newlines)")
    subword_vocab: int = option(4000, "subword: the BPE vocabulary size", min=3)
    min_count: int = option(1, "tokens seen fewer times in the training part become <unk>",
                            min=1)
    max_vocab: int = option(50000, "most tokens kept, the most frequent first, with <pad> and "
                            "<unk> (0: no limit)", min=0)
    bptt: int = option(128, "tokens per training window; the hidden state carries from one "
                       "window to the next (truncated backpropagation through time)", min=2)
    batch_size: int | str = option("auto", "parallel streams per batch, or auto (at most 64, "
                                   "each stream at least 20 windows long)", min=1, auto=True)
    random_offset: bool = option(True, "start every training pass's windows at an offset in "
                                 "[0, data.bptt) drawn from the seed and the pass, so window "
                                 "boundaries move between passes")
    epoch_batches: int | str = option("auto", "at most this many batches a training epoch (a "
                                      "run checks, validates and saves at epoch ends): a longer"
                                      " pass over the text is cut into equal consecutive "
                                      "epochs, the few batches left over dropped; auto: the "
                                      "whole pass when it is at most 2000 batches, else 1000",
                                      min=1, auto=True)
    cache_dir: str | None = option(None, "where the tokenised text is written once and reused "
                                   "(default: $RNNKIT_CACHE_DIR, else ~/.cache/rnnkit/corpus)")
    num_workers: int = option(0, "DataLoader worker processes (0 = load in the main process)",
                              min=0)

    def _check(self) -> None:
        if self.train is None:
            raise ConfigError("data.name=corpus needs a text file: data.train (rnnkit train "
                              "--text FILE)")
        default = {f.name: f.default for f in dataclasses.fields(self)}["val_fraction"]
        if self.val is not None and self.val_fraction not in (0.0, default):
            raise ConfigError("data.val is the validation file; data.val_fraction would split "
                              "another validation part off data.train: give one")
        if self.token_pattern is not None and self.tokenizer != "word":
            raise ConfigError("data.token_pattern is for data.tokenizer=word")


CONFIG = CorpusConfig


# A language model a laptop trains in minutes: a 2-layer LSTM of 256 over 64-wide embeddings,
# 600 steps of 64 streams x 128 tokens (about 5 epochs of Tiny Shakespeare).
_DEFAULTS: dict[str, Any] = {
    "model": {"cell": "lstm", "hidden_size": 256, "num_layers": 2, "embedding_dim": 64,
              "output_dropout": 0.1},
    "optim": {"name": "adamw", "lr": 3e-3, "weight_decay": 0.01, "schedule": "onecycle",
              "pct_start": 0.1},
    "trainer": {"steps": 600},
}


def defaults(family: str) -> dict[str, Any]:
    """The defaults of a run on a corpus, under whatever a config file or the command line
    sets (a language model's: ``family`` is lm)."""
    return _DEFAULTS if family == "lm" else {}


def claims(path: str) -> bool:
    """Never: ``rnnkit train --train PATH`` does not pick the corpus source; ``--text FILE``
    (``data.name=corpus``) does."""
    return False
