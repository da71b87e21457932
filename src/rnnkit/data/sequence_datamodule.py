"""A LightningDataModule for the user's own labelled sequence files (.ts, .csv, .npz)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
from torch.utils.data import DataLoader, SequentialSampler

from rnnkit.data.batching import BucketBatchSampler, SeededShuffleSampler, collate_sequences
from rnnkit.data.sequences import SequenceDataset, Standardizer, Task, read_sequences

__all__ = ["SequenceDataModule", "split_indices"]


def split_indices(
    dataset: SequenceDataset, val_fraction: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split into (train, validation) indices, both sorted.

    Classification is stratified: each class gives ``round(val_fraction * count)`` sequences to
    validation but keeps at least one for training. Regression splits at random. With
    ``val_fraction > 0`` validation gets at least one sequence.
    """
    n = len(dataset)
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    rng = np.random.default_rng(seed)
    if val_fraction == 0.0:
        return np.arange(n), np.empty(0, dtype=np.int64)
    if n < 2:
        raise ValueError(f"{dataset.source}: {n} sequence(s) cannot be split for validation")
    if dataset.task == "classification" and dataset.targets is not None:
        val = []
        for c in np.unique(dataset.targets):
            idx = rng.permutation(np.flatnonzero(dataset.targets == c))
            k = min(int(round(val_fraction * len(idx))), len(idx) - 1)
            val.extend(idx[:k].tolist())
        if not val:
            val = [int(rng.integers(n))]
    else:
        val = rng.permutation(n)[: max(1, int(round(val_fraction * n)))].tolist()
    val_idx = np.sort(np.asarray(val, dtype=np.int64))
    return np.setdiff1d(np.arange(n), val_idx), val_idx


class SequenceDataModule(L.LightningDataModule):
    """Labelled sequences from files: read, split, standardise, batch by length.

    The training file is read once; a seeded (for classification stratified) part of it becomes
    the validation set unless ``val_path`` is given. A :class:`Standardizer` is fitted on the
    training part only and applied to every split; it fills missing values (see
    :mod:`rnnkit.data.sequences`). Test and prediction files are read with the training file's
    task and class order. The standardizer, task and names travel in checkpoints through
    :meth:`state_dict`, so prediction on new data needs no training file.

    Args:
        train_path: training file (``.ts``, ``.csv``, ``.tsv``, ``.npz``); may be ``None`` when
            only predicting after :meth:`load_state_dict`.
        test_path: test file, read with the same options.
        val_fraction: part of the training file held out for validation (0 for none).
        batch_size: sequences per batch.
        seed: seed of the split, the shuffle and the bucketing.
        num_workers: DataLoader worker processes.
        bucket: batch sequences of similar length together (:class:`BucketBatchSampler`).
        val_path: a separate validation file instead of a split.
        predict_path: a file to predict (labels optional); kept in file order.
        standardize: fit a standardizer; ``False`` keeps values (mean 0, std 1) but still
            fills missing values.
        **read_options: passed to :func:`~rnnkit.data.sequences.read_sequences` for every file
            (e.g. ``format``, ``id_col``, ``label_col``, ``task``).

    Batches: ``(x (N, L_max, F) float32 zero-padded, lengths (N,) int64, y (N,))`` with ``y``
    int64 (classification), float32 (regression) or ``None`` (unlabelled prediction data).
    """

    def __init__(
        self,
        train_path: str | Path | None,
        test_path: str | Path | None = None,
        val_fraction: float = 0.1,
        batch_size: int = 64,
        seed: int = 0,
        num_workers: int = 0,
        bucket: bool = True,
        *,
        val_path: str | Path | None = None,
        predict_path: str | Path | None = None,
        standardize: bool = True,
        **read_options: Any,
    ):
        super().__init__()
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
        self.train_path, self.test_path = train_path, test_path
        self.val_path, self.predict_path = val_path, predict_path
        self.val_fraction, self.batch_size, self.seed = val_fraction, batch_size, seed
        self.num_workers, self.bucket, self.standardize = num_workers, bucket, standardize
        self.read_options = read_options
        self._raw: dict[str, SequenceDataset] = {}
        self._ready: dict[str, tuple[Standardizer, SequenceDataset]] = {}
        self._info: dict[str, Any] | None = None
        self._standardizer: Standardizer | None = None

    # ---- what a model needs to know -------------------------------------------------------
    def _ensure_info(self) -> dict[str, Any]:
        if self._info is None:
            if self.train_path is None:
                raise RuntimeError(
                    "SequenceDataModule has no train_path and no loaded state: nothing to "
                    "describe the data"
                )
            self._load_train()
        assert self._info is not None
        return self._info

    @property
    def task(self) -> Task:
        return self._ensure_info()["task"]

    @property
    def class_names(self) -> list[str] | None:
        return self._ensure_info()["class_names"]

    @property
    def num_classes(self) -> int | None:
        names = self.class_names
        return None if names is None else len(names)

    @property
    def feature_names(self) -> list[str]:
        return self._ensure_info()["feature_names"]

    @property
    def input_size(self) -> int:
        return len(self.feature_names)

    @property
    def standardizer(self) -> Standardizer:
        self._ensure_info()
        assert self._standardizer is not None
        return self._standardizer

    # ---- reading -----------------------------------------------------------------------------
    def _read(self, path: str | Path) -> SequenceDataset:
        """Read an evaluation file with the training data's task, classes and feature count."""
        info = self._ensure_info()
        options = {**self.read_options, "task": info["task"]}
        if info["task"] == "classification":
            options["class_names"] = info["class_names"]
        ds = read_sequences(path, **options)
        if ds.num_features != len(info["feature_names"]):
            raise ValueError(
                f"{path} has {ds.num_features} features per step; the training data has "
                f"{len(info['feature_names'])} ({', '.join(info['feature_names'])})"
            )
        return ds

    def _load_train(self) -> None:
        assert self.train_path is not None
        full = read_sequences(self.train_path, **self.read_options)
        if not full.labelled:
            raise ValueError(
                f"{self.train_path} has no labels; training needs them (CSV: label_col=)"
            )
        self._info = {"task": full.task, "class_names": full.class_names,
                      "feature_names": full.feature_names}
        if self.val_path is not None:
            self._raw["train"], self._raw["val"] = full, self._read(self.val_path)
        else:
            train_idx, val_idx = split_indices(full, self.val_fraction, self.seed)
            self._raw["train"] = full.subset(train_idx)
            if len(val_idx):
                self._raw["val"] = full.subset(val_idx)
        self._standardizer = (
            Standardizer.fit(self._raw["train"]) if self.standardize
            else Standardizer.identity(full.num_features)
        )

    def setup(self, stage: str | None = None) -> None:
        if self.train_path is not None and "train" not in self._raw:
            self._load_train()
        if stage in (None, "test") and self.test_path is not None and "test" not in self._raw:
            self._raw["test"] = self._read(self.test_path)
        if stage in (None, "predict") and self.predict_path is not None \
                and "predict" not in self._raw:
            self._raw["predict"] = self._read(self.predict_path)

    def dataset(self, split: str) -> SequenceDataset:
        """The standardised, filled dataset of ``split`` (train, val, test or predict)."""
        if split not in self._raw:
            self.setup(None)
        if split not in self._raw:
            raise RuntimeError(f"no {split} data: give its path")
        std = self.standardizer
        ready = self._ready.get(split)
        if ready is None or ready[0] is not std:
            ready = (std, std.apply(self._raw[split]))
            self._ready[split] = ready
        return ready[1]

    # ---- loaders -----------------------------------------------------------------------------
    def _loader(self, split: str, train: bool) -> DataLoader:
        ds = self.dataset(split)
        common = dict(collate_fn=collate_sequences, num_workers=self.num_workers,
                      persistent_workers=self.num_workers > 0)
        if self.bucket and split != "predict":
            sampler = SeededShuffleSampler(len(ds), self.seed) if train else SequentialSampler(ds)
            batches = BucketBatchSampler(sampler, self.batch_size, False, lengths=ds.lengths,
                                         shuffle=train, seed=self.seed)
            return DataLoader(ds, batch_sampler=batches, **common)
        sampler = SeededShuffleSampler(len(ds), self.seed) if train else None
        return DataLoader(ds, batch_size=self.batch_size, sampler=sampler, **common)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", train=True)

    def val_dataloader(self) -> DataLoader | list:
        if "val" not in self._raw and self.train_path is not None:
            self.setup("fit")
        return self._loader("val", train=False) if "val" in self._raw else []

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", train=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("predict", train=False)

    # ---- checkpoints -------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Plain lists and strings (safe for ``weights_only`` loading)."""
        if self._info is None and self.train_path is None:
            return {}
        return {**self._ensure_info(), "standardizer": self.standardizer.to_dict()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not state_dict:
            return
        info = {k: state_dict[k] for k in ("task", "class_names", "feature_names")}
        if self._info is not None and info != self._info:
            raise ValueError(
                f"the checkpoint was trained on {info}, this data has {self._info}"
            )
        self._info = info
        self._standardizer = Standardizer.from_dict(state_dict["standardizer"])
