"""The rnnkit command: train -> evaluate -> predict on tiny IDX files, errors, shapes."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnkit.cli import main
from rnnkit.data.mnist.idx import read_idx, write_idx


def _write_tiny_mnist(root: Path, n_train: int = 100, n_test: int = 30) -> Path:
    """Four IDX files of 28x28 'digits': class k lights up rows 2k..2k+3, plus noise."""
    rng = np.random.default_rng(1)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 60, size=(n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(labels):
            images[i, 2 * k : 2 * k + 4] = 255
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return root


FAST = ["--no-progress", "--set", "model.hidden_size=8", "model.num_layers=1",
        "data.val_size=20", "data.batch_size=20", "trainer.log_every_n_steps=1"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    data = root / "data"
    data.mkdir()
    _write_tiny_mnist(data)
    out = root / "run"
    return data, out


def test_train_evaluate_predict(trained, capsys, tmp_path):
    data, out = trained
    assert main(["train", "--data-dir", str(data), "--out", str(out), "--epochs", "2", *FAST]) == 0
    printed = capsys.readouterr().out
    assert "test accuracy" in printed and f"run directory: {out}" in printed
    accuracy = json.loads((out / "test_metrics.json").read_text())["test_acc"]
    assert f"test accuracy {100 * accuracy:.2f}%" in printed

    assert main(["evaluate", str(out)]) == 0
    assert f"test accuracy {100 * accuracy:.2f}%" in capsys.readouterr().out
    assert main(["evaluate", str(out / "checkpoints/best.ckpt"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["test_acc"] == pytest.approx(accuracy, abs=1e-7)

    from PIL import Image

    images = read_idx(data / "t10k-images-idx3-ubyte.gz")
    np.save(tmp_path / "three.npy", images[:3])
    Image.fromarray(255 - images[3]).save(tmp_path / "dark_on_light.png")  # inverted on load
    files = [tmp_path / "three.npy", tmp_path / "dark_on_light.png",
             data / "t10k-images-idx3-ubyte.gz"]
    code = main(["predict", str(out), *map(str, files), "--output", str(tmp_path / "p.csv")])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 + 1 + 30
    assert lines[0].startswith(f"{tmp_path / 'three.npy'}[0]\t")
    assert lines[3].startswith(f"{tmp_path / 'dark_on_light.png'}\t")
    with open(tmp_path / "p.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["image", "predicted", "probability"] and len(rows) == 35


def test_train_resume_of_a_finished_run_only_tests_again(trained, capsys):
    data, out = trained
    if not (out / "checkpoints/last.ckpt").exists():
        pytest.skip("needs the run of test_train_evaluate_predict")
    assert main(["train", "--resume", str(out), "--no-progress"]) == 0
    assert "test accuracy" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--set", "model.hiden_size=3"], "valid keys in section 'model': cell, "),
        (["train", "--config", "missing.yaml"], "config file not found"),
        (["train", "--epochs", "0"], "trainer.epochs must be >= 1"),
        (["evaluate", "no/such/run"], "no such run directory or checkpoint"),
        (["train", "--resume", "no/such/run"], "cannot resume"),
    ],
)
def test_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_train_refuses_a_used_run_directory(trained, capsys):
    data, out = trained
    if not (out / "checkpoints/last.ckpt").exists():
        pytest.skip("needs the run of test_train_evaluate_predict")
    assert main(["train", "--data-dir", str(data), "--out", str(out), *FAST]) == 2
    assert "--resume" in capsys.readouterr().err


def test_shapes_is_wired(capsys):
    assert main(["shapes", "--cell", "gru", "--hidden-size", "4", "--input-size", "3"]) == 0
    assert "weight_ih_l0" in capsys.readouterr().out


def test_console_script_help_is_fast_and_lists_commands():
    # A fresh interpreter: --help must not import torch or Lightning.
    code = (
        "import sys; from rnnkit.cli import main\n"
        "try: main(['--help'])\n"
        "except SystemExit: pass\n"
        "assert 'torch' not in sys.modules and 'lightning' not in sys.modules, 'heavy import'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    for command in ("train", "evaluate", "predict", "shapes"):
        assert command in result.stdout
