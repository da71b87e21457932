"""Read time series from CSV (wide or long) and Monash ``.tsf`` files into :class:`RawSeries`.

Wide CSV: a date column and one column per series or feature::

    date,precipitation,temp_max,temp_min,wind,weather
    2012/01/01,0.0,12.8,5.0,4.7,drizzle

The target (``target=``, one name or several: one series each) defaults to the only numeric
column; ``covariates=`` are further numeric columns observed in the past; text columns and an
unnamed index column (``,Quarter,...`` with 0, 1, 2, ...) are ignored.

Long CSV: one row per series and date (``symbol,date,price``): the file is long when its dates
repeat; the id column (``id_col=``, default the text column that tells the rows apart) names
each series, the value column (``target=``, default the only numeric one) holds its values.

``.tsf`` (Monash archive): ``@frequency``, ``@horizon``, ``@attribute`` header lines, then
``name:start timestamp:v1,v2,...`` per series, ``?`` a missing value.

Missing values (an empty cell, ``?``, ``NA``, ``NaN``, ``null``) are read as NaN; what happens
to them (an error, or a fill) is :func:`rnnkit.data.series.regular.regularize`'s business.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from rnnkit.data.sequences.tabular import sniff_delimiter
from rnnkit.data.series.dates import Step, parse_date, parse_dates

__all__ = ["MISSING", "RawSeries", "SeriesFile", "read_series_file"]

MISSING = {"", "?", "na", "n/a", "nan", "null", "none"}
DATE_NAMES = ("date", "ds", "time", "timestamp", "datetime", "period", "month", "quarter",
              "week", "day", "year")
TSF_FREQUENCIES = {"yearly": Step("months", 12), "quarterly": Step("months", 3),
                   "monthly": Step("months", 1), "weekly": Step("seconds", 604800),
                   "daily": Step("seconds", 86400), "hourly": Step("seconds", 3600),
                   "half_hourly": Step("seconds", 1800), "10_minutes": Step("seconds", 600),
                   "minutely": Step("seconds", 60), "4_seconds": Step("seconds", 4)}


@dataclass
class RawSeries:
    """One series as the file holds it (maybe unsorted, with gaps or NaN values).

    Attributes:
        name: its id (a long CSV's id, a wide CSV's column, a ``.tsf`` series name).
        dates: T dates, in file order.
        values: (T,) float64, NaN where missing.
        lines: the file line of each value (for messages).
        covariates: name -> (T,) float64 past-observed covariates.
    """

    name: str
    dates: list[datetime]
    values: np.ndarray
    lines: list[int]
    covariates: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class SeriesFile:
    """What a file holds: its series, and what it says of them (``.tsf``: the step and the
    horizon)."""

    path: str
    series: list[RawSeries]
    layout: str  # "wide", "long" or "tsf"
    step: Step | None = None
    horizon: int | None = None
    target: str = "value"


def _number(text: str) -> float | None:
    """The cell as a float (NaN when missing), or None when it is text."""
    if text.strip().lower() in MISSING:
        return math.nan
    try:
        return float(text)
    except ValueError:
        return None


def _rows(path: Path, delimiter: str | None) -> tuple[list[str], list[list[str]], list[int]]:
    sep = delimiter or sniff_delimiter(path)
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=sep)
        rows, lines = [], []
        header: list[str] | None = None
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            if header is None:
                header = [c.strip() for c in row]
                continue
            rows.append(row + [""] * (len(header) - len(row)))
            lines.append(reader.line_num)
    if header is None or not rows:
        raise ValueError(f"{path}: no data rows (expected a header line and one row per date)")
    for row, line in zip(rows, lines, strict=True):
        if len(row) > len(header):
            raise ValueError(f"{path}: line {line} has {len(row)} fields, the header "
                             f"{len(header)}")
    return header, rows, lines


def _is_index(name: str, cells: Sequence[str]) -> bool:
    """An unnamed index column (``''``, ``Unnamed: 0``, ``index``) counting 0, 1, 2, ..."""
    if name and not name.lower().startswith("unnamed") and name.lower() != "index":
        return False
    try:
        values = [int(c) for c in cells]
    except ValueError:
        return False
    return values == list(range(values[0], values[0] + len(values)))


def _date_column(header: list[str], columns: list[list[str]], lines: list[int], path: Path,
                 given: str | None) -> int:
    if given is not None:
        if given not in header:
            raise ValueError(f"{path}: data.date_col={given!r} is not a column; the columns "
                             f"are {', '.join(h or '(unnamed)' for h in header)}")
        return header.index(given)
    named = [i for i, h in enumerate(header) if h.lower() in DATE_NAMES]
    if named:
        return named[0]
    for i, cells in enumerate(columns):
        if _is_index(header[i], cells) or all(_number(c) is not None for c in cells[:50]):
            continue
        try:
            parse_dates(cells[:50], lines[:50], where="")
            return i
        except ValueError:
            continue
    names = ", ".join(h or "(unnamed)" for h in header)
    raise ValueError(f"{path}: no date column (columns {names}); name it with --set "
                     "data.date_col=NAME")


def _numeric(cells: list[str]) -> bool:
    values = [_number(c) for c in cells]
    return all(v is not None for v in values) and any(not math.isnan(v) for v in values)  # type: ignore[arg-type]


def _floats(cells: list[str], lines: list[int], column: str, path: Path) -> np.ndarray:
    out = np.empty(len(cells))
    for i, (text, line) in enumerate(zip(cells, lines, strict=True)):
        value = _number(text)
        if value is None:
            raise ValueError(f"{path}: line {line}: column {column} holds {text!r}, not a "
                             "number")
        out[i] = value
    return out


def _choose_targets(path: Path, header: list[str], numeric: list[int],
                    target: str | list[str] | None) -> list[int]:
    if target is None:
        if len(numeric) == 1:
            return numeric
        names = ", ".join(header[i] for i in numeric) or "none"
        raise ValueError(f"{path}: which column is the series? numeric columns: {names}; "
                         "choose with --set data.target=NAME")
    names = [target] if isinstance(target, str) else list(target)
    for name in names:
        if name not in header:
            raise ValueError(f"{path}: data.target={name!r} is not a column; the columns are "
                             f"{', '.join(h or '(unnamed)' for h in header)}")
    return [header.index(n) for n in names]


def read_csv_series(path: str | Path, *, target: str | list[str] | None = None,
                    covariates: Sequence[str] = (), date_col: str | None = None,
                    id_col: str | None = None, delimiter: str | None = None) -> SeriesFile:
    """The series of a wide or long CSV file (see the module's docstring)."""
    path = Path(path)
    header, rows, lines = _rows(path, delimiter)
    columns = [[row[i] for row in rows] for i in range(len(header))]
    d = _date_column(header, columns, lines, path, date_col)
    where = f"{path}, column {header[d] or '(unnamed)'}"
    dates = parse_dates([c.strip() for c in columns[d]], lines, where=where,
                        allow_year=header[d].lower() in ("year", "yr"))
    skip = {d} | {i for i, h in enumerate(header) if _is_index(h, columns[i])}
    for name in covariates:
        if name not in header:
            raise ValueError(f"{path}: data.covariates names {name!r}, not a column")
    numeric = [i for i in range(len(header)) if i not in skip and _numeric(columns[i])]
    text = [i for i in range(len(header)) if i not in skip and i not in numeric]
    # long when the dates repeat and a text column tells the rows apart (without one, the
    # repeated dates are duplicates, which regularize() reports)
    if id_col is not None or (len(set(dates)) < len(dates) and text):
        if id_col is None:
            if len(text) != 1:
                raise ValueError(
                    f"{path}: dates repeat, so the file is long (one row per series and date), "
                    "but which column names the series? "
                    + (f"candidates: {', '.join(header[i] for i in text)}; " if text else "")
                    + "choose with --set data.id_col=NAME (or fix the duplicated dates)")
            ident = text[0]
        elif id_col not in header:
            raise ValueError(f"{path}: data.id_col={id_col!r} is not a column")
        else:
            ident = header.index(id_col)
        numeric = [i for i in numeric if i != ident]
        cov = [header.index(n) for n in covariates]
        values = [i for i in numeric if i not in cov]
        (value,) = _choose_targets(path, header, values, target)[:1]
        by_id: dict[str, list[int]] = {}
        for r, row in enumerate(rows):
            by_id.setdefault(row[ident].strip(), []).append(r)
        series = []
        for name, picks in by_id.items():
            sub = [lines[r] for r in picks]
            series.append(RawSeries(
                name, [dates[r] for r in picks],
                _floats([columns[value][r] for r in picks], sub, header[value], path), sub,
                {header[c]: _floats([columns[c][r] for r in picks], sub, header[c], path)
                 for c in cov}))
        return SeriesFile(str(path), series, "long", target=header[value])
    cov = [header.index(n) for n in covariates]
    targets = _choose_targets(path, header, [i for i in numeric if i not in cov], target)
    covs = {header[c]: _floats(columns[c], lines, header[c], path) for c in cov}
    series = [RawSeries(header[t], list(dates), _floats(columns[t], lines, header[t], path),
                        list(lines), dict(covs)) for t in targets]
    return SeriesFile(str(path), series, "wide", target=header[targets[0]])


def read_tsf(path: str | Path) -> SeriesFile:
    """The series of a Monash ``.tsf`` file, with its frequency and horizon."""
    path = Path(path)
    attributes: list[tuple[str, str]] = []
    step: Step | None = None
    horizon: int | None = None
    series: list[RawSeries] = []
    in_data = False
    with path.open(encoding="utf-8", errors="replace") as f:
        for number, raw in enumerate(f, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                words = line.split()
                tag = words[0].lower()
                if tag == "@attribute" and len(words) >= 3:
                    attributes.append((words[1], words[2].lower()))
                elif tag == "@frequency" and len(words) >= 2:
                    if words[1].lower() not in TSF_FREQUENCIES:
                        raise ValueError(f"{path}: line {number}: unknown @frequency "
                                         f"{words[1]!r}; known: {', '.join(TSF_FREQUENCIES)}")
                    step = TSF_FREQUENCIES[words[1].lower()]
                elif tag == "@horizon" and len(words) >= 2:
                    horizon = int(words[1])
                elif tag == "@data":
                    in_data = True
                continue
            parts = line.split(":")
            if len(parts) != len(attributes) + 1:
                raise ValueError(f"{path}: line {number}: expected {len(attributes)} attributes "
                                 f"and the values separated by ':', found {len(parts)} fields")
            names = dict(zip([a for a, _ in attributes], parts, strict=False))
            name = next((names[a] for a, k in attributes if k == "string"), f"series{len(series)}")
            start_key = next((a for a, k in attributes if k == "date"), None)
            cells = parts[-1].split(",")
            values = np.array([math.nan if c.strip() == "?" else _tsf_number(c, path, number)
                               for c in cells])
            if start_key is None or step is None:
                raise ValueError(f"{path}: series {name} has no start timestamp or the file no "
                                 "@frequency; rnnkit needs dates to forecast")
            try:
                start = parse_date(names[start_key].strip(), "%Y-%m-%d %H-%M-%S")
            except ValueError:
                raise ValueError(f"{path}: line {number}: cannot read the start timestamp "
                                 f"{names[start_key]!r} of series {name}") from None
            dates = [step.add(start, k) for k in range(len(values))]
            series.append(RawSeries(name, dates, values, [number] * len(values)))
    if not series:
        raise ValueError(f"{path}: no series after @data")
    return SeriesFile(str(path), series, "tsf", step=step, horizon=horizon, target="value")


def _tsf_number(text: str, path: Path, line: int) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{path}: line {line}: {text!r} is not a number") from None


def read_series_file(path: str | Path, *, format: str = "auto", **options: object) -> SeriesFile:
    """The series of ``path``: ``.tsf`` (Monash) by extension or ``format="tsf"``, else CSV
    (wide or long, see :func:`read_csv_series`; ``options`` are its keywords)."""
    path = Path(path)
    if format == "tsf" or (format == "auto" and path.suffix.lower() == ".tsf"):
        return read_tsf(path)
    return read_csv_series(path, **options)  # type: ignore[arg-type]
