"""A fast config that trains a small LSTM on a tiny MNIST directory (the ``tiny_mnist``
fixture of tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

from rnnkit.config import RunConfig


def tiny_config(data_dir: Path, out: Path, **sections: dict) -> RunConfig:
    """A config that trains a small LSTM on ``data_dir`` in about a second per epoch (the
    tiny MNIST is learnt far beyond chance in 3 epochs)."""
    base = {
        "name": "tiny",
        "out": str(out),
        "data": {"source": str(data_dir), "batch_size": 20, "val_size": 20},
        "model": {"hidden_size": 8, "num_layers": 1},
        "optim": {"lr": 0.1},
        "trainer": {"epochs": 2, "progress_bar": False, "log_every_n_steps": 1},
    }
    for name, values in sections.items():
        base[name] = {**base.get(name, {}), **values}
    return RunConfig.from_dict(base)
