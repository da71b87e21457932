"""The header of a UEA/UCR ``.ts`` file: the ``@key value`` lines before ``@data``.

:func:`read_header` reads them into a :class:`TsHeader`, checking each key and the header as
a whole; :mod:`rnnkit.data.sequences.ts` describes the format and reads the cases after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rnnkit.data.sequences.errors import SequenceFileError

__all__ = ["TsHeader", "check_header", "is_blank_or_comment", "parse_header_line", "read_header"]

_BOOL_KEYS = {"timestamps": "timeStamps", "missing": "missing", "univariate": "univariate",
              "equallength": "equalLength", "targetlabel": "targetLabel"}
_INT_KEYS = {"dimensions": "dimensions", "serieslength": "seriesLength"}
_OTHER_KEYS = {"problemname": "problemName", "classlabel": "classLabel", "data": "data"}
_KEYS = {**_BOOL_KEYS, **_INT_KEYS, **_OTHER_KEYS}


@dataclass
class TsHeader:
    """The header of a ``.ts`` file (``None`` where a key was absent)."""

    problem_name: str | None = None
    timestamps: bool | None = None
    missing: bool | None = None
    univariate: bool | None = None
    dimensions: int | None = None
    equallength: bool | None = None
    serieslength: int | None = None
    class_labels: list[str] | None = None  # None: no class labels
    targetlabel: bool | None = None
    lines: dict[str, int] = field(default_factory=dict)  # key -> line it was declared on


def parse_header_line(h: TsHeader, line: str, lineno: int, path: Path) -> None:
    """Record the header line ``line`` (``@key value``, stripped) in ``h``; raises
    :class:`SequenceFileError` for an unknown, repeated or malformed key."""
    tokens = line.split()
    key = tokens[0][1:].lower()
    args = tokens[1:]
    name = _KEYS.get(key)
    if name is None:
        raise SequenceFileError(
            f"unknown header {tokens[0]!r}; known: {', '.join('@' + k for k in _KEYS.values())}",
            path, lineno,
        )
    if key in h.lines:
        raise SequenceFileError(f"@{name} repeats line {h.lines[key]}", path, lineno)
    h.lines[key] = lineno

    def boolean(arg: str) -> bool:
        if arg.lower() not in ("true", "false"):
            raise SequenceFileError(f"@{name} expects true or false, found {arg!r}", path, lineno)
        return arg.lower() == "true"

    if key == "problemname":
        h.problem_name = " ".join(args)
    elif key == "data":
        if args:
            raise SequenceFileError(f"@data takes no value, found {' '.join(args)!r}", path, lineno)
    elif key == "classlabel":
        if not args:
            raise SequenceFileError("@classLabel expects true or false", path, lineno)
        if boolean(args[0]):
            labels = args[1:]
            if not labels:
                raise SequenceFileError("@classLabel true but no labels listed", path, lineno)
            if len(set(labels)) != len(labels):
                raise SequenceFileError(f"@classLabel lists a label twice: {labels}", path, lineno)
            h.class_labels = labels
        elif len(args) > 1:
            raise SequenceFileError("@classLabel false takes no labels", path, lineno)
    elif len(args) != 1:
        raise SequenceFileError(f"@{name} expects one value, found {len(args)}", path, lineno)
    elif key in _BOOL_KEYS:
        setattr(h, key, boolean(args[0]))
    else:
        try:
            value = int(args[0])
        except ValueError:
            value = 0
        if value < 1:
            raise SequenceFileError(
                f"@{name} expects a positive whole number, found {args[0]!r}", path, lineno
            )
        setattr(h, key, value)


def check_header(h: TsHeader, path: Path) -> None:
    """Raise :class:`SequenceFileError` when the keys of a whole header contradict each other."""
    if h.class_labels is not None and h.targetlabel:
        raise SequenceFileError(
            "@classLabel true and @targetLabel true: a file has one kind of label",
            path, h.lines["targetlabel"],
        )
    if h.univariate and h.dimensions not in (None, 1):
        raise SequenceFileError(
            f"@univariate true but @dimensions {h.dimensions}", path, h.lines["dimensions"]
        )


def is_blank_or_comment(line: str) -> bool:
    """Whether the stripped ``line`` is blank or a ``#`` comment (allowed anywhere)."""
    return not line or line[0] == "#"


def read_header(numbered: Iterator[tuple[int, str]], path: Path) -> TsHeader:
    """Read ``(line number, line)`` pairs up to and including ``@data`` and return the checked
    header; the cases follow in ``numbered``.

    Raises:
        SequenceFileError: an empty file, a case before ``@data``, no ``@data``, or a header
            line or key combination that :func:`parse_header_line` or :func:`check_header`
            rejects.
    """
    h = TsHeader()
    for lineno, raw in numbered:
        line = raw.strip()
        if is_blank_or_comment(line):
            continue
        if line[0] != "@":
            raise SequenceFileError(
                "expected a header line (@key value); the header must end with @data "
                "before the first case", path, lineno,
            )
        parse_header_line(h, line, lineno, path)
        if "data" in h.lines:
            break
    else:
        if not h.lines:
            raise SequenceFileError("empty file: no header and no data", path)
        raise SequenceFileError("no @data line after the header", path, max(h.lines.values()))
    check_header(h, path)
    return h
