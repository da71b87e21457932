"""A token stream on disk, and the windows of it a language model trains on.

The stream of T token ids is cut into N contiguous columns of S = T // N tokens (the remainder
is dropped), as in PyTorch's word_language_model example (``batchify``). Batch i holds window
i of every column: row j covers tokens ``[j*S + off + i*W, j*S + off + (i+1)*W]`` (W + 1
tokens; x the first W, y the last W). Batch i + 1 continues batch i in every row, so a hidden
state carried from batch to batch is exact truncated backpropagation through time. The last,
partial window of a column is dropped.

A pass over a long text is many batches; a training epoch may be one of C equal, consecutive
chunks of a pass (:class:`WindowSampler` ``epoch_windows``): epoch e reads chunk ``e % C`` of
pass ``e // C``, whose offset is drawn once per pass, so chunk c + 1 continues chunk c.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

__all__ = ["TokenFile", "WindowDataset", "WindowSampler", "token_dtype", "window_loader"]


def token_dtype(vocab_size: int) -> np.dtype:
    """The integer type of a stream's ids: uint16 below 65,536 tokens, else uint32."""
    return np.dtype(np.uint16 if vocab_size < 1 << 16 else np.uint32)


@dataclass(frozen=True)
class TokenFile:
    """A file of ``count`` token ids of type ``dtype`` (``.bin``, nanoGPT's layout), of which
    ``unknown`` are ``<unk>`` (tokens not in the vocabulary)."""

    path: Path
    dtype: str
    count: int
    unknown: int = 0

    def array(self) -> np.ndarray:
        """The ids, (T,), memory-mapped read-only (an empty array for an empty file)."""
        if self.count == 0:
            return np.empty(0, dtype=self.dtype)
        return np.memmap(self.path, dtype=self.dtype, mode="r", shape=(self.count,))


class WindowDataset(Dataset):
    """The batches of a token stream read as N parallel columns (see the module docstring).

    Args:
        tokens: (T,) token ids: an array, or a whole ``np.memmap`` (it is reopened, not
            copied, in DataLoader worker processes).
        batch_size: N, the columns (parallel streams).
        bptt: W, the steps per window.

    Inputs:
        start: a window's first token within every column, ``0 <= start <= S - 2``.

    Outputs:
        ``(x (N, W') int64, y (N, W') int64)``: ``y`` is ``x`` one token later; ``W' = W``,
        or fewer for a window that starts within W tokens of a column's end.

    Attributes:
        column_length: S = T // N, the tokens of each column.
    """

    def __init__(self, tokens: np.ndarray, batch_size: int, bptt: int) -> None:
        if tokens.ndim != 1:
            raise ValueError(f"tokens must be 1-D, found shape {tokens.shape}")
        if batch_size < 1 or bptt < 1:
            raise ValueError(f"batch_size and bptt must be >= 1, found {batch_size} and {bptt}")
        self.tokens, self.batch_size, self.bptt = tokens, int(batch_size), int(bptt)
        self.column_length = len(tokens) // self.batch_size
        if self.column_length < self.bptt + 1:
            raise ValueError(f"{len(tokens)} tokens in {batch_size} columns of "
                             f"{self.column_length}: a window needs bptt + 1 = {bptt + 1}")

    def __getitem__(self, start: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= start <= self.column_length - 2:
            raise IndexError(f"a window starts in [0, {self.column_length - 2}], found {start}")
        width = min(self.bptt, self.column_length - 1 - start)  # the last one may be shorter
        first = np.arange(self.batch_size) * self.column_length + start  # (N,)
        rows = np.stack([self.tokens[i : i + width + 1] for i in first])  # (N, W + 1)
        rows = torch.from_numpy(rows.astype(np.int64))
        return rows[:, :-1].contiguous(), rows[:, 1:].contiguous()  # (N, W), (N, W)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if isinstance(self.tokens, np.memmap):  # a worker reopens the file
            state["tokens"] = (self.tokens.filename, self.tokens.dtype.str, len(self.tokens))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state["tokens"], tuple):
            path, dtype, count = state["tokens"]
            state["tokens"] = np.memmap(path, dtype=dtype, mode="r", shape=(count,))
        self.__dict__.update(state)


class WindowSampler(Sampler[int]):
    """The start of each window of an epoch, in order: ``off, off + W, off + 2W, ...``.

    Args:
        column_length: S, the tokens of each column.
        bptt: W, the steps per window.
        random_offset: draw ``off`` for each pass from ``(seed, pass)``, in [0, W) (when a
            column holds fewer than 2W tokens, in [0, S - 1 - W]); else ``off`` is 0.
        seed: the seed of the offsets.
        cover: read every token: the last window holds the rest of each column (fewer than
            W tokens); for validation and test (no random offset, no chunks).
        epoch_windows: at most this many windows an epoch (None: a whole pass). A pass of P
            windows is then cut into ``C = ceil(P / epoch_windows)`` chunks of ``P // C``
            windows (the last ``P % C`` windows of a pass are dropped); epoch e reads chunk
            ``e % C`` of pass ``e // C``, and chunk c + 1 starts where chunk c stopped.

    ``len()`` is the same every epoch: a pass holds ``(S - 1) // W`` windows at offset 0; with
    random offsets ``(S - W) // W`` (at least 1), so that every offset leaves room for all of
    them; a chunk ``P // C``. Lightning calls :meth:`set_epoch` at the start of every epoch
    (an iterator made before it reads the epoch set last).

    Attributes:
        pass_windows: P, the windows of a pass.
        chunks: C, the epochs of a pass.
        windows: the windows of an epoch, ``P // C``.

    Example:
        >>> sampler = WindowSampler(1001, 10, epoch_windows=40)  # 100 windows: 3 chunks of 33
        >>> sampler.set_epoch(1)
        >>> len(sampler), list(sampler)[:2]
        (33, [330, 340])
    """

    def __init__(self, column_length: int, bptt: int, *, random_offset: bool = False,
                 seed: int = 0, epoch_windows: int | None = None, cover: bool = False) -> None:
        if column_length < bptt + 1:
            raise ValueError(f"a column of {column_length} tokens holds no window of bptt + 1 "
                             f"= {bptt + 1}")
        if epoch_windows is not None and epoch_windows < 1:
            raise ValueError(f"epoch_windows must be >= 1, found {epoch_windows}")
        self.column_length, self.bptt = int(column_length), int(bptt)
        self.random_offset, self.seed, self.epoch = bool(random_offset), int(seed), 0
        S, W = self.column_length, self.bptt
        if cover and (random_offset or epoch_windows is not None):
            raise ValueError("cover reads every window once: no random offset, no chunks")
        self.pass_windows = max(1, (S - W) // W) if random_offset else \
            -(-(S - 1) // W) if cover else (S - 1) // W
        self.max_offset = min(W - 1, S - 1 - self.pass_windows * W) if random_offset else 0
        most = self.pass_windows if epoch_windows is None else int(epoch_windows)
        self.chunks = -(-self.pass_windows // most)  # ceil
        self.windows = self.pass_windows // self.chunks

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    @property
    def offset(self) -> int:
        """This epoch's pass's ``off``."""
        if not self.max_offset:
            return 0
        rng = np.random.default_rng([self.seed, self.epoch // self.chunks])
        return int(rng.integers(self.max_offset + 1))

    def __iter__(self) -> Iterator[int]:
        # A generator: the epoch is read at the first window, not at iter(). Lightning creates
        # the loader's iterator before it calls set_epoch when a run resumes.
        first = self.offset + (self.epoch % self.chunks) * self.windows * self.bptt
        yield from range(first, first + self.windows * self.bptt, self.bptt)

    def __len__(self) -> int:
        return self.windows


def window_loader(tokens: np.ndarray, batch_size: int, bptt: int, *,
                  random_offset: bool = False, seed: int = 0, epoch_windows: int | None = None,
                  cover: bool = False, num_workers: int = 0) -> DataLoader:
    """A DataLoader of the batches ``(x (N, W), y (N, W))`` of ``tokens`` in N columns, in
    order (:class:`WindowDataset`, :class:`WindowSampler`)."""
    dataset = WindowDataset(tokens, batch_size, bptt)
    sampler = WindowSampler(dataset.column_length, bptt, random_offset=random_offset, seed=seed,
                            epoch_windows=epoch_windows, cover=cover)
    return DataLoader(dataset, batch_size=None, sampler=sampler, num_workers=num_workers,
                      persistent_workers=num_workers > 0)
