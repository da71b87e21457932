"""The tagged source's ``data:`` section: sentences with a tag on every token."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rnnkit.config.section import ConfigError, DataSection, option
from rnnkit.data.tagged.readers import CONLL_SUFFIXES, FORMATS

__all__ = ["AUTO_FAMILY", "CONFIG", "DEFAULT_FAMILY", "READ_KEYS", "TaggedConfig", "claims",
           "defaults"]

DEFAULT_FAMILY = "tag"
AUTO_FAMILY = {"tags": "tag"}  # task: auto, by the labels (a tag on every token)
READ_KEYS = ("format", "token_col", "tag_col")


@dataclass(frozen=True)
class TaggedConfig(DataSection):
    """Tagged sentences (part-of-speech tags, named entities, word segmentation): CoNLL
    columns (one token a line, a blank line between sentences) or ``word/TAG`` sentences (one
    a line, People's Daily), see :mod:`rnnkit.data.tagged.readers`.

    A sentence longer than ``max_length`` tokens is cut into equal pieces of at most that
    many, every token keeping its tag (a note counts them); prediction reads whole sentences.
    """

    FILE_KEYS: ClassVar[tuple[str, ...]] = ("train", "val", "test")
    PATH_KEYS: ClassVar[tuple[str, ...]] = ("train", "val", "test")
    RESUMABLE: ClassVar[tuple[str, ...]] = ("num_workers",)
    EVAL_KEYS: ClassVar[tuple[str, ...]] = ("num_workers", "batch_size", "test", "train",
                                            *READ_KEYS)
    READ_KEYS: ClassVar[tuple[str, ...]] = READ_KEYS

    name: str = option("tagged", "data source: tagged (sentences with a tag on every token)")
    train: str | None = option(None, "the tagged training sentences: CoNLL columns or "
                               "word/TAG lines (rnnkit train --train FILE)")
    val: str | None = option(None, "validation sentences instead of a split of data.train")
    test: str | None = option(None, "test sentences (default: data.test_fraction of the "
                              "training sentences, else the validation split)")
    format: str = option("auto", "conll (one token a line, a blank line between sentences), "
                         "slash (word/TAG sentences, one a line) or auto (by the suffix: "
                         f"{' '.join(CONLL_SUFFIXES)} are conll; else by the first lines)",
                         choices=FORMATS)
    token_col: int = option(0, "conll: the column of the tokens (negative: from the end)")
    tag_col: int = option(-1, "conll: the column of the tags (default -1: the last)")
    test_fraction: float = option(0.0, "without data.test: part of the training sentences "
                                  "held out as the test split, by the MD5 of each sentence "
                                  "(identical sentences land in the same split)",
                                  min=0.0, max=0.9)
    val_fraction: float | str = option(
        "auto", "part of the training sentences held out for validation, by the MD5 of each "
        "sentence; auto: 10% when that is at least 50 sentences", min=0.0, max=0.9, auto=True)
    lowercase: bool = option(False, "lower-case the tokens for the token vocabulary (the "
                             "character features keep the case)")
    min_count: int = option(1, "tokens seen fewer times in the training sentences become "
                            "<unk>", min=1)
    max_vocab: int = option(50000, "most tokens (and bigrams) kept, the most frequent first, "
                            "with <pad> and <unk> (0: no limit)", min=0)
    max_length: int = option(400, "longest sentence in tokens; a longer one is cut into "
                             "pieces of at most this many (never truncated; a note counts "
                             "them)", min=1)
    char_features: bool | str = option(
        "auto", "give each token's characters as ids (N, L, C) for a character-level word "
        "encoder; auto: when the tokens are words (more than 1.5 characters on average)")
    bigram_features: bool | str = option(
        "auto", "give each token's bigram with the next one (tok[i] + tok[i+1]) as ids; "
        "auto: when the tokens are single characters (at most 1.5 on average: Chinese "
        "segmentation)")
    max_word_chars: int = option(20, "char_features: characters kept of each word (its "
                                 "first ones)", min=1)
    batch_size: int | str = option("auto", "sentences per batch, or auto (a quarter of the "
                                   "training sentences, between 8 and 64)", min=1, auto=True)
    bucket: bool = option(True, "batch sentences of similar length together")
    num_workers: int = option(0, "DataLoader worker processes (0 = load in the main process)",
                              min=0)

    def _check(self) -> None:
        if self.train is None:
            raise ConfigError("data.name=tagged needs the training sentences: data.train "
                              "(rnnkit train --train FILE)")
        if self.val is not None and self.val_fraction not in ("auto", 0.0):
            raise ConfigError("data.val is the validation file; data.val_fraction would split "
                              "another validation set off the training sentences: give one")
        for key in ("char_features", "bigram_features"):
            value = getattr(self, key)
            if isinstance(value, str) and value != "auto":
                raise ConfigError(f"data.{key} must be true, false or auto; got {value!r}")
        if self.token_col == self.tag_col:
            raise ConfigError(f"data.token_col and data.tag_col are both {self.token_col}")


CONFIG = TaggedConfig


# A BiLSTM-CRF (Huang et al. 2015; Lample et al. 2016): one bidirectional layer of 128 per
# direction over the token features, dropout on both sides of it, a CRF over the tags.
_DEFAULTS: dict[str, Any] = {
    "model": {"cell": "lstm", "hidden_size": 128, "num_layers": 1, "bidirectional": True,
              "embedding_dim": 100, "feature_dropout": 0.25, "output_dropout": 0.25,
              "crf": True},
    "optim": {"name": "adamw", "lr": 3e-3, "weight_decay": 0.01, "schedule": "onecycle",
              "pct_start": 0.1},
    "trainer": {"steps": 1500},
}


def defaults(family: str) -> dict[str, Any]:
    """The defaults of a run on tagged sentences, under whatever a config file or the command
    line sets (the tag family's: a BiLSTM-CRF)."""
    return _DEFAULTS if family == "tag" else {}


def claims(path: str) -> bool:
    """Whether ``--train PATH`` holds tagged sentences: a file with a CoNLL suffix
    (:data:`~rnnkit.data.tagged.readers.CONLL_SUFFIXES`), or a ``.txt``/``.tsv`` file whose
    first lines are word/TAG sentences or CoNLL columns with blank lines between sentences
    (:func:`~rnnkit.data.tagged.readers.looks_tagged`; a table of texts and labels, or prose,
    is the text source's)."""
    from rnnkit.data.tagged.readers import looks_tagged

    p = Path(path)
    if not p.is_file():
        return False
    suffix = p.suffix.lower()
    return suffix in CONLL_SUFFIXES or (suffix in (".txt", ".tsv") and looks_tagged(p))
