"""MNISTDataModule: MNIST as sequences, for Lightning's Trainer."""

from __future__ import annotations

import os

import numpy as np
import torch
from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader, TensorDataset

from rnnkit.data.mnist.images import VIEWS, download_mnist, load_mnist, mnist_view

__all__ = ["MNISTDataModule"]


class MNISTDataModule(LightningDataModule):
    """MNIST digits as sequences (rows, pixels or permuted pixels) for classification.

    The whole split is kept as one float32 tensor (60,000 x 784 x 4 bytes = 188 MB for the full
    training set) in a :class:`~torch.utils.data.TensorDataset`: on a CPU this is much faster
    than decoding images per item.

    Args:
        source: ``"bundled"`` (the 10,000 + 2,000 image sample shipped with rnnkit), ``"full"``
            (``$RNNKIT_DATA_DIR/mnist``, default ``~/.cache/rnnkit/mnist``), or a directory
            holding the four official IDX files (gzipped or not).
        download: fetch missing files in :meth:`prepare_data` (``"full"`` or a directory).
        view: ``"rows"`` (L=28, F=28), ``"pixels"`` (L=784, F=1) or ``"permuted"`` (L=784,
            F=1, the pixels in the fixed order ``numpy.random.default_rng(perm_seed)
            .permutation(784)``).
        batch_size: samples per batch.
        val_size: training images held out for validation, chosen by a permutation seeded with
            ``seed``; 0 disables validation (the test split is MNIST's own test set).
        seed: seed of the train/validation split (the shuffling of batches follows the global
            torch seed, e.g. ``lightning.seed_everything``).
        num_workers: DataLoader worker processes; 0 is fastest for in-memory tensors.
        normalize: map pixels to ``(x/255 - 0.1307) / 0.3081`` (the training set's mean and
            std) instead of ``x/255`` in [0, 1].
        perm_seed: seed of the ``"permuted"`` pixel order; keep the default 0 to compare
            results with others.

    Batches:
        ``(x, y)`` with x float32 (N, L, F) and y int64 (N,) in 0..9; N = ``batch_size``.

    Attributes:
        num_classes: 10.
        class_names: ``("0", ..., "9")``.
        seq_len: L.
        input_size: F.

    Example::

        dm = MNISTDataModule(view="rows", batch_size=100, val_size=1000)
        dm.setup("fit")
        x, y = next(iter(dm.train_dataloader()))  # x (100, 28, 28) float32, y (100,) int64
        # model: nn.LSTM(input_size=dm.input_size, ...) -> Linear(H, dm.num_classes)
        trainer.fit(model, datamodule=dm)
    """

    num_classes = 10
    class_names = tuple(str(d) for d in range(10))

    def __init__(
        self,
        source: str | os.PathLike = "bundled",
        *,
        download: bool = False,
        view: str = "rows",
        batch_size: int = 100,
        val_size: int = 1000,
        seed: int = 0,
        num_workers: int = 0,
        normalize: bool = False,
        perm_seed: int = 0,
    ) -> None:
        super().__init__()
        if view not in VIEWS:
            raise ValueError(f"MNISTDataModule: expected view one of {VIEWS}, found {view!r}")
        if batch_size < 1:
            raise ValueError(f"MNISTDataModule: expected batch_size >= 1, found {batch_size}")
        if val_size < 0:
            raise ValueError(f"MNISTDataModule: expected val_size >= 0, found {val_size}")
        if num_workers < 0:
            raise ValueError(f"MNISTDataModule: expected num_workers >= 0, found {num_workers}")
        if download and source == "bundled":
            raise ValueError("MNISTDataModule: download=True makes no sense with source='bundled'")
        self.save_hyperparameters()
        self.source = os.fspath(source)
        self.download = download
        self.view = view
        self.batch_size = batch_size
        self.val_size = val_size
        self.seed = seed
        self.num_workers = num_workers
        self.normalize = normalize
        self.perm_seed = perm_seed
        self.train_set: TensorDataset | None = None
        self.val_set: TensorDataset | None = None
        self.test_set: TensorDataset | None = None

    @property
    def seq_len(self) -> int:
        """Sequence length L: 28 for ``"rows"``, 784 otherwise."""
        return 28 if self.view == "rows" else 784

    @property
    def input_size(self) -> int:
        """Features per step F: 28 for ``"rows"``, 1 otherwise."""
        return 28 if self.view == "rows" else 1

    def transform(self, images: np.ndarray) -> torch.Tensor:
        """uint8 images (N, 28, 28) -> float32 tensor (N, L, F) in this module's view.

        Use it on :func:`rnnkit.data.mnist.load_images` output to predict on new images.
        """
        x = mnist_view(images, self.view, seed=self.perm_seed, normalize=self.normalize)
        return torch.from_numpy(x)

    def _dataset(self, images: np.ndarray, labels: np.ndarray) -> TensorDataset:
        return TensorDataset(self.transform(images), torch.from_numpy(labels))

    def prepare_data(self) -> None:
        """Download missing files when ``download=True`` (Lightning runs this on one process)."""
        if self.download:
            download_mnist(self.source if self.source != "full" else None)

    def setup(self, stage: str | None = None) -> None:
        """Load the splits ``stage`` needs: fit/validate -> train + val, test/predict -> test."""
        if stage in (None, "fit", "validate") and self.train_set is None:
            images, labels = load_mnist(self.source, "train")
            if self.val_size >= len(images):
                raise ValueError(
                    f"MNISTDataModule: expected val_size < {len(images)} (the training images "
                    f"in {self.source!r}), found {self.val_size}"
                )
            order = np.random.default_rng(self.seed).permutation(len(images))
            val_idx = np.sort(order[: self.val_size])
            train_idx = np.sort(order[self.val_size :])
            self.train_set = self._dataset(images[train_idx], labels[train_idx])
            self.val_set = self._dataset(images[val_idx], labels[val_idx])
        if stage in (None, "test", "predict") and self.test_set is None:
            self.test_set = self._dataset(*load_mnist(self.source, "test"))

    def _loader(self, dataset: TensorDataset | None, shuffle: bool) -> DataLoader:
        if dataset is None:
            raise RuntimeError("MNISTDataModule: call setup() before asking for a dataloader")
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=shuffle,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        """Validation batches; none when ``val_size=0`` (then give the Trainer
        ``limit_val_batches=0`` to skip validation without Lightning's empty-loader warning)."""
        return self._loader(self.val_set, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set, shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader(self.test_set, shuffle=False)
