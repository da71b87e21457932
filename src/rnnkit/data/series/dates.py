"""Dates of a time series: parsing the formats real files hold, the step between them, and the
calendar features a forecaster knows in advance.

Parsing: a column's format is chosen once, by trying these in order on its values and keeping
the first that reads them all (:data:`DATE_FORMATS`): ISO ``2012-01-01`` (with a time, with
``T``), ``2012/01/01``, ``19580329``, ``Jan 1 2000``, ``Jan-1-1995``, ``1970 Q1`` (also
``1970-Q1``, ``1970Q1``), monthly ``1958-03`` / ``1958/03`` / ``Mar 1958``, US ``01/31/2012``,
European ``31.01.2012``, and a plain year ``1700`` (only when the column is named like a
year). A value no format reads is an error naming its line and the value.

Steps: a :class:`Step` is a number of calendar months (monthly, quarterly, yearly data) or of
seconds (hourly, daily, weekly, ...), inferred from the most common difference between
consecutive dates (:func:`infer_step`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

__all__ = ["DATE_FORMATS", "Step", "calendar_features", "calendar_kinds", "infer_step",
           "parse_date", "parse_dates", "show_date"]

# strptime formats, tried in this order; "quarter" and "year" are read by hand.
DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H-%M-%S", "%Y/%m/%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d",
    "%b %d %Y", "%b %d, %Y", "%B %d %Y", "%B %d, %Y", "%b-%d-%Y", "%d %b %Y", "%d-%b-%Y",
    "quarter", "%Y-%m", "%Y/%m", "%b %Y", "%B %Y", "%b-%Y", "%Y-%b", "%m/%d/%Y",
    "%m/%d/%Y %H:%M", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S%z", "year",
)
_QUARTER = re.compile(r"^\s*(\d{4})\s*[-/ ]?\s*[Qq]([1-4])\s*$")
_YEAR = re.compile(r"^\s*(\d{4})(\.0)?\s*$")
EXPECTED = ("a date such as 2012-01-01, 2012/01/01, Jan 1 2000, 19580329, 1970 Q1 or "
            "1958-03")


def show_date(date: datetime) -> str:
    """``2012-01-31``, with the time when it is not midnight (``2010-01-01 13:00``)."""
    if date.hour or date.minute or date.second:
        return f"{date:%Y-%m-%d %H:%M}" + (f":{date:%S}" if date.second else "")
    return f"{date:%Y-%m-%d}"


def parse_date(text: str, fmt: str) -> datetime:
    """``text`` read with format ``fmt`` (one of :data:`DATE_FORMATS`); ValueError if it is
    not in that format."""
    if fmt == "quarter":
        m = _QUARTER.match(text)
        if not m:
            raise ValueError(text)
        return datetime(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)
    if fmt == "year":
        m = _YEAR.match(text)
        if not m:
            raise ValueError(text)
        return datetime(int(m.group(1)), 1, 1)
    value = datetime.strptime(text.strip(), fmt)
    return value.replace(tzinfo=None) if value.tzinfo else value


def _first_failure(values: Sequence[str], fmt: str) -> int | None:
    for i, text in enumerate(values):
        try:
            parse_date(text, fmt)
        except ValueError:
            return i
    return None


def parse_dates(values: Sequence[str], lines: Sequence[int], *, where: str,
                allow_year: bool = False) -> list[datetime]:
    """Every value of a date column as a ``datetime``, in the one format that reads them all.

    Args:
        values: the column's cells.
        lines: the file line of each cell (for messages).
        where: the file and column, for messages (``"data.csv, column date"``).
        allow_year: a plain number ``1700`` is a year (the column is named like one).

    Raises:
        ValueError: no format reads every value; the message names the first value that the
            best format (the one reading most of the column before failing) could not read,
            with its line.
    """
    if not values:
        return []
    best, best_at = None, -1
    for fmt in DATE_FORMATS:
        if fmt == "year" and not allow_year:
            continue
        failed = _first_failure(values, fmt)
        if failed is None:
            return [parse_date(text, fmt) for text in values]
        if failed > best_at:
            best, best_at = fmt, failed
    assert best is not None
    value = values[best_at]
    raise ValueError(f"{where}: line {lines[best_at]}: cannot read the date {value!r}; "
                     f"expected {EXPECTED}" + (f" (the lines before it read as {best})"
                                               if best_at > 0 else ""))


@dataclass(frozen=True)
class Step:
    """The regular step of a series: ``count`` calendar months, or ``count`` seconds.

    Attributes:
        unit: ``"months"`` or ``"seconds"``.
        count: how many (>= 1).
        month_end: monthly steps on the last day of each month (Jan 31, Feb 28, ...).
    """

    unit: str
    count: int
    month_end: bool = False

    @property
    def name(self) -> str:
        """``yearly``, ``quarterly``, ``monthly``, ``weekly``, ``daily``, ``hourly``, ... or
        ``every N seconds``."""
        months = {12: "yearly", 3: "quarterly", 1: "monthly"}
        seconds = {604800: "weekly", 86400: "daily", 3600: "hourly", 1800: "half-hourly",
                   60: "minutely"}
        table = months if self.unit == "months" else seconds
        if self.count in table:
            return table[self.count]
        return f"every {self.count} {self.unit}"

    def describe(self) -> str:
        """``a value every 7 days``: what the step means, for messages."""
        if self.unit == "months":
            return f"a value every {self.count} month{'s' if self.count > 1 else ''}"
        for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
            if self.count % size == 0:
                n = self.count // size
                return f"a value every {n} {unit}{'s' if n > 1 else ''}"
        return f"a value every {self.count} seconds"

    @property
    def season(self) -> int:
        """The usual seasonal period in steps: 12 monthly, 4 quarterly, 1 yearly, 52 weekly,
        7 daily, 24 hourly, 48 half-hourly; 1 otherwise."""
        table = {("months", 1): 12, ("months", 3): 4, ("months", 12): 1,
                 ("seconds", 604800): 52, ("seconds", 86400): 7, ("seconds", 3600): 24,
                 ("seconds", 1800): 48}
        return table.get((self.unit, self.count), 1)

    def add(self, date: datetime, k: int = 1) -> datetime:
        """``date`` plus ``k`` steps."""
        if self.unit == "seconds":
            return date + timedelta(seconds=self.count * k)
        index = date.year * 12 + date.month - 1 + self.count * k
        year, month = divmod(index, 12)
        if self.month_end:
            day = _days_in_month(year, month + 1)
        else:
            day = min(date.day, _days_in_month(year, month + 1))
        return date.replace(year=year, month=month + 1, day=day)

    def steps_between(self, a: datetime, b: datetime) -> float:
        """How many steps from ``a`` to ``b`` (a fraction when ``b`` is off the grid)."""
        if self.unit == "seconds":
            return (b - a).total_seconds() / self.count
        months = (b.year - a.year) * 12 + b.month - a.month
        same_day = (b.day == a.day or self.month_end
                    or b.day == _days_in_month(b.year, b.month) < a.day)
        if not same_day or b.time() != a.time():
            return months / self.count + 0.5 / 31  # off the grid
        return months / self.count

    def to_dict(self) -> dict[str, object]:
        return {"unit": self.unit, "count": self.count, "month_end": self.month_end}

    @classmethod
    def from_dict(cls, data: dict) -> Step:
        return cls(str(data["unit"]), int(data["count"]), bool(data.get("month_end", False)))


def _days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (datetime(year, month + 1, 1) - datetime(year, month, 1)).days


def infer_step(dates: Sequence[datetime]) -> Step | None:
    """The step of sorted ``dates``: calendar months when every date falls on the same day of
    the month (or every one on a month's last day) at the same time and the usual difference
    is 28-31, 89-92 or 365-366 days; else the most common difference in seconds. None for
    fewer than two dates."""
    if len(dates) < 2:
        return None
    diffs = [(b - a).total_seconds() for a, b in zip(dates, dates[1:], strict=False)]
    positive = [d for d in diffs if d > 0]
    if not positive:
        return None
    usual = Counter(positive).most_common(1)[0][0]
    days = usual / 86400
    month_end = all(d.day == _days_in_month(d.year, d.month) for d in dates)
    same_day = len({(d.day, d.time()) for d in dates}) == 1
    if (same_day or month_end) and len({d.time() for d in dates}) == 1:
        for low, high, months in ((28, 31, 1), (89, 92, 3), (365, 366, 12)):
            if low <= days <= high:
                return Step("months", months, month_end=month_end and not same_day)
    return Step("seconds", int(round(usual)))


def calendar_kinds(step: Step) -> tuple[str, ...]:
    """The calendar features that vary for data of ``step``: ``hour`` (below a day), ``weekday``
    (below a week), ``month`` (below a year); yearly data have none."""
    if step.unit == "months":
        return () if step.count >= 12 else ("month",)
    kinds = []
    if step.count < 86400:
        kinds.append("hour")
    if step.count < 604800:
        kinds.append("weekday")
    if step.count < 366 * 86400:
        kinds.append("month")
    return tuple(kinds)


def calendar_features(dates: Sequence[datetime], kinds: Sequence[str]) -> np.ndarray:
    """``(T, 2K)`` float32: the sine and cosine of each kind's position in its cycle (hour of the
    day, day of the week, month of the year — with the day of the month, so daily data see a
    smooth year)."""
    out = np.zeros((len(dates), 2 * len(kinds)), dtype=np.float32)
    for j, kind in enumerate(kinds):
        if kind == "hour":
            phase = [(d.hour + d.minute / 60) / 24 for d in dates]
        elif kind == "weekday":
            phase = [d.weekday() / 7 for d in dates]
        else:
            phase = [(d.month - 1 + (d.day - 1) / 31) / 12 for d in dates]
        angle = 2 * math.pi * np.asarray(phase, dtype=np.float64)
        out[:, 2 * j] = np.sin(angle)
        out[:, 2 * j + 1] = np.cos(angle)
    return out
