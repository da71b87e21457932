"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)`` only.

A checkpoint is Lightning's ``.ckpt``: the model ``state_dict``, optimizer and scheduler states,
loop counters and callback states, plus ``hyper_parameters``, which hold the run's config as a
plain dict. Everything in it is a tensor or a plain Python value, so it loads without
unpickling arbitrary objects.
"""

from __future__ import annotations

import os
import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from rnnkit.atomic import write_atomic

__all__ = [
    "AtomicCheckpointIO",
    "CheckpointError",
    "find_checkpoint",
    "read_checkpoint",
]


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, or not an rnnkit checkpoint."""


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoint I/O that never leaves a half-written file and loads weights only.

    Saving writes to a temporary file in the target directory, flushes it to disk and renames
    it over the target (``os.replace`` is atomic on one filesystem), so an interrupted save
    keeps the previous checkpoint. (Lightning's own save goes through a temporary file in the
    system temp directory, whose move into place is a copy when that is another filesystem.)
    Loading always passes ``weights_only=True`` to ``torch.load``.
    """

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options: Any = None
    ) -> None:
        if storage_options is not None:
            raise TypeError("AtomicCheckpointIO takes no storage_options")
        write_atomic(path, lambda f: torch.save(checkpoint, f))

    def load_checkpoint(
        self, path: str | os.PathLike, map_location: Any = None, weights_only: bool | None = None
    ) -> dict[str, Any]:
        return read_checkpoint(path, map_location=map_location)


def read_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """Load a checkpoint file with ``torch.load(weights_only=True)``.

    Raises:
        CheckpointError: the file is missing, not a checkpoint, truncated, or holds Python
            objects beyond tensors and plain values (which are never unpickled); the message
            says which.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    with path.open("rb") as f:
        head = f.read(4)
    if head[:2] != b"PK" and head[:1] != b"\x80":  # torch.save writes a zip (or a legacy pickle)
        raise CheckpointError(
            f"{path} is not a checkpoint: expected a file written by torch.save (a zip archive), "
            f"found {_describe_start(head)}"
        )
    try:
        with warnings.catch_warnings():  # torch's notes on odd pickle protocols of bad files
            warnings.simplefilter("ignore")
            checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if "GLOBAL" not in str(err):  # not a refused object: bytes that are no valid pickle
            raise CheckpointError(f"{path} is truncated or corrupt: it is not a valid torch "
                                  "file") from None
        raise CheckpointError(
            f"{path} holds Python objects that a checkpoint must not hold (rnnkit loads only "
            "tensors and plain values and refused to unpickle them); it was not written by "
            "rnnkit train"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as err:
        raise CheckpointError(
            f"{path} is truncated or corrupt: torch could not read it ({_first_line(err)})"
        ) from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise CheckpointError(
            f"{path} is not an rnnkit checkpoint: expected a Lightning checkpoint with a "
            f"state_dict, found {type(checkpoint).__name__}"
        )
    return checkpoint


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _describe_start(head: bytes) -> str:
    if not head:
        return "an empty file"
    if all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return "text"
    return f"bytes {head.hex(' ')}"


def find_checkpoint(target: str | os.PathLike, which: str = "best") -> Path:
    """The checkpoint named by ``target``: a ``.ckpt`` file, or a run directory.

    For a run directory, ``checkpoints/<which>.ckpt`` (``which`` is ``"best"`` or ``"last"``);
    ``best`` falls back to ``last`` when no best checkpoint was written.
    """
    target = Path(target)
    if target.is_file():
        return target
    if not target.exists():
        raise CheckpointError(f"no such run directory or checkpoint: {target}")
    folder = target / "checkpoints"
    names = [which] + (["last"] if which == "best" else [])
    for name in names:
        candidate = folder / f"{name}.ckpt"
        if candidate.is_file():
            return candidate
    raise CheckpointError(
        f"{target} holds no {' or '.join(n + '.ckpt' for n in names)} under checkpoints/; "
        "pass a run directory written by `rnnkit train` or a .ckpt file"
    )
