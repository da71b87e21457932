"""Fixtures of the task tests: a tiny MNIST-like dataset written as IDX files."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_data import write_tiny_mnist


@pytest.fixture(scope="session")
def tiny_mnist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_mnist(tmp_path_factory.mktemp("tiny_mnist"))
