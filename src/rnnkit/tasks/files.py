"""The user's own sequence files as a run's data: data modules, predictions and their CSV.

``data.name: files`` in a config (``rnnkit train --train FILE``) trains on labelled sequences
read from ``.ts``, CSV or NPZ files (see docs/data-formats.md). The task follows the labels:
class labels give classification, numeric targets regression. A checkpoint carries what
prediction needs in ``hyper_parameters["data_state"]`` (task, class and feature names, the
standardizer's mean and std as plain lists), so new files are predicted from the checkpoint
alone.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnkit.config import ConfigError, DataConfig
from rnnkit.data.npy import read_npz_arrays
from rnnkit.data.sequences.datamodule import SequenceDataModule
from rnnkit.data.sequences.tabular import ID_NAMES, sniff_delimiter, spreadsheet_safe

__all__ = [
    "SequencePredictions",
    "files_datamodule",
    "predict_sequences",
    "sequence_ids",
]

def files_datamodule(
    data: DataConfig,
    seed: int,
    *,
    state: Mapping[str, Any] | None = None,
    need_train: bool = True,
    use_test: bool = True,
    test_path: str | os.PathLike | None = None,
    predict_path: str | os.PathLike | None = None,
) -> SequenceDataModule:
    """A :class:`SequenceDataModule` for ``data`` (``data.name == "files"``).

    Args:
        data: the data section of the run's config.
        seed: split, shuffle and bucketing seed (``trainer.seed``).
        state: a checkpoint's ``data_state``: its standardizer, task and names are used instead
            of statistics of the training file (evaluation and prediction).
        need_train: read ``data.train`` (training, or evaluating on its validation split);
            ``False`` works from ``state`` alone.
        use_test: read a test file (``False`` for prediction).
        test_path: the test file instead of ``data.test``.
        predict_path: a file to predict.
    """
    test = (data.test if test_path is None else test_path) if use_test else None
    files = {"data.test": test, "predict file": predict_path}
    if need_train:
        files.update({"data.train": data.train, "data.val": data.val})
    for key, value in files.items():
        if value is not None and not Path(value).is_file():
            raise ConfigError(f"{key}: no such file: {value}")
        if value is not None:
            data.read_options(value)  # options that do not fit the file's format
    dm = SequenceDataModule(
        data.train if need_train else None,
        test,
        val_fraction=data.val_fraction,
        batch_size=data.batch_size,
        seed=seed,
        num_workers=data.num_workers,
        bucket=data.bucket,
        val_path=data.val if need_train else None,
        predict_path=predict_path,
        normalize=str(data.normalize),
        **data.read_options(),
    )
    if state:  # before the training file: the checkpoint's split and statistics are used
        dm.load_state_dict(dict(state))
    if need_train:
        dm.setup("fit")
    return dm


def target_statistics(dm: SequenceDataModule) -> tuple[float, float]:
    """Mean and standard deviation (1 if constant) of the training split's regression targets."""
    y = np.asarray(dm.dataset("train").targets, dtype=np.float64)
    std = float(y.std())
    return float(y.mean()), std if std > 1e-12 * max(1.0, abs(float(y.mean()))) else 1.0


def sequence_ids(path: str | os.PathLike, data: DataConfig) -> list[str] | None:
    """The id of every sequence in a data file, in the reader's order, or ``None``.

    Long-form CSV files: the id column (``data.id_col`` or found by name), ids in order of first
    appearance (the order the reader gives the sequences). NPZ archives: an optional ``ids``
    array of shape (N,). Other files have no ids.
    """
    path = Path(path)
    fmt = data.file_format(path)
    if fmt == "npz":
        ids = read_npz_arrays(path, keys=("ids",)).get("ids")
        return None if ids is None else [str(i) for i in ids.reshape(-1)]
    if fmt not in ("csv", "csv-long"):
        return None
    delimiter = data.delimiter or sniff_delimiter(path)
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=delimiter)
        header = [c.strip() for c in next(reader, [])]
        if data.id_col is not None:
            column = header.index(data.id_col) if data.id_col in header else None
        else:
            column = next((i for i, c in enumerate(header) if c.lower() in ID_NAMES), None)
        if column is None:
            return None
        seen: dict[str, None] = {}
        for row in reader:
            if len(row) > column and row[column].strip():
                seen.setdefault(row[column].strip(), None)
    return list(seen)


@dataclass
class SequencePredictions:
    """Predictions for the sequences of one file, in file order.

    Attributes:
        path: the file.
        task: ``"classification"`` or ``"regression"``.
        predicted: per sequence, the predicted class name or the predicted value.
        probabilities: ``(N, C)`` class probabilities (classification), else ``None``.
        class_names: the C classes in column order (classification), else ``None``.
        ids: the sequence ids of the file (long CSV, NPZ ``ids``), else ``None``.
        targets: the labels or targets the file holds, else ``None``.
    """

    path: Path
    task: str
    predicted: list[Any]
    probabilities: torch.Tensor | None = None
    class_names: list[str] | None = None
    ids: list[str] | None = None
    targets: list[Any] | None = None

    def __len__(self) -> int:
        return len(self.predicted)

    def header(self) -> list[str]:
        cols = ["index"] + (["id"] if self.ids is not None else []) + ["predicted"]
        if self.targets is not None:
            cols.append("label" if self.task == "classification" else "target")
        if self.class_names is not None:
            cols += [f"prob_{name}" for name in self.class_names]
        return cols

    def rows(self) -> Iterator[list[Any]]:
        probs = None if self.probabilities is None else self.probabilities.tolist()
        for i, pred in enumerate(self.predicted):
            row: list[Any] = [i]
            if self.ids is not None:
                row.append(self.ids[i])
            row.append(pred if self.task == "classification" else f"{pred:.9g}")
            if self.targets is not None:
                t = self.targets[i]
                row.append(t if self.task == "classification" else f"{t:.9g}")
            if probs is not None:
                row += [f"{p:.6f}" for p in probs[i]]
            yield row

    def to_csv(self, path: str | os.PathLike | None = None) -> str:
        """Write the predictions as CSV to ``path`` (``None``: return the text only).

        Columns: ``index`` (0-based position in the file), ``id`` (when the file has ids),
        ``predicted`` (class name or value), ``label``/``target`` (when the file has them),
        then for classification one ``prob_<class>`` column per class. Text cells that a
        spreadsheet would run as a formula get a leading ``'`` (see
        :func:`~rnnkit.data.sequences.tabular.spreadsheet_safe`).
        """
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for row in (self.header(), *self.rows()):
            writer.writerow([spreadsheet_safe(cell) for cell in row])
        text = buffer.getvalue()
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def predict_sequences(
    task: torch.nn.Module, dm: SequenceDataModule, path: str | os.PathLike, data: DataConfig,
    *, batch_size: int = 256,
) -> SequencePredictions:
    """Run ``task`` (eval mode) on ``dm``'s predict split, read from ``path``.

    Sequences go through the model in batches of ``batch_size`` in file order, padded to the
    longest of each batch and passed with their lengths, so padding never reaches a prediction.
    """
    ds = dm.dataset("predict")
    classify = dm.task == "classification"
    outputs = []
    task.eval()
    with torch.inference_mode():
        for start in range(0, len(ds), batch_size):
            x, lengths = ds.padded(range(start, min(start + batch_size, len(ds))))
            out = task(torch.from_numpy(x), torch.from_numpy(lengths))
            outputs.append(torch.softmax(out, dim=-1) if classify else out)
    result = torch.cat(outputs)  # (N, C) probabilities or (N,) values
    ids = sequence_ids(path, data)
    if ids is not None and len(ids) != len(ds):
        ids = None  # not the reader's sequences (e.g. a column named 'id' that is something else)
    targets: list[Any] | None = None
    if ds.targets is not None:
        targets = [ds.class_names[int(t)] for t in ds.targets] if classify \
            else [float(t) for t in ds.targets]
    if classify:
        names = list(dm.class_names or [])
        predicted: Sequence[Any] = [names[i] for i in result.argmax(dim=-1).tolist()]
        return SequencePredictions(Path(path), "classification", list(predicted), result, names,
                                   ids, targets)
    return SequencePredictions(Path(path), "regression", result.tolist(), None, None, ids,
                               targets)
