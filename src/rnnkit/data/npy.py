"""Read NumPy ``.npy`` arrays and ``.npz`` archives from files that may be broken.

``np.load`` trusts what it reads: a header of a few bytes can declare a 36 TiB array
(``MemoryError``), an ``.npz`` member may hold pickle bytes (returned as ``bytes``), an empty
file raises ``EOFError`` and a ``.npy`` file named ``.npz`` comes back as an array. These readers
check the declared shape and dtype against the bytes actually present before allocating
anything, never unpickle (object arrays are refused), and raise :class:`NpyFormatError` naming
the file for every problem.
"""

from __future__ import annotations

import math
import os
import zipfile
import zlib
from collections.abc import Collection
from pathlib import Path
from typing import BinaryIO

import numpy as np

__all__ = ["NpyFormatError", "read_npy", "read_npz_arrays"]

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"


class NpyFormatError(ValueError):
    """A ``.npy`` or ``.npz`` file is empty, truncated, corrupt or not what it claims to be.

    Attributes:
        path: the file.
        reason: what was expected and what was found.
    """

    def __init__(self, reason: str, path: str | os.PathLike):
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def _found(head: bytes) -> str:
    if not head:
        return "an empty file"
    if head.startswith(ZIP_MAGIC):
        return "a zip archive (an .npz archive?)"
    if head[0] == 0x80:
        return "a Python pickle, which rnnkit never loads"
    return f"bytes {head!r}"


def _read_array(f: BinaryIO, size: int) -> np.ndarray:
    """One array from ``f``, which holds ``size`` bytes; ValueError with the reason if broken."""
    head = f.read(8)
    if len(head) < 8 or not head.startswith(NPY_MAGIC):
        raise ValueError(f"expected a .npy array (starting with {NPY_MAGIC!r}), found "
                         f"{_found(head)}")
    version = (head[6], head[7])
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise ValueError(f"expected .npy format version 1.0, 2.0 or 3.0, found {version}")
    if dtype.hasobject:
        raise ValueError(f"expected numbers or strings, found Python objects (dtype {dtype}); "
                         "rnnkit never unpickles")
    expected = math.prod(shape) * dtype.itemsize
    found = size - f.tell()
    if found != expected:
        what = "truncated file" if found < expected else "trailing bytes after the data"
        raise ValueError(f"the header declares shape {shape} of {dtype}, {expected:,} bytes of "
                         f"data; found {found:,} bytes ({what})")
    buf = bytearray(expected)
    if f.readinto(buf) != expected:
        raise ValueError(f"expected {expected:,} bytes of data, found fewer (truncated file)")
    a = np.frombuffer(buf, dtype=dtype)
    return a.reshape(shape, order="F" if fortran else "C")


def read_npy(path: str | os.PathLike) -> np.ndarray:
    """Read a ``.npy`` file (see the module docstring for what is checked).

    Raises:
        NpyFormatError: empty, truncated or oversized file, a corrupt header, object arrays.
    """
    path = Path(path)
    with open(path, "rb") as f:
        try:
            return _read_array(f, os.fstat(f.fileno()).st_size)
        except ValueError as e:
            raise NpyFormatError(str(e), path) from None


def read_npz_arrays(
    path: str | os.PathLike, keys: Collection[str] | None = None
) -> dict[str, np.ndarray]:
    """Read the arrays of an ``.npz`` archive: member ``NAME.npy`` gives key ``NAME`` (members
    not named ``*.npy`` are skipped); only those in ``keys`` when given.

    Raises:
        NpyFormatError: not a zip archive (empty, a single ``.npy``, truncated, corrupt), or a
            member that is not a sound ``.npy`` array; the message names the member.
    """
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(8)
    kind = "not a readable .npz archive: expected a zip of .npy arrays (as np.savez writes)"
    if not head.startswith(ZIP_MAGIC):
        found = "a single .npy array (save it with np.savez)" if head.startswith(NPY_MAGIC) \
            else _found(head)
        raise NpyFormatError(f"{kind}, found {found}", path)
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                key = info.filename[:-4]
                if not info.filename.endswith(".npy") or keys is not None and key not in keys:
                    continue
                with z.open(info) as member:
                    try:
                        arrays[key] = _read_array(member, info.file_size)
                    except ValueError as e:
                        raise NpyFormatError(
                            f"not a readable .npz archive: member {info.filename}: {e}", path
                        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
            NotImplementedError) as e:
        raise NpyFormatError(f"{kind}, found a truncated or corrupt one ({e})", path) from None
    return arrays
