"""What every data source gives the run code: a data module that describes its data.

A source (``SOURCE`` in ``rnnkit.data.<source>.source``) builds a :class:`SourceDataModule` for
its config section. The run code trains, evaluates and predicts through these methods only, so
it never asks which source it has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import lightning as L

from rnnkit.config import DataSection
from rnnkit.data.info import DataInfo

__all__ = ["LABEL_TASKS", "DataSource", "PredictInputs", "PredictData", "SourceDataModule"]

# How a source reads labels for each family (a family not named here: from the labels).
LABEL_TASKS = {"classify": "classification", "regress": "regression"}


@dataclass(frozen=True)
class PredictInputs:
    """What to predict: files given by name (``rnnkit predict RUN FILE...``), one data file
    (``--data FILE``) or texts (``--text TEXT``)."""

    files: Sequence[str] = ()
    data: str | None = None
    texts: Sequence[str] = ()
    invert: bool | None = None  # images: invert them (None: those that look dark-on-light)

    def given(self) -> str:
        """The option used, for messages."""
        return "--data FILE" if self.data else "--text" if self.texts else "FILE arguments"


@dataclass
class PredictData:
    """The examples to predict: a loader in order, the columns that say which example each
    row is (``index``, ``id``, ``image``, ``text``, ``tokens``) and what label it holds, if any,
    and the layout they came in when predictions can be written back in it (``"conll"``,
    ``"slash"``, ``"text"``; empty: a CSV of predictions)."""

    loader: Any
    keys: dict[str, list[Any]]
    labels: dict[str, list[Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    format: str = ""


class SourceDataModule(L.LightningDataModule):
    """A LightningDataModule with what the run code asks of every source.

    After ``setup("fit")`` (training) or the source's own reading (evaluation, prediction):

    * :attr:`notes`: the automatic choices made while reading, and why, one sentence each;
    * :meth:`resolved`: the config values those choices fixed (``batch_size: auto`` -> 32);
    * :meth:`describe`: the :class:`~rnnkit.data.info.DataInfo` a family builds its model from;
    * :meth:`report_split`: the split the run reports its figures on;
    * :meth:`predict_data`: the examples given to ``predict``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.notes: list[str] = []

    def resolved(self) -> dict[str, Any]:
        return {}

    def describe(self) -> DataInfo:
        raise NotImplementedError

    def has_validation(self) -> bool:
        return True

    def report_split(self) -> tuple[str, Any, int]:
        """``(name, loader, examples)``: the test split, or (no test data) the validation
        split; raise ValueError when there is neither."""
        raise NotImplementedError

    def check_resume(self, state: Mapping[str, Any]) -> None:
        """Raise ValueError when the data a resumed run reads differ from its start's."""

    def predict_data(self) -> PredictData:
        raise NotImplementedError


class DataSource:
    """A source: its name, its config section and how it builds its data module.

    ``purpose`` is ``"train"``, ``"evaluate"`` (the test split, or the validation split
    rebuilt from ``state``) or ``"predict"`` (``predict`` only, read as ``state`` says).
    """

    name: ClassVar[str]

    def datamodule(
        self, config: DataSection, *, seed: int, family: str, purpose: str = "train",
        state: Mapping[str, Any] | None = None, predict: PredictInputs | None = None,
    ) -> SourceDataModule:
        raise NotImplementedError
