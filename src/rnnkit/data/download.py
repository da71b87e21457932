"""Checksummed downloads into rnnkit's data cache.

:func:`download_url` fetches a file from a list of mirrors (tried in order), streams it into a
temporary file beside the destination, checks its md5, and only then renames it into place, so
the cache never holds a partial or unverified file. A checksum may be given for the file as
downloaded (``md5``) and/or, for gzip files, for its decompressed content (``raw_md5``): MNIST
mirrors serve the same data in differently compressed ``.gz`` files, but the raw bytes inside
are always the same.

The cache directory is chosen by :func:`data_dir`: an explicit argument, else the environment
variable ``RNNKIT_DATA_DIR``, else ``~/.cache/rnnkit``.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import shutil
import tempfile
import urllib.request
import zlib
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import BinaryIO

__all__ = ["DownloadError", "ChecksumError", "data_dir", "file_md5", "download_url"]

log = logging.getLogger(__name__)

ENV_VAR = "RNNKIT_DATA_DIR"
_CHUNK = 1 << 20


class DownloadError(OSError):
    """No mirror could deliver the file."""


class ChecksumError(ValueError):
    """A downloaded file does not match its checksum (it was deleted, nothing was saved)."""


def data_dir(root: str | os.PathLike | None = None) -> Path:
    """The data cache: ``root`` if given, else ``$RNNKIT_DATA_DIR``, else ``~/.cache/rnnkit``.

    The directory is not created here; :func:`download_url` creates what it writes into.
    """
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "rnnkit"


def _md5_stream(f: BinaryIO) -> str:
    h = hashlib.md5(usedforsecurity=False)
    while chunk := f.read(_CHUNK):
        h.update(chunk)
    return h.hexdigest()


def file_md5(path: str | os.PathLike, *, decompress: bool = False) -> str:
    """md5 hex digest of a file, or with ``decompress=True`` of its gunzipped content.

    Raises:
        ValueError: ``decompress=True`` and the file is not a valid gzip file.
    """
    if not decompress:
        with open(path, "rb") as f:
            return _md5_stream(f)
    try:
        with gzip.open(path, "rb") as f:
            return _md5_stream(f)
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"{path}: expected a gzip file, found an invalid one ({e})") from None


def _as_set(x: str | Collection[str] | None) -> frozenset[str]:
    if x is None:
        return frozenset()
    if isinstance(x, str):
        return frozenset({x.lower()})
    return frozenset(s.lower() for s in x)


def _verify(path: Path, md5: frozenset[str], raw_md5: frozenset[str]) -> tuple[bool, str]:
    """Whether ``path`` matches one of the checksums; and what was found, for the message."""
    found = file_md5(path)
    if found in md5:
        return True, found
    if raw_md5:
        with open(path, "rb") as f:
            gz = f.read(2) == b"\x1f\x8b"
        if not gz:
            ok = found in raw_md5
            return ok, f"md5 {found}"
        try:
            raw = file_md5(path, decompress=True)
        except ValueError:
            return False, f"md5 {found}, and its gzip stream is corrupt"
        return raw in raw_md5, f"md5 {found}, uncompressed md5 {raw}"
    return False, f"md5 {found}"


def _urlopen(url: str, timeout: float) -> BinaryIO:
    return urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 (file:// is allowed)


def download_url(
    urls: str | Sequence[str],
    dest: str | os.PathLike,
    *,
    md5: str | Collection[str] | None,
    raw_md5: str | Collection[str] | None = None,
    timeout: float = 60.0,
    opener: Callable[[str, float], BinaryIO] | None = None,
) -> Path:
    """Download ``dest`` from the first mirror in ``urls`` that delivers a verified file.

    Args:
        urls: one URL or several mirrors, tried in order (``https://``, ``http://`` or
            ``file://``).
        dest: the final path; its directory is created. The file is streamed into a temporary
            file in the same directory and renamed into place only after it passed the checks,
            so an interruption or a bad checksum never leaves a partial file at ``dest``.
        md5: accepted md5 digest(s) of the file as downloaded. Pass ``None`` only together
            with ``raw_md5``, or to knowingly skip verification when both are ``None``.
        raw_md5: accepted md5 digest(s) of the decompressed content, for gzip files.
        timeout: seconds to wait on a connection.
        opener: ``opener(url, timeout)`` returning a readable binary file object; defaults
            to :func:`urllib.request.urlopen` (tests pass a fake to stay off the network).

    Returns:
        ``dest``.

    Raises:
        ChecksumError: a mirror delivered a file matching none of the checksums (and no later
            mirror delivered a good one). Nothing is written to ``dest``.
        DownloadError: no mirror could be reached.
    """
    urls = [urls] if isinstance(urls, str) else list(urls)
    if not urls:
        raise ValueError("download_url: expected at least one URL, found none")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    md5s, raw_md5s = _as_set(md5), _as_set(raw_md5)
    open_url = opener or _urlopen
    failures: list[str] = []
    bad_checksum = False
    for url in urls:
        log.info("downloading %s -> %s", url, dest)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        tmp = Path(tmp_name)
        try:
            try:
                with os.fdopen(fd, "wb") as out, open_url(url, timeout) as response:
                    shutil.copyfileobj(response, out, _CHUNK)
                    out.flush()
                    os.fsync(out.fileno())
            except OSError as e:  # URLError, HTTPError and socket timeouts are OSErrors
                failures.append(f"{url}: {type(e).__name__}: {e}")
                continue
            if md5s or raw_md5s:
                ok, found = _verify(tmp, md5s, raw_md5s)
                if not ok:
                    want = ", ".join(
                        [f"md5 {m}" for m in sorted(md5s)]
                        + [f"uncompressed md5 {m}" for m in sorted(raw_md5s)]
                    )
                    failures.append(f"{url}: checksum mismatch: expected {want}; found {found}")
                    bad_checksum = True
                    continue
            os.replace(tmp, dest)
            return dest
        finally:
            tmp.unlink(missing_ok=True)
    detail = "\n  ".join(failures)
    if bad_checksum:
        raise ChecksumError(
            f"could not download a verified {dest.name}; nothing saved:\n  {detail}"
        )
    raise DownloadError(f"could not download {dest.name} from any mirror:\n  {detail}")
