"""The files source's ``data:`` section: the user's labelled sequence files."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rnnkit.config.section import ConfigError, DataSection, option
from rnnkit.data.sequences import FORMATS
from rnnkit.data.sequences.labels import LABEL_KINDS

__all__ = ["AUTO_FAMILY", "CONFIG", "DEFAULT_FAMILY", "FilesConfig", "defaults"]

DEFAULT_FAMILY = "classify"
# task: auto, by the labels (one class or number per sequence, or a class per step)
AUTO_FAMILY = {"classes": "classify", "values": "regress", "tags": "tag"}
_NO_LABELS = object()  # data.label_col=none: the wide CSV has no label column
READ_KEYS = ("format", "id_col", "time_col", "label_col", "feature_cols", "delimiter", "header")


@dataclass(frozen=True)
class FilesConfig(DataSection):
    """Labelled sequences read from ``.ts``, CSV or NPZ files (see docs/data-formats.md): a
    label per sequence, or per step (tagging: a long CSV whose label changes within a
    sequence, an NPZ ``y`` of shape (N, L)), as ``data.labels`` says."""

    PATH_KEYS: ClassVar[tuple[str, ...]] = ("train", "test", "val")
    RESUMABLE: ClassVar[tuple[str, ...]] = ("num_workers",)
    EVAL_KEYS: ClassVar[tuple[str, ...]] = ("num_workers", "batch_size", "bucket", "test",
                                            "train", *READ_KEYS)
    READ_KEYS: ClassVar[tuple[str, ...]] = READ_KEYS

    name: str = option("files", "data source: mnist, files (your sequence files) or text")
    train: str | None = option(None, "the training file (.ts, .csv, .tsv or .npz)")
    test: str | None = option(None, "the test file (default: report on the validation split)")
    val: str | None = option(None, "a validation file instead of a split of data.train")
    val_fraction: float | str = option(
        "auto", "part of data.train held out for validation (stratified by class; labels per "
        "step: whole sequences at random), or auto "
        "(decided from the number of training sequences; see docs/data-formats.md)",
        min=0.0, max=0.9, auto=True)
    batch_size: int | str = option("auto", "sequences per batch, or auto (from the number of "
                                   "training sequences, see docs/data-formats.md)", min=1,
                                   auto=True)
    normalize: str | bool = option(
        "auto", "feature: standardise each feature with the training split's mean and std; "
        "sequence: z-normalise each sequence and feature on its own; auto: sequence for "
        "classification, feature for regression and labels per step; none (true/false mean "
        "feature/none)",
        choices=("feature", "sequence", "auto", "none"))
    format: str | None = option(None, "ts, npz, csv, csv-long, csv-wide or tsv (default: from "
                                "each file's extension)")
    id_col: str | None = option(None, "long CSV: the sequence id column (default: found by "
                                "name)")
    time_col: str | None = option(None, "long CSV: the time column (default: found by name)")
    label_col: str | int | None = option(
        None, "CSV: the label column; a name, or for the wide form first (default), last, an "
        "index or none (no labels)")
    feature_cols: list[str] | None = option(None, "long CSV: the feature columns (default: all "
                                            "others)")
    delimiter: str | None = option(None, "CSV: the field separator (default: detected among , "
                                   "; tab and |)")
    header: bool | None = option(None, "wide CSV: whether the first row is a header (default: "
                                 "detected)")
    labels: str = option(
        "auto", "a label per sequence or per step: auto (per step when a long CSV's label "
        "changes within a sequence or an NPZ y is (N, L); task tag: per step), sequence or "
        "step", choices=LABEL_KINDS)
    bucket: bool = option(True, "batch sequences of similar length together")
    num_workers: int = option(0, "DataLoader worker processes (0 = load in the main process)",
                              min=0)

    def _check(self) -> None:
        if self.train is None:
            raise ConfigError("data.name=files needs data.train, the training file "
                              "(rnnkit train --train FILE)")
        if self.format is not None and self.format.lower() not in FORMATS:
            raise ConfigError(f"data.format must be one of {', '.join(FORMATS)} or null; "
                              f"got {self.format!r}")
        if isinstance(self.label_col, str) and not self.label_col.strip():
            raise ConfigError("data.label_col must not be empty")

    def run_name(self) -> str | None:
        return Path(str(self.train)).stem

    def file_format(self, path: str | os.PathLike) -> str:
        """The format a data file is read in: ``data.format``, else from its extension.

        Raises:
            ConfigError: the extension is not one rnnkit reads and ``data.format`` is not set.
        """
        fmt = (self.format or Path(path).suffix.lstrip(".")).lower()
        if fmt not in FORMATS:
            raise ConfigError(
                f"cannot tell the format of {os.fspath(path)!r} from its extension; name it "
                f".ts, .csv, .tsv or .npz, or set data.format to one of {', '.join(FORMATS)}"
            )
        return fmt

    def read_options(self, path: str | os.PathLike | None = None) -> dict[str, Any]:
        """Keyword arguments of :func:`rnnkit.data.sequences.read_sequences` for data files
        (without ``task``, which follows the run's family).

        With ``path``, the options are checked against that file's format: a CSV column option
        for a ``.ts`` or ``.npz`` file is an error, not silently ignored.
        """
        long = {"id_col": self.id_col, "time_col": self.time_col,
                "feature_cols": self.feature_cols}
        wide = {"header": self.header}
        label: Any = self.label_col
        if isinstance(label, str) and label.lower() == "none":
            label = _NO_LABELS
        csv_opts = {**long, **wide, "label_col": label, "delimiter": self.delimiter}
        given = {k: v for k, v in csv_opts.items() if v is not None}
        options: dict[str, Any] = {}
        fmt = self.format.lower() if self.format else None
        if path is not None:
            fmt = self.file_format(path)
            if fmt in ("ts", "npz") and given:
                keys = ", ".join(f"data.{k}" for k in given)
                raise ConfigError(f"{keys} apply to CSV files, not to the {fmt} file {path}")
            if fmt == "csv" and any(v is not None for v in long.values()) \
                    and self.header is not None:
                raise ConfigError("data.header is for wide CSV files; data.id_col, "
                                  "data.time_col and data.feature_cols for long ones")
            long_keys = [k for k, v in long.items() if v is not None]
            if fmt in ("csv-wide", "tsv") and long_keys:
                raise ConfigError(f"data.{long_keys[0]} is for long CSV files, not the "
                                  f"{fmt} file {path}")
            if fmt == "csv-long" and self.header is not None:
                raise ConfigError("data.header is for wide CSV files; a long CSV always has "
                                  f"a header ({path})")
            if fmt in ("csv-long",) and label is _NO_LABELS:
                raise ConfigError("data.label_col=none is for wide CSV files; a long CSV "
                                  "without a label column has no labels")
            if self.labels == "step" and fmt in ("ts", "csv-wide", "tsv"):
                raise ConfigError(f"data.labels=step needs a label per step: a long CSV or an "
                                  f"NPZ y of shape (N, L); {path} is a {fmt} file, one label "
                                  "per sequence")
        if self.labels != "auto":
            options["labels"] = self.labels
        if self.format is not None:
            options["format"] = self.format.lower()
        elif fmt == "csv" and self.header is not None:
            options["format"] = "csv-wide"
        options.update(given)
        if label is _NO_LABELS:
            options["label_col"] = None
        return options

    def check_files(self, which: Iterable[str] = ("train", "val", "test")) -> None:
        """Check that the data files exist and that the read options fit their formats.

        Raises:
            ConfigError: a file is missing, a directory, of unknown format, or given an option
                its format does not take; the message names the file.
        """
        for key in which:
            value = getattr(self, key)
            if value is None:
                continue
            path = Path(value)
            if not path.exists():
                raise ConfigError(f"data.{key}: no such file: {value}")
            if not path.is_file():
                raise ConfigError(f"data.{key}: {value} is not a file")
            self.read_options(path)


CONFIG = FilesConfig

# Made for tens to thousands of sequences, where a budget in epochs of MNIST-sized batches would
# be a handful of optimizer steps (measured in benchmarks/bench_small.py; docs/data-formats.md).
_DEFAULTS: dict[str, Any] = {
    "model": {"cell": "gru", "hidden_size": 128, "num_layers": 1, "bidirectional": False,
              "summary": "meanmax", "patch": "auto", "frontend": "conv", "head_dropout": 0.2},
    "optim": {"name": "adamw", "lr": 2e-3, "weight_decay": 0.01, "schedule": "onecycle",
              "pct_start": 0.1},
    "trainer": {"steps": 1000},
}


def defaults(family: str) -> dict[str, Any]:
    """The defaults of a run on sequence files, under whatever a config file or the command
    line sets (the tag family: its own model section's defaults)."""
    if family == "tag":
        return {key: value for key, value in _DEFAULTS.items() if key != "model"}
    return _DEFAULTS


def claims(path: str) -> bool:
    """Whether ``--train PATH`` is a sequence file: a file with an extension rnnkit reads."""
    p = Path(path)
    return not p.is_dir() and p.suffix.lstrip(".").lower() in FORMATS
