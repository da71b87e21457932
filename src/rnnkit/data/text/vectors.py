"""Pretrained word vectors in the word2vec/GloVe text format: ``token v1 v2 ... vE`` per line
(a first line ``count width``, as word2vec writes it, is skipped)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch

from rnnkit.data.text.readers import TextFileError

__all__ = ["read_vectors", "vector_width"]


def _fields(line: str) -> list[str]:
    return line.rstrip().split(" ")


def vector_width(path: str | os.PathLike) -> int:
    """E, the numbers per token in the vectors file."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, start=1):
            parts = _fields(line)
            if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                return int(parts[1])  # the word2vec header: count width
            if len(parts) > 1:
                return len(parts) - 1
    raise TextFileError(f"{os.fspath(path)}: no vectors (expected 'token v1 v2 ...' lines)")


def read_vectors(path: str | os.PathLike, vocabulary: Sequence[str],
                 width: int) -> tuple[torch.Tensor, list[int]]:
    """``(vectors (V, E), ids of the vocabulary tokens the file holds)``; rows of tokens it
    does not hold are zero. The file is read line by line (vector files run to gigabytes).

    Raises:
        TextFileError: a line with another number of values than ``width``, a value that is
            not a number, or a byte that is not UTF-8; the message names the file and line.
    """
    index = {t: i for i, t in enumerate(vocabulary)}
    vectors = torch.zeros(len(vocabulary), width)
    found: list[int] = []
    name = os.fspath(path)
    number = 0
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                parts = _fields(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise TextFileError(f"{name}, line {number}: expected UTF-8 text") from None
            if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue  # the word2vec header
            if len(parts) < 2:
                continue
            if len(parts) - 1 != width:
                raise TextFileError(f"{name}, line {number}: {len(parts) - 1} values, expected "
                                    f"{width} (the width of its first vector)")
            i = index.get(parts[0])
            if i is None or i < 2:  # not in the vocabulary, or <pad>/<unk>
                continue
            try:
                vectors[i] = torch.tensor([float(v) for v in parts[1:]])
            except ValueError:
                raise TextFileError(f"{name}, line {number}: a value is not a number") from None
            found.append(i)
    return vectors, found
