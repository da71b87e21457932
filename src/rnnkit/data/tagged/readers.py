"""Reading and writing tagged sentences: CoNLL columns and ``word/TAG`` lines.

Two layouts hold a tag for every token:

* **CoNLL columns** (``.conll .bio .iob .iob2 .bioes .bmes``, or sniffed): one token per line,
  columns separated by tabs (when the first token line holds one; a token may then hold spaces)
  or by runs of whitespace, a blank line between sentences. ``-DOCSTART-`` lines are skipped,
  and so are ``# `` comment lines before a sentence (CoNLL-U's ``# text = ...``). A file of one
  column has no tags (text to tag).
* **word/TAG sentences** (People's Daily: ``迈/b 向/e 充/b 满/e``): one sentence per line,
  tokens separated by whitespace, each split at its last ``/``. A file where no token holds a
  ``/`` has no tags.

The readers return :class:`TaggedSentences`; the writers write the same layouts back, so
``read_conll(write_conll(tokens, tags))`` gives ``tokens`` and ``tags`` again.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rnnkit.data.text.readers import read_utf8

__all__ = [
    "CONLL_SUFFIXES",
    "FORMATS",
    "TaggedSentences",
    "detect_format",
    "looks_tagged",
    "read_conll",
    "read_slash",
    "read_tagged",
    "write_conll",
    "write_slash",
]

FORMATS = ("auto", "conll", "slash")
CONLL_SUFFIXES = (".conll", ".bio", ".iob", ".iob2", ".bioes", ".bmes")
DOCSTART = "-DOCSTART-"
_SNIFF_LINES = 50  # non-empty lines a sniff looks at
_SNIFF_BYTES = 1 << 18


@dataclass
class TaggedSentences:
    """Sentences as read, in file order.

    Attributes:
        tokens: S sentences, each a list of its tokens.
        tags: S lists of one tag per token, or None (a file without tags).
        where: S places (``file:line`` of each sentence's first token), for messages.
        source: the file read.
        format: ``"conll"`` or ``"slash"``.
        columns: CoNLL: the columns of every token line; 0 for word/TAG sentences.
    """

    tokens: list[list[str]]
    tags: list[list[str]] | None
    where: list[str]
    source: str
    format: str
    columns: int = 0

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def num_tokens(self) -> int:
        return sum(len(t) for t in self.tokens)


def _lines(path: str | os.PathLike) -> list[str]:
    """The lines of a UTF-8 file, without their ``\\n`` or ``\\r\\n``."""
    return [line.removesuffix("\r") for line in read_utf8(path).split("\n")]


def _is_comment(line: str) -> bool:
    return line.startswith("# ") or line.split(None, 1)[:1] == [DOCSTART]


def _layout(lines: Sequence[str]) -> tuple[Any, bool, int]:
    """How a CoNLL file's lines split into columns — at tabs when its first token line holds
    one, else at runs of whitespace — whether that is at tabs, and that line's columns."""
    first = next((x for x in lines if x.strip() and not _is_comment(x)
                  and x.split()[0] != DOCSTART), "")
    if "\t" in first:
        def split(line: str) -> list[str]:
            return [f.strip() for f in line.split("\t")]

        return split, True, len(split(first))
    return str.split, False, len(first.split())


def read_conll(path: str | os.PathLike, *, token_col: int = 0,
               tag_col: int = -1) -> TaggedSentences:
    """CoNLL columns: the token in column ``token_col``, its tag in ``tag_col`` (negative:
    from the end; default the last); one column: no tags.

    Raises:
        ValueError: no sentences; a line whose number of columns differs from the first token
            line's (``FILE:LINE: expected N columns (as on line K), found M``); a column
            that is not there; an empty token or tag.
    """
    name = os.fspath(path)
    lines = _lines(path)
    split, tabbed, columns = _layout(lines)
    tokens: list[list[str]] = []
    tags: list[list[str]] = []
    where: list[str] = []
    width, first, cols = 0, 0, (0, 0)
    sentence: list[str] = []
    labels: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            if sentence:
                tokens.append(sentence)
                tags.append(labels)
                sentence, labels = [], []
            continue
        fields = split(line)
        if line.split()[0] == DOCSTART:  # whatever separates its columns
            continue
        if not sentence and line.startswith("# ") and (tabbed or len(fields) != columns):
            continue  # a comment before a sentence (in a whitespace-separated file, a line
            # "# TAG" as wide as the token lines is the token "#")
        if not width:
            width, first = len(fields), number
            cols = (_column(token_col, width, "token_col", name, number),
                    _column(tag_col, width, "tag_col", name, number))
            if width > 1 and cols[0] == cols[1]:
                raise ValueError(f"{name}: data.token_col={token_col} and data.tag_col="
                                 f"{tag_col} name the same column of {width}")
        if len(fields) != width:
            raise ValueError(f"{name}:{number}: expected {width} columns (as on line {first}), "
                             f"found {len(fields)}")
        if not sentence:
            where.append(f"{name}:{number}")
        token, tag = fields[cols[0]], fields[cols[1]]
        if not token or not tag:
            raise ValueError(f"{name}:{number}: an empty {'token' if not token else 'tag'}")
        sentence.append(token)
        labels.append(tag)
    if sentence:
        tokens.append(sentence)
        tags.append(labels)
    if not tokens:
        raise ValueError(f"{name}: no sentences")
    return TaggedSentences(tokens, tags if width > 1 else None, where, name, "conll", width)


def _column(index: int, width: int, key: str, name: str, line: int) -> int:
    if not -width <= index < width:
        raise ValueError(f"{name}:{line}: data.{key}={index}, but the lines have {width} "
                         f"column{'s' if width > 1 else ''}")
    return index % width


def read_slash(path: str | os.PathLike) -> TaggedSentences:
    """``word/TAG`` sentences, one a line, split at each token's last ``/``; blank lines are
    skipped. When no token of the file holds a ``/``, the tokens have no tags.

    Raises:
        ValueError: no sentences; a token without a word or a tag around its last ``/``
            (``FILE:LINE: the token 'x' has no /TAG``).
    """
    name = os.fspath(path)
    rows = [(number, line.split()) for number, line in enumerate(_lines(path), start=1)
            if line.strip()]
    if not rows:
        raise ValueError(f"{name}: no sentences")
    where = [f"{name}:{number}" for number, _ in rows]
    if not any("/" in token for _, toks in rows for token in toks):
        return TaggedSentences([toks for _, toks in rows], None, where, name, "slash")
    tokens, tags = [], []
    for number, toks in rows:
        words, labels = [], []
        for token in toks:
            word, slash, tag = token.rpartition("/")
            if not (word and slash and tag):
                raise ValueError(f"{name}:{number}: the token {token!r} has no /TAG (a word/TAG "
                                 "file needs a tag after the last '/' of every token)")
            words.append(word)
            labels.append(tag)
        tokens.append(words)
        tags.append(labels)
    return TaggedSentences(tokens, tags, where, name, "slash")


@dataclass
class _Sniffed:
    format: str | None  # "conll", "slash" or None (neither)
    columns: int  # CoNLL: columns per line
    breaks: bool  # CoNLL: a blank line between two token lines
    tokens: list[str]  # the token of each token line (CoNLL) or each token (slash)
    tags: list[str]  # their tags


def _sniff(path: str | os.PathLike) -> _Sniffed:
    """What the first non-empty lines of ``path`` look like (bytes that are not UTF-8 read as
    U+FFFD: reading the file reports them)."""
    with open(path, "rb") as f:
        raw = f.read(_SNIFF_BYTES + 1)
    lines = raw[:_SNIFF_BYTES].decode("utf-8-sig", errors="replace").split("\n")
    if len(raw) > _SNIFF_BYTES:
        lines = lines[:-1]  # it may end mid-line
    complete = len(raw) <= _SNIFF_BYTES
    sample: list[str] = []
    breaks = blank = False
    for line in lines:
        line = line.removesuffix("\r")
        if not line.strip():
            blank = bool(sample)
            continue
        if _is_comment(line):
            continue
        breaks, blank = breaks or blank, False
        sample.append(line)
        if len(sample) == _SNIFF_LINES:
            complete = False
            break
    none = _Sniffed(None, 0, breaks, [], [])
    if not sample:
        return none
    split = [token.rpartition("/") for line in sample for token in line.split()]
    if all(word and tag for word, _, tag in split):
        return _Sniffed("slash", 0, False, [w for w, _, _ in split], [t for _, _, t in split])
    rows = [_layout(sample)[0](line) for line in sample]
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        return none
    width = widths.pop()
    if not (breaks or (complete and width > 1)):
        return none  # one column and no sentence breaks: plain lines, not one token a line
    return _Sniffed("conll", width, breaks, [r[0] for r in rows], [r[-1] for r in rows])


def detect_format(path: str | os.PathLike) -> str | None:
    """``"conll"`` for the CoNLL suffixes (:data:`CONLL_SUFFIXES`); else what the first
    non-empty lines look like: ``"slash"`` when every token holds a ``/``, ``"conll"`` for
    lines of equally many columns in blocks separated by blank lines; else None."""
    if Path(path).suffix.lower() in CONLL_SUFFIXES:
        return "conll"
    return _sniff(path).format


def _tag_like(values: Sequence[str]) -> bool:
    """Few distinct short values, as tags are (not texts or numbers of every kind)."""
    distinct = set(values)
    return len(distinct) <= max(4, len(values) // 2) and all(len(v) <= 32 for v in distinct)


def looks_tagged(path: str | os.PathLike) -> bool:
    """Whether a ``.txt``/``.tsv`` file holds tagged sentences: its first non-empty lines are
    ``word/TAG`` sentences, or CoNLL columns (two or more) with blank lines between sentences;
    either way with few distinct tags. A table of texts and labels (no sentence breaks) or
    prose is not."""
    try:
        found = _sniff(path)
    except OSError:
        return False
    if found.format == "slash":
        return _tag_like(found.tags)
    return found.format == "conll" and found.columns > 1 and found.breaks \
        and _tag_like(found.tags) and not any(" " in t or len(t) > 64 for t in found.tokens)


def read_tagged(path: str | os.PathLike, *, format: str = "auto", token_col: int = 0,
                tag_col: int = -1) -> TaggedSentences:
    """Tagged sentences from ``path`` in ``format`` (``auto``: :func:`detect_format`)."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {format!r}")
    if not Path(path).is_file():
        raise ValueError(f"no such file: {os.fspath(path)}")
    if format == "auto":
        format = detect_format(path) or ""
        if not format:
            raise ValueError(f"{os.fspath(path)}: neither CoNLL columns (one token a line, a "
                             "blank line between sentences) nor word/TAG sentences (one a "
                             "line); set data.format")
    if format == "conll":
        return read_conll(path, token_col=token_col, tag_col=tag_col)
    return read_slash(path)


def _check(tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]] | None,
           forbidden: str) -> None:
    if tags is not None and len(tags) != len(tokens):
        raise ValueError(f"{len(tokens)} sentences but {len(tags)} tag lists")
    for i, sentence in enumerate(tokens):
        if not sentence:
            raise ValueError(f"sentence {i} is empty")
        if tags is not None and len(tags[i]) != len(sentence):
            raise ValueError(f"sentence {i} has {len(sentence)} tokens but {len(tags[i])} tags")
        for j, value in enumerate([*sentence, *(tags[i] if tags is not None else ())]):
            what = "token" if j < len(sentence) else "tag"
            if not value or any(c.isspace() for c in value):
                raise ValueError(f"sentence {i}: the {what} {value!r} is empty or holds "
                                 "whitespace; it could not be read back")
            if what == "tag" and forbidden and forbidden in value:
                raise ValueError(f"sentence {i}: the tag {value!r} holds {forbidden!r}; it "
                                 "could not be read back")


def _open(path_or_file: str | os.PathLike | IO[str]) -> Any:
    if isinstance(path_or_file, io.TextIOBase) or hasattr(path_or_file, "write"):
        return nullcontext(path_or_file)
    return open(path_or_file, "w", encoding="utf-8", newline="")


def write_conll(path_or_file: str | os.PathLike | IO[str], tokens: Sequence[Sequence[str]],
                tags: Sequence[Sequence[str]] | None = None) -> None:
    """Write CoNLL columns: ``token<TAB>tag`` lines (``token`` alone without tags), each
    sentence followed by a blank line, ``\\n`` line ends, UTF-8.

    Raises:
        ValueError: an empty sentence, tokens and tags of different lengths, or a token or tag
            that is empty or holds whitespace.
    """
    _check(tokens, tags, "")
    with _open(path_or_file) as f:
        for i, sentence in enumerate(tokens):
            rows = sentence if tags is None else \
                [f"{t}\t{g}" for t, g in zip(sentence, tags[i], strict=True)]
            f.write("\n".join(rows) + "\n\n")


def write_slash(path_or_file: str | os.PathLike | IO[str], tokens: Sequence[Sequence[str]],
                tags: Sequence[Sequence[str]] | None = None) -> None:
    """Write ``word/TAG`` sentences, one a line (the words alone without tags), ``\\n`` line
    ends, UTF-8.

    Raises:
        ValueError: as :func:`write_conll`; also a tag holding ``/``, or (without tags) a
            token holding ``/`` (it would read back as tagged).
    """
    _check(tokens, tags, "/")
    if tags is None and any("/" in t for sentence in tokens for t in sentence):
        raise ValueError("a token holds '/': without tags it would read back as word/TAG")
    with _open(path_or_file) as f:
        for i, sentence in enumerate(tokens):
            words = sentence if tags is None else \
                [f"{t}/{g}" for t, g in zip(sentence, tags[i], strict=True)]
            f.write(" ".join(words) + "\n")
