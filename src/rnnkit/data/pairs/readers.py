"""Reading source/target pairs: a table, two aligned line files, or a pronouncing dictionary.

Three layouts hold a target text for every source text:

* **table** (``.csv .tsv .txt``): a header row, then one pair a row. The columns are named
  (``data.source_col``, ``data.target_col``), else found by name (``source``/``target``,
  ``src``/``tgt``, ``input``/``output``, any case), else the first two. Tab for ``.tsv``,
  else the separator is sniffed; CSV quoting applies.
* **lines**: two files of as many lines, line k of the target file the target of line k of
  the source file (``data.train`` and ``data.train_target``). A line blank in both is skipped.
* **dict** (``.dict``, CMUdict): ``word SYM1 SYM2 ...`` a line; the source is the word, the
  target its symbols joined by single spaces. ``word(2) ...`` is another target of ``word``;
  ``#`` starts a comment, dropped with all after it; blank lines are skipped.

Every reader returns :class:`Pairs`; a side that is missing or empty, files of different
line counts, an unknown column, bytes that are not UTF-8 and an empty file are ValueErrors
naming file and line.
"""

from __future__ import annotations

import csv
import io
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rnnkit.data.sequences.tabular import sniff_delimiter
from rnnkit.data.text.readers import read_utf8

__all__ = [
    "COLUMN_NAMES",
    "FORMATS",
    "TABLE_SUFFIXES",
    "Pairs",
    "detect_format",
    "looks_like_pairs",
    "named_columns",
    "read_dict",
    "read_line_pairs",
    "read_pairs",
    "read_table_pairs",
]

FORMATS = ("auto", "table", "lines", "dict")
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
DICT_SUFFIX = ".dict"
# The column names a table's header may give its sides, in pairs (compared in lower case).
COLUMN_NAMES = (("source", "target"), ("src", "tgt"), ("input", "output"))
_ALTERNATIVE = re.compile(r"^(.+)\((\d+)\)$")  # CMUdict: word(2) is another entry of word
_HEADER_BYTES = 1 << 16


@dataclass
class Pairs:
    """Pairs as read, in file order.

    Attributes:
        sources: P source texts, none empty.
        targets: P target texts, none empty; None for a file without targets (to predict).
        where: P places (``file:line``), for messages.
        path: what was read (a file, or ``SOURCE + TARGET`` for two line files).
        format: ``"table"``, ``"lines"`` or ``"dict"``.
        columns: table: the header names of the source and target columns (the target
            ``None`` without one); else ``None``.
    """

    sources: list[str]
    targets: list[str] | None
    where: list[str]
    path: str
    format: str
    columns: tuple[str, str | None] | None = None

    def __len__(self) -> int:
        return len(self.sources)


def _lines(path: str | os.PathLike) -> list[str]:
    """The lines of a UTF-8 file without their line ends; an empty file is an error."""
    text = read_utf8(path)
    if not text.strip():
        raise ValueError(f"{os.fspath(path)}: the file is empty; expected source/target pairs")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the final line end
    return [line.removesuffix("\r") for line in lines]


# ---- tables --------------------------------------------------------------------------------
def named_columns(header: Sequence[str]) -> tuple[int | None, int | None]:
    """The (source, target) column indices a header names (:data:`COLUMN_NAMES`), the first
    pair of names it holds both of; else the source alone (a table to predict may have no
    target column); else ``(None, None)``."""
    lowered = [h.strip().lower() for h in header]
    for source, target in COLUMN_NAMES:
        if source in lowered and target in lowered:
            return lowered.index(source), lowered.index(target)
    return next(((lowered.index(s), None) for s, _ in COLUMN_NAMES if s in lowered),
                (None, None))


def _column(header: Sequence[str], name: str, side: str, path: str) -> int:
    lowered = [h.strip().lower() for h in header]
    if name.strip().lower() not in lowered:
        raise ValueError(f"{path}:1: no {side} column {name!r} (data.{side}_col); the header "
                         f"has {', '.join(repr(h) for h in header)}")
    return lowered.index(name.strip().lower())


def _table_columns(header: Sequence[str], path: str, source_col: str | None,
                   target_col: str | None, need_target: bool) -> tuple[int, int | None]:
    """The source and target columns: named, else by :func:`named_columns`, else the first
    two. ``need_target=False``: a table whose header names a source column alone, or has one
    column, holds sources alone."""
    found_source, found_target = named_columns(header)
    lowered = [h.strip().lower() for h in header]
    named_target = None
    if target_col and (need_target or target_col.strip().lower() in lowered):
        named_target = _column(header, target_col, "target", path)
    if source_col:
        source = _column(header, source_col, "source", path)
    elif found_source is not None:
        source = found_source
    else:
        source = next((i for i in range(len(header)) if i != named_target), 0)
    target: int | None
    if target_col:
        target = named_target
    elif found_target is not None and found_source == source:
        target = found_target
    elif found_source is not None and not need_target:
        target = None  # a named source column alone: the sources to predict
    else:
        target = next((i for i in range(len(header)) if i != source), None)
    if target == source or (need_target and target is None):
        raise ValueError(f"{path}:1: expected a source and a target column, found the header "
                         f"{', '.join(repr(h) for h in header)} (name them with "
                         "data.source_col and data.target_col)")
    return source, target


def _delimiter(path: str | os.PathLike) -> str:
    return "\t" if Path(path).suffix.lower() == ".tsv" else sniff_delimiter(path)


def read_table_pairs(path: str | os.PathLike, *, source_col: str | None = None,
                     target_col: str | None = None, need_target: bool = True) -> Pairs:
    """A CSV/TSV table with a header row, one pair a row (blank rows skipped); columns as the
    module says. ``need_target=False``: a table without a target column is read too
    (sources alone, to predict)."""
    name = os.fspath(path)
    text = "\n".join(_lines(path))
    delimiter = _delimiter(path)
    csv.field_size_limit(sys.maxsize)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as err:
        raise ValueError(f"{name}:{reader.line_num}: not a readable CSV row ({err})") from None
    header = rows[0][1]
    source, target = _table_columns(header, name, source_col, target_col, need_target)
    sides = [("source", source)] + ([("target", target)] if target is not None else [])
    values: dict[str, list[str]] = {"source": [], "target": []}
    where = []
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise ValueError(f"{name}:{line}: expected {len(header)} fields as in the header "
                             f"({delimiter!r} between them), found {len(row)}; a text holding "
                             "the separator must be quoted")
        for side, column in sides:
            value = row[column].strip()
            if not value:
                raise ValueError(f"{name}:{line}: an empty {side} (column {header[column]!r}); "
                                 "expected a text on both sides")
            values[side].append(value)
        where.append(f"{name}:{line}")
    if not where:
        raise ValueError(f"{name}: a header but no pairs; expected a pair a row under it")
    columns = (header[source].strip(), header[target].strip() if target is not None else None)
    return Pairs(values["source"], values["target"] if target is not None else None, where,
                 name, "table", columns)


# ---- two line files ------------------------------------------------------------------------
def read_line_pairs(source_path: str | os.PathLike,
                    target_path: str | os.PathLike | None = None) -> Pairs:
    """Two aligned line files (``target_path`` None: sources alone, one a line, blank lines
    skipped). A line blank in both files is skipped; blank in one only is an error."""
    src_name = os.fspath(source_path)
    sources = _lines(source_path)
    if target_path is None:
        kept = [(k, s.strip()) for k, s in enumerate(sources, start=1) if s.strip()]
        return Pairs([s for _, s in kept], None, [f"{src_name}:{k}" for k, _ in kept],
                     src_name, "lines")
    tgt_name = os.fspath(target_path)
    targets = _lines(target_path)
    if len(sources) != len(targets):
        raise ValueError(f"{src_name} has {len(sources):,} lines and {tgt_name} "
                         f"{len(targets):,}: expected aligned files, line k of the target "
                         "file the target of line k of the source file")
    pairs, where = [], []
    for k, (s, t) in enumerate(zip(sources, targets, strict=True), start=1):
        s, t = s.strip(), t.strip()
        if not s and not t:
            continue
        if not s or not t:
            empty, other = (src_name, tgt_name) if not s else (tgt_name, src_name)
            raise ValueError(f"{empty}:{k}: an empty {'source' if not s else 'target'} line, "
                             f"while {other}:{k} holds {(t or s)[:40]!r}; expected a text on "
                             "both sides")
        pairs.append((s, t))
        where.append(f"{src_name}:{k}")
    return Pairs([s for s, _ in pairs], [t for _, t in pairs], where,
                 f"{src_name} + {tgt_name}", "lines")


# ---- pronouncing dictionaries --------------------------------------------------------------
def read_dict(path: str | os.PathLike, *, need_target: bool = True) -> Pairs:
    """A pronouncing dictionary (CMUdict): ``word SYM1 SYM2 ...`` a line, ``word(2)`` another
    target of ``word``, ``#`` a comment. ``need_target=False``: a file of bare words is read
    too (sources alone, to predict)."""
    name = os.fspath(path)
    sources, targets, where, bare = [], [], [], []
    for k, line in enumerate(_lines(path), start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        word = fields[0]
        alternative = _ALTERNATIVE.match(word)
        if alternative:
            word = alternative.group(1)
        sources.append(word)
        targets.append(" ".join(fields[1:]))
        where.append(f"{name}:{k}")
        if len(fields) == 1:
            bare.append(k)
    if not sources:
        raise ValueError(f"{name}: no entries, only comments and blank lines; expected "
                         "'word SYM1 SYM2 ...' lines")
    if bare and (need_target or len(bare) < len(sources)):
        k = bare[0]
        raise ValueError(f"{name}:{k}: expected a word and its symbols ('word SYM1 SYM2 ...'), "
                         f"found the word {sources[where.index(f'{name}:{k}')]!r} alone")
    return Pairs(sources, targets if not bare else None, where, name, "dict")


# ---- choosing the layout -------------------------------------------------------------------
def _header(path: str | os.PathLike) -> list[str]:
    """The first line of a file split at its separator (tab, else comma, semicolon, bar);
    bytes that are not UTF-8 read as U+FFFD."""
    with open(path, "rb") as f:
        raw = f.read(_HEADER_BYTES)
    first = raw.decode("utf-8-sig", errors="replace").partition("\n")[0].strip("\r\n")
    delimiter = "\t" if Path(path).suffix.lower() == ".tsv" or "\t" in first else \
        next((d for d in ",;|" if d in first), None)
    return first.split(delimiter) if delimiter else [first]


def looks_like_pairs(path: str | os.PathLike) -> bool:
    """Whether a file holds pairs by its name or header: a ``.dict`` file, or a
    ``.csv``/``.tsv``/``.txt`` file whose header names a source and a target column
    (:data:`COLUMN_NAMES`)."""
    p = Path(path)
    if not p.is_file():
        return False
    suffix = p.suffix.lower()
    if suffix == DICT_SUFFIX:
        return True
    if suffix not in TABLE_SUFFIXES:
        return False
    try:
        return named_columns(_header(p))[1] is not None
    except OSError:
        return False


def detect_format(path: str | os.PathLike, target_path: str | os.PathLike | None = None,
                  *, need_target: bool = True) -> str:
    """``format: auto``: ``dict`` for a ``.dict`` file, ``lines`` when a target file is
    given, ``table`` for a ``.csv``/``.tsv`` file or a ``.txt`` whose header names a source
    column (and, ``need_target``, a target column); else (a ``.txt`` of sources to predict)
    ``lines``.

    Raises:
        ValueError: a file none of these fit.
    """
    suffix = Path(path).suffix.lower()
    if suffix == DICT_SUFFIX:
        return "dict"
    if target_path is not None:
        return "lines"
    if suffix in (".csv", ".tsv"):
        return "table"
    source, target = named_columns(_header(path))
    if source is not None and (target is not None or not need_target):
        return "table"
    if not need_target:
        return "lines"
    raise ValueError(f"{os.fspath(path)}: cannot tell how it holds pairs: not a .dict file, "
                     "no target file (data.train_target, data.val_target, data.test_target) and "
                     "no header naming a source and a "
                     f"target column ({', '.join('/'.join(n) for n in COLUMN_NAMES)}); set "
                     "data.format")


def read_pairs(path: str | os.PathLike, *, format: str = "auto",
               target_path: str | os.PathLike | None = None, source_col: str | None = None,
               target_col: str | None = None, need_target: bool = True) -> Pairs:
    """Pairs from ``path`` (and ``target_path``, the target lines) in ``format`` (``auto``:
    :func:`detect_format`). ``need_target=False`` also reads files without targets."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {format!r}")
    for p in (path, target_path):
        if p is not None and not Path(p).is_file():
            raise ValueError(f"no such file: {os.fspath(p)}")
    if format == "auto":
        format = detect_format(path, target_path, need_target=need_target)
    if format != "lines" and target_path is not None:
        raise ValueError(f"{os.fspath(target_path)}: a target file is for format lines, not "
                         f"{format}")
    if format == "lines" and target_path is None and need_target:
        raise ValueError(f"{os.fspath(path)}: format lines needs the target lines too "
                         "(data.train_target, data.val_target, data.test_target)")
    if format == "dict":
        return read_dict(path, need_target=need_target)
    if format == "lines":
        return read_line_pairs(path, target_path)
    return read_table_pairs(path, source_col=source_col, target_col=target_col,
                            need_target=need_target)
