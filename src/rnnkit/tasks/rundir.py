"""Run directories: where a new run may write, how a run directory is recognised.

rnnkit writes a run only into a directory that does not exist yet or is empty, and continues
(``--resume``) only a directory that holds an rnnkit run, so it never writes over a file it did
not create. Everything inside a run directory refers to it by relative paths, so it can be
moved or copied and still be evaluated and resumed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

__all__ = ["RUN_FILES", "RunError", "check_new_run_dir", "default_run_dir", "is_run_dir"]

# What rnnkit writes into a run directory.
RUN_FILES = ("config.yaml", "checkpoints", "metrics.csv", "plots", "test_metrics.json",
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
    """Whether ``path`` holds an rnnkit run: a ``config.yaml`` and a ``checkpoints/`` folder."""
    path = Path(path)
    return (path / "config.yaml").is_file() and (path / "checkpoints").is_dir()


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
    if is_run_dir(path):
        raise RunError(f"{path} already holds a run; continue it with `rnnkit train --resume "
                       f"{path}` or choose another --out")
    entries = sorted(p.name for p in path.iterdir())
    if entries:
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise RunError(f"{path} is not empty ({shown}) and holds no rnnkit run; rnnkit writes a "
                       "new run only into a new or empty directory: choose another --out")
