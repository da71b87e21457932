"""Fixtures of the recurrent-core tests."""

from __future__ import annotations

import pytest

import rnnkit.nn.minimal_kernels as minimal_kernels
import rnnkit.nn.scan as scan


@pytest.fixture(params=["one-block-steps", "many-blocks", "chunked", "recomputed"])
def scan_regime(request, monkeypatch):
    """Run the minimal cells' scans with every layout: one block stepped, small blocks, chunks,
    and the gates recomputed in the backward pass instead of kept."""
    if request.param == "many-blocks":
        monkeypatch.setattr(scan, "BLOCK_ELEMENTS", 24)  # two steps of N*H = 12 per block
    if request.param == "chunked":
        monkeypatch.setattr(scan, "SEQUENTIAL_BELOW", 4)
    if request.param == "recomputed":
        monkeypatch.setattr(scan, "BLOCK_ELEMENTS", 36)  # three steps per block
        monkeypatch.setattr(minimal_kernels, "STORE_GATES_MAX", 0)
    return request.param
