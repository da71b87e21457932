"""Small series files the tests write (tmp_path): CSV of dated values."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path


def monthly_dates(n: int, start: int = 2000) -> list[str]:
    """``n`` month starts from January ``start``: 2000-01-01, 2000-02-01, ..."""
    return [f"{start + k // 12}-{k % 12 + 1:02d}-01" for k in range(n)]


def daily_dates(n: int) -> list[str]:
    return [(date(2012, 1, 1) + timedelta(days=k)).isoformat() for k in range(n)]


def write_csv(path: Path, dates: list[str], values: list[float | str],
              header: str = "date,value") -> Path:
    lines = [header] + [f"{d},{v}" for d, v in zip(dates, values, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def sine(n: int, period: int = 12, level: float = 10.0) -> list[float]:
    return [round(level + 3 * math.sin(2 * math.pi * k / period), 6) for k in range(n)]
