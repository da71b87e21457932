"""Predict with a trained run: images, a data file or texts, whatever its source reads."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnkit.config import Override
from rnnkit.data.registry import get_source
from rnnkit.data.source import PredictInputs
from rnnkit.data.spreadsheet import spreadsheet_safe
from rnnkit.runs.evaluate import load_run
from rnnkit.runs.trainer import cpu_threads

__all__ = ["Predictions", "predict"]


@dataclass
class Predictions:
    """One row per example, in input order.

    Attributes:
        columns: name -> one value per example: first what the example is (``index``, ``id``,
            ``image`` or ``text``), then the family's (classify: ``predicted``,
            ``probability``, one ``prob_<class>`` per class; regress: ``predicted``), then the
            label the input held (``label`` or ``target``), if any.
        notes: what reading the inputs noticed (unknown tokens, truncated texts).
        text: the predictions written in the inputs' own layout (tagged sentences with the
            predicted tags), or None: they are written as CSV.
    """

    columns: dict[str, list[Any]]
    notes: list[str] = field(default_factory=list)
    text: str | None = None

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()), []))

    def rows(self) -> Iterator[list[Any]]:
        return (list(row) for row in zip(*self.columns.values(), strict=True))

    def to_csv(self, path: str | os.PathLike | None = None) -> str:
        """The predictions as CSV (written to ``path`` when given). Probabilities have six
        decimals, other numbers nine significant digits; a text cell a spreadsheet would run
        as a formula gets a leading ``'`` (see
        :func:`~rnnkit.data.spreadsheet.spreadsheet_safe`)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        names = list(self.columns)
        writer.writerow([spreadsheet_safe(n) for n in names])
        for row in self.rows():
            writer.writerow([_cell(name, value) for name, value in zip(names, row, strict=True)])
        text = buffer.getvalue()
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def _cell(name: str, value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.6f}" if name == "probability" or name.startswith("prob_") \
            else f"{value:.9g}"
    return spreadsheet_safe(value)


def predict(
    target: str | os.PathLike, inputs: PredictInputs, *, overrides: Iterable[Override] = (),
) -> Predictions:
    """Predict ``inputs`` with a run's best checkpoint (or a given ``.ckpt``).

    The inputs are read as the training data were (standardizer, tokenizer, vocabulary, view:
    all from the checkpoint); a source refuses inputs it does not read (``--text`` for an MNIST
    model). ``overrides`` may change what :func:`~rnnkit.runs.evaluate.eval_keys` allows, e.g.
    a CSV read option.
    """
    run = load_run(target, overrides, command="predict")
    config = run.config
    dm = get_source(config.data.name).datamodule(
        config.data, seed=config.trainer.seed, family=run.family.name, purpose="predict",
        state=run.info.state, predict=inputs)
    dm.setup("predict")
    data = dm.predict_data()
    with cpu_threads(config):
        outputs = run.family.predict(run.task, data.loader)
    return Predictions({**data.keys, **outputs, **data.labels}, data.notes,
                       run.family.render(run.task, outputs, data))
