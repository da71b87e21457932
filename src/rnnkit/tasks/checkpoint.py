"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)`` only.

A checkpoint is Lightning's ``.ckpt``: the model ``state_dict``, optimizer and scheduler states,
loop counters and callback states, plus ``hyper_parameters``, which hold the run's config as a
plain dict. Everything in it is a tensor or a plain Python value, so it loads without
unpickling arbitrary objects.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

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
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(checkpoint, f)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private (0600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load_checkpoint(
        self, path: str | os.PathLike, map_location: Any = None, weights_only: bool | None = None
    ) -> dict[str, Any]:
        return read_checkpoint(path, map_location=map_location)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """Load a checkpoint file with ``torch.load(weights_only=True)``.

    Raises:
        CheckpointError: the file is missing, corrupt, or holds more than tensors and plain
            values (a pickled object).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises UnpicklingError, RuntimeError, EOFError, ...
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"cannot load {path} as a weights-only checkpoint: {first}"
        ) from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise CheckpointError(f"{path} is not a Lightning checkpoint (no state_dict)")
    return checkpoint


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
