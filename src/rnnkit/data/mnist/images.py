"""MNIST: loading, downloading, sequence views, and images for prediction.

MNIST (LeCun, Cortes, Burges; CC BY-SA 3.0) holds 28x28 grayscale handwritten digits, 60,000
for training and 10,000 for testing. Sources:

- ``"bundled"``: a class-balanced sample shipped inside the package (10,000 training and 2,000
  test images; see ``bundled/README.md``). Works offline, good for tutorials and tests.
- ``"full"``: the full set in the data cache, ``$RNNKIT_DATA_DIR/mnist`` (default
  ``~/.cache/rnnkit/mnist``); pass ``download=True`` to fetch it (about 11 MB) once.
- a directory holding the four official files, gzipped or not
  (``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
  ``t10k-images-idx3-ubyte[.gz]``, ``t10k-labels-idx1-ubyte[.gz]``); a torchvision-style
  ``MNIST/raw`` subdirectory is found too. With ``download=True``, missing files are fetched
  into it.

Sequence views turn each image into a sequence of L steps of F features (pixels scaled to
[0, 1], float32):

==============  =====  ===  ==========================================================
view            L      F    step t is
==============  =====  ===  ==========================================================
``rows``        28     28   row t, top to bottom (the classic "MNIST rows" task)
``pixels``      784    1    pixel t in raster order (sequential MNIST)
``permuted``    784    1    pixel ``perm[t]``, one fixed permutation (permuted MNIST)
==============  =====  ===  ==========================================================

The permutation is ``numpy.random.default_rng(seed).permutation(784)`` (seed 0 by default):
NumPy guarantees this generator's stream across versions and machines, so results are
comparable everywhere. With ``normalize=True`` the scaled pixels become
``(x - 0.1307) / 0.3081``, the mean and standard deviation of the training pixels.
"""

from __future__ import annotations

import os
import struct
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rnnkit.data.download import DownloadError, data_dir, download_url
from rnnkit.data.mnist.idx import IDXFormatError, read_idx
from rnnkit.data.npy import read_npy

__all__ = [
    "MNIST_MEAN",
    "MNIST_STD",
    "VIEWS",
    "load_mnist",
    "download_mnist",
    "find_mnist_file",
    "mnist_view",
    "pixel_permutation",
    "load_images",
    "ImageFileError",
]

MNIST_MEAN = 0.1307  # mean of the 60,000 training images' pixels, scaled to [0, 1]
MNIST_STD = 0.3081  # their standard deviation
VIEWS = ("rows", "pixels", "permuted")
SPLITS = ("train", "test")
BUNDLED_DIR = Path(__file__).parent / "bundled"

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
# name: (md5 of the uncompressed file, md5 of the official .gz)
FILES: dict[str, tuple[str, str]] = {
    "train-images-idx3-ubyte": (
        "6bbc9ace898e44ae57da46a324031adb",
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    ),
    "train-labels-idx1-ubyte": (
        "a25bea736e30d166cdddb491f175f624",
        "d53e105ee54ea40749a09fcbcd1e9432",
    ),
    "t10k-images-idx3-ubyte": (
        "2646ac647ad5339dbf082846283269ea",
        "9fb629c4189551a2d022fa330f9573f3",
    ),
    "t10k-labels-idx1-ubyte": (
        "27ae3e4e09519cfbb04c329615203637",
        "ec29112dd5afa0611ce80d1b7f02629c",
    ),
}
_PREFIX = {"train": "train", "test": "t10k"}


def find_mnist_file(directory: Path, name: str) -> Path | None:
    """The MNIST file ``name`` (e.g. ``train-images-idx3-ubyte``) in ``directory`` or its
    ``MNIST/raw`` folder (torchvision's layout), plain or ``.gz``; ``None`` when absent."""
    for d in (directory, directory / "MNIST" / "raw"):
        for candidate in (d / name, d / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _resolve(source: str | os.PathLike) -> Path:
    if isinstance(source, str) and source == "bundled":
        return BUNDLED_DIR
    if isinstance(source, str) and source == "full":
        return data_dir() / "mnist"
    return Path(source).expanduser()


def download_mnist(root: str | os.PathLike | None = None) -> Path:
    """Download whatever of the four MNIST files is missing, verified by md5.

    Args:
        root: directory for the files; default ``data_dir() / "mnist"``
            (``$RNNKIT_DATA_DIR/mnist`` or ``~/.cache/rnnkit/mnist``).

    Returns:
        The directory.
    """
    root = Path(root).expanduser() if root is not None else data_dir() / "mnist"
    for name, (raw_md5, gz_md5) in FILES.items():
        if find_mnist_file(root, name) is None:
            urls = [f"{m}{name}.gz" for m in MIRRORS]
            try:
                download_url(urls, root / f"{name}.gz", md5=gz_md5, raw_md5=raw_md5)
            except DownloadError as e:
                raise DownloadError(
                    f"{e}\nWithout a network, copy the four MNIST files ({name}.gz and the "
                    f"others) into {root} by hand."
                ) from None
    return root


def load_mnist(
    source: str | os.PathLike = "bundled", split: str = "train", *, download: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Load one MNIST split.

    Args:
        source: ``"bundled"`` (the sample inside the package), ``"full"`` (the data cache), or
            a directory holding the official files (see the module docstring).
        split: ``"train"`` or ``"test"``.
        download: fetch missing files first (not allowed for ``"bundled"``).

    Returns:
        ``images`` uint8 (N, 28, 28), values 0..255 (0 is background), and ``labels`` int64
        (N,), values 0..9.

    Raises:
        FileNotFoundError: a file is missing (and ``download`` is False).
        IDXFormatError: a file is corrupt, or images and labels disagree.
    """
    if split not in SPLITS:
        raise ValueError(f"load_mnist: expected split 'train' or 'test', found {split!r}")
    root = _resolve(source)
    if download:
        if root == BUNDLED_DIR:
            raise ValueError("load_mnist: download=True makes no sense with source='bundled'")
        download_mnist(root)
    paths = []
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        name = f"{_PREFIX[split]}-{kind}"
        path = find_mnist_file(root, name)
        if path is None:
            hint = "" if root == BUNDLED_DIR else "; pass download=True to fetch it"
            raise FileNotFoundError(
                f"MNIST {split} split: expected {name} or {name}.gz in {root} "
                f"(or {root / 'MNIST' / 'raw'}), found neither{hint}"
            )
        paths.append(path)
    images = read_idx(paths[0], ndim=3, dtype=np.uint8)
    labels = read_idx(paths[1], ndim=1, dtype=np.uint8)
    if images.shape[1:] != (28, 28):
        raise IDXFormatError(
            f"{paths[0]}: expected images of 28x28 pixels, found {images.shape[1]}x"
            f"{images.shape[2]}"
        )
    if len(images) != len(labels):
        raise IDXFormatError(
            f"{paths[0]} and {paths[1]}: expected as many labels as images, found "
            f"{len(images)} images and {len(labels)} labels"
        )
    if labels.size and labels.max() > 9:
        raise IDXFormatError(f"{paths[1]}: expected labels 0..9, found {int(labels.max())}")
    return images, labels.astype(np.int64)


def pixel_permutation(seed: int = 0) -> np.ndarray:
    """The fixed pixel order of permuted MNIST: ``default_rng(seed).permutation(784)``."""
    return np.random.default_rng(seed).permutation(784)


def mnist_view(
    images: np.ndarray, view: str = "rows", *, seed: int = 0, normalize: bool = False
) -> np.ndarray:
    """Turn uint8 images (N, 28, 28) into float32 sequences (N, L, F).

    Args:
        images: uint8 (N, 28, 28), values 0..255.
        view: ``"rows"`` (L=28, F=28), ``"pixels"`` (L=784, F=1) or ``"permuted"`` (L=784,
            F=1, pixels in the order of :func:`pixel_permutation` ``(seed)``).
        seed: permutation seed, used by ``"permuted"`` only.
        normalize: subtract :data:`MNIST_MEAN` and divide by :data:`MNIST_STD` after scaling
            to [0, 1].

    Returns:
        float32 (N, L, F).
    """
    if view not in VIEWS:
        raise ValueError(f"mnist_view: expected view one of {VIEWS}, found {view!r}")
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"mnist_view: expected images of shape (N, 28, 28), found {images.shape}")
    x = images.astype(np.float32) / np.float32(255.0)  # (N, 28, 28)
    if normalize:
        x = (x - np.float32(MNIST_MEAN)) / np.float32(MNIST_STD)
    if view == "rows":
        return x
    x = x.reshape(len(x), 784)  # (N, 784)
    if view == "permuted":
        x = x[:, pixel_permutation(seed)]
    return np.ascontiguousarray(x[:, :, None])  # (N, 784, 1)


# --- images for prediction -----------------------------------------------------------------


class ImageFileError(ValueError):
    """An image file to classify is unreadable, of the wrong size, or holds unusable values."""


def _to_uint8(a: np.ndarray, where: str) -> np.ndarray:
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * 255
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise ImageFileError(f"{where}: expected numeric pixels, found dtype {a.dtype}")
    if a.size and not np.isfinite(a).all():
        raise ImageFileError(f"{where}: expected finite pixel values, found NaN or inf")
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    if lo < 0 or hi > 255:
        raise ImageFileError(
            f"{where}: expected pixel values in [0, 1] (floats) or [0, 255], found [{lo:g}, {hi:g}]"
        )
    if np.issubdtype(a.dtype, np.floating) and hi <= 1.0:
        a = a * 255.0  # floats in [0, 1]
    return np.rint(a).astype(np.uint8)


_RESIZE = "resize to 28x28 first, e.g. with PIL.Image.resize((28, 28))"


def _declared_size(path: Path) -> str:
    """'W x H pixels' from a PNG header, for a picture too large for Pillow to open."""
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        width, height = struct.unpack(">II", head[16:24])
        return f"{width}x{height} pixels"
    return "more pixels than Pillow opens safely"


def _read_picture(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError  # pillow is a dependency of matplotlib

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageFileError(
            f"{path}: expected a 28x28 pixel image, found one that declares "
            f"{_declared_size(path)}; {_RESIZE}"
        ) from None
    except UnidentifiedImageError:
        raise ImageFileError(
            f"{path}: expected an image file (PNG, JPEG, ...), found none Pillow can identify"
        ) from None
    with im:
        if im.size != (28, 28):  # checked before decoding: a huge picture never fills memory
            raise ImageFileError(
                f"{path}: expected a 28x28 pixel image, found {im.width}x{im.height} "
                f"(width x height); {_RESIZE}"
            )
        try:
            im.load()
        except (OSError, SyntaxError, EOFError, ValueError, struct.error) as e:
            raise ImageFileError(
                f"{path}: expected an image file (PNG, JPEG, ...), found a corrupt or truncated "
                f"one ({e})"
            ) from None
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            black = Image.new("RGBA", im.size, (0, 0, 0, 255))
            im = Image.alpha_composite(black, im.convert("RGBA"))
        return np.asarray(im.convert("L"), dtype=np.uint8)  # ITU-R 601 luma


def _load_one(path: Path) -> np.ndarray:
    if path.suffix == ".npy":
        return _to_uint8(read_npy(path), str(path))
    with open(path, "rb") as f:
        head = f.read(4)
    if path.name.endswith(("-ubyte", "-ubyte.gz")) or head[:2] in (b"\x00\x00", b"\x1f\x8b"):
        return _to_uint8(read_idx(path), str(path))
    return _read_picture(path)


def load_images(
    paths: str | os.PathLike | Sequence[str | os.PathLike], *, invert: bool | None = None
) -> np.ndarray:
    """Load digit images to classify, in MNIST's convention (white digit on black).

    Args:
        paths: one file or a list of files, stacked in order. Each is ``.npy`` ((28, 28) or
            (N, 28, 28); uint8 0..255, or floats in [0, 1] or [0, 255]), an IDX images file
            (gzipped or not), or a picture (PNG, JPEG, ... via Pillow), converted to grayscale,
            transparent pixels drawn over black. Pictures are not resized.
        invert: ``True`` inverts every image (255 - x), ``False`` none; ``None`` (default)
            inverts those whose 1-pixel border is mostly bright, i.e. a dark digit on a light
            background, as most drawing programs save them.

    Returns:
        uint8 (N, 28, 28), ready for :func:`mnist_view` or ``MNISTDataModule.transform``.

    Raises:
        ImageFileError: a file holds no images, an image is not 28x28 (resize it first) or
            holds unusable values, a picture is unreadable; NpyFormatError or IDXFormatError:
            a broken ``.npy`` or IDX file. All are ValueErrors naming the file.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    batches = []
    for p in paths:
        p = Path(p)
        a = _load_one(p)
        if a.ndim == 2:
            a = a[None]
        if a.ndim != 3 or a.shape[1:] != (28, 28):
            found = "x".join(map(str, a.shape[-2:])) if a.ndim >= 2 else f"shape {a.shape}"
            raise ImageFileError(
                f"{p}: expected 28x28 pixel images (shape (28, 28) or (N, 28, 28)), found "
                f"{found} (array shape {a.shape}); {_RESIZE}"
            )
        if len(a) == 0:
            raise ImageFileError(f"{p}: holds no images (array shape {a.shape})")
        batches.append(a)
    if not batches:
        raise ValueError("load_images: expected at least one path, found none")
    images = np.concatenate(batches)  # (N, 28, 28)
    if invert is None:
        border = np.concatenate(
            [images[:, 0], images[:, -1], images[:, 1:-1, 0], images[:, 1:-1, -1]], axis=1
        )  # (N, 108)
        flip = border.mean(axis=1) > 127.5
    else:
        flip = np.full(len(images), bool(invert))
    images[flip] = 255 - images[flip]
    return images
