"""rnnkit.models: the shared blocks every family builds from — the sequence encoder (input
layer + recurrent stack), front ends, summaries, heads — and the many-to-one classifier."""

from rnnkit.models.classifier import CELLS, SequenceClassifier
from rnnkit.models.encoder import SequenceEncoder
from rnnkit.models.frontend import ConvFrontend, auto_patch, patch_steps
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
    "ConvFrontend",
    "Head",
    "LastStep",
    "MaxPool",
    "MeanPool",
    "SequenceClassifier",
    "SequenceEncoder",
    "auto_patch",
    "make_summary",
    "patch_steps",
]
