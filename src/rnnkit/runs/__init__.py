"""rnnkit.runs: one train / evaluate / predict / resume path for every family and source, the
Trainer factory, checkpoints, run directories and their plots."""

from rnnkit.runs.callbacks import EpochSeed, FiniteLossGuard, NonFiniteLossError
from rnnkit.runs.checkpoint import (
    AtomicCheckpointIO,
    CheckpointError,
    find_checkpoint,
    read_checkpoint,
)
from rnnkit.runs.evaluate import EvalResult, Loaded, evaluate, load_run
from rnnkit.runs.interrupt import RunInterrupted
from rnnkit.runs.predict import Predictions, predict
from rnnkit.runs.resume import resume_config
from rnnkit.runs.rundir import RunError
from rnnkit.runs.train import TrainResult, train
from rnnkit.runs.trainer import make_trainer

__all__ = [
    "AtomicCheckpointIO",
    "CheckpointError",
    "EpochSeed",
    "EvalResult",
    "FiniteLossGuard",
    "Loaded",
    "NonFiniteLossError",
    "Predictions",
    "RunError",
    "RunInterrupted",
    "TrainResult",
    "evaluate",
    "find_checkpoint",
    "load_run",
    "make_trainer",
    "predict",
    "read_checkpoint",
    "resume_config",
    "train",
]
