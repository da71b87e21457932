"""A tiny MNIST-like dataset in IDX files, and a fast config that trains on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnkit.config import RunConfig
from rnnkit.data.mnist.idx import write_idx


def write_tiny_mnist(root: Path, n_train: int = 120, n_test: int = 40, seed: int = 0) -> Path:
    """Four IDX files of 28x28 'digits': class k lights up rows 2k..2k+3, plus noise."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 60, size=(n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(labels):
            images[i, 2 * k : 2 * k + 4] = 255
        write_idx(root / f"{prefix}-images-idx3-ubyte", images)
        write_idx(root / f"{prefix}-labels-idx1-ubyte", labels)
    return root


def tiny_config(data_dir: Path, out: Path, **sections: dict) -> RunConfig:
    """A config that trains a small LSTM on ``data_dir`` in about a second per epoch."""
    base = {
        "name": "tiny",
        "out": str(out),
        "data": {"source": str(data_dir), "batch_size": 20, "val_size": 20},
        "model": {"hidden_size": 8, "num_layers": 1},
        "optim": {"lr": 0.01},
        "trainer": {"epochs": 2, "progress_bar": False, "log_every_n_steps": 1},
    }
    for name, values in sections.items():
        base[name] = {**base.get(name, {}), **values}
    return RunConfig.from_dict(base)
