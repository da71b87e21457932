"""Read labelled sequences from CSV files, in long form or wide form.

Long form: one row per time step, with a header::

    id,time,temp,humidity,label
    a,0,20.1,0.5,warm
    a,1,20.4,,warm          <- empty cell: missing value
    b,0,10.0,0.7,cold

Rows are grouped by the id column (sequences in order of first appearance; rows need not be
contiguous) and ordered by the time column when there is one (numerically when every time is a
number, else as strings, which orders ISO dates), else kept in file order. Columns are found by
name when not given: id ``id/sequence_id/series_id/seq_id/sequence/series/case_id``, time
``time/t/step/time_step/timestep/timestamp/date/datetime``, label ``label/y/target/class``
(case-insensitive); every other column is a feature and must be numeric. Two candidates for one
role is an error: name the column. No label column means unlabelled data. A label that changes
within a sequence makes labels per step (``labels="auto"``, e.g. activity segmentation: the
rows of one recording labelled walking, then sitting); a label constant within every sequence
is the sequence's label. ``labels="sequence"`` or ``"step"`` decides it instead.

Wide form: one row per univariate sequence, the label in the first column (default), the last
non-empty cell (``label_col="last"``), a named column (needs a header) or none (``None``).
Rows may end in empty cells, so sequences can differ in length. The first row is a header when
its label cell is named like a label column (``label``, ``y``, ...) or its other cells are not
all numbers (pass ``header=`` when a header holds only numbers, e.g. ``0,1,2``).

The field separator is ``delimiter=`` or, when not given, detected among ``,``, ``;``, tab and
``|`` (see :func:`sniff_delimiter`).

Missing values: an empty cell, ``?``, ``NA``, ``N/A``, ``NaN``, ``null`` or ``None`` inside a
sequence (see :mod:`rnnkit.data.sequences` for how they are filled). Classes are numbered in
sorted order (numerically if all labels are numbers); labels that are numbers with a fraction
make a regression task unless ``task=`` says otherwise.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import numpy as np

from rnnkit.data.sequences.dataset import SequenceDataset
from rnnkit.data.sequences.errors import SequenceFileError
from rnnkit.data.sequences.labels import (
    UNSEEN,
    Task,
    encode_labels,
    infer_task,
    label_kind,
    split_steps,
    step_classes,
    whole_sequence_labels,
)
from rnnkit.data.sequences.text import text_lines
from rnnkit.data.spreadsheet import spreadsheet_safe

__all__ = [
    "ID_NAMES",
    "read_csv",
    "read_csv_long",
    "read_csv_wide",
    "sniff_delimiter",
    "spreadsheet_safe",
]

MISSING = frozenset({"", "?", "na", "n/a", "nan", "null", "none"})
ID_NAMES = ("id", "sequence_id", "series_id", "seq_id", "sequence", "series", "case_id")
TIME_NAMES = ("time", "t", "step", "time_step", "timestep", "timestamp", "date", "datetime")
LABEL_NAMES = ("label", "y", "target", "class")
DELIMITERS = ",;\t|"  # the separators sniff_delimiter considers, the default first


def sniff_delimiter(path: str | Path, encoding: str = "utf-8-sig") -> str:
    """The field separator of a CSV file, one of ``, ; tab |``: :class:`csv.Sniffer` on its first
    20 lines, else the only one of them on the first line, else ``,``."""
    sample = ""
    with closing(text_lines(path, encoding, newline="")) as f:
        for i, line in enumerate(f):
            sample += line
            if i == 19 or len(sample) > 100_000:
                break
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.partition("\n")[0]
        found = [d for d in DELIMITERS if d in first]
        return found[0] if len(found) == 1 else ","


def _read_rows(path: Path, delimiter: str | None,
               encoding: str) -> tuple[list[list[str]], list[int]]:
    """All non-blank rows and the line each ends on (``delimiter`` ``None``: sniffed)."""
    rows, lines = [], []
    if delimiter is None:
        delimiter = sniff_delimiter(path, encoding)
    with closing(text_lines(path, encoding, newline="")) as f:
        reader = csv.reader(f, delimiter=delimiter)
        try:
            for row in reader:
                if row and any(c.strip() for c in row):
                    rows.append(row)
                    lines.append(reader.line_num)
        except csv.Error as e:
            raise SequenceFileError(f"malformed CSV: {e}", path, reader.line_num) from None
    if not rows:
        raise SequenceFileError("empty file", path)
    return rows, lines


def _floats(cells: Sequence[str], lines: Sequence[int], what: str, path: Path,
            hint: str = "") -> np.ndarray:
    """Cells -> float64, missing tokens -> NaN; errors name the first bad cell's line."""
    try:
        v = np.array(cells, dtype=np.float64)
    except ValueError:
        cleaned = ["nan" if c.strip().lower() in MISSING else c for c in cells]
        try:
            v = np.array(cleaned, dtype=np.float64)
        except ValueError:
            for c, line in zip(cleaned, lines, strict=True):
                try:
                    float(c)
                except ValueError:
                    raise SequenceFileError(
                        f"{what}: {c!r} is not a number{hint}", path, line
                    ) from None
            raise
    bad = np.flatnonzero(np.isinf(v))
    if bad.size:
        raise SequenceFileError(f"{what}: infinite value", path, lines[bad[0]])
    return v


def _find(header: list[str], given: str | None, candidates: Sequence[str], role: str,
          arg: str, path: Path) -> int | None:
    """Index of the column for ``role``: the named one, else the one whose name is a candidate."""
    if given is not None:
        if given not in header:
            raise SequenceFileError(f"no column {given!r} ({arg}); columns: {header}", path, 1)
        return header.index(given)
    found = [i for i, name in enumerate(header) if name.strip().lower() in candidates]
    if len(found) > 1:
        names = [header[i] for i in found]
        raise SequenceFileError(
            f"ambiguous {role} column: {names} all look like one; pass {arg}=", path, 1
        )
    return found[0] if found else None


def _targets(labels: list[str], lines: list[int], task: Task | None,
             class_names: Sequence[str] | None, path: Path):
    for s, line in zip(labels, lines, strict=True):
        if s.strip().lower() in MISSING:
            raise SequenceFileError("missing label", path, line)
    return encode_labels(labels, lines, task or infer_task(labels), class_names, path)


def _step_targets(labels: list[str], lines: list[int], lengths: np.ndarray, task: Task | None,
                  class_names: Sequence[str] | None, path: Path):
    """Labels of every row (in sequence order) as one (L_i,) array of class indices per
    sequence; a label outside ``class_names`` is :data:`UNSEEN`."""
    for s, line in zip(labels, lines, strict=True):
        if s.strip().lower() in MISSING:
            raise SequenceFileError("missing label", path, line)
    step_classes(labels, lines, task, path)
    codes, names = encode_labels(labels, lines, "classification", class_names, path,
                                 unseen=UNSEEN)
    return split_steps(codes, lengths), names


def read_csv_long(
    path: str | Path,
    *,
    id_col: str | None = None,
    time_col: str | None = None,
    label_col: str | None = None,
    feature_cols: Sequence[str] | None = None,
    task: Task | None = None,
    class_names: Sequence[str] | None = None,
    delimiter: str | None = None,
    encoding: str = "utf-8-sig",
    labels: str = "auto",
) -> SequenceDataset:
    """Read a long-form CSV (one row per time step; see the module docstring).

    Args:
        path: the file; its first row is the header.
        id_col, time_col, label_col: column names; found by name when ``None``.
        feature_cols: the feature columns; default every column not id, time or label.
        task: ``"classification"`` or ``"regression"``; inferred from the labels when ``None``.
        class_names: fixed class order (e.g. the training file's); a label outside is an error,
            or for labels per step :data:`~rnnkit.data.sequences.labels.UNSEEN` (-1).
        delimiter: the field separator; ``None``: found by :func:`sniff_delimiter`.
        encoding: text encoding (a UTF-8 byte-order mark is skipped).
        labels: ``"auto"``: a label per step when the label changes within a sequence, else
            one per sequence; ``"sequence"``: one per sequence (a change is an error);
            ``"step"``: a label per step (class labels only).

    Returns:
        A :class:`~rnnkit.data.sequences.SequenceDataset` of sequences (L_i, F); its ``ids``
        are the id column's values (stripped), one per sequence, in the sequences' order; with
        labels per step its ``step_labels`` is true.
    """
    path = Path(path)
    label_kind(labels)
    rows, lines = _read_rows(path, delimiter, encoding)
    header = [c.strip() for c in rows[0]]
    if len(set(header)) != len(header):
        raise SequenceFileError(f"the header repeats a column name: {header}", path, lines[0])
    id_i = _find(header, id_col, ID_NAMES, "id", "id_col", path)
    if id_i is None:
        raise SequenceFileError(
            f"no sequence id column among {header}; pass id_col= (or use the wide form)",
            path, lines[0],
        )
    time_i = _find(header, time_col, TIME_NAMES, "time", "time_col", path)
    label_i = _find(header, label_col, LABEL_NAMES, "label", "label_col", path)
    used = {i for i in (id_i, time_i, label_i) if i is not None}
    if feature_cols is None:
        feat = [i for i in range(len(header)) if i not in used]
        hint = "; features are all columns but id, time and label: pass feature_cols="
    else:
        feat = [_find(header, name, (), "feature", "feature_cols", path) for name in feature_cols]
        clash = [header[i] for i in feat if i in used]
        if clash:
            raise SequenceFileError(f"{clash} cannot be features and id/time/label", path)
        hint = ""
    if not feat:
        raise SequenceFileError(f"no feature columns in {header}", path, lines[0])
    rows, lines = rows[1:], lines[1:]
    if not rows:
        raise SequenceFileError("no data rows after the header", path, 1)
    for row, line in zip(rows, lines, strict=True):
        if len(row) != len(header):
            raise SequenceFileError(
                f"{len(row)} fields; the header has {len(header)}", path, line
            )
    columns = list(zip(*rows, strict=True))
    x = np.stack(
        [_floats(columns[i], lines, f"column {header[i]!r}", path, hint) for i in feat], axis=1
    ).astype(np.float32)  # (R, F)
    line_arr = np.array(lines)
    ids = np.array([c.strip() for c in columns[id_i]])
    for k in np.flatnonzero(ids == ""):
        raise SequenceFileError(f"empty id in column {header[id_i]!r}", path, lines[k])
    _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    group = np.argsort(np.argsort(first))[inverse.reshape(-1)]  # (R,) in order of appearance
    if time_i is None:
        order = np.argsort(group, kind="stable")
    else:
        times = [c.strip() for c in columns[time_i]]
        for t, line in zip(times, lines, strict=True):
            if t.lower() in MISSING:
                raise SequenceFileError(f"missing time in column {header[time_i]!r}", path, line)
        try:
            key = np.array(times, dtype=np.float64)
        except ValueError:
            key = np.unique(np.array(times), return_inverse=True)[1].reshape(-1)
        order = np.lexsort((key, group))
        g, k = group[order], key[order]
        dup = np.flatnonzero((g[1:] == g[:-1]) & (k[1:] == k[:-1]))
        if dup.size:
            a, b = order[dup[0]], order[dup[0] + 1]
            raise SequenceFileError(
                f"sequence {str(ids[a])!r} has two rows at time {times[b]!r} "
                f"(lines {lines[a]} and {lines[b]})", path, lines[b],
            )
    g = group[order]
    starts = np.concatenate([[0], np.flatnonzero(g[1:] != g[:-1]) + 1])
    sequences = np.split(x[order], starts[1:])
    first_rows = order[starts]
    targets, names = None, None
    per_step = labels == "step"
    if label_i is not None:
        cells = np.array([c.strip() for c in columns[label_i]])[order]
        change = np.flatnonzero((g[1:] == g[:-1]) & (cells[1:] != cells[:-1]))
        if change.size and labels == "sequence":
            a, b = order[change[0]], order[change[0] + 1]
            raise SequenceFileError(
                f"sequence {str(ids[a])!r} changes label from {str(cells[change[0]])!r} "
                f"(line {lines[a]}) to {str(cells[change[0] + 1])!r}; with labels=sequence "
                "(data.labels) a sequence has one label", path, lines[b],
            )
        per_step = per_step or bool(change.size)
        if per_step:
            targets, names = _step_targets(
                cells.tolist(), line_arr[order].tolist(), np.diff([*starts, len(order)]),
                task, class_names, path)
        else:
            targets, names = _targets(
                cells[starts].tolist(), line_arr[first_rows].tolist(), task, class_names, path
            )
    final: Task = "classification" if per_step else task or (
        "regression" if names is None and targets is not None else "classification")
    return SequenceDataset(
        sequences, targets, final, names, [header[i] for i in feat], str(path),
        ids[first_rows].tolist(), per_step,
    )


def _is_header(cells: list[str]) -> bool:
    for c in cells:
        if c.strip().lower() in MISSING:
            continue
        try:
            float(c)
        except ValueError:
            return True
    return False


def read_csv_wide(
    path: str | Path,
    *,
    label_col: str | int | None = "first",
    header: bool | None = None,
    task: Task | None = None,
    class_names: Sequence[str] | None = None,
    delimiter: str | None = None,
    encoding: str = "utf-8-sig",
    labels: str = "auto",
) -> SequenceDataset:
    """Read a wide-form CSV: one row per univariate sequence (see the module docstring).

    Args:
        path: the file.
        label_col: ``"first"`` (default; the UCR layout), ``"last"`` (the last non-empty cell),
            a column name (needs a header), a column index, or ``None`` for no labels.
        header: whether the first row is a header; detected when ``None``.
        task, class_names, delimiter, encoding: as for :func:`read_csv_long`.
        labels: ``"auto"`` or ``"sequence"``: a wide CSV holds one label per row
            (``"step"`` is an error).

    Returns:
        A :class:`~rnnkit.data.sequences.SequenceDataset` of sequences (L_i, 1).
    """
    path = Path(path)
    whole_sequence_labels(labels, path, "a wide CSV (one row per sequence)")
    rows, lines = _read_rows(path, delimiter, encoding)
    named = isinstance(label_col, str) and label_col not in ("first", "last")
    fixed: int | None = None
    if label_col == "first":
        fixed = 0
    elif isinstance(label_col, int):
        fixed = label_col
    if header is None:
        first = list(rows[0])
        while first and not first[-1].strip():
            first.pop()
        label_cell = ""
        if fixed is not None and -len(first) <= fixed < len(first):
            label_cell = first.pop(fixed)
        elif label_col == "last" and first:
            label_cell = first.pop()
        header = named or label_cell.strip().lower() in LABEL_NAMES or _is_header(first)
    if named:
        if not header:
            raise SequenceFileError(f"label_col={label_col!r} needs a header row", path)
        names = [c.strip() for c in rows[0]]
        if label_col not in names:
            raise SequenceFileError(f"no column {label_col!r}; columns: {names}", path, lines[0])
        fixed = names.index(label_col)
    if header:
        rows, lines = rows[1:], lines[1:]
    if not rows:
        raise SequenceFileError("no data rows", path)
    sequences, row_labels = [], []
    for row, line in zip(rows, lines, strict=True):
        cells = list(row)
        label = None
        if fixed is not None:
            if not -len(cells) <= fixed < len(cells):
                raise SequenceFileError(f"no label cell (column {fixed})", path, line)
            label = cells.pop(fixed)
        while cells and not cells[-1].strip():
            cells.pop()
        if label_col == "last" and cells:
            label = cells.pop()
            while cells and not cells[-1].strip():
                cells.pop()
        if not cells:
            raise SequenceFileError("the row holds no values", path, line)
        if label is not None:
            row_labels.append(label.strip())
        values = _floats(cells, [line] * len(cells), "value", path)
        sequences.append(values.astype(np.float32)[:, None])  # (L, 1)
    targets, names = None, None
    if label_col is not None:
        targets, names = _targets(row_labels, lines, task, class_names, path)
    final: Task = task or ("regression" if targets is not None and names is None
                           else "classification")
    return SequenceDataset(sequences, targets, final, names, ["value"], str(path))


def read_csv(path: str | Path, *, layout: str | None = None, **options) -> SequenceDataset:
    """Read a CSV in long or wide form: ``layout="long"``/``"wide"``, or detected: long when
    ``id_col``/``time_col``/``feature_cols`` is given or the header has an id-named column."""
    path = Path(path)
    if layout is None:
        keys = {"id_col", "time_col", "feature_cols"}
        if keys & {k for k, v in options.items() if v is not None}:
            layout = "long"
        else:
            encoding = options.get("encoding", "utf-8-sig")
            if options.get("delimiter") is None:
                options["delimiter"] = sniff_delimiter(path, encoding)
            with closing(text_lines(path, encoding, newline="")) as f:
                first = next(csv.reader(f, delimiter=options["delimiter"]), [])
            layout = "long" if any(c.strip().lower() in ID_NAMES for c in first) else "wide"
    if layout == "long":
        return read_csv_long(path, **options)
    if layout == "wide":
        return read_csv_wide(path, **options)
    raise ValueError(f"layout must be 'long' or 'wide', got {layout!r}")
