"""rnnkit.tasks: LightningModules, the Trainer factory, run directories and their plots."""

from rnnkit.tasks.callbacks import EpochSeed, FiniteLossGuard, NonFiniteLossError
from rnnkit.tasks.checkpoint import (
    AtomicCheckpointIO,
    CheckpointError,
    find_checkpoint,
    read_checkpoint,
)
from rnnkit.tasks.classify import ClassificationTask, unpack_batch
from rnnkit.tasks.files import SequencePredictions
from rnnkit.tasks.inference import EvalResult, Prediction, evaluate, predict, predict_file
from rnnkit.tasks.regress import RegressionTask
from rnnkit.tasks.run import (
    RunError,
    RunInterrupted,
    TrainResult,
    make_datamodule,
    resume_config,
    train,
)
from rnnkit.tasks.trainer import make_trainer

__all__ = [
    "AtomicCheckpointIO",
    "CheckpointError",
    "ClassificationTask",
    "EpochSeed",
    "EvalResult",
    "FiniteLossGuard",
    "NonFiniteLossError",
    "Prediction",
    "RegressionTask",
    "RunError",
    "RunInterrupted",
    "SequencePredictions",
    "TrainResult",
    "evaluate",
    "find_checkpoint",
    "make_datamodule",
    "make_trainer",
    "predict",
    "predict_file",
    "read_checkpoint",
    "resume_config",
    "train",
    "unpack_batch",
]
