"""Numeric sequences with a label per step, end to end: an NPZ ``y (N, L)`` trains the tag
family through the ``rnnkit`` command, predictions come back one row per step, and padding
never changes a tag or the loss."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit.cli import main
from rnnkit.data.sequences.config import FilesConfig
from rnnkit.data.sequences.datamodule import collate_steps
from rnnkit.data.sequences.source import SOURCE
from rnnkit.models.tagger import SequenceTagger
from rnnkit.runs.families import resolve_family

QUICK = ["--no-progress", "--set", "trainer.steps=150", "model.hidden_size=16",
         "trainer.threads=1"]


def signs(path: Path, n: int, seed: int) -> Path:
    """One feature of lengths 4..15 (padded with 9.0, which the reader must not see); the
    label of a step is ``up`` where the value is positive, else ``down``."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(4, 16, n)
    x = rng.choice([-1.0, 1.0], (n, 15)) * rng.uniform(0.3, 2.0, (n, 15))
    valid = np.arange(15) < lengths[:, None]
    y = np.where(x > 0, "up", "down")
    np.savez(path, X=np.where(valid, x, 9.0)[..., None].astype(np.float32), lengths=lengths,
             y=y, ids=np.array([f"s{seed}-{i}" for i in range(n)]))
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("steps")
    train, test = signs(root / "train.npz", 120, 0), signs(root / "test.npz", 30, 1)
    out = root / "run"
    assert main(["train", "--train", str(train), "--test", str(test), "--out", str(out),
                 *QUICK]) == 0
    return out, test


def test_a_label_per_step_is_learnt_by_the_tag_family(run):
    out, _ = run
    metrics = json.loads((out / "test_metrics.json").read_text())
    assert metrics["task"] == "tag" and metrics["class_names"] == ["down", "up"]
    assert metrics["test_acc"] > 0.9  # chance is 1/2


def test_task_auto_picks_the_tag_family_for_labels_per_step(run):
    _, test = run
    dm = SOURCE.datamodule(FilesConfig(train=str(test)), seed=0, family="auto")
    dm.setup("fit")
    assert resolve_family("auto", dm.describe()).name == "tag"


def test_predict_writes_one_row_per_step(run, tmp_path):
    out, test = run
    target = tmp_path / "tags.csv"
    assert main(["predict", str(out), "--data", str(test), "--output", str(target)]) == 0
    rows = list(csv.DictReader(target.open()))
    arrays = np.load(test)
    assert list(rows[0]) == ["index", "id", "step", "predicted", "probability", "label"]
    assert len(rows) == arrays["lengths"].sum()
    first = [r for r in rows if r["index"] == "0"]
    assert [int(r["step"]) for r in first] == list(range(arrays["lengths"][0]))
    assert {r["id"] for r in first} == {"s1-0"}
    assert [r["label"] for r in first] == \
        ["up" if v > 0 else "down" for v in arrays["X"][0, : arrays["lengths"][0], 0]]
    assert all(0.5 <= float(r["probability"]) <= 1.0 for r in rows)  # the best of two tags
    accuracy = np.mean([r["predicted"] == r["label"] for r in rows])
    metrics = json.loads((out / "test_metrics.json").read_text())
    assert accuracy == pytest.approx(metrics["test_acc"], abs=1e-6)


def test_evaluate_reports_the_step_accuracy(run, capsys):
    out, _ = run
    metrics = json.loads((out / "test_metrics.json").read_text())
    assert main(["evaluate", str(out)]) == 0
    assert f"test accuracy {100 * metrics['test_acc']:.2f}% on 30 test examples" in \
        capsys.readouterr().out


@pytest.mark.parametrize("crf", [False, True])
def test_padding_never_changes_a_tag_or_the_loss(crf, one_thread):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    short = (rng.normal(size=(4, 2)).astype(np.float32), np.array([0, 1, 1, 2]))
    long = (rng.normal(size=(11, 2)).astype(np.float32), rng.integers(0, 3, 11))
    model = SequenceTagger(3, input_size=2, hidden_size=8, crf=crf).eval()
    x, lengths, y = collate_steps([short, long])
    alone_x, alone_lengths, alone_y = collate_steps([short])
    assert (y[0, 4:] == -100).all()
    with torch.no_grad():
        emissions = model(x, lengths)  # (2, 11, 3)
        alone = model(alone_x, alone_lengths)  # (1, 4, 3)
        torch.testing.assert_close(emissions[:1, :4], alone)
        assert torch.equal(model.decode(emissions, lengths)[:1, :4],
                           model.decode(alone, alone_lengths))
        torch.testing.assert_close(model.loss(emissions[:1], y[:1], lengths[:1]),
                                   model.loss(alone, alone_y, alone_lengths))
