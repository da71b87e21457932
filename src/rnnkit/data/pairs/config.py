"""The pairs source's ``data:`` section: source/target text pairs for sequence to sequence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rnnkit.config.section import ConfigError, DataSection, option
from rnnkit.data.pairs.readers import COLUMN_NAMES, FORMATS
from rnnkit.data.text.tokenize import TOKENIZERS

__all__ = ["AUTO_FAMILY", "CONFIG", "DEFAULT_FAMILY", "READ_KEYS", "PairsConfig", "claims",
           "defaults"]

DEFAULT_FAMILY = "seq2seq"
AUTO_FAMILY = {"sequences": "seq2seq"}  # task: auto, by the targets (a sequence each)
READ_KEYS = ("format", "source_col", "target_col")
SIDE_TOKENIZERS = ("auto", *TOKENIZERS)
_NAMES = ", ".join("/".join(names) for names in COLUMN_NAMES)


@dataclass(frozen=True)
class PairsConfig(DataSection):
    """Source/target text pairs (translation, grapheme to phoneme, transliteration): a CSV/TSV
    table with a header, two aligned line files, or a pronouncing dictionary (CMUdict), see
    :mod:`rnnkit.data.pairs.readers`.

    ``auto`` tokenizers: a dict file's words are read as characters and its pronunciations as
    the symbols between spaces; elsewhere each side is read as characters when at most 10% of
    its training texts hold a space (single words: spelling, transliteration; or a language
    written without spaces), else as words (words and punctuation marks).

    A pair longer than ``max_source_length`` or ``max_target_length`` tokens is left out of
    training, validation and test (a note counts them); prediction reads every source.
    """

    FILE_KEYS: ClassVar[tuple[str, ...]] = ("train", "train_target", "val", "val_target",
                                            "test", "test_target")
    PATH_KEYS: ClassVar[tuple[str, ...]] = FILE_KEYS
    RESUMABLE: ClassVar[tuple[str, ...]] = ("num_workers",)
    EVAL_KEYS: ClassVar[tuple[str, ...]] = ("num_workers", "batch_size", "test", "test_target",
                                            "train", "train_target", *READ_KEYS)
    READ_KEYS: ClassVar[tuple[str, ...]] = READ_KEYS

    name: str = option("pairs", "data source: pairs (a target text for every source text)")
    train: str | None = option(None, "the training pairs: a CSV/TSV with a header, a .dict "
                               "pronouncing dictionary, or the source lines of two aligned "
                               "files (rnnkit train --train FILE)")
    train_target: str | None = option(None, "format lines: the target lines of data.train, "
                                      "line k the target of its line k")
    val: str | None = option(None, "validation pairs instead of a split of data.train")
    val_target: str | None = option(None, "format lines: the target lines of data.val")
    test: str | None = option(None, "test pairs (default: data.test_fraction of the training "
                              "pairs, else the validation split)")
    test_target: str | None = option(None, "format lines: the target lines of data.test")
    format: str = option("auto", "table (CSV/TSV with a header), lines (two aligned files: "
                         "data.train and data.train_target), dict (a pronouncing dictionary, "
                         "'word SYM1 SYM2 ...' a line, 'word(2)' another pronunciation, '#' a "
                         "comment) or auto (.dict: dict; a *_target file: lines; .csv/.tsv, or "
                         ".txt with a header naming the columns: table)", choices=FORMATS)
    source_col: str | None = option(None, "table: the source column's name (default: "
                                    f"{_NAMES} by name, else the first column)")
    target_col: str | None = option(None, "table: the target column's name (default: the "
                                    "one named with the source, else the next column)")
    source_tokenizer: str = option("auto", "char, word (words and punctuation marks) or "
                                   "subword (BPE trained on the training sources); auto: char "
                                   "for single words (a dict file's, or when at most 10% of "
                                   "the training sources hold a space), else word",
                                   choices=SIDE_TOKENIZERS)
    target_tokenizer: str = option("auto", "char, word (a dict file's: the symbols between "
                                   "spaces) or subword; auto: word for a dict file; else char "
                                   "for single words (at most 10% of the training targets "
                                   "hold a space), else word", choices=SIDE_TOKENIZERS)
    source_vocab_size: int = option(8000, "subword: the source BPE vocabulary size", min=5)
    target_vocab_size: int = option(8000, "subword: the target BPE vocabulary size (shared "
                                    "vocabulary with subwords on both sides: the one BPE's)",
                                    min=5)
    shared_vocabulary: bool = option(False, "one vocabulary for both sides (<pad> <unk> <s> "
                                     "</s>, then the tokens of sources and targets), so a "
                                     "model can tie their embeddings")
    lowercase: bool = option(False, "lower-case sources and targets")
    min_count: int = option(1, "tokens seen fewer times in the training pairs become <unk>",
                            min=1)
    max_vocab: int = option(50000, "most tokens kept on each side, the most frequent first, "
                            "with the special tokens (0: no limit)", min=0)
    max_source_length: int = option(200, "longest source in tokens; a longer pair is left "
                                    "out of training, validation and test (a note counts "
                                    "them); prediction reads every source", min=1)
    max_target_length: int = option(200, "longest target in tokens (without <s> and </s>); "
                                    "a longer pair is left out (a note counts them)", min=1)
    test_fraction: float = option(0.0, "without data.test: part of the training sources held "
                                  "out as the test split, by the MD5 of each source text (all "
                                  "targets of a source land in the same split)",
                                  min=0.0, max=0.9)
    val_fraction: float | str = option(
        "auto", "part of the training sources held out for validation, by the MD5 of each "
        "source text; auto: 10% when that is at least 50 sources", min=0.0, max=0.9,
        auto=True)
    batch_size: int | str = option("auto", "examples per batch, or auto (a quarter of the "
                                   "training pairs, between 8 and 64)", min=1, auto=True)
    bucket: bool = option(True, "batch sources of similar length together")
    num_workers: int = option(0, "DataLoader worker processes (0 = load in the main process)",
                              min=0)

    def _check(self) -> None:
        if self.train is None:
            raise ConfigError("data.name=pairs needs the training pairs: data.train (rnnkit "
                              "train --train FILE)")
        if self.val is not None and self.val_fraction not in ("auto", 0.0):
            raise ConfigError("data.val is the validation file; data.val_fraction would split "
                              "another validation set off the training pairs: give one")
        for split in ("train", "val", "test"):
            source, target = getattr(self, split), getattr(self, f"{split}_target")
            if target is not None and source is None:
                raise ConfigError(f"data.{split}_target holds the target lines of "
                                  f"data.{split}, which is not given")
            if target is not None and self.format not in ("auto", "lines"):
                raise ConfigError(f"data.{split}_target is for data.format=lines, not "
                                  f"{self.format}")
            if self.format == "lines" and source is not None and target is None:
                raise ConfigError(f"data.format=lines: data.{split} needs its target lines, "
                                  f"data.{split}_target")
        if self.source_col is not None and self.source_col == self.target_col:
            raise ConfigError(f"data.source_col and data.target_col are both "
                              f"{self.source_col!r}")


CONFIG = PairsConfig


# An attention encoder-decoder (Luong et al. 2015): a bidirectional LSTM encoder, an LSTM
# decoder with general attention, dropout before the output layer.
_DEFAULTS: dict[str, Any] = {
    "model": {"cell": "lstm", "hidden_size": 256, "num_layers": 1, "bidirectional": True,
              "embedding_dim": 128, "attention": "general", "output_dropout": 0.2},
    "optim": {"name": "adamw", "lr": 2e-3, "weight_decay": 0.01, "schedule": "onecycle",
              "pct_start": 0.1},
    "trainer": {"steps": 3000},
}


def defaults(family: str) -> dict[str, Any]:
    """The defaults of a run on pairs, under whatever a config file or the command line sets
    (the seq2seq family's: an attention encoder-decoder)."""
    return _DEFAULTS if family == "seq2seq" else {}


def claims(path: str) -> bool:
    """Whether ``--train PATH`` holds pairs: a ``.dict`` file, or a ``.csv``/``.tsv``/``.txt``
    file whose header names a source and a target column (``source``/``target``,
    ``src``/``tgt``, ``input``/``output``;
    :func:`~rnnkit.data.pairs.readers.looks_like_pairs`)."""
    from rnnkit.data.pairs.readers import looks_like_pairs

    return looks_like_pairs(path)
