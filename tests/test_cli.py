"""The rnnkit command: train -> evaluate -> predict on tiny IDX files, errors, shapes."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from rnnkit.cli import main
from rnnkit.data.mnist.idx import read_idx

FAST = ["--no-progress", "--set", "model.hidden_size=8", "model.num_layers=1",
        "data.val_size=20", "data.batch_size=20", "trainer.log_every_n_steps=1"]


@pytest.fixture(scope="module")
def trained(make_tiny_mnist, tmp_path_factory):
    """A finished run on gzipped tiny IDX files: (data directory, run directory, what
    ``rnnkit train`` printed). Tests only read the run (or copy it)."""
    data = make_tiny_mnist(n_train=100, n_test=30, seed=1, gzip=True)
    out = tmp_path_factory.mktemp("cli") / "run"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["train", "--data-dir", str(data), "--out", str(out), "--epochs", "2",
                     *FAST])
    assert code == 0, printed.getvalue()
    return data, out, printed.getvalue()


def test_train_prints_the_test_accuracy_and_the_run_directory(trained):
    _, out, printed = trained
    accuracy = json.loads((out / "test_metrics.json").read_text())["test_acc"]
    lines = printed.strip().splitlines()
    assert lines[-2].startswith(f"test accuracy {100 * accuracy:.2f}% on 30 test examples")
    assert lines[-1] == f"run directory: {out}"


def test_evaluate_reproduces_the_test_accuracy(trained, capsys):
    _, out, _ = trained
    accuracy = json.loads((out / "test_metrics.json").read_text())["test_acc"]
    assert main(["evaluate", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"test accuracy {100 * accuracy:.2f}% on 30 test examples" in printed
    assert "per class: 0: " in printed
    assert main(["evaluate", str(out / "checkpoints/best.ckpt"), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["test_acc"] == pytest.approx(accuracy, abs=1e-7)
    assert (metrics["task"], metrics["split"]) == ("classify", "test")


def test_predict_images(trained, capsys, tmp_path):
    from PIL import Image

    data, out, _ = trained
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
    printed = [line.split("\t") for line in lines]
    with open(tmp_path / "p.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["image", "predicted", "probability", *(f"prob_{d}" for d in range(10))]
    assert len(rows) == 35
    assert [r[:2] for r in rows[1:]] == [p[:2] for p in printed]
    # the inverted picture is read as the image it was made from
    assert printed[3][1] == printed[4 + 3][1] and rows[4][3:] == rows[5 + 3][3:]


def test_train_resume_of_a_finished_run_only_tests_again(trained, capsys, tmp_path):
    _, out, _ = trained
    run = tmp_path / "run"
    shutil.copytree(out, run)
    before = json.loads((run / "test_metrics.json").read_text())
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert f"test accuracy {100 * before['test_acc']:.2f}%" in capsys.readouterr().out
    after = json.loads((run / "test_metrics.json").read_text())
    assert (after["test_acc"], after["epoch"]) == (before["test_acc"], before["epoch"])


def test_train_refuses_a_used_run_directory(trained, capsys):
    data, out, _ = trained
    assert main(["train", "--data-dir", str(data), "--out", str(out), *FAST]) == 2
    assert "--resume" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--text", "a digit"], "this model reads MNIST images; --text is for models trained "
                                "on sequence files or text: pass image files"),
        (["--data", "x.csv"], "this model reads MNIST images; --data FILE is for"),
        ([], "predict needs one of --data FILE"),
        (["--text", "a", "--data", "x.csv"], "not several"),
    ],
)
def test_predict_refuses_inputs_a_run_does_not_read(trained, args, message, capsys):
    _, out, _ = trained
    assert main(["predict", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--set", "model.hiden_size=3"], "valid keys in section 'model': cell, "),
        (["train", "--config", "missing.yaml"], "config file not found"),
        (["train", "--epochs", "0"], "trainer.epochs must be >= 1"),
        (["train", "--task", "translate"], "task must be auto or one of classify, regress"),
        (["train", "--task", "regress", "--epochs", "1"], "task regress needs numeric targets"),
        (["evaluate", "no/such/run"], "no such run directory or checkpoint"),
        (["train", "--resume", "no/such/run"], "cannot resume"),
    ],
)
def test_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


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
