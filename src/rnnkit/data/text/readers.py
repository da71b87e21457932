"""Reading labelled texts: a CSV/TSV with a text column, one file per class, or a directory per
class (scikit-learn's ``load_files`` layout).

Every reader returns :class:`TextExamples`. Bytes that are not UTF-8 are an error naming the
file and the byte offset; empty texts are skipped and counted.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rnnkit.data.sequences.tabular import ID_NAMES, TIME_NAMES, sniff_delimiter

__all__ = [
    "LABEL_NAMES",
    "TEXT_NAMES",
    "TextExamples",
    "TextFileError",
    "find_columns",
    "looks_like_text_table",
    "not_utf8",
    "read_class_dirs",
    "read_class_files",
    "read_table",
    "read_text",
    "read_utf8",
]

TEXT_NAMES = ("text", "texts", "sentence", "review", "content", "document", "comment",
              "message", "body", "sms", "tweet", "utterance", "question")
LABEL_NAMES = ("label", "labels", "class", "category", "target", "y", "sentiment",
               "polarity", "intent", "topic", "score", "rating", "stars")
_SAMPLE_ROWS = 200


class TextFileError(ValueError):
    """A text file that cannot be read as the layout it should have; names file and place."""


@dataclass
class TextExamples:
    """Texts and their labels as read, in file order.

    Attributes:
        texts: N non-empty texts.
        labels: N label strings, or None (a file without labels, for prediction).
        where: N places the texts come from (``file:line`` or a file name), for messages.
        source: what was read (a file or directory).
        skipped_empty: empty texts skipped.
    """

    texts: list[str]
    labels: list[str] | None
    where: list[str]
    source: str
    skipped_empty: int = 0

    def __len__(self) -> int:
        return len(self.texts)


def read_utf8(path: str | os.PathLike) -> str:
    """The text of a UTF-8 file (a byte-order mark is dropped).

    Raises:
        TextFileError: a byte that is not UTF-8; the message names the file, the byte offset
            and the line.
    """
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise not_utf8(path, raw[err.start], err.start, line) from None


def not_utf8(path: str | os.PathLike, byte: int, offset: int, line: int) -> TextFileError:
    """The error for a byte that is not UTF-8: the file, the byte, its offset and its line."""
    return TextFileError(f"{os.fspath(path)}: expected UTF-8 text, found the byte 0x{byte:02x} "
                         f"at byte offset {offset} (line {line}); convert the file to UTF-8 "
                         "(e.g. iconv -f GBK -t UTF-8)")


def _rows(path: str | os.PathLike, delimiter: str | None,
          strict: bool = True) -> tuple[list[list[str]], str]:
    """The rows of a table and its delimiter; ``strict=False`` reads bytes that are not UTF-8
    as U+FFFD (to look at a file; reading it reports them)."""
    text = read_utf8(path) if strict else \
        Path(path).read_bytes()[: 1 << 20].decode("utf-8", errors="replace")
    if delimiter is None:
        delimiter = "\t" if Path(path).suffix.lower() == ".tsv" else sniff_delimiter(path)
    csv.field_size_limit(sys.maxsize)  # a long text is one field
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return list(reader), delimiter
    except csv.Error as err:
        raise TextFileError(f"{os.fspath(path)}, line {reader.line_num}: not a readable CSV row "
                            f"({err})") from None


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _column_stats(header: list[str], rows: list[list[str]]) -> list[tuple[bool, float]]:
    """Per column: (all values numbers, distinct values / values) over a sample of rows."""
    sample = rows[:_SAMPLE_ROWS]
    stats = []
    for i in range(len(header)):
        values = [r[i].strip() for r in sample if len(r) > i and r[i].strip()]
        numeric = bool(values) and all(_is_number(v) for v in values)
        stats.append((numeric, len(set(values)) / max(len(values), 1)))
    return stats


def looks_like_text_table(path: str | os.PathLike, delimiter: str | None = None) -> bool:
    """Whether a CSV/TSV file holds texts: a column named like a text (``text``, ``sentence``,
    ``review``, ...), or at most one numeric column and a column of non-numeric, mostly
    distinct strings (not an id or time column)."""
    try:
        rows, _ = _rows(path, delimiter, strict=False)
    except (OSError, TextFileError):
        return False
    rows = rows[:-1] if len(rows) > _SAMPLE_ROWS else rows  # the first MiB may end mid-row
    if len(rows) < 2:
        return False
    header = [c.strip().lower() for c in rows[0]]
    if any(name in TEXT_NAMES for name in header):
        return True
    stats = _column_stats(header, rows[1:])
    if sum(numeric for numeric, _ in stats) > 1:
        return False
    return any(not numeric and distinct > 0.5 and header[i] not in ID_NAMES + TIME_NAMES
               for i, (numeric, distinct) in enumerate(stats))


def _index(header: list[str], name: str, what: str, path: str) -> int:
    lowered = [h.strip().lower() for h in header]
    if name.strip().lower() in lowered:
        return lowered.index(name.strip().lower())
    raise TextFileError(f"{path}: no {what} column {name!r}; the header has "
                        f"{', '.join(repr(h) for h in header)}")


def find_columns(header: list[str], rows: list[list[str]], path: str, *,
                 text_col: str | None = None, label_col: str | None = None,
                 need_label: bool = True) -> tuple[int, int | None]:
    """(text column, label column or None): named, else found by name (:data:`TEXT_NAMES`,
    :data:`LABEL_NAMES`), else the text is the non-numeric column with the longest values and
    the label the other column with the fewest distinct values."""
    lowered = [h.strip().lower() for h in header]
    text = _index(header, text_col, "text", path) if text_col else \
        next((i for i, h in enumerate(lowered) if h in TEXT_NAMES), None)
    if label_col is not None and label_col.lower() == "none":
        label: int | None = None
        need_label = False
    elif label_col and not need_label and label_col.strip().lower() not in lowered:
        label = None  # a file to predict need not hold the labels
    elif label_col:
        label = _index(header, label_col, "label", path)
    else:
        label = next((i for i, h in enumerate(lowered) if h in LABEL_NAMES and i != text), None)
    stats = _column_stats(header, rows)
    sample = rows[:_SAMPLE_ROWS]
    if text is None:
        lengths = [sum(len(r[i]) for r in sample if len(r) > i) if not stats[i][0] else -1
                   for i in range(len(header))]
        candidates = [i for i in range(len(header)) if i != label and lengths[i] >= 0]
        if not candidates:
            raise TextFileError(f"{path}: no column of texts (non-numeric strings) among "
                                f"{', '.join(repr(h) for h in header)}; name it with "
                                "data.text_col")
        text = max(candidates, key=lambda i: lengths[i])
    if label is None and need_label:
        others = [i for i in range(len(header)) if i != text
                  and lowered[i] not in ID_NAMES]
        if not others:
            raise TextFileError(f"{path}: a text column ({header[text]!r}) but no label column; "
                                "training needs labels (name the column with data.label_col)")
        label = min(others, key=lambda i: stats[i][1])
        if not stats[label][0] and stats[label][1] > 0.5 and len(rows) >= 10:
                raise TextFileError(f"{path}: no label column: {header[label]!r} holds mostly "
                                "distinct strings, not classes; name the label column with "
                                "data.label_col")
    return text, label


def read_table(path: str | os.PathLike, *, text_col: str | None = None,
               label_col: str | None = None, delimiter: str | None = None,
               need_label: bool = True) -> TextExamples:
    """A CSV/TSV file with a header row, a text column and (``need_label``) a label column
    (see :func:`find_columns`)."""
    name = os.fspath(path)
    rows, delimiter = _rows(path, delimiter)
    if not rows:
        raise TextFileError(f"{name}: the file is empty; expected a header row and texts")
    header, body = rows[0], rows[1:]
    text_i, label_i = find_columns(header, body, name, text_col=text_col, label_col=label_col,
                                   need_label=need_label)
    texts, labels, where = [], [], []
    skipped = 0
    for line, row in enumerate(body, start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        if len(row) != len(header):
            raise TextFileError(f"{name}, line {line}: {len(row)} fields, expected "
                                f"{len(header)} as in the header; a text holding the separator "
                                f"{delimiter!r} must be quoted (or use a TSV file)")
        text = row[text_i].strip()
        if not text:
            skipped += 1
            continue
        if label_i is not None:
            label = row[label_i].strip()
            if not label:
                raise TextFileError(f"{name}, line {line}: the label ({header[label_i]!r}) is "
                                    "empty")
            labels.append(label)
        texts.append(text)
        where.append(f"{name}:{line}")
    return TextExamples(texts, labels if label_i is not None else None, where, name, skipped)


def read_lines(path: str | os.PathLike, label: str | None = None) -> TextExamples:
    """One text per line (blank lines skipped and counted), all with ``label``."""
    name = os.fspath(path)
    texts, where, skipped = [], [], 0
    for line, text in enumerate(read_utf8(path).splitlines(), start=1):
        text = text.strip()
        if not text:
            skipped += 1
            continue
        texts.append(text)
        where.append(f"{name}:{line}")
    labels = None if label is None else [label] * len(texts)
    return TextExamples(texts, labels, where, name, skipped)


def class_file_entries(entries: Sequence[str]) -> list[tuple[str, str]]:
    """``data.class_files`` entries ``NAME=PATH`` or ``PATH`` (the class is the file's stem)
    as (class, path) pairs."""
    pairs = []
    for entry in entries:
        name, sep, path = entry.partition("=")
        if not sep:
            name, path = Path(entry).stem, entry
        pairs.append((name.strip(), path.strip()))
    names = [n for n, _ in pairs]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise TextFileError(f"data.class_files names the class {duplicate!r} twice")
    return pairs


def read_class_files(entries: Sequence[str]) -> TextExamples:
    """One file per class, one text per line (see :func:`class_file_entries`)."""
    parts = [read_lines(path, name) for name, path in class_file_entries(entries)]
    return TextExamples(
        [t for p in parts for t in p.texts], [lab for p in parts for lab in p.labels or []],
        [w for p in parts for w in p.where], ", ".join(p.source for p in parts),
        sum(p.skipped_empty for p in parts))


def read_class_dirs(path: str | os.PathLike) -> TextExamples:
    """A directory with one folder per class, each file in it one text (the layout of
    scikit-learn's ``load_files``; hidden files are skipped)."""
    root = Path(path)
    classes = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise TextFileError(f"{root}: expected one folder per class holding text files; found "
                            "no folders")
    texts, labels, where, skipped = [], [], [], 0
    for folder in classes:
        for file in sorted(f for f in folder.rglob("*") if f.is_file()
                           and not f.name.startswith(".")):
            text = read_utf8(file).strip()
            if not text:
                skipped += 1
                continue
            texts.append(text)
            labels.append(folder.name)
            where.append(str(file))
    return TextExamples(texts, labels, where, str(root), skipped)


def read_text(path: str | os.PathLike, *, text_col: str | None = None,
              label_col: str | None = None, delimiter: str | None = None,
              need_label: bool = True) -> TextExamples:
    """Texts from ``path``: a directory per class, a ``.txt`` file (one text per line, no
    labels), or a CSV/TSV table (:func:`read_table`)."""
    p = Path(path)
    if not p.exists():
        raise TextFileError(f"no such file or directory: {os.fspath(path)}")
    if p.is_dir():
        return read_class_dirs(p)
    if p.suffix.lower() == ".txt":
        examples = read_lines(p)
        if need_label:
            raise TextFileError(f"{p}: a .txt file is one text per line without labels; to "
                                "train, give a CSV/TSV with a label column, one file per "
                                "class (data.class_files) or a directory per class")
        return examples
    return read_table(p, text_col=text_col, label_col=label_col, delimiter=delimiter,
                      need_label=need_label)
