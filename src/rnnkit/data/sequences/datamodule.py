"""A LightningDataModule for the user's own labelled sequence files (.ts, .csv, .npz)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader

from rnnkit.data.batching import collate_sequences, make_loader
from rnnkit.data.choices import auto_batch_size, auto_val_fraction, file_digest
from rnnkit.data.sequences import SequenceDataset, Standardizer, Task, read_sequences
from rnnkit.data.sequences.labels import UNSEEN
from rnnkit.data.tagged.batches import IGNORE_TAG

__all__ = ["NORMALIZE_MODES", "SequenceDataModule", "collate_steps", "normalize_each_sequence",
           "split_indices"]

NORMALIZE_MODES = ("feature", "sequence", "auto", "none")


def collate_steps(
    batch: list[tuple[np.ndarray, np.ndarray | None]],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Pad ``(sequence (L_i, F), labels (L_i,) or None)`` pairs (labels per step) into a batch.

    Returns:
        x: (N, L_max, F) float32, zero-padded.
        lengths: (N,) int64.
        y: (N, L_max) int64 class indices, :data:`~rnnkit.data.tagged.batches.IGNORE_TAG`
            (-100) past each length, -1 for a label the training data never had; ``None``
            when a sequence has no labels.
    """
    x, lengths, _ = collate_sequences([(s, None) for s, _ in batch])
    if any(t is None for _, t in batch):
        return x, lengths, None
    y = torch.full(x.shape[:2], IGNORE_TAG, dtype=torch.int64)  # (N, L_max)
    for i, (_, t) in enumerate(batch):
        y[i, : len(t)] = torch.as_tensor(t, dtype=torch.int64)
    return x, lengths, y


def normalize_each_sequence(dataset: SequenceDataset) -> SequenceDataset:
    """Z-normalise every sequence and feature with its own mean and std (the UCR convention).

    Missing values are ignored by the statistics and stay missing; a constant feature becomes 0.
    """
    out = []
    for x in dataset.sequences:
        x = np.asarray(x, dtype=np.float64)  # (L, F)
        with np.errstate(all="ignore"):
            observed = ~np.isnan(x)
            count = observed.sum(axis=0)
            mean = np.where(count > 0, np.nansum(x, axis=0) / np.maximum(count, 1), 0.0)
            dev = np.where(observed, x - mean, 0.0)
            std = np.sqrt((dev**2).sum(axis=0) / np.maximum(count, 1))
        std = np.where(std > 1e-8 * np.maximum(1.0, np.abs(mean)), std, 1.0)
        out.append(((x - mean) / std).astype(np.float32))
    return dataset.with_sequences(out)


def split_indices(
    dataset: SequenceDataset, val_fraction: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split into (train, validation) indices, both sorted.

    Classification is stratified: each class gives ``round(val_fraction * count)`` sequences to
    validation but keeps at least one for training. Regression and labels per step (a
    sequence has many classes) split whole sequences at random. With ``val_fraction > 0``
    validation gets at least one sequence.
    """
    n = len(dataset)
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    rng = np.random.default_rng(seed)
    if val_fraction == 0.0:
        return np.arange(n), np.empty(0, dtype=np.int64)
    if n < 2:
        raise ValueError(f"{dataset.source}: {n} sequence(s) cannot be split for validation")
    if dataset.task == "classification" and dataset.targets is not None \
            and not dataset.step_labels:
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
    """Labelled sequences from files: read, split, normalise, batch by length.

    The training file is read once; a seeded (for classification stratified) part of it becomes
    the validation set unless ``val_path`` is given. With ``normalize="feature"`` a
    :class:`Standardizer` is fitted on the training part only and applied to every split; with
    ``"sequence"`` every sequence is z-normalised on its own; either way missing values are
    filled (see :mod:`rnnkit.data.sequences`). Test and prediction files are read with the
    training file's task and class order. What prediction and evaluation need travels in
    checkpoints through :meth:`state_dict`: task, names, the standardizer, and the split (the
    training file's SHA-256 and the validation indices), so a validation split is rebuilt
    exactly or refused when the file changed.

    Args:
        train_path: training file (``.ts``, ``.csv``, ``.tsv``, ``.npz``); may be ``None`` when
            only predicting after :meth:`load_state_dict`.
        test_path: test file, read with the same options.
        val_fraction: part of the training file held out for validation (0 for none), or
            ``"auto"`` (:func:`auto_val_fraction`).
        batch_size: sequences per batch, or ``"auto"`` (:func:`auto_batch_size`).
        seed: seed of the split, the shuffle and the bucketing.
        num_workers: DataLoader worker processes.
        bucket: batch sequences of similar length together (:class:`BucketBatchSampler`).
        val_path: a separate validation file instead of a split.
        predict_path: a file to predict (labels optional); kept in file order.
        normalize: ``"feature"``, ``"sequence"`` or ``"none"`` (missing values are filled in
            every mode).
        **read_options: passed to :func:`~rnnkit.data.sequences.read_sequences` for every file
            (e.g. ``format``, ``id_col``, ``label_col``, ``task``).

    Attributes (after the training file is read):
        val_fraction, batch_size: the values in use (``"auto"`` resolved).
        notes: why the automatic choices were made, one sentence each.

    Batches: ``(x (N, L_max, F) float32 zero-padded, lengths (N,) int64, y (N,))`` with ``y``
    int64 (classification), float32 (regression) or ``None`` (unlabelled prediction data);
    with labels per step (:attr:`step_labels`) ``y (N, L_max)`` int64, -100 on padded steps
    and -1 for a validation or test label the training data never had (:func:`collate_steps`;
    a note counts them).
    """

    def __init__(
        self,
        train_path: str | Path | None,
        test_path: str | Path | None = None,
        val_fraction: float | str = 0.1,
        batch_size: int | str = 64,
        seed: int = 0,
        num_workers: int = 0,
        bucket: bool = True,
        *,
        val_path: str | Path | None = None,
        predict_path: str | Path | None = None,
        normalize: str = "feature",
        **read_options: Any,
    ):
        super().__init__()
        if batch_size != "auto" and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f"batch_size must be >= 1 or 'auto', got {batch_size!r}")
        if val_fraction != "auto" and not 0.0 <= float(val_fraction) < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1) or 'auto', got {val_fraction}")
        if normalize not in NORMALIZE_MODES:
            raise ValueError(f"normalize must be one of {NORMALIZE_MODES}, got {normalize!r}")
        self.train_path, self.test_path = train_path, test_path
        self.val_path, self.predict_path = val_path, predict_path
        self.val_fraction, self.batch_size, self.seed = val_fraction, batch_size, seed
        self.num_workers, self.bucket, self.normalize = num_workers, bucket, normalize
        self.read_options = read_options
        self.notes: list[str] = []
        self._raw: dict[str, SequenceDataset] = {}
        self._ready: dict[str, tuple[Standardizer, SequenceDataset]] = {}
        self._info: dict[str, Any] | None = None
        self._standardizer: Standardizer | None = None
        self._split: dict[str, Any] | None = None  # {"sha256", "val_indices"} of a split
        self.test_digest: str | None = None  # SHA-256 of the test file, once read

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
    def step_labels(self) -> bool:
        """Whether the training data have a label per step (tagging) rather than per
        sequence."""
        return bool(self._ensure_info().get("step_labels", False))

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
    def _read(self, path: str | Path, split: str) -> SequenceDataset:
        """Read an evaluation file (``split``: val, test or predict) with the training data's
        task, kind of labels, classes and feature count. Labels per step outside the training
        classes are -1 (counted in a note); a file to predict keeps its own classes (its labels
        are shown, not scored)."""
        info = self._ensure_info()
        step = bool(info.get("step_labels", False))
        options = {**self.read_options, "task": info["task"],
                   "labels": "step" if step else "sequence"}
        if info["task"] == "classification" and not (step and split == "predict"):
            options["class_names"] = info["class_names"]
        ds = read_sequences(path, **options)
        if step and ds.targets is not None and split != "predict":
            unseen = int(sum(int((t == UNSEEN).sum()) for t in ds.targets))
            if unseen:
                self.notes.append(
                    f"{split}: {unseen:,} step{'s' if unseen > 1 else ''} of {path} carry a "
                    "label the training data never had: they count as errors")
        if ds.num_features != len(info["feature_names"]):
            raise ValueError(
                f"{path} has {ds.num_features} features per step; the training data has "
                f"{len(info['feature_names'])} ({', '.join(info['feature_names'])})"
            )
        return ds

    def _load_train(self) -> None:
        assert self.train_path is not None
        full = read_sequences(self.train_path, **self.read_options)
        _check_trainable(full, self.train_path)
        info = {"task": full.task, "class_names": full.class_names,
                "feature_names": full.feature_names, "step_labels": full.step_labels}
        if self._info is not None and info != self._info:
            raise ValueError(f"{self.train_path} does not hold the data this model was trained "
                             f"on: the checkpoint says {self._info}, the file has {info}")
        self._info = info
        if self.normalize == "auto":
            whole = full.task == "classification" and not full.step_labels
            self.normalize = "sequence" if whole else "feature"
            self.notes.append(
                "each sequence z-normalised (classification: its shape matters, not its level)"
                if whole else
                "features standardised with training statistics (labels per step: the level "
                "at a step carries its label)" if full.step_labels else
                "features standardised with training statistics (regression: the level of a "
                "series carries the target)")
        if self.val_path is not None and self.val_fraction == "auto":
            self.val_fraction = 0.0
            self.notes.append(f"validation on {self.val_path}; training on all {len(full)} "
                              "training sequences")
        elif self.val_fraction == "auto":
            self.val_fraction, note = auto_val_fraction(len(full), self.test_path is not None)
            self.notes.append(note)
        if self.val_path is not None:
            digest = file_digest(self.val_path)
            if self._split is not None and self._split.get("val_sha256") not in (None, digest):
                raise ValueError(f"{self.val_path} changed since the run was trained (its "
                                 "SHA-256 differs); restore it, or evaluate on a test file "
                                 "(--test FILE)")
            self._split = {"val_sha256": digest, "val_indices": []}
            self._raw["train"], self._raw["val"] = full, self._read(self.val_path, "val")
        else:
            train_idx, val_idx = self._split_indices(full)
            self._raw["train"] = full.subset(train_idx)
            if len(val_idx):
                self._raw["val"] = full.subset(val_idx)
        if self.batch_size == "auto":
            self.batch_size = auto_batch_size(len(self._raw["train"]))
            self.notes.append(f"batch size {self.batch_size} for "
                              f"{len(self._raw['train'])} training sequences")
        if self._standardizer is None:  # a checkpoint's, when it was loaded first
            self._standardizer = (
                Standardizer.fit(self._raw["train"]) if self.normalize == "feature"
                else Standardizer.identity(full.num_features)
            )

    def _split_indices(self, full: SequenceDataset) -> tuple[np.ndarray, np.ndarray]:
        """The train/validation split: from the checkpoint if one was loaded (the file must be
        the one it was made from), else seeded."""
        digest = file_digest(self.train_path)  # type: ignore[arg-type]
        if self._split is not None and "sha256" in self._split:
            if digest != self._split["sha256"]:
                raise ValueError(
                    f"{self.train_path} is not the training file the run was trained on, or it "
                    "changed since (its SHA-256 differs from the checkpoint's), so the run's "
                    "validation split cannot be rebuilt from it; restore the file"
                )
            val_idx = np.asarray(self._split["val_indices"], dtype=np.int64)
            if len(val_idx) and (val_idx.min() < 0 or val_idx.max() >= len(full)):
                raise ValueError(f"the checkpoint's validation indices do not fit "
                                 f"{self.train_path} ({len(full)} sequences)")
            return np.setdiff1d(np.arange(len(full)), val_idx), val_idx
        train_idx, val_idx = split_indices(full, float(self.val_fraction), self.seed)
        self._split = {"sha256": digest, "val_indices": val_idx.tolist()}
        return train_idx, val_idx

    def setup(self, stage: str | None = None) -> None:
        if self.train_path is not None and "train" not in self._raw:
            self._load_train()
        if stage in (None, "test") and self.test_path is not None and "test" not in self._raw:
            self._raw["test"] = self._read(self.test_path, "test")
            self.test_digest = file_digest(self.test_path)
        if stage in (None, "predict") and self.predict_path is not None \
                and "predict" not in self._raw:
            self._raw["predict"] = self._read(self.predict_path, "predict")

    def has_split(self, split: str) -> bool:
        """Whether ``split`` (train, val, test or predict) has data (after :meth:`setup`)."""
        return split in self._raw

    def dataset(self, split: str) -> SequenceDataset:
        """The normalised, filled dataset of ``split`` (train, val, test or predict)."""
        if split not in self._raw:
            self.setup(None)
        if split not in self._raw:
            raise RuntimeError(f"no {split} data: give its path")
        std = self.standardizer
        ready = self._ready.get(split)
        if ready is None or ready[0] is not std:
            raw = self._raw[split]
            if self.normalize == "sequence":
                raw = normalize_each_sequence(raw)
            ready = (std, std.apply(raw))
            self._ready[split] = ready
        return ready[1]

    # ---- loaders -----------------------------------------------------------------------------
    def _loader(self, split: str, train: bool) -> DataLoader:
        ds = self.dataset(split)
        batch_size = self.batch_size if isinstance(self.batch_size, int) else 64  # no train
        return make_loader(ds, ds.lengths, batch_size, self.collate, train=train,
                           bucket=self.bucket and split != "predict", seed=self.seed,
                           num_workers=self.num_workers)

    @property
    def collate(self) -> Any:
        """The batch function: :func:`collate_steps` for labels per step, else
        :func:`~rnnkit.data.batching.collate_sequences`."""
        return collate_steps if self.step_labels else collate_sequences

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
        state = {**self._ensure_info(), "standardizer": self.standardizer.to_dict(),
                 "normalize": self.normalize}
        if self.test_digest is not None:
            state["test_sha256"] = self.test_digest
        if self._split is not None:
            state["split"] = dict(self._split)
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take a checkpoint's data description. Before the training file is read, it also
        fixes the split and the standardizer that reading it will use."""
        if not state_dict:
            return
        info = {k: state_dict[k] for k in ("task", "class_names", "feature_names")}
        info["step_labels"] = bool(state_dict.get("step_labels", False))  # older: per sequence
        if self._info is not None and info != self._info:
            raise ValueError(
                f"the checkpoint was trained on {info}, this data has {self._info}"
            )
        self._info = info
        self._standardizer = Standardizer.from_dict(state_dict["standardizer"])
        self.normalize = state_dict.get("normalize", self.normalize)
        if state_dict.get("split") is not None and "train" not in self._raw:
            self._split = dict(state_dict["split"])


def _check_trainable(full: SequenceDataset, path: str | Path) -> None:
    """Labels, two classes, some observed values: what training on a file needs."""
    if not full.labelled:
        raise ValueError(f"{path} has no labels; training needs them (CSV: label_col=)")
    if full.step_labels:
        steps = np.concatenate(full.targets)
        if len(np.unique(steps)) < 2:
            label = full.class_names[int(steps[0])] if full.class_names else "?"
            raise ValueError(f"{path} holds one label per step, the same everywhere ({label!r} "
                             f"on all {len(steps):,} steps); tagging needs at least two")
    elif full.task == "classification" and len(np.unique(full.targets)) < 2:
        label = full.class_names[int(full.targets[0])] if full.class_names else "?"
        raise ValueError(f"{path} holds one class ({label!r} for all {len(full)} sequences); "
                         "classification needs at least two")
    if all(np.isnan(x).all() for x in full.sequences):
        raise ValueError(f"{path} holds no observed values: every value is missing")
