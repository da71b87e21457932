"""Text files read line by line, where a byte that is not text is a :class:`SequenceFileError`
naming the file and the line (not a ``UnicodeDecodeError``)."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path

from rnnkit.data.sequences.errors import SequenceFileError

__all__ = ["text_lines"]


def _not_text(path: str | Path, encoding: str) -> SequenceFileError:
    """The error for a file that is not ``encoding`` text, naming the first line that is not."""
    name = "UTF-8" if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig") else encoding
    decoder = codecs.getincrementaldecoder(encoding)()
    lineno = 0
    with open(path, "rb") as f:
        try:
            for raw in f:
                lineno += 1
                decoder.decode(raw)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as e:
            found = f"the byte 0x{e.object[e.start:e.end].hex()}"
            return SequenceFileError(
                f"expected {name} text, found {found}: the file is not {name} text; save it as "
                f"{name}", path, lineno,
            )
    return SequenceFileError(f"expected {name} text, found bytes that are not", path)


def text_lines(path: str | Path, encoding: str, newline: str | None = None) -> Iterator[str]:
    """The lines of a text file, like iterating over ``open(path, encoding=encoding)``; a byte
    that is not ``encoding`` raises :class:`SequenceFileError` naming file and line (not
    ``UnicodeDecodeError``). Wrap it in ``contextlib.closing`` to close the file early."""
    with open(path, encoding=encoding, newline=newline) as f:
        try:
            yield from f
        except UnicodeDecodeError:
            raise _not_text(path, encoding) from None
