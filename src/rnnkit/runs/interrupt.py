"""Ctrl-C during a run: Lightning's handling turned into an error that says how to resume."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import lightning.pytorch as pl

from rnnkit.runs.trainer import CHECKPOINT_DIR

__all__ = ["RunInterrupted", "interruptible"]


class RunInterrupted(RuntimeError):
    """Training was interrupted (Ctrl-C); ``run_dir`` can be resumed."""

    def __init__(self, run_dir: Path, what: str = "training interrupted") -> None:
        if (run_dir / CHECKPOINT_DIR / "last.ckpt").is_file():
            message = f"{what}; continue it with: rnnkit train --resume {run_dir}"
        else:
            message = (f"{what} before its first check, so there is nothing to resume; the "
                       f"same command starts it again in {run_dir}")
        super().__init__(message)
        self.run_dir = run_dir


@contextlib.contextmanager
def interruptible(trainer: pl.Trainer, run_dir: Path | None) -> Iterator[None]:
    """Turn Lightning's Ctrl-C handling (it ends with ``sys.exit(1)`` and leaves SIGINT
    ignored) into :class:`RunInterrupted` (or KeyboardInterrupt) with SIGINT restored."""
    main = threading.current_thread() is threading.main_thread()
    handler = signal.getsignal(signal.SIGINT) if main else None
    try:
        yield
    except SystemExit:
        if not trainer.interrupted:
            raise
        if run_dir is None:
            raise KeyboardInterrupt from None
        raise RunInterrupted(run_dir) from None
    except RuntimeError as err:  # gloo/NCCL: a process of a multi-process run went away
        if trainer.world_size < 2 or run_dir is None or not _peer_lost(err):
            raise
        raise RunInterrupted(run_dir, "another process of this run stopped (interrupted, or "
                             "see its own message)") from None
    finally:
        if main and handler is not None and signal.getsignal(signal.SIGINT) is not handler:
            signal.signal(signal.SIGINT, handler)


def _peer_lost(err: RuntimeError) -> bool:
    """Whether ``err`` says the connection to another process of the run broke."""
    import torch.distributed

    text = str(err)
    return isinstance(err, getattr(torch.distributed, "DistBackendError", ())) or any(
        part in text for part in ("closed by peer", "reset by peer", "Broken pipe",
                                  "Connection refused"))
