"""Typed run configuration: frozen dataclasses, YAML files and command-line overrides.

A run is described by one :class:`RunConfig` with one section per component::

    name: mnist_rows_lstm
    out: null                 # run directory; null = runs/<name>-<timestamp>
    data:    {source: bundled, view: rows, batch_size: 100, ...}
    model:   {cell: lstm, hidden_size: 128, num_layers: 2, summary: last, ...}
    optim:   {name: adam, lr: 0.002, schedule: onecycle, ...}
    trainer: {epochs: 12, seed: 0, grad_clip: 1.0, ...}

The defaults are the main job (``rnnkit train`` with no arguments): a row-MNIST LSTM on the
bundled sample. A YAML file only lists what differs; ``--set section.key=value`` (the value is
parsed as YAML) and the shortcuts ``--epochs``, ``--out``, ``--data-dir`` override it. Every
value is checked (type, choices, range) when a config is built, and an unknown key is an error
that lists the valid keys. The resolved config is saved as ``config.yaml`` in every run
directory and, as a plain dict, inside every checkpoint.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml

from rnnkit.atomic import write_text_atomic

__all__ = [
    "ConfigError",
    "DataConfig",
    "ModelConfig",
    "OptimConfig",
    "TrainerConfig",
    "RunConfig",
    "load_config",
    "apply_overrides",
    "save_config",
    "Override",
    "FILES_DEFAULTS",
    "override_key",
    "READ_OPTION_KEYS",
]


class ConfigError(ValueError):
    """A config file or override names an unknown key or holds an invalid value."""


def _opt(default: Any, help: str, *, choices: tuple | None = None, min: float | None = None,
         max: float | None = None, min_exclusive: bool = False, auto: bool = False) -> Any:
    """A dataclass field with its help text and the checks :func:`_check_field` applies;
    ``auto``: a number, or the text ``auto`` (resolved when the data are known)."""
    meta = {"help": help, "choices": choices, "min": min, "max": max,
            "min_exclusive": min_exclusive, "auto": auto}
    return field(default=default, metadata=meta)


class _Section:
    """Validation shared by all config sections (run from ``__post_init__``)."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = _check_field(type(self), f, getattr(self, f.name))
            object.__setattr__(self, f.name, value)  # e.g. lr=1 -> 1.0
        self._check()

    def _check(self) -> None:
        """Cross-field checks of one section."""

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (YAML- and ``torch.load(weights_only=True)``-safe)."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class DataConfig(_Section):
    """Where the sequences come from and how they are batched.

    ``name: mnist`` reads MNIST (``source``, ``view``, ``val_size``, ...); ``name: files``
    reads the user's labelled sequence files (``train``, ``test``, ``val_fraction`` and the read
    options ``format``, ``task``, ``id_col``, ...; see docs/data-formats.md).
    """

    name: str = _opt("mnist", "dataset family: mnist, or files (your own sequence files)",
                     choices=("mnist", "files"))
    source: str = _opt("bundled", "'bundled' (the 10k/2k sample shipped with rnnkit), 'full' "
                       "(the data cache, ~/.cache/rnnkit/mnist) or a directory holding the four "
                       "MNIST IDX files (.gz or raw)")
    download: bool = _opt(False, "download MNIST into `source` when files are missing")
    view: str = _opt("rows", "how an image becomes a sequence: rows (28 steps x 28), pixels "
                     "(784 steps x 1) or permuted (pixels in a fixed random order)",
                     choices=("rows", "pixels", "permuted"))
    perm_seed: int = _opt(0, "seed of the permuted view's pixel order", min=0)
    batch_size: int | str = _opt(100, "examples per batch, or auto (files: from the number of "
                                 "training sequences, see docs/data-formats.md)", min=1,
                                 auto=True)
    val_size: int = _opt(1000, "training examples held out for validation", min=1)
    normalize: str | bool = _opt(
        "feature", "feature: standardise each input feature (MNIST: with MNIST's training "
        "mean and std; files: the training split's); sequence (files): z-normalise each "
        "sequence and feature on its own; auto (files): sequence for classification, feature "
        "for regression; none (true/false mean feature/none)",
        choices=("feature", "sequence", "auto", "none"))
    num_workers: int = _opt(0, "DataLoader worker processes (0 = load in the main process)", min=0)
    train: str | None = _opt(None, "files: the training file (.ts, .csv, .tsv or .npz)")
    test: str | None = _opt(None, "files: the test file (default: report on the validation "
                            "split)")
    val: str | None = _opt(None, "files: a validation file instead of a split of data.train")
    val_fraction: float | str = _opt(
        0.1, "files: part of data.train held out for validation (stratified by class), or "
        "auto (decided from the number of training sequences; see docs/data-formats.md)",
        min=0.0, max=0.9, auto=True)
    format: str | None = _opt(None, "files: ts, npz, csv, csv-long, csv-wide or tsv (default: "
                              "from each file's extension)")
    task: str = _opt("auto", "files: classification, regression or auto (from the labels)",
                     choices=("auto", "classification", "regression"))
    id_col: str | None = _opt(None, "long CSV: the sequence id column (default: found by name)")
    time_col: str | None = _opt(None, "long CSV: the time column (default: found by name)")
    label_col: str | int | None = _opt(
        None, "CSV: the label column; a name, or for the wide form first (default), last, an "
        "index or none (no labels)")
    feature_cols: list[str] | None = _opt(None, "long CSV: the feature columns (default: all "
                                          "others)")
    delimiter: str | None = _opt(None, "CSV: the field separator (default: detected among , ; "
                                  "tab and |)")
    header: bool | None = _opt(None, "wide CSV: whether the first row is a header (default: "
                               "detected)")
    bucket: bool = _opt(True, "files: batch sequences of similar length together")

    def __post_init__(self) -> None:
        if isinstance(self.normalize, bool):  # the YAML spelling of earlier versions
            object.__setattr__(self, "normalize", "feature" if self.normalize else "none")
        super().__post_init__()

    def _check(self) -> None:
        if self.download and self.source == "bundled":
            raise ConfigError("data.download=true needs data.source 'full' or a directory, "
                              "not 'bundled' (the bundled sample ships with rnnkit)")
        if self.name == "mnist":
            if self.batch_size == "auto" or self.val_fraction == "auto":
                raise ConfigError("data.batch_size=auto and data.val_fraction=auto are for "
                                  "sequence files (data.name=files)")
            if self.normalize in ("sequence", "auto"):
                raise ConfigError(f"data.normalize={self.normalize} is for sequence files; "
                                  "MNIST takes feature or none")
            given = [k for k in ("train", "test", "val") if getattr(self, k) is not None]
            if given:
                raise ConfigError(
                    f"data.{given[0]} names a file, which needs data.name=files (data.name is "
                    "mnist); rnnkit train --train FILE sets both"
                )
            return
        if self.train is None:
            raise ConfigError("data.name=files needs data.train, the training file "
                              "(rnnkit train --train FILE)")
        from rnnkit.data.sequences import FORMATS

        if self.format is not None and self.format.lower() not in FORMATS:
            raise ConfigError(f"data.format must be one of {', '.join(FORMATS)} or null; "
                              f"got {self.format!r}")
        if isinstance(self.label_col, str) and not self.label_col.strip():
            raise ConfigError("data.label_col must not be empty")

    def file_format(self, path: str | os.PathLike) -> str:
        """The format a data file is read in: ``data.format``, else from its extension.

        Raises:
            ConfigError: the extension is not one rnnkit reads and ``data.format`` is not set.
        """
        from rnnkit.data.sequences import FORMATS

        fmt = (self.format or Path(path).suffix.lstrip(".")).lower()
        if fmt not in FORMATS:
            raise ConfigError(
                f"cannot tell the format of {os.fspath(path)!r} from its extension; name it "
                f".ts, .csv, .tsv or .npz, or set data.format to one of {', '.join(FORMATS)}"
            )
        return fmt

    def read_options(self, path: str | os.PathLike | None = None) -> dict[str, Any]:
        """Keyword arguments of :func:`rnnkit.data.sequences.read_sequences` for data files.

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
        if self.format is not None:
            options["format"] = self.format.lower()
        elif fmt == "csv" and self.header is not None:
            options["format"] = "csv-wide"
        if self.task != "auto":
            options["task"] = self.task
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
        if self.name != "files":
            return
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


_NO_LABELS = object()  # data.label_col=none: the wide CSV has no label column

# The data keys that say how a file is read (DataConfig.read_options), not what is done with it.
READ_OPTION_KEYS = ("format", "id_col", "time_col", "label_col", "feature_cols", "delimiter",
                    "header")


@dataclass(frozen=True)
class ModelConfig(_Section):
    """The SequenceClassifier: a recurrent encoder, a sequence summary and a head."""

    cell: str = _opt("lstm", "recurrent cell", choices=(
        "rnn", "lstm", "gru", "layernorm_lstm", "layernorm_gru", "peephole_lstm", "indrnn",
        "mingru", "minlstm"))
    hidden_size: int = _opt(128, "H, features of the recurrent state", min=1)
    num_layers: int = _opt(2, "stacked recurrent layers", min=1)
    bidirectional: bool = _opt(False, "run a backward direction too (D = 2)")
    dropout: float = _opt(0.0, "dropout between recurrent layers (needs num_layers >= 2)",
                          min=0.0, max=0.99)
    summary: str = _opt("last", "sequence summary: last (direction-aware), mean, max, "
                        "meanmax (both, concatenated), attention",
                        choices=("last", "mean", "max", "meanmax", "attention"))
    patch: int | str = _opt(1, "k: every k consecutive steps become one step of k*F features "
                            "before the recurrent layer; auto: k = ceil(longest training "
                            "sequence / 64)", min=1, auto=True)
    frontend: str = _opt("patch", "how model.patch shortens the sequence: patch (k steps side "
                         "by side) or conv (a strided convolution over 2k+1 steps with "
                         "hidden_size channels)", choices=("patch", "conv"))
    head_hidden: int = _opt(0, "hidden units of an extra ReLU layer in the head (0 = linear head)",
                            min=0)
    head_batchnorm: bool = _opt(False, "BatchNorm1d on the summary before the head")
    head_dropout: float = _opt(0.0, "dropout on the summary before the head", min=0.0, max=0.99)
    path: str = _opt("auto", "rnnkit.nn execution path", choices=("auto", "fast", "explicit"))
    input_dropout: float = _opt(0.0, "variational dropout on each layer's input (one mask per "
                                "sequence)", min=0.0, max=0.99)
    recurrent_dropout: float = _opt(0.0, "variational dropout on h_{t-1} in the recurrent "
                                    "product (one mask per sequence)", min=0.0, max=0.99)
    zoneout: float = _opt(0.0, "probability that a state unit keeps its previous value",
                          min=0.0, max=0.99)
    weight_drop: float = _opt(0.0, "DropConnect on the recurrent weight matrix", min=0.0,
                              max=0.99)
    recurrent_max_abs: float = _opt(0.0, "indrnn only: bound on |recurrent weight| (0 = none)",
                                    min=0.0)

    def layer_options(self) -> dict[str, float]:
        """The keywords for the rnnkit.nn layer beyond the common ones (non-default only)."""
        names = ("input_dropout", "recurrent_dropout", "zoneout", "weight_drop")
        options = {name: getattr(self, name) for name in names if getattr(self, name) > 0}
        if self.recurrent_max_abs > 0:
            options["recurrent_max_abs"] = self.recurrent_max_abs
        return options

    def _check(self) -> None:
        if self.recurrent_max_abs > 0 and self.cell != "indrnn":
            raise ConfigError(
                f"model.recurrent_max_abs bounds IndRNN's recurrent weights; cell is {self.cell}"
            )
        if self.dropout > 0 and self.num_layers < 2:
            raise ConfigError(
                f"model.dropout={self.dropout} acts between recurrent layers, so it needs "
                f"model.num_layers >= 2 (got {self.num_layers}); use model.head_dropout for "
                "a single layer"
            )


@dataclass(frozen=True)
class OptimConfig(_Section):
    """Optimizer and learning-rate schedule."""

    name: str = _opt("adam", "optimizer", choices=("adam", "adamw", "sgd"))
    lr: float = _opt(2e-3, "learning rate (the peak rate for onecycle)", min=0.0,
                     min_exclusive=True)
    weight_decay: float = _opt(0.0, "L2 penalty (adam, sgd) or decoupled decay (adamw)", min=0.0)
    momentum: float = _opt(0.9, "SGD momentum", min=0.0, max=1.0)
    nesterov: bool = _opt(False, "SGD with Nesterov momentum")
    schedule: str = _opt("onecycle", "learning-rate schedule",
                         choices=("onecycle", "cosine", "step", "none"))
    pct_start: float = _opt(0.25, "onecycle: fraction of the steps spent warming up",
                            min=0.0, max=1.0, min_exclusive=True)
    step_size: int = _opt(5, "step: epochs between decays", min=1)
    gamma: float = _opt(0.1, "step: decay factor", min=0.0, min_exclusive=True)

    def _check(self) -> None:
        if self.nesterov and (self.name != "sgd" or self.momentum == 0):
            raise ConfigError("optim.nesterov needs optim.name=sgd and optim.momentum > 0")


@dataclass(frozen=True)
class TrainerConfig(_Section):
    """Lightning Trainer settings, seeding, checkpointing and early stopping."""

    epochs: int = _opt(12, "training epochs (derived from trainer.steps when that is > 0)",
                       min=1)
    steps: int = _opt(0, "training budget in optimizer steps; > 0 sets the epochs to "
                      "ceil(steps / batches per epoch) (0: use trainer.epochs)", min=0)
    check_every: int | str = _opt(
        "auto", "validate, print the progress line and write checkpoints every this many "
        "optimizer steps, rounded to whole epochs (auto: about every 100 steps, at least every "
        "epoch); an interrupted run resumes from the last check", min=1, auto=True)
    seed: int = _opt(0, "seed for weights, shuffling and dropout", min=0, max=2**32 - 1)
    grad_clip: float = _opt(1.0, "clip the gradient norm to this value (0 = off)", min=0.0)
    early_stopping: int = _opt(0, "stop after this many optimizer steps without a better "
                               "monitored value, counted at the checks (0 = off)", min=0)
    monitor: str = _opt("auto", "metric for the best checkpoint and early stopping (auto: "
                        "val_acc for classification, val_loss for regression; none when there "
                        "is no validation data: the final weights are kept)",
                        choices=("auto", "val_acc", "val_loss", "none"))
    accelerator: str = _opt("auto", "Lightning accelerator: auto, cpu, gpu, ...")
    devices: int | str = _opt(1, "Lightning devices: a count >= 1, auto (all; several start "
                              "DDP) or a list of device indices such as '0,1'", min=1)
    precision: str = _opt("32-true", "Lightning precision: 32-true, bf16-mixed, 16-mixed, ...")
    deterministic: bool = _opt(False, "also ask torch for deterministic kernels (slower)")
    threads: int | str = _opt("auto", "CPU threads for torch's kernels; auto: 1 for small "
                              "batches x hidden sizes (below 4096, where more threads only "
                              "wait on each other), else torch's default", min=1,
                              auto=True)
    log_every_n_steps: int = _opt(20, "log training metrics every n steps", min=1)
    progress_bar: bool = _opt(True, "show progress: a bar on a terminal, one line per check "
                              "otherwise")
    verbose: bool = _opt(False, "also print Lightning's model summary table")

    def _check(self) -> None:
        devices = self.devices
        if isinstance(devices, str) and devices != "auto":
            items = [d.strip() for d in devices.split(",") if d.strip()]
            if not items or not all(d.isdigit() for d in items):
                raise ConfigError(f"trainer.devices must be a count >= 1, auto or device "
                                  f"indices such as '0,1'; got {devices!r}")


@dataclass(frozen=True)
class RunConfig(_Section):
    """Everything a run needs; the defaults are the main job."""

    name: str = _opt("mnist_rows_lstm", "run name, used for the default run directory")
    out: str | None = _opt(None, "run directory (default: runs/<name>-<timestamp>)")
    data: DataConfig = field(default_factory=DataConfig, metadata={"help": "data"})
    model: ModelConfig = field(default_factory=ModelConfig, metadata={"help": "model"})
    optim: OptimConfig = field(default_factory=OptimConfig, metadata={"help": "optimizer"})
    trainer: TrainerConfig = field(default_factory=TrainerConfig, metadata={"help": "trainer"})

    def _check(self) -> None:
        name = self.name
        if not name or name in (".", "..") or any(c in name for c in '/\\:\0'):
            raise ConfigError(f"name must be a plain name without path separators (it names "
                              f"the directory under runs/); got {name!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RunConfig:
        """Build and validate a config from a nested dict; missing keys take the defaults."""
        return _build(cls, data or {}, prefix="")


# The defaults of a run on the user's own sequence files (data.name: files), under whatever a
# config file or the command line sets: made for tens to thousands of sequences, where a budget
# in epochs of MNIST-sized batches would be a handful of optimizer steps (measured in
# benchmarks/bench_small.py; see docs/data-formats.md).
FILES_DEFAULTS: dict[str, Any] = {
    "data": {"batch_size": "auto", "val_fraction": "auto", "normalize": "auto"},
    "model": {"cell": "gru", "hidden_size": 128, "num_layers": 1, "bidirectional": False,
              "summary": "meanmax", "patch": "auto", "frontend": "conv", "head_dropout": 0.2},
    "optim": {"name": "adamw", "lr": 2e-3, "weight_decay": 0.01, "schedule": "onecycle",
              "pct_start": 0.1},
    "trainer": {"steps": 1000},
}

_SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "model": ModelConfig,
    "optim": OptimConfig,
    "trainer": TrainerConfig,
}


# ----------------------------------------------------------------------------------- checks


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _alternatives(tp: Any) -> tuple[Any, ...]:
    if typing.get_origin(tp) in (Union, types.UnionType):
        return typing.get_args(tp)
    return (tp,)


def _type_name(tp: Any) -> str:
    def name(t: Any) -> str:
        if t is type(None):
            return "null"
        if typing.get_origin(t) is list:
            return "a list of strings"
        return t.__name__

    return " or ".join(name(t) for t in _alternatives(tp))


def _coerce(tp: Any, value: Any, key: str) -> Any:
    """Return ``value`` as type ``tp`` (int or numeric text -> float are the only conversions)."""
    for alt in _alternatives(tp):
        if alt is type(None) and value is None:
            return None
        if alt is bool and isinstance(value, bool):
            return value
        if alt is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if alt is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if alt is float and isinstance(value, str):
            try:  # YAML 1.1 reads 1e-3 (no dot) as a string
                return float(value)
            except ValueError:
                pass
        if alt is str and isinstance(value, str):
            return value
        if typing.get_origin(alt) is list and isinstance(value, (list, tuple)) \
                and all(isinstance(v, str) for v in value):
            return list(value)
    raise ConfigError(f"{key} must be {_type_name(tp)}, got {value!r} ({type(value).__name__})")


def _check_field(cls: type, f: dataclasses.Field, value: Any) -> Any:
    """Check one field's type, choices and range; return the value in its declared type."""
    key = f"{_section_name(cls)}{f.name}"
    if f.name in _SECTIONS and cls is RunConfig:
        if not isinstance(value, _SECTIONS[f.name]):
            raise ConfigError(f"{key} must be a {_SECTIONS[f.name].__name__}")
        return value
    value = _coerce(_hints(cls)[f.name], value, key)
    meta = f.metadata
    if meta.get("auto") and isinstance(value, str) and value != "auto":
        raise ConfigError(f"{key} must be a number or auto, got {value!r}")
    if meta.get("choices") and value not in meta["choices"]:
        raise ConfigError(f"{key} must be one of {', '.join(meta['choices'])}; got {value!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        lo, hi = meta.get("min"), meta.get("max")
        if lo is not None and (value < lo or (meta.get("min_exclusive") and value == lo)):
            rel = ">" if meta.get("min_exclusive") else ">="
            raise ConfigError(f"{key} must be {rel} {lo}, got {value!r}")
        if hi is not None and value > hi:
            raise ConfigError(f"{key} must be <= {hi}, got {value!r}")
    return value


def _section_name(cls: type) -> str:
    for name, section in _SECTIONS.items():
        if section is cls:
            return f"{name}."
    return ""


def _build(cls: type, data: Mapping[str, Any], prefix: str) -> Any:
    if not isinstance(data, Mapping):
        where = f"section '{prefix[:-1]}'" if prefix else "the config"
        raise ConfigError(f"{where} must be a mapping of keys to values, got {data!r}")
    valid = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in valid:
            where = f"in section '{prefix[:-1]}'" if prefix else "at the top level"
            raise ConfigError(
                f"unknown config key '{prefix}{key}'; valid keys {where}: {', '.join(valid)}"
            )
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if cls is RunConfig and name in _SECTIONS:
            kwargs[name] = _build(_SECTIONS[name], value or {}, prefix=f"{name}.")
        else:
            kwargs[name] = _coerce(hints[name], value, f"{prefix}{name}")
    return cls(**kwargs)


# ------------------------------------------------------------------------------- overrides


def _parse_override(item: str) -> tuple[list[str], Any]:
    if "=" not in item:
        raise ConfigError(f"an override must look like section.key=value, got {item!r}")
    key, _, text = item.partition("=")
    key = key.strip()
    try:
        value = yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError as err:
        raise ConfigError(f"cannot parse the value of override {item!r}: {err}") from None
    return key.split("."), value


Override = str | tuple[str, Any]  # "section.key=value" or ("section.key", value)


def override_key(override: Override) -> str:
    """The ``section.key`` an override sets."""
    if isinstance(override, tuple):
        return override[0]
    return override.partition("=")[0].strip()


def apply_overrides(config: Mapping[str, Any], overrides: Iterable[Override]) -> dict[str, Any]:
    """Return a copy of the nested dict ``config`` with overrides applied.

    An override is ``"section.key=value"``, whose value is parsed as YAML (``true``, ``0.1``,
    ``null``, ``[0, 1]``), or a pair ``("section.key", value)`` taken as is (for paths).
    Keys are checked when the result is turned into a :class:`RunConfig`.
    """
    result = {k: dict(v) if isinstance(v, Mapping) else v for k, v in config.items()}
    for item in overrides:
        if isinstance(item, tuple):
            path, value = item[0].split("."), item[1]
            item = f"{item[0]}={value}"
        else:
            path, value = _parse_override(item)
        if len(path) == 1:
            if path[0] in _SECTIONS:
                keys = ", ".join(f.name for f in dataclasses.fields(_SECTIONS[path[0]]))
                raise ConfigError(
                    f"override {item!r} names a whole section; use {path[0]}.KEY=VALUE "
                    f"(valid keys: {keys})"
                )
            result[path[0]] = value
        elif len(path) == 2 and path[0] in _SECTIONS:
            section = result.setdefault(path[0], {})
            if section is None:  # `model:` with nothing under it in a YAML file
                section = result[path[0]] = {}
            if not isinstance(section, dict):
                raise ConfigError(f"section '{path[0]}' must be a mapping, got {section!r}")
            section[path[1]] = value
        else:
            top = [f.name for f in dataclasses.fields(RunConfig)]
            raise ConfigError(
                f"unknown config key '{'.'.join(path)}'; valid keys at the top level: "
                f"{', '.join(top)} (sections: {', '.join(_SECTIONS)})"
            )
    return result


# -------------------------------------------------------------------------------- file I/O


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping (YAML lets the last win
    silently, so a recipe would not say what it does)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file as a dict (an empty file is an empty dict)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as err:
        raise ConfigError(f"cannot read config file {path}: {err.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ConfigError(f"{path}, line {line}: expected UTF-8 text, found the byte "
                          f"0x{raw[err.start]:02x}") from None
    try:
        loader = _UniqueKeyLoader(text)
        loader.name = str(path)  # messages name the file, not "<unicode string>"
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of sections, got {type(data).__name__}")
    return data


def load_config(
    path: str | Path | None = None, overrides: Iterable[Override] = ()
) -> RunConfig:
    """Defaults, then the YAML file at ``path`` (if any), then overrides (see
    :func:`apply_overrides`).

    Raises:
        ConfigError: unknown key (the message lists the valid ones), bad type or value.
    """
    data: dict[str, Any] = read_yaml(path) if path is not None else {}
    try:
        return _load(data, list(overrides))
    except ConfigError as err:
        if path is None:
            raise
        raise ConfigError(f"{path} with the command line: {err}") from None


def _load(data: dict[str, Any], overrides: list[Override]) -> RunConfig:
    merged = apply_overrides(data, overrides)
    # The budget is epochs or steps. The command line has the last word: trainer.epochs given
    # there (not trainer.steps) means a budget in epochs; both there is a contradiction.
    given = {override_key(o) for o in overrides}
    if {"trainer.epochs", "trainer.steps"} <= given:
        raise ConfigError("trainer.epochs and trainer.steps both set the budget; give one")
    if "trainer.epochs" in given:
        overrides.append(("trainer.steps", 0))
    if (merged.get("data") or {}).get("name") == "files":
        defaults = FILES_DEFAULTS
        if "epochs" in (data.get("trainer") or {}) and "steps" not in data["trainer"]:
            defaults = _merge(defaults, {"trainer": {"steps": 0}})  # a recipe in epochs
        merged = apply_overrides(_merge(defaults, data), overrides)
    else:
        merged = apply_overrides(data, overrides)
    return RunConfig.from_dict(merged)


def _merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``top`` over ``base``, section by section."""
    result = {k: dict(v) if isinstance(v, Mapping) else v for k, v in base.items()}
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), dict):
            result[key] = {**result[key], **value}
        else:
            result[key] = value
    return result


def save_config(config: RunConfig, path: str | Path, notes: Iterable[str] | None = None) -> None:
    """Write the resolved config as YAML (every key, sections in a fixed order), atomically;
    ``notes`` (why automatic values were chosen) become comment lines at the top."""
    text = yaml.safe_dump(config.to_dict(), sort_keys=False, default_flow_style=False)
    header = "".join(f"# {' '.join(note.split())}\n" for note in notes or ())
    write_text_atomic(path, header + text)
