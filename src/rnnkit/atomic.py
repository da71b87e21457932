"""Atomic file writes: a file is either its old content or its new content, never torn."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

T = TypeVar("T")

__all__ = ["write_atomic", "write_text_atomic"]


def write_atomic(path: str | os.PathLike, write: Callable[[BinaryIO], T]) -> T:
    """Call ``write(f)`` on a temporary file beside ``path``, flush it to disk, rename it over
    ``path``; returns what ``write`` returned.

    ``os.replace`` is atomic within one filesystem, and the temporary file lives in the target's
    directory, so an interrupted write (Ctrl-C, kill -9, a full disk) leaves the previous file
    untouched and no partial one in its place.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            result = write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private (0600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return result


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`write_atomic`)."""
    data = text.encode("utf-8")
    write_atomic(path, lambda f: f.write(data))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
