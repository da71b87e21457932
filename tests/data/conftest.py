"""Shared by the data tests: their helper modules (``npy_helpers``) are importable from every
folder under tests/data (tests/data/sequences, tests/data/mnist)."""

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
