"""Fixtures shared by every test folder: one CPU thread for tiny tensors, and tiny MNIST-like
IDX directories that a model learns in seconds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit.data.mnist.idx import write_idx


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Tiny tensors: an intra-op thread pool only adds start-up cost (large on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def write_tiny_mnist(root: Path, n_train: int = 120, n_test: int = 40, seed: int = 0,
                     gzip: bool = False) -> Path:
    """Four IDX files of 28x28 'digits' in ``root``: class k lights up rows and columns
    2k+2..2k+5 (so every row shows its class; the 1-pixel border, which ``predict`` reads to
    tell dark-on-light pictures, stays dark), plus noise; labels cycle 0..9."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gzip else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 60, size=(n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(labels):
            images[i, 2 * k + 2 : 2 * k + 6] = 255
            images[i, :, 2 * k + 2 : 2 * k + 6] = 255
        write_idx(root / f"{prefix}-images-idx3-ubyte{ext}", images)
        write_idx(root / f"{prefix}-labels-idx1-ubyte{ext}", labels)
    return root


@pytest.fixture(scope="session")
def make_tiny_mnist(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``make_tiny_mnist(n_train=120, n_test=40, seed=0, gzip=False)``: a new directory of
    tiny MNIST IDX files (see :func:`write_tiny_mnist`)."""

    def make(**options: int | bool) -> Path:
        return write_tiny_mnist(tmp_path_factory.mktemp("tiny_mnist"), **options)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def tiny_mnist(make_tiny_mnist: Callable[..., Path]) -> Path:
    """A directory of tiny MNIST IDX files: 120 training and 40 test images (read-only)."""
    return make_tiny_mnist()


@pytest.fixture(scope="session", autouse=True)
def corpus_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Tokenised corpora go to a temporary cache, never to the user's ~/.cache."""
    import os

    path = tmp_path_factory.mktemp("rnnkit_cache")
    before = os.environ.get("RNNKIT_CACHE_DIR")
    os.environ["RNNKIT_CACHE_DIR"] = str(path)
    yield path
    if before is None:
        os.environ.pop("RNNKIT_CACHE_DIR", None)
    else:
        os.environ["RNNKIT_CACHE_DIR"] = before
