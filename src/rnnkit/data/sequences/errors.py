"""The error every sequence reader raises: it names the file, the line and the reason."""

from __future__ import annotations

from pathlib import Path

__all__ = ["SequenceFileError"]


class SequenceFileError(ValueError):
    """A sequence file could not be read. The message names the file, the line and the reason.

    Attributes:
        path: the file (``None`` when not from a file).
        line: 1-based line number, or ``None`` when the problem is not on one line.
        reason: what was expected and what was found.
    """

    def __init__(self, reason: str, path: str | Path | None = None, line: int | None = None):
        self.path = None if path is None else str(path)
        self.line = line
        self.reason = reason
        where = self.path or "<data>"
        if line is not None:
            where = f"{where}, line {line}"
        super().__init__(f"{where}: {reason}")
