"""Read and write the UEA/UCR time-series archive format (``.ts``).

A ``.ts`` file is a header of ``@key value`` lines (keys in any case) ending with ``@data``,
then one case per line::

    # comments and blank lines are allowed anywhere
    @problemName Example
    @timeStamps false
    @missing true
    @univariate false
    @dimensions 2
    @equalLength false
    @classLabel true up down
    @data
    1.0,2.0,3.0:4.0,5.0,?:up
    0.5,0.25:1.5,?:down

Dimensions are separated by ``:``, values by ``,``, the label comes last (a class from
``@classLabel true ...``, or a number when ``@targetLabel true``; no label when both are false
or absent). ``?`` or ``NaN`` marks a missing value (whatever ``@missing`` says). With
``@timeStamps true`` each value is a ``(timestamp,value)`` tuple; the values are kept in the
order written and the timestamps (numbers or dates) are not used.

Cases may differ in length (``@equalLength false``). When the dimensions of one case differ in
length, the shorter ones are padded at the end with ``NaN`` (missing), so a case is an array of
shape (max length, D); the missing-value rule of :mod:`rnnkit.data.sequences` then fills them.

Class indices follow the order of the ``@classLabel`` header (or ``class_names=`` when given).
Every problem raises :class:`~rnnkit.data.sequences.SequenceFileError` naming file and line.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import numpy as np

from rnnkit.data.sequences.dataset import SequenceDataset
from rnnkit.data.sequences.errors import SequenceFileError
from rnnkit.data.sequences.labels import Task, encode_labels, whole_sequence_labels
from rnnkit.data.sequences.text import text_lines
from rnnkit.data.sequences.ts_header import TsHeader, is_blank_or_comment, read_header

__all__ = ["TsHeader", "read_ts", "write_ts"]

_DIM_SPLIT = re.compile(r":(?![^()]*\))")  # a ':' not inside a (timestamp,value) tuple
_TUPLE = re.compile(r"\(([^()]*)\)")
_TUPLES_ONLY = re.compile(r"\s*(?:\([^()]*\)\s*(?:,\s*\([^()]*\)\s*)*)?")
_EMPTY = np.empty(0, dtype=np.float64)


def _slow_values(text: str, path: Path, lineno: int, dim: int) -> np.ndarray:
    """Parse one dimension value by value, to name the first bad one."""
    out = []
    for j, tok in enumerate(text.split(","), 1):
        t = tok.strip()
        if t == "?":
            out.append(np.nan)
            continue
        if not t:
            raise SequenceFileError(f"dimension {dim}, value {j} is empty", path, lineno)
        try:
            out.append(float(t))
        except ValueError:
            hint = " (declare @timeStamps true for (timestamp,value) tuples)" if "(" in t else ""
            raise SequenceFileError(
                f"dimension {dim}, value {j}: {t!r} is not a number; use ? for missing{hint}",
                path, lineno,
            ) from None
    return np.array(out, dtype=np.float64)


def _values(text: str, path: Path, lineno: int, dim: int) -> np.ndarray:
    """Parse ``v1,v2,...`` (``?`` = NaN) in C; fall back to the slow path to report errors."""
    text = text.strip()
    if not text:
        return _EMPTY
    try:
        v = np.fromstring(text.replace("?", "nan"), sep=",")
    except (ValueError, DeprecationWarning):
        v = None
    if v is None or v.size != text.count(",") + 1:
        v = _slow_values(text, path, lineno, dim)
    return v


def _fast_case(body: str, ndims: int) -> np.ndarray | None:
    """All dimensions of a case in one C call when they have equal lengths, else ``None``."""
    if not body.strip(": \t"):
        return None
    try:
        rows = np.loadtxt(io.StringIO(body.replace("?", "nan").replace(":", "\n")),
                          dtype=np.float32, delimiter=",", comments=None, ndmin=2)  # (D, L)
    except ValueError:
        return None
    return np.ascontiguousarray(rows.T) if rows.shape[0] == ndims else None  # (L, D)


def _timestamped_values(text: str, path: Path, lineno: int, dim: int) -> np.ndarray:
    if not _TUPLES_ONLY.fullmatch(text):
        raise SequenceFileError(
            f"dimension {dim}: expected (timestamp,value) tuples separated by ',', "
            f"found {text[:60]!r}", path, lineno,
        )
    values = []
    for tup in _TUPLE.findall(text):
        stamp, sep, value = tup.rpartition(",")
        if not sep or not stamp.strip():
            raise SequenceFileError(
                f"dimension {dim}: tuple ({tup}) is not (timestamp,value)", path, lineno
            )
        values.append(value)
    return _values(",".join(values), path, lineno, dim)


class _CaseParser:
    """Parses and validates data lines against the header and the cases before them."""

    def __init__(self, h: TsHeader, path: Path):
        self.h, self.path = h, path
        self.labelled = h.class_labels is not None or bool(h.targetlabel)
        self.declared = set(h.class_labels or ())
        if h.dimensions is not None:
            self.dims, self.dims_from = h.dimensions, f"@dimensions {h.dimensions}"
        elif h.univariate:
            self.dims, self.dims_from = 1, "@univariate true"
        else:
            self.dims, self.dims_from = None, ""
        self.first_length: tuple[int, int] | None = None  # (length, line) for @equalLength true

    def parse(self, line: str, lineno: int) -> tuple[np.ndarray, str | None]:
        h, path = self.h, self.path
        parts = _DIM_SPLIT.split(line) if h.timestamps else None
        body, label = line, None
        if self.labelled:
            if parts is not None:
                label = parts.pop().strip() if len(parts) > 1 else None
            else:
                body, sep, label = line.rpartition(":")
                label = label.strip() if sep else None
            if label is None:
                raise SequenceFileError("no label: expected values, then ':', then the label",
                                        path, lineno)
            if h.class_labels is not None and label not in self.declared:
                raise SequenceFileError(
                    f"class label {label!r} is not declared in @classLabel "
                    f"({' '.join(h.class_labels)})", path, lineno,
                )
        ndims = len(parts) if parts is not None else body.count(":") + 1
        if self.dims is None:
            self.dims, self.dims_from = ndims, f"the first case (line {lineno})"
        elif ndims != self.dims:
            raise SequenceFileError(
                f"found {ndims} dimensions; expected {self.dims} (from {self.dims_from})",
                path, lineno,
            )
        seq = None if parts is not None else _fast_case(body, ndims)
        if seq is not None:
            lens = [seq.shape[0]] * ndims
        else:
            parse = _timestamped_values if h.timestamps else _values
            arrays = [parse(p, path, lineno, k + 1)
                      for k, p in enumerate(parts if parts is not None else body.split(":"))]
            lens = [a.size for a in arrays]
        length = max(lens)
        if length == 0:
            raise SequenceFileError("the case holds no values", path, lineno)
        if h.equallength is not False and h.serieslength is not None and lens != [
            h.serieslength
        ] * len(lens):
            raise SequenceFileError(
                f"dimension lengths {lens} do not match @seriesLength {h.serieslength}",
                path, lineno,
            )
        if h.equallength:
            if min(lens) != length:
                raise SequenceFileError(
                    f"dimension lengths {lens} differ but @equalLength is true", path, lineno
                )
            if self.first_length is None:
                self.first_length = (length, lineno)
            elif length != self.first_length[0]:
                raise SequenceFileError(
                    f"series length {length} differs from {self.first_length[0]} "
                    f"(line {self.first_length[1]}) but @equalLength is true", path, lineno,
                )
        if seq is None:
            seq = np.full((length, ndims), np.nan, dtype=np.float32)  # (L, D)
            for k, a in enumerate(arrays):
                seq[: a.size, k] = a
        inf = np.isinf(seq).any(axis=0)
        if inf.any():
            raise SequenceFileError(
                f"dimension {int(inf.argmax()) + 1} holds an infinite value or one too large "
                "for float32", path, lineno,
            )
        return seq, label


def read_ts(
    path: str | Path,
    *,
    task: Task | None = None,
    class_names: Sequence[str] | None = None,
    encoding: str = "utf-8-sig",
    labels: str = "auto",
) -> SequenceDataset:
    """Read a UEA/UCR ``.ts`` file, streaming it line by line.

    Args:
        path: the file.
        task: checked against the header when given (``@classLabel true`` is classification,
            ``@targetLabel true`` regression); names the task of an unlabelled file.
        class_names: the class order to use instead of the header's (e.g. the training file's
            classes when reading its test file); every label used must be among them.
        encoding: text encoding (a UTF-8 byte-order mark is skipped).
        labels: ``"auto"`` or ``"sequence"``: a ``.ts`` case has one label (``"step"`` is an
            error).

    Returns:
        A :class:`~rnnkit.data.sequences.SequenceDataset` with sequences (L_i, D), D the
        number of dimensions; ``targets`` is ``None`` when the file has no labels.

    Raises:
        SequenceFileError: empty file, missing ``@data``, unknown or malformed header, wrong
            number of dimensions, non-numeric value, undeclared label, lengths that contradict
            ``@equalLength`` or ``@seriesLength``; the message gives file, line and reason.
    """
    path = Path(path)
    whole_sequence_labels(labels, path, "a .ts file")
    sequences: list[np.ndarray] = []
    case_labels: list[str] = []
    label_lines: list[int] = []
    with closing(text_lines(path, encoding)) as f:
        numbered = enumerate(f, 1)
        h = read_header(numbered, path)
        parser = _CaseParser(h, path)
        for lineno, raw in numbered:
            line = raw.strip()
            if is_blank_or_comment(line):
                continue
            if line[0] == "@":
                raise SequenceFileError(f"header {line.split()[0]!r} after @data", path, lineno)
            seq, label = parser.parse(line, lineno)
            sequences.append(seq)
            if label is not None:
                case_labels.append(label)
                label_lines.append(lineno)
    if not sequences:
        raise SequenceFileError("no cases after @data", path, h.lines["data"])

    file_task: Task | None = "regression" if h.targetlabel else (
        "classification" if h.class_labels is not None else None
    )
    if task is not None and file_task is not None and task != file_task:
        raise SequenceFileError(f"the header declares a {file_task} file, not {task}", path)
    final_task: Task = file_task or task or "classification"
    targets, names = None, None
    if parser.labelled:
        names_in = class_names if class_names is not None else h.class_labels
        targets, names = encode_labels(case_labels, label_lines, final_task, names_in, path)
    elif class_names is not None:
        names = list(class_names)
    return SequenceDataset(
        sequences, targets, final_task, names,
        [f"dim_{k}" for k in range(sequences[0].shape[1])], str(path),
    )


def _format(column: np.ndarray) -> str:
    return ",".join([f"{v:.9g}" for v in column.tolist()]).replace("nan", "?")


def write_ts(
    dataset: SequenceDataset, path: str | Path, *, problem_name: str | None = None
) -> None:
    """Write ``dataset`` as a ``.ts`` file that :func:`read_ts` reads back unchanged
    (values as float32, ``NaN`` written as ``?``).

    Raises:
        ValueError: the dataset has labels per step (a ``.ts`` case has one label), or a class
            name a ``.ts`` header cannot hold.
    """
    path = Path(path)
    if dataset.step_labels and dataset.targets is not None:
        raise ValueError("a .ts file holds one label per sequence; this dataset has a label per "
                         "step (write it with write_npz)")
    names = dataset.class_names or []
    for name in names:
        if not name or any(c.isspace() or c in ":,#@" for c in name):
            raise ValueError(f"class name {name!r} cannot be written to a .ts header")
    lengths = dataset.lengths
    equal = bool((lengths == lengths[0]).all())
    missing = any(np.isnan(s).any() for s in dataset.sequences)
    f = dataset.num_features
    header = [
        f"@problemName {problem_name or path.stem}",
        "@timeStamps false",
        f"@missing {str(missing).lower()}",
        f"@univariate {str(f == 1).lower()}",
        f"@dimensions {f}",
        f"@equalLength {str(equal).lower()}",
    ]
    if equal:
        header.append(f"@seriesLength {lengths[0]}")
    if dataset.targets is None:
        header.append("@classLabel false")
    elif dataset.task == "regression":
        header.append("@targetLabel true")
    else:
        header.append("@classLabel true " + " ".join(names))
    header.append("@data")
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(header) + "\n")
        for i, seq in enumerate(dataset.sequences):
            line = ":".join(_format(seq[:, k]) for k in range(f))
            if dataset.targets is not None:
                t = dataset.targets[i]
                line += ":" + (repr(float(t)) if dataset.task == "regression" else names[int(t)])
            out.write(line + "\n")
