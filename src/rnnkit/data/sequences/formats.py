"""The sequence file formats, and :func:`read_sequences`, which reads a file in its format.

Every format is a :class:`FileFormat`: a name (``format=`` of :func:`read_sequences`,
``data.format`` in a run's config), the file extensions that select it when no format is named,
its reader, and the options it passes that reader by default:

============  ===========  =====================================================================
name          extension    reader
============  ===========  =====================================================================
``ts``        ``.ts``      :func:`~rnnkit.data.sequences.ts.read_ts` (UEA/UCR)
``npz``       ``.npz``     :func:`~rnnkit.data.sequences.npz.read_npz`
``csv``       ``.csv``     :func:`~rnnkit.data.sequences.tabular.read_csv`: long form if an id
                           column is named or found, else wide form
``csv-long``               :func:`~rnnkit.data.sequences.tabular.read_csv_long`
``csv-wide``               :func:`~rnnkit.data.sequences.tabular.read_csv_wide`
``tsv``       ``.tsv``     :func:`~rnnkit.data.sequences.tabular.read_csv_wide` with
                           ``delimiter="\\t"``: wide, label first (the UCR 2018 layout)
============  ===========  =====================================================================

This module imports the readers; the readers import neither it nor each other.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rnnkit.data.sequences.dataset import SequenceDataset
from rnnkit.data.sequences.npz import read_npz
from rnnkit.data.sequences.tabular import read_csv, read_csv_long, read_csv_wide
from rnnkit.data.sequences.ts import read_ts

__all__ = ["FORMATS", "FileFormat", "file_format", "read_sequences"]


@dataclass(frozen=True)
class FileFormat:
    """A sequence file format: what names it, what selects it, what reads it.

    Args:
        name: the format's name, lower case (``format=``, ``data.format``).
        reader: ``reader(path, **options) -> SequenceDataset``.
        extensions: file extensions, lower case with the dot (``".csv"``), that select this
            format when none is named; may be empty (the format is then only chosen by name).
        options: keyword arguments passed to ``reader`` unless the caller gives them.
    """

    name: str
    reader: Callable[..., SequenceDataset]
    extensions: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))

    def read(self, path: str | os.PathLike, **options: Any) -> SequenceDataset:
        """``reader(path, **{**self.options, **options})``."""
        return self.reader(path, **{**self.options, **options})


_BY_NAME: dict[str, FileFormat] = {f.name: f for f in (
    FileFormat("ts", read_ts, (".ts",)),
    FileFormat("npz", read_npz, (".npz",)),
    FileFormat("csv", read_csv, (".csv",)),
    FileFormat("csv-long", read_csv_long),
    FileFormat("csv-wide", read_csv_wide),
    FileFormat("tsv", read_csv_wide, (".tsv",), {"delimiter": "\t"}),
)}
_BY_EXTENSION = {ext: f for f in _BY_NAME.values() for ext in f.extensions}

FORMATS: tuple[str, ...] = tuple(_BY_NAME)  # the format names, for format= and data.format


def file_format(path: str | os.PathLike, format: str | None = None) -> FileFormat:
    """The format to read ``path`` in: the one named ``format`` (any case), else the one its
    extension selects (any case).

    Raises:
        ValueError: ``format`` is not one of :data:`FORMATS`, or it is ``None`` and the
            extension selects no format.
    """
    if format is not None:
        found = _BY_NAME.get(format.lower())
        if found is None:
            raise ValueError(f"unknown format {format!r}; pass format= one of {FORMATS}")
        return found
    found = _BY_EXTENSION.get(Path(path).suffix.lower())
    if found is None:
        raise ValueError(
            f"cannot tell the format of {os.fspath(path)!r} from its extension; pass format= "
            f"one of {FORMATS}"
        )
    return found


def read_sequences(path: str | Path, format: str | None = None, **options: Any) -> SequenceDataset:
    """Read labelled sequences from a file, choosing the reader by extension or ``format``.

    Args:
        path: a ``.ts`` (UEA/UCR), ``.csv``/``.tsv`` or ``.npz`` file.
        format: one of ``ts``, ``npz``, ``csv`` (long form if an id column is named or found,
            else wide form), ``csv-long``, ``csv-wide``, ``tsv`` (wide, tab-separated, label
            first: the UCR 2018 layout). Default: from the extension (see
            :mod:`rnnkit.data.sequences.formats`).
        **options: passed to the reader (:func:`~rnnkit.data.sequences.ts.read_ts`,
            :func:`~rnnkit.data.sequences.tabular.read_csv`,
            :func:`~rnnkit.data.sequences.npz.read_npz`), e.g. ``task``, ``class_names``,
            ``id_col``, ``label_col``, ``labels`` (``"auto"``, ``"sequence"`` or ``"step"``:
            one label per sequence or one per step, the latter from a long CSV or an NPZ
            ``y (N, L)`` only).

    Returns:
        A :class:`~rnnkit.data.sequences.SequenceDataset`; its ``ids`` are the file's sequence
        ids (long CSV, NPZ ``ids``) or ``None``.

    Raises:
        ValueError: the format is unknown or cannot be told from the extension.
        SequenceFileError: the file does not hold sequences in that format.
    """
    return file_format(path, format).read(path, **options)
