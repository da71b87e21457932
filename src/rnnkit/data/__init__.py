"""rnnkit.data: MNIST (IDX) and sequence files (.ts, CSV, NPZ), with their data modules."""

from rnnkit.data.download import ChecksumError, DownloadError, data_dir, download_url
from rnnkit.data.mnist import load_images, load_mnist, mnist_view, pixel_permutation
from rnnkit.data.mnist.idx import IDXFormatError, read_idx, write_idx
from rnnkit.data.sequences import SequenceDataset, SequenceFileError, Standardizer, read_sequences
from rnnkit.data.sequences.npz import read_npz, write_npz
from rnnkit.data.sequences.tabular import read_csv, read_csv_long, read_csv_wide
from rnnkit.data.sequences.ts import read_ts, write_ts

__all__ = [
    "ChecksumError",
    "DownloadError",
    "IDXFormatError",
    "MNISTDataModule",
    "SequenceDataModule",
    "SequenceDataset",
    "SequenceFileError",
    "Standardizer",
    "data_dir",
    "download_url",
    "load_images",
    "load_mnist",
    "mnist_view",
    "pixel_permutation",
    "read_csv",
    "read_csv_long",
    "read_csv_wide",
    "read_idx",
    "read_npz",
    "read_sequences",
    "read_ts",
    "write_idx",
    "write_npz",
    "write_ts",
]

# Data modules import Lightning (seconds); load them only when asked for.
_LAZY = {
    "MNISTDataModule": "rnnkit.data.mnist.datamodule",
    "SequenceDataModule": "rnnkit.data.sequences.datamodule",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
