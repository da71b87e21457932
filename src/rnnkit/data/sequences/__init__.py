"""The user's own labelled sequences: ``.ts``, CSV (long and wide) and NPZ readers, the
dataset, the standardizer and the data module.

Modules: :mod:`~rnnkit.data.sequences.dataset` (the container), ``standardizer`` (the
missing-value rule and standardisation), ``formats`` (the formats and :func:`read_sequences`),
the readers ``ts`` (with ``ts_header``), ``tabular`` and ``npz``, and their helpers ``errors``,
``labels`` and ``text``. ``datamodule`` (Lightning) is not imported here.
"""

from rnnkit.data.sequences.dataset import SequenceDataset
from rnnkit.data.sequences.errors import SequenceFileError
from rnnkit.data.sequences.formats import FORMATS, FileFormat, file_format, read_sequences
from rnnkit.data.sequences.labels import Task
from rnnkit.data.sequences.standardizer import Standardizer, forward_fill
from rnnkit.data.sequences.text import text_lines

__all__ = [
    "FORMATS",
    "FileFormat",
    "SequenceDataset",
    "SequenceFileError",
    "Standardizer",
    "Task",
    "file_format",
    "forward_fill",
    "read_sequences",
    "text_lines",
]
