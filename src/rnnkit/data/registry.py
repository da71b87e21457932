"""The data sources: one package per source under rnnkit.data, one entry here.

Each package has a light ``config`` module (its ``data:`` section, ``CONFIG``, and the defaults
it lays under a run's config, ``defaults(family)``) and a ``source`` module with ``SOURCE``, the
:class:`~rnnkit.data.source.DataSource` that builds its data module (Lightning is imported only
there).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from rnnkit.registry import entry_module

__all__ = ["FILE_SOURCES", "SOURCES", "TASK_SOURCES", "detect_source", "get_source",
           "source_config"]

SOURCES: dict[str, str] = {
    "mnist": "rnnkit.data.mnist",
    "files": "rnnkit.data.sequences",
    "text": "rnnkit.data.text",
    "corpus": "rnnkit.data.corpus",
    "tagged": "rnnkit.data.tagged",
    "pairs": "rnnkit.data.pairs",
    "series": "rnnkit.data.series",
}


# The sources ``rnnkit train --train PATH`` chooses among, the most particular first: each
# one's config module has ``claims(path) -> bool``.
FILE_SOURCES = ("pairs", "tagged", "text", "files")

# The sources a task reads whatever the file looks like.
TASK_SOURCES = {"seq2seq": "pairs"}


def detect_source(path: str, task: str | None = None) -> str:
    """The source that reads ``path`` (a file or a directory) for ``task`` (a family name,
    ``auto`` or None): the task's own source when it has one (:data:`TASK_SOURCES`:
    ``seq2seq`` reads ``pairs``); else the first in :data:`FILE_SOURCES` that claims it;
    ``files`` when none does (its reader names what it expected)."""
    if task in TASK_SOURCES:
        return TASK_SOURCES[task]
    for name in FILE_SOURCES:
        if source_config(name).claims(path):
            return name
    return "files"


def _module(name: str, part: str) -> ModuleType:
    return entry_module(SOURCES, name, part, "data.name")


def source_config(name: str) -> ModuleType:
    """The ``config`` module of source ``name`` (``CONFIG``, ``defaults``, ``DEFAULT_FAMILY``)."""
    return _module(name, "config")


def get_source(name: str) -> Any:
    """The :class:`~rnnkit.data.source.DataSource` of source ``name``."""
    return _module(name, "source").SOURCE
