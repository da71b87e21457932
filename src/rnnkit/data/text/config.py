"""The text source's ``data:`` section: labelled texts, their tokenizer and vocabulary."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rnnkit.config.section import ConfigError, DataSection, option
from rnnkit.data.text.readers import class_file_entries
from rnnkit.data.text.tokenize import TOKENIZERS

__all__ = ["AUTO_FAMILY", "CONFIG", "DEFAULT_FAMILY", "TextConfig", "claims", "defaults"]

DEFAULT_FAMILY = "classify"
AUTO_FAMILY = {"classes": "classify", "values": "regress"}  # task: auto, by the labels
READ_KEYS = ("text_col", "label_col", "delimiter")


@dataclass(frozen=True)
class TextConfig(DataSection):
    """Labelled texts (see docs/data-formats.md): a CSV/TSV with a text and a label column,
    one file per class (``class_files``), or a directory with one folder per class."""

    PATH_KEYS: ClassVar[tuple[str, ...]] = ("train", "test", "val")
    RESUMABLE: ClassVar[tuple[str, ...]] = ("num_workers",)
    EVAL_KEYS: ClassVar[tuple[str, ...]] = ("num_workers", "batch_size", "test", "train",
                                            *READ_KEYS)
    READ_KEYS: ClassVar[tuple[str, ...]] = READ_KEYS

    name: str = option("text", "data source: mnist, files (your sequence files) or text")
    train: str | None = option(None, "the training texts: a CSV/TSV file with a header, or a "
                               "directory with one folder of text files per class")
    class_files: list[str] | None = option(
        None, "instead of data.train: one file per class, one text per line, as NAME=PATH or "
        "PATH (the class is the file name without extension)")
    test: str | None = option(None, "test texts, same layout as data.train (default: "
                              "data.test_fraction of the training texts, else the validation "
                              "split); given, data.test_fraction is not used")
    val: str | None = option(None, "validation texts instead of a split of the training texts")
    test_fraction: float = option(0.0, "without data.test: part of the training texts held out "
                                  "as the test split, chosen by the MD5 of each text (identical "
                                  "texts land in the same split)", min=0.0, max=0.9)
    val_fraction: float | str = option(
        "auto", "part of the training texts held out for validation, by the MD5 of each text; "
        "auto: 10% when that is at least 50 texts", min=0.0, max=0.9, auto=True)
    dedupe: bool = option(False, "drop repeated (text, label) pairs of each split")
    text_col: str | None = option(None, "CSV: the text column (default: found by name, else "
                                  "the column of the longest strings)")
    label_col: str | None = option(None, "CSV: the label column (default: found by name, "
                                   "else the other column with the fewest distinct values)")
    delimiter: str | None = option(None, "CSV: the field separator (default: tab for .tsv, "
                                   "else detected)")
    tokenizer: str = option("char", "char (every character; right for Chinese), word (the "
                            "matches of data.token_pattern) or subword (a BPE model trained "
                            "on the training texts)", choices=TOKENIZERS)
    ngram: int = option(1, "char: each step's token is the n characters ending there (2: "
                        "character bigrams), an n-gram rarer than data.min_count falling back "
                        "to the shorter ones", min=1, max=4)
    lowercase: bool = option(False, "lower-case the texts first")
    token_pattern: str | None = option(None, "word: the regex of a token (default "
                                       r"'\w+|[^\w\s]': words and punctuation marks)")
    subword_vocab: int = option(8000, "subword: the BPE vocabulary size", min=3)
    min_count: int = option(2, "tokens seen fewer times in the training texts become <unk>",
                            min=1)
    max_vocab: int = option(50000, "most tokens kept, the most frequent first, with <pad> and "
                            "<unk> (0: no limit)", min=0)
    max_length: int = option(400, "longest text in tokens; longer ones are truncated (with a "
                             "note that counts them)", min=1)
    batch_size: int | str = option("auto", "texts per batch, or auto (a quarter of the "
                                   "training texts, between 8 and 64)", min=1, auto=True)
    bucket: bool = option(True, "batch texts of similar length together")
    num_workers: int = option(0, "DataLoader worker processes (0 = load in the main process)",
                              min=0)

    def _check(self) -> None:
        if (self.train is None) == (self.class_files is None):
            raise ConfigError("data.name=text needs the training texts: data.train (rnnkit "
                              "train --train FILE_OR_DIR) or data.class_files, not both"
                              if self.train is not None else
                              "data.name=text needs the training texts: data.train (rnnkit "
                              "train --train FILE_OR_DIR) or data.class_files")
        if self.class_files is not None and not self.class_files:
            raise ConfigError("data.class_files is empty; give one file per class")
        if self.val is not None and self.val_fraction not in ("auto", 0.0):
            raise ConfigError("data.val is the validation file; data.val_fraction would split "
                              "another validation set off the training texts: give one")
        if self.ngram > 1 and self.tokenizer != "char":
            raise ConfigError("data.ngram is for data.tokenizer=char")
        if self.token_pattern is not None and self.tokenizer != "word":
            raise ConfigError("data.token_pattern is for data.tokenizer=word")

    def absolute_paths(self) -> dict[str, Any]:
        values = super().absolute_paths()
        if self.class_files is not None:
            values["class_files"] = [
                f"{name}={os.path.abspath(path)}" for name, path in class_file_entries(
                    self.class_files)]
        return values

    def check_files(self) -> None:
        paths = {"data.train": self.train, "data.test": self.test, "data.val": self.val}
        for i, (_, path) in enumerate(class_file_entries(self.class_files or [])):
            paths[f"data.class_files[{i}]"] = path
        for key, value in paths.items():
            if value is not None and not Path(value).exists():
                raise ConfigError(f"{key}: no such file or directory: {value}")

    def run_name(self) -> str | None:
        if self.train is not None:
            return Path(self.train).stem or None
        return "texts"


CONFIG = TextConfig

# Classification of texts: a bidirectional GRU over embeddings, pooled, with dropout on the
# embeddings and the summary (what held up best on the sentiment corpus, benchmarks/RESULTS.md).
_DEFAULTS: dict[str, Any] = {
    "model": {"cell": "gru", "hidden_size": 128, "num_layers": 1, "bidirectional": True,
              "embedding_dim": 128, "input_dropout": 0.3, "summary": "meanmax",
              "head_dropout": 0.5},
    "optim": {"name": "adamw", "lr": 2e-3, "weight_decay": 0.01, "schedule": "onecycle",
              "pct_start": 0.1},
    "trainer": {"steps": 2000},
}


def defaults(family: str) -> dict[str, Any]:
    """The defaults of a run on texts, under whatever a config file or the command line sets."""
    return _DEFAULTS


def claims(path: str) -> bool:
    """Whether ``--train PATH`` holds texts: a directory, or a CSV/TSV with a column of texts
    (:func:`~rnnkit.data.text.readers.looks_like_text_table`)."""
    from rnnkit.data.text.readers import looks_like_text_table

    p = Path(path)
    if p.is_dir():
        return True
    return p.suffix.lower() in (".csv", ".tsv", ".txt") and p.is_file() \
        and (p.suffix.lower() == ".txt" or looks_like_text_table(p))
