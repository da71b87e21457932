"""CSV cells that a spreadsheet opens as text, never as a formula."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["spreadsheet_safe"]

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: Any) -> Any:
    """A CSV cell that a spreadsheet will not run as a formula: text starting with ``= + - @``,
    tab or carriage return gets a leading ``'`` (OWASP's advice on CSV injection); numbers, and
    text that is a plain number such as ``-1.5``, are returned unchanged."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_START) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell
