"""MNIST as sequences: IDX files, the bundled sample, the checksummed download, the views
(rows, pixels, permuted) and the data module."""

from rnnkit.data.mnist.idx import IDXFormatError, read_idx, write_idx
from rnnkit.data.mnist.images import (
    BUNDLED_DIR,
    MNIST_MEAN,
    MNIST_STD,
    VIEWS,
    ImageFileError,
    download_mnist,
    load_images,
    load_mnist,
    mnist_view,
    pixel_permutation,
)

__all__ = [
    "BUNDLED_DIR",
    "IDXFormatError",
    "ImageFileError",
    "MNIST_MEAN",
    "MNIST_STD",
    "VIEWS",
    "download_mnist",
    "load_images",
    "load_mnist",
    "mnist_view",
    "pixel_permutation",
    "read_idx",
    "write_idx",
]
