"""A forecast run trained once by the contract command on a monthly sine (seconds on a CPU)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from rnnkit.cli import main

FAST = ["trainer.threads=1", "trainer.steps=200", "model.hidden_size=16"]


def write_series(path: Path, values: list[float], start: int = 2000) -> Path:
    """A two-column ``date,value`` CSV of monthly values from January ``start``."""
    lines = ["date,value"] + [f"{start + k // 12}-{k % 12 + 1:02d}-01,{v}"
                              for k, v in enumerate(values)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def sine(n: int, period: int = 12) -> list[float]:
    return [round(10 + 3 * math.sin(2 * math.pi * k / period), 6) for k in range(n)]


@pytest.fixture(scope="session")
def sine_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``{"data": CSV, "run": run directory, "out": what train printed}`` of ``rnnkit train
    --task forecast --series FILE --set data.horizon=12`` on 120 months of a pure sine."""
    root = tmp_path_factory.mktemp("forecast")
    data = write_series(root / "sine.csv", sine(120))
    run = root / "run"
    capture = pytest.MonkeyPatch()
    import io
    import sys

    buffer = io.StringIO()
    capture.setattr(sys, "stdout", buffer)
    try:
        code = main(["train", "--task", "forecast", "--series", str(data), "--set",
                     "data.horizon=12", *FAST, "--out", str(run), "--no-progress"])
    finally:
        capture.undo()
    assert code == 0, buffer.getvalue()
    return {"data": data, "run": run, "out": buffer.getvalue()}
