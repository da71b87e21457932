"""Reading one long UTF-8 text in blocks, and writing its tokens once as a file of ids.

Everything here reads a file in blocks of :data:`BLOCK_BYTES`, so a text of gigabytes is read
in constant memory. A part of a file is a byte range ``[start, end)`` that begins and ends on
character boundaries (:func:`char_offset`).

The cache (``data.cache_dir``, else ``$RNNKIT_CACHE_DIR``, else ``~/.cache/rnnkit/corpus``)
holds, for a part of a text:

* ``NAME-KEY.vocab.json``: the tokenizer (a trained subword model) and the vocabulary built on
  it, KEY a hash of the file's SHA-256, the part and the tokenizer and vocabulary options;
* ``NAME-KEY.bin``: its token ids (uint16 or uint32, :func:`~rnnkit.data.corpus.stream.
  token_dtype`), KEY a hash of the file's SHA-256, the part, the tokenizer's state and the
  vocabulary; beside it ``NAME-KEY.json``: ``{"tokens", "unknown", "dtype", "source",
  "part"}``.

Every file is written under a temporary name in the cache and renamed into place, so a file
present is complete; it is reused while its size matches its ``.json``.

The char tokenizer keeping whitespace (the corpus source's) reads a block as its code points
(one NumPy array) and counts and looks them up in tables indexed by code point: the same
tokens and ids as the tokenizer's list of characters, about 30 times faster (42 M against
1.5 M characters/s, benchmarks/corpus_scale.py).
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import IO, Any

import numpy as np

from rnnkit.atomic import write_atomic
from rnnkit.data.choices import file_digest
from rnnkit.data.corpus.stream import TokenFile, token_dtype
from rnnkit.data.text.readers import TextFileError, not_utf8
from rnnkit.data.text.tokenize import Tokenizer
from rnnkit.data.text.vocab import UNK_ID, Vocabulary

__all__ = ["BLOCK_BYTES", "TextScan", "cache_dir", "cached_tokens", "cached_vocabulary",
           "char_offset", "read_blocks", "scan_text"]

BLOCK_BYTES = 1 << 20
_BOM = codecs.BOM_UTF8
# A safe place to cut a block for the word and byte-level BPE tokenizers: before a single
# whitespace character between two others (no token or BPE pre-token spans it).
_CUT = re.compile(r"\S(?=\s\S)")
_CODE_POINTS = 0x110000


@dataclass(frozen=True)
class TextScan:
    """A text file as one pass over its bytes finds it.

    Attributes:
        path: the file.
        sha256: its SHA-256 (:func:`~rnnkit.data.choices.file_digest`).
        size: its bytes.
        start: the byte offset of its first character (3 after a byte-order mark, else 0).
        num_chars: its characters (without the byte-order mark).
    """

    path: str
    sha256: str
    size: int
    start: int
    num_chars: int


def _lead_bytes(raw: bytes) -> np.ndarray:
    """The offsets in ``raw`` of the bytes that start a UTF-8 character (not 10xxxxxx)."""
    return np.flatnonzero((np.frombuffer(raw, dtype=np.uint8) & 0xC0) != 0x80)


def _blocks(path: str, start: int, end: int) -> Iterator[bytes]:
    with open(path, "rb") as f:
        f.seek(start)
        while start < end:
            raw = f.read(min(BLOCK_BYTES, end - start))
            if not raw:
                return
            start += len(raw)
            yield raw


def scan_text(path: str | os.PathLike) -> TextScan:
    """The :class:`TextScan` of a text file.

    Raises:
        TextFileError: the file holds no character (empty, or a byte-order mark alone).
    """
    path = os.fspath(path)
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        start = 3 if f.read(3) == _BOM else 0
    chars = sum(len(_lead_bytes(raw)) for raw in _blocks(path, start, size))
    if chars == 0:
        raise TextFileError(f"{path}: the text is empty")
    return TextScan(path, file_digest(path), size, start, chars)


def char_offset(scan: TextScan, index: int) -> int:
    """The byte offset of character ``index`` (0-based; ``scan.num_chars``: the end)."""
    seen, pos = 0, scan.start
    for raw in _blocks(scan.path, scan.start, scan.size):
        lead = _lead_bytes(raw)
        if seen + len(lead) > index:
            return pos + int(lead[index - seen])
        seen, pos = seen + len(lead), pos + len(raw)
    return scan.size


def _line(path: str, offset: int) -> int:
    """The line (1-based) of the byte at ``offset``."""
    return 1 + sum(raw.count(b"\n") for raw in _blocks(path, 0, offset))


def read_blocks(path: str, start: int, end: int, *, cut: bool = False) -> Iterator[str]:
    """The text of bytes ``[start, end)`` of a UTF-8 file, in blocks of about
    :data:`BLOCK_BYTES`; ``cut``: each block ends where no word or BPE pre-token is split
    (before a single whitespace character between two others; a block without one is joined
    to the next).

    Raises:
        TextFileError: a byte that is not UTF-8, named with its byte offset and line.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    carry, pos = "", start

    def decode(raw: bytes, final: bool) -> str:
        pending = len(decoder.getstate()[0])  # bytes of a character begun in the last block
        try:
            return decoder.decode(raw, final)
        except UnicodeDecodeError as err:
            offset = pos - pending + err.start
            raise not_utf8(path, err.object[err.start], offset, _line(path, offset)) from None

    for raw in _blocks(path, start, end):
        text = carry + decode(raw, False)
        pos += len(raw)
        carry = ""
        if cut:
            i = _cut_point(text)
            text, carry = text[:i], text[i:]
        if text:
            yield text
    text = carry + decode(b"", True)
    if text:
        yield text


def _cut_point(text: str) -> int:
    """The last safe place to cut ``text`` (0: none)."""
    for lo in (max(0, len(text) - 4096), 0):
        last = deque(_CUT.finditer(text, lo), maxlen=1)
        if last:
            return last[0].end()
    return 0


def cache_dir(configured: str | None = None) -> Path:
    """The directory of tokenised texts: ``configured`` (``data.cache_dir``), else
    ``$RNNKIT_CACHE_DIR``, else ``~/.cache/rnnkit/corpus``."""
    return Path(configured or os.environ.get("RNNKIT_CACHE_DIR")
                or Path.home() / ".cache" / "rnnkit" / "corpus")


def _name(scan: TextScan, key: Any) -> str:
    """``STEM-HASH``: the file's name (readable) and a hash of ``key`` (what the file holds)."""
    stem = re.sub(r"[^\w.-]", "_", Path(scan.path).stem)[:40] or "text"
    return f"{stem}-{hashlib.sha256(json.dumps(key).encode()).hexdigest()[:20]}"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _blocks_of(tokenizer: Tokenizer, scan: TextScan, start: int,
               end: int) -> Callable[[], Iterator[str]]:
    cut = tokenizer.kind != "char"
    return lambda: read_blocks(scan.path, start, end, cut=cut)


def _code_points(tokenizer: Tokenizer, block: str) -> np.ndarray | None:
    """``tokenizer(block)`` as code points, (L,) uint32, when its tokens are the block's
    characters (the char tokenizer keeping whitespace); else None."""
    if tokenizer.kind != "char" or not tokenizer.keep_whitespace:
        return None
    text = block.lower() if tokenizer.lowercase else block  # as Tokenizer.__call__: list(text)
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4")  # no surrogates: read as UTF-8


def _count_tokens(blocks: Iterable[str], tokenizer: Tokenizer) -> Counter[str]:
    """How many times each token of ``blocks`` occurs."""
    counts: Counter[str] = Counter()
    chars = np.zeros(_CODE_POINTS, dtype=np.int64) if tokenizer.kind == "char" else None
    for block in blocks:
        codes = _code_points(tokenizer, block)
        if codes is None:
            counts.update(tokenizer(block))
        else:
            chars += np.bincount(codes, minlength=_CODE_POINTS)  # type: ignore[operator]
    if chars is not None:
        counts.update({chr(c): int(chars[c]) for c in np.flatnonzero(chars)})
    return counts


def cached_vocabulary(scan: TextScan, start: int, end: int, tokenizer: Tokenizer, *,
                      subword_vocab: int, min_count: int, max_vocab: int,
                      directory: Path) -> tuple[Tokenizer, Vocabulary]:
    """The tokenizer (a subword model trained on bytes ``[start, end)`` of the text) and the
    vocabulary of the tokens there (:meth:`Vocabulary.build`: ``<pad>`` 0, ``<unk>`` 1, then
    by frequency), from the cache or built in two passes over the part and cached."""
    key = [scan.sha256, start, end, tokenizer.state(), subword_vocab, min_count, max_vocab]
    path = directory / f"{_name(scan, key)}.vocab.json"
    saved = _read_json(path)
    if saved is not None:
        return Tokenizer.from_state(saved["tokenizer"]), Vocabulary(saved["vocabulary"])
    blocks = _blocks_of(tokenizer, scan, start, end)
    tokenizer.fit(blocks(), subword_vocab, min_count)
    vocabulary = Vocabulary.from_counts(_count_tokens(blocks(), tokenizer), min_count=min_count,
                                        max_size=max_vocab)
    saved = {"source": scan.path, "tokenizer": tokenizer.state(),
             "vocabulary": vocabulary.tokens}
    write_atomic(path, lambda f: f.write(json.dumps(saved).encode("utf-8")))
    return tokenizer, vocabulary


def _write_ids(blocks: Iterable[str], tokenizer: Tokenizer, vocabulary: Vocabulary,
               dtype: np.dtype, f: IO[bytes]) -> tuple[int, int]:
    """Write the ids of ``blocks``' tokens to ``f``; ``(tokens, unknown tokens)``."""
    get = vocabulary.index.get
    table = np.full(_CODE_POINTS, UNK_ID, dtype=dtype)  # a character's id, by code point
    for token, i in vocabulary.index.items():
        if len(token) == 1:
            table[ord(token)] = i
    count = unknown = 0
    for block in blocks:
        codes = _code_points(tokenizer, block)
        if codes is not None:
            ids = table[codes]
        else:
            tokens = tokenizer(block)
            ids = np.fromiter(map(get, tokens, repeat(UNK_ID)), dtype=dtype, count=len(tokens))
        f.write(ids.tobytes())
        count, unknown = count + len(ids), unknown + int(np.count_nonzero(ids == UNK_ID))
    return count, unknown


def cached_tokens(scan: TextScan, start: int, end: int, tokenizer: Tokenizer,
                  vocabulary: Vocabulary, directory: Path) -> TokenFile:
    """The token ids of bytes ``[start, end)`` of the text, from the cache or written there
    in one pass."""
    dtype = token_dtype(len(vocabulary))
    key = [scan.sha256, start, end, tokenizer.state(), vocabulary.tokens]
    name = _name(scan, key)
    path, meta_path = directory / f"{name}.bin", directory / f"{name}.json"
    meta = _read_json(meta_path)
    if meta is not None and path.is_file() and meta.get("dtype") == dtype.name \
            and path.stat().st_size == int(meta["tokens"]) * dtype.itemsize:
        return TokenFile(path, dtype.name, int(meta["tokens"]), int(meta["unknown"]))
    blocks = _blocks_of(tokenizer, scan, start, end)()
    count, unknown = write_atomic(
        path, lambda f: _write_ids(blocks, tokenizer, vocabulary, dtype, f))
    meta = {"tokens": count, "unknown": unknown, "dtype": dtype.name, "source": scan.path,
            "part": [start, end]}
    write_atomic(meta_path, lambda f: f.write(json.dumps(meta, indent=1).encode("utf-8")))
    return TokenFile(path, dtype.name, count, unknown)
