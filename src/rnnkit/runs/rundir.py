"""Run directories: where a new run may write, how a run directory is recognised.

rnnkit writes a run only into a directory that does not exist yet or is empty, and continues
(``--resume``) only a directory that holds an rnnkit run, so it never writes over a file it did
not create. Everything inside a run directory refers to it by relative paths, so it can be
moved or copied and still be evaluated and resumed.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from datetime import datetime
from pathlib import Path

__all__ = [
    "MARKER",
    "RUN_FILES",
    "RunError",
    "check_new_run_dir",
    "claim_run_dir",
    "default_run_dir",
    "is_run_dir",
    "lock_run_dir",
]

MARKER = ".rnnkit-run"  # written first, exclusively: this directory is an rnnkit run's
# What rnnkit writes into a run directory.
RUN_FILES = (MARKER, "config.yaml", "checkpoints", "metrics.csv", "plots", "test_metrics.json",
             "tensorboard")


class RunError(ValueError):
    """A run cannot start or continue as asked (the message says why and what to do)."""


def default_run_dir(name: str, root: str | Path = "runs") -> Path:
    """``runs/<name>-<YYYYmmdd-HHMMSS>``, with ``-2``, ``-3``, ... if that exists already."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{name}-{stamp}"
    path, i = base, 1
    while path.exists():
        i += 1
        path = base.with_name(f"{base.name}-{i}")
    return path


def is_run_dir(path: str | Path) -> bool:
    """Whether ``path`` holds an rnnkit run: a ``config.yaml`` and ``checkpoints/last.ckpt``."""
    path = Path(path)
    return (path / "config.yaml").is_file() and (path / "checkpoints/last.ckpt").is_file()


def check_new_run_dir(path: str | Path) -> None:
    """Raise :class:`RunError` unless a new run may be written into ``path``.

    Allowed: a path that does not exist, or an empty directory. A directory holding a run is
    refused with the command that resumes it; any other existing file or directory is refused
    so that nothing rnnkit did not create is written over.
    """
    path = Path(path)
    if not path.exists():
        return
    if not path.is_dir():
        raise RunError(f"the run directory {path} is a file; choose another --out")
    if _aborted_run(path):
        return  # a run of ours that ended before its first checkpoint: nothing to keep
    if is_run_dir(path):
        raise RunError(f"{path} already holds a run; continue it with `rnnkit train --resume "
                       f"{path}` or choose another --out")
    entries = sorted(p.name for p in path.iterdir())
    if entries:
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise RunError(f"{path} is not empty ({shown}) and holds no rnnkit run; rnnkit writes a "
                       "new run only into a new or empty directory: choose another --out")


def _aborted_run(path: Path) -> bool:
    """An rnnkit run directory (marker present) that holds only rnnkit's files and no
    ``last.ckpt``: a run stopped before (or during) its first check, which cannot be resumed."""
    names = {p.name for p in path.iterdir()}
    resumable = (path / "checkpoints/last.ckpt").is_file()
    return MARKER in names and names <= set(RUN_FILES) and not resumable


def claim_run_dir(path: Path, *, default: bool) -> tuple[Path, int]:
    """Create the run directory, take its lock; return the directory and the lock's file
    descriptor (close it when the run ends; the lock also ends with the process).

    Two runs started at once never share a directory: the second finds the lock held. For a
    default (timestamped) name it moves on to ``-2``, ``-3``, ...; for a directory the user
    named, it is an error. A run of ours that ended before its first checkpoint is cleared.
    """
    base, i = path, 1
    while True:
        path.mkdir(parents=True, exist_ok=True)
        try:
            fd = lock_run_dir(path)
        except RunError:
            if not default:
                raise
        else:
            try:
                if _aborted_run(path):
                    for name in RUN_FILES[1:]:
                        target = path / name
                        if target.is_dir():
                            shutil.rmtree(target)
                        elif target.exists():
                            target.unlink()
                empty = not any(p.name != MARKER for p in path.iterdir())
            except BaseException:
                os.close(fd)
                raise
            if empty:
                return path, fd
            os.close(fd)  # filled by another run between the check and now
            if not default:
                check_new_run_dir(path)
        i += 1
        path = base.with_name(f"{base.name}-{i}")


def lock_run_dir(path: Path) -> int:
    """Take the exclusive lock on ``path``'s marker file (creating it); return its descriptor.

    Raises:
        RunError: another process holds it (a run is writing into ``path``).
    """
    fd = os.open(path / MARKER, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise RunError(f"{path} is being written by another run; wait for it or choose another "
                       "--out") from None
    return fd
