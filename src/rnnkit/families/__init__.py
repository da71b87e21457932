"""Task families: one package per input/output pattern, one entry here.

Each package has a light ``config`` module (``CONFIG``, its ``model:`` section) and a
``family`` module with ``FAMILY``, the :class:`~rnnkit.families.base.TaskFamily` that builds
its model and LightningModule from a :class:`~rnnkit.data.info.DataInfo`.

* ``classify``: many-to-one, a class per sequence.
* ``regress``: many-to-one, a number per sequence (classify's numeric-target variant).
* ``tag``: many-to-many, a label for every step (data.name=tagged).
* ``lm``: one-to-many, a language model of one long text (data.name=corpus), and generation.
* ``seq2seq``: sequence to sequence of another length, an encoder-decoder with attention
  (data.name=pairs), greedy and beam-search decoding.
* ``forecast``: windows of dated series (data.name=series): the next H values, with the
  naive, seasonal naive, drift and mean baselines beside it on the same windows.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from rnnkit.registry import entry_module

__all__ = ["FAMILIES", "family_config", "get_family"]

FAMILIES: dict[str, str] = {
    "classify": "rnnkit.families.classify",
    "regress": "rnnkit.families.regress",
    "lm": "rnnkit.families.lm",
    "tag": "rnnkit.families.tag",
    "seq2seq": "rnnkit.families.seq2seq",
    "forecast": "rnnkit.families.forecast",
}


def _module(name: str, part: str) -> ModuleType:
    return entry_module(FAMILIES, name, part, "task")


def family_config(name: str) -> ModuleType:
    """The ``config`` module of family ``name`` (``CONFIG``: its model section)."""
    return _module(name, "config")


def get_family(name: str) -> Any:
    """The :class:`~rnnkit.families.base.TaskFamily` named ``name``."""
    return _module(name, "family").FAMILY
