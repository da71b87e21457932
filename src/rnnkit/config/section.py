"""The machinery of config sections: frozen dataclasses whose fields carry help text and checks.

A section is a frozen dataclass deriving from :class:`Section`; each field is declared with
:func:`option`, which records its help text, its choices or range, and whether ``auto`` is
accepted in place of a number. Building a section (:func:`build_section`) checks every key and
value: an unknown key is an error that lists the section's valid keys.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import field
from typing import Any, ClassVar, Union

__all__ = ["ConfigError", "Section", "build_section", "check_layer_dropout", "option"]


class ConfigError(ValueError):
    """A config file or override names an unknown key or holds an invalid value."""


def option(default: Any, help: str, *, choices: tuple | None = None, min: float | None = None,
           max: float | None = None, min_exclusive: bool = False, auto: bool = False) -> Any:
    """A section field with its help text and the checks :class:`Section` applies;
    ``auto``: a number, or the text ``auto`` (resolved when the data are known)."""
    meta = {"help": help, "choices": choices, "min": min, "max": max,
            "min_exclusive": min_exclusive, "auto": auto}
    return field(default=default, metadata=meta)


def check_layer_dropout(dropout: float, num_layers: int, instead: str) -> None:
    """``model.dropout`` acts between stacked recurrent layers: with one layer it would do
    nothing, so it is an error that names ``instead``, the option that does act there."""
    if dropout > 0 and num_layers < 2:
        raise ConfigError(f"model.dropout={dropout} acts between recurrent layers, so it needs "
                          f"model.num_layers >= 2 (got {num_layers}); use {instead} for a "
                          "single layer")


class Section:
    """Validation shared by all config sections (run from ``__post_init__``).

    ``key`` is the section's name in a run config (``data``, ``model``, ...), used in messages.
    """

    key: ClassVar[str] = ""
    PATH_KEYS: ClassVar[tuple[str, ...]] = ()  # keys holding paths of files the run reads

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

    @classmethod
    def keys(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]

    def absolute_paths(self) -> dict[str, Any]:
        """:meth:`to_dict` with the paths of :attr:`PATH_KEYS` made absolute (a run's config
        then works from any directory)."""
        values = self.to_dict()
        for key in self.PATH_KEYS:
            if values[key] is not None:
                values[key] = os.path.abspath(values[key])
        return values


def build_section(cls: type, data: Mapping[str, Any], prefix: str) -> Any:
    """``cls(**data)`` with every key and value checked; ``prefix`` (``"data."``) names the
    section in messages."""
    if not isinstance(data, Mapping):
        where = f"section '{prefix[:-1]}'" if prefix else "the config"
        raise ConfigError(f"{where} must be a mapping of keys to values, got {data!r}")
    valid = cls.keys()
    for key in data:
        if key not in valid:
            where = f"in section '{prefix[:-1]}'" if prefix else "at the top level"
            raise ConfigError(
                f"unknown config key '{prefix}{key}'; valid keys {where}: {', '.join(valid)}"
            )
    hints = typing.get_type_hints(cls)
    return cls(**{name: coerce(hints[name], value, f"{prefix}{name}")
                  for name, value in data.items()})


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


def coerce(tp: Any, value: Any, key: str) -> Any:
    """Return ``value`` as type ``tp`` (int or numeric text -> float are the only conversions)."""
    for alt in _alternatives(tp):
        if isinstance(alt, type) and issubclass(alt, Section) and isinstance(value, alt):
            return value
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
    key = f"{cls.key}.{f.name}" if cls.key else f.name
    if isinstance(value, Section):
        return value  # a nested section, checked when it was built
    value = coerce(typing.get_type_hints(cls)[f.name], value, key)
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


class DataSection(Section):
    """A data source's ``data:`` section: what the run code asks of every source's config.

    Class attributes:
        RESUMABLE: keys a resumed run may change (where the data live, how they are loaded).
        EVAL_KEYS: keys ``evaluate`` and ``predict`` may override.
        READ_KEYS: keys that say how a file is read; evaluating on a split of the training file
            needs them unchanged.
    """

    key: ClassVar[str] = "data"
    RESUMABLE: ClassVar[tuple[str, ...]] = ("num_workers",)
    EVAL_KEYS: ClassVar[tuple[str, ...]] = ("num_workers",)
    READ_KEYS: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        normalize = getattr(self, "normalize", None)
        if isinstance(normalize, bool):  # normalize: true/false, the YAML of earlier versions
            object.__setattr__(self, "normalize", "feature" if normalize else "none")
        super().__post_init__()

    FILE_KEYS: ClassVar[tuple[str, ...]] = ()  # keys naming files that must exist when set

    def check_files(self) -> None:
        """Raise :class:`ConfigError` naming a data file that is missing (every set key of
        :attr:`FILE_KEYS`)."""
        for key in self.FILE_KEYS:
            value = getattr(self, key)
            if value is not None and not os.path.isfile(value):
                what = "a directory, not a file" if os.path.isdir(value) else "no such file"
                raise ConfigError(f"data.{key}: {what}: {value}")

    def run_name(self) -> str | None:
        """The default run name for this data: the training file's name without its suffix
        (None: the config's)."""
        train = getattr(self, "train", None)
        return (os.path.splitext(os.path.basename(os.path.normpath(train)))[0] or None) \
            if isinstance(train, str) else None
