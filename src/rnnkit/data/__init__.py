"""rnnkit.data"""

from rnnkit.data.download import ChecksumError, DownloadError, data_dir, download_url
from rnnkit.data.idx import IDXFormatError, read_idx, write_idx
from rnnkit.data.mnist import load_images, load_mnist, mnist_view, pixel_permutation

__all__ = [
    "ChecksumError",
    "DownloadError",
    "IDXFormatError",
    "MNISTDataModule",
    "data_dir",
    "download_url",
    "load_images",
    "load_mnist",
    "mnist_view",
    "pixel_permutation",
    "read_idx",
    "write_idx",
]

# Data modules import Lightning (seconds); load them only when asked for.
_LAZY = {"MNISTDataModule": "rnnkit.data.mnist_datamodule"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
