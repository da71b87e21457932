"""rnnkit.models: heads on top of recurrent layers."""

from rnnkit.models.classifier import CELLS, SequenceClassifier
from rnnkit.models.head import Head
from rnnkit.models.summary import (
    SUMMARIES,
    AttentionPool,
    LastStep,
    MaxPool,
    MeanPool,
    make_summary,
)

__all__ = [
    "CELLS",
    "SUMMARIES",
    "AttentionPool",
    "Head",
    "LastStep",
    "MaxPool",
    "MeanPool",
    "SequenceClassifier",
    "make_summary",
]
