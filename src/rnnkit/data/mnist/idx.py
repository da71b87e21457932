"""Reader and writer for the IDX format used by MNIST (``*-idx3-ubyte``, ``*-idx1-ubyte``).

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then the data in
C order, big-endian::

    magic   = 0x00 0x00 <dtype code> <number of dimensions>
    dims    = ndim x uint32 (big-endian)
    data    = prod(dims) x item (big-endian)

MNIST images are ``0x00000803`` (uint8, 3 dims: N, 28, 28) and labels ``0x00000801`` (uint8,
1 dim: N). Files may be gzip-compressed; compression is detected from the gzip magic bytes
(``1f 8b``), not from the file name. Every inconsistency (bad magic, unknown dtype, truncated
or oversized data, corrupt gzip stream) raises :class:`IDXFormatError` naming the file, what was
expected and what was found.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

__all__ = ["IDXFormatError", "read_idx", "write_idx", "is_gzip"]

GZIP_MAGIC = b"\x1f\x8b"

# IDX dtype codes (third magic byte) -> numpy dtype (big-endian, as stored).
_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES: dict[np.dtype, int] = {dt.newbyteorder("="): code for code, dt in _DTYPES.items()}


class IDXFormatError(ValueError):
    """An IDX file is truncated, corrupt, or not what the caller expected."""


def is_gzip(path: str | os.PathLike) -> bool:
    """Whether the file starts with the gzip magic bytes ``1f 8b``."""
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
        raise IDXFormatError(
            f"{path}: expected a valid gzip stream (the file starts with the gzip magic bytes), "
            f"found a corrupt or truncated one ({type(e).__name__}: {e})"
        ) from None


def read_idx(
    path: str | os.PathLike,
    *,
    ndim: int | None = None,
    dtype: DTypeLike | None = None,
) -> np.ndarray:
    """Read an IDX file, gzip-compressed or not.

    Args:
        path: the file.
        ndim: if given, the number of dimensions the file must have.
        dtype: if given, the element type the file must hold (e.g. ``np.uint8``).

    Returns:
        A writable array in native byte order with the file's dimensions.

    Raises:
        IDXFormatError: bad magic number, unknown or unexpected dtype, unexpected number of
            dimensions, data shorter or longer than the header says, or a corrupt gzip stream.
    """
    path = Path(path)
    buf = _read_bytes(path)
    if len(buf) < 4:
        raise IDXFormatError(
            f"{path}: expected at least a 4-byte IDX magic number, found {len(buf)} bytes "
            "(truncated or empty file)"
        )
    if buf[0] != 0 or buf[1] != 0:
        raise IDXFormatError(
            f"{path}: expected an IDX magic number 0x0000TTDD (two zero bytes, dtype, ndim), "
            f"found 0x{buf[:4].hex()}; this is not an IDX file"
        )
    code, nd = buf[2], buf[3]
    if code not in _DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _DTYPES)
        raise IDXFormatError(
            f"{path}: expected an IDX dtype byte (one of {known}), found 0x{code:02X} "
            f"(magic 0x{buf[:4].hex()})"
        )
    file_dtype = _DTYPES[code]
    if dtype is not None and file_dtype.newbyteorder("=") != np.dtype(dtype):
        want = _CODES.get(np.dtype(dtype))
        want_s = f"0x{want:02X} ({np.dtype(dtype)})" if want is not None else str(np.dtype(dtype))
        raise IDXFormatError(
            f"{path}: expected dtype byte {want_s}, found 0x{code:02X} "
            f"({file_dtype.newbyteorder('=')})"
        )
    if ndim is not None and nd != ndim:
        raise IDXFormatError(
            f"{path}: expected {ndim} dimension(s) (magic byte 4 = 0x{ndim:02X}), found {nd} "
            f"(magic 0x{buf[:4].hex()})"
        )
    header = 4 + 4 * nd
    if len(buf) < header:
        raise IDXFormatError(
            f"{path}: expected a {header}-byte header for {nd} dimension(s), found only "
            f"{len(buf)} bytes (truncated file)"
        )
    shape = tuple(int(d) for d in np.frombuffer(buf, dtype=">u4", count=nd, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * file_dtype.itemsize
    if len(buf) != expected:
        what = "truncated file" if len(buf) < expected else "trailing bytes after the data"
        raise IDXFormatError(
            f"{path}: expected {expected} bytes (header {header} + data for shape {shape} of "
            f"{file_dtype.newbyteorder('=')}), found {len(buf)} ({what})"
        )
    data = np.frombuffer(buf, dtype=file_dtype, offset=header).reshape(shape)
    return data.astype(file_dtype.newbyteorder("="), copy=True)


def write_idx(path: str | os.PathLike, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file.

    Args:
        path: destination; written via a temporary file and renamed, so a reader never sees a
            partial file.
        array: uint8, int8, int16, int32, float32 or float64, 1 to 255 dimensions.
        compress: gzip the output; by default, when ``path`` ends in ``.gz``. The gzip header
            carries no time stamp or name, so the same array always gives the same bytes.

    Returns:
        The path written.
    """
    path = Path(path)
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        raise ValueError(
            f"write_idx: expected an array of uint8, int8, int16, int32, float32 or float64, "
            f"found {array.dtype}"
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"write_idx: expected 1 to 255 dimensions, found {array.ndim}")
    code = _CODES[native]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=_DTYPES[code]).tobytes()
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        payload = gzip.compress(payload, compresslevel=9, mtime=0)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_bytes(payload)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
