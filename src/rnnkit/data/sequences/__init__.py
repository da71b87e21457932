"""The user's own labelled sequences: ``.ts``, CSV (long and wide) and NPZ readers, the
dataset, the standardizer and the data module."""

from rnnkit.data.sequences.dataset import (
    FORMATS,
    SequenceDataset,
    SequenceFileError,
    Standardizer,
    Task,
    forward_fill,
    read_sequences,
    text_lines,
)

__all__ = [
    "FORMATS",
    "SequenceDataset",
    "SequenceFileError",
    "Standardizer",
    "Task",
    "forward_fill",
    "read_sequences",
    "text_lines",
]
