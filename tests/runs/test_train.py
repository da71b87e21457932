"""Training runs: run directory, checkpoints, resume, NaN stop, evaluate and predict."""

from __future__ import annotations

import json
import os
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from tiny_data import tiny_config

from rnnkit.config import load_config
from rnnkit.runs import (
    AtomicCheckpointIO,
    CheckpointError,
    NonFiniteLossError,
    RunError,
    RunInterrupted,
    evaluate,
    predict,
    read_checkpoint,
    resume_config,
    train,
)
from rnnkit.runs.plots import read_metrics


@pytest.fixture(scope="module")
def finished_run(tiny_mnist, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run"
    return train(tiny_config(tiny_mnist, out, trainer={"epochs": 3}))


def test_run_directory_layout(finished_run):
    run = finished_run.run_dir
    for name in ("config.yaml", "checkpoints/best.ckpt", "checkpoints/last.ckpt", "metrics.csv",
                 "plots/loss.png", "plots/accuracy.png", "plots/confusion_matrix.png",
                 "test_metrics.json"):
        assert (run / name).is_file(), name
    assert load_config(run / "config.yaml").out == str(run)
    metrics = json.loads((run / "test_metrics.json").read_text())
    assert 0.0 <= metrics["test_acc"] <= 1.0
    assert metrics["num_examples"] == 40
    assert metrics["checkpoint"] == "checkpoints/best.ckpt"
    assert sum(map(sum, metrics["confusion_matrix"])) == 40
    assert set(metrics["per_class_accuracy"]) == {str(d) for d in range(10)}
    epochs = {int(r["epoch"]) for r in read_metrics(run / "metrics.csv") if "val_acc" in r}
    assert epochs == {0, 1, 2}


def test_checkpoints_hold_plain_values_and_the_config(finished_run):
    for name in ("best", "last"):
        path = finished_run.run_dir / "checkpoints" / f"{name}.ckpt"
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        config = ckpt["hyper_parameters"]["config"]
        assert type(config) is dict and config["model"]["hidden_size"] == 8
        assert {"state_dict", "optimizer_states", "epoch", "global_step"} <= set(ckpt)
    last = torch.load(finished_run.run_dir / "checkpoints/last.ckpt", weights_only=True)
    assert last["epoch"] == 2


def test_evaluate_reproduces_the_test_accuracy(finished_run):
    result = evaluate(finished_run.run_dir)
    assert result.checkpoint.name == "best.ckpt"
    assert result.metrics["test_acc"] == pytest.approx(finished_run.metrics["test_acc"], abs=1e-7)
    assert result.metrics["confusion_matrix"] == finished_run.metrics["confusion_matrix"]
    last = evaluate(finished_run.run_dir / "checkpoints/last.ckpt")
    assert last.checkpoint.name == "last.ckpt"


def test_evaluate_refuses_model_overrides(finished_run):
    with pytest.raises(RunError, match="only data"):
        evaluate(finished_run.run_dir, ["model.hidden_size=3"])


def test_predict_npy_and_idx(finished_run, tiny_mnist, tmp_path):
    from rnnkit.data.mnist.idx import read_idx

    images = read_idx(tiny_mnist / "t10k-images-idx3-ubyte")[:5]
    np.save(tmp_path / "five.npy", images)
    np.save(tmp_path / "one.npy", images[0])
    preds = predict(finished_run.run_dir, [tmp_path / "five.npy", tmp_path / "one.npy",
                                           tiny_mnist / "t10k-images-idx3-ubyte"])
    assert [len(p.classes) for p in preds] == [5, 1, 40]
    assert preds[0].probabilities.shape == (5, 10)
    torch.testing.assert_close(preds[0].probabilities.sum(1), torch.ones(5))
    assert preds[1].classes[0] == preds[0].classes[0]


def test_new_run_refuses_a_used_directory(finished_run):
    config = load_config(finished_run.run_dir / "config.yaml")
    with pytest.raises(RunError, match="--resume"):
        train(config)


class _Interrupt(pl.Callback):
    """Ctrl-C in the middle of epoch ``epoch``."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.current_epoch == self.epoch and batch_idx == 2:
            raise KeyboardInterrupt


def test_resume_reproduces_the_uninterrupted_run(tiny_mnist, tmp_path):
    sections = {"model": {"num_layers": 2, "dropout": 0.3}, "trainer": {"epochs": 2}}
    straight = train(tiny_config(tiny_mnist, tmp_path / "straight", **sections))

    with pytest.raises(RunInterrupted, match="--resume"):
        train(tiny_config(tiny_mnist, tmp_path / "resumed", **sections),
              callbacks=[_Interrupt(epoch=1)])
    assert read_checkpoint(tmp_path / "resumed/checkpoints/last.ckpt")["epoch"] == 0
    resumed = train(resume_config(tmp_path / "resumed"), resume=True)

    a = read_checkpoint(straight.run_dir / "checkpoints/last.ckpt")
    b = read_checkpoint(resumed.run_dir / "checkpoints/last.ckpt")
    assert (a["epoch"], a["global_step"]) == (b["epoch"], b["global_step"]) == (1, 10)
    for key, value in a["state_dict"].items():
        assert torch.equal(value, b["state_dict"][key]), key
    losses_a = [r["train_loss_step"] for r in read_metrics(straight.run_dir / "metrics.csv")
                if "train_loss_step" in r]
    losses_b = [r["train_loss_step"] for r in read_metrics(resumed.run_dir / "metrics.csv")
                if "train_loss_step" in r]
    assert len(losses_a) == 10
    assert losses_b == losses_a  # epoch 0 kept from the first session, epoch 1 recomputed
    assert resumed.metrics["test_acc"] == straight.metrics["test_acc"]


def test_resume_refuses_changes_the_checkpoint_fixes(finished_run):
    with pytest.raises(RunError, match="model.hidden_size"):
        resume_config(finished_run.run_dir, ["model.hidden_size=16"])
    with pytest.raises(RunError, match="trainer.epochs"):
        resume_config(finished_run.run_dir, ["trainer.epochs=9"])  # onecycle was laid out
    assert resume_config(finished_run.run_dir, ["trainer.progress_bar=true"]).trainer.progress_bar


def test_resume_needs_a_run(tmp_path):
    with pytest.raises(RunError, match="config.yaml"):
        resume_config(tmp_path)


class _Poison(pl.Callback):
    """Make the loss NaN from epoch ``epoch`` on."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.epoch:
            with torch.no_grad():
                pl_module.model.head.layers[-1].bias.fill_(float("nan"))


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tiny_mnist, tmp_path):
    with pytest.raises(NonFiniteLossError, match=r"nan at epoch 2.*last good checkpoint"):
        train(tiny_config(tiny_mnist, tmp_path / "run", trainer={"epochs": 3}),
              callbacks=[_Poison(epoch=1)])
    for name in ("last", "best"):
        ckpt = read_checkpoint(tmp_path / "run/checkpoints" / f"{name}.ckpt")
        assert ckpt["epoch"] == 0
        assert all(torch.isfinite(v).all() for v in ckpt["state_dict"].values())


class Unpicklable:
    """Any class: torch.load(weights_only=True) refuses to rebuild it."""


def test_checkpoint_with_a_pickled_object_is_refused(finished_run, tmp_path):
    ckpt = read_checkpoint(finished_run.run_dir / "checkpoints/best.ckpt")
    ckpt["hyper_parameters"]["evil"] = Unpicklable()  # an object, not a plain value
    torch.save(ckpt, tmp_path / "evil.ckpt")
    with pytest.raises(CheckpointError, match="must not hold"):
        read_checkpoint(tmp_path / "evil.ckpt")
    with pytest.raises(CheckpointError, match="must not hold"):
        evaluate(tmp_path / "evil.ckpt")
    (tmp_path / "torn.ckpt").write_bytes(b"PK\x03\x04 not a checkpoint")
    with pytest.raises(CheckpointError):
        read_checkpoint(tmp_path / "torn.ckpt")
    with pytest.raises(CheckpointError, match="no best.ckpt or last.ckpt"):
        evaluate(tmp_path)


def test_atomic_save_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    io = AtomicCheckpointIO()
    path = tmp_path / "c.ckpt"
    io.save_checkpoint({"state_dict": {"w": torch.ones(2)}}, path)

    def broken_save(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        io.save_checkpoint({"state_dict": {"w": torch.zeros(2)}}, path)
    monkeypatch.undo()
    assert torch.equal(io.load_checkpoint(path)["state_dict"]["w"], torch.ones(2))
    assert os.listdir(tmp_path) == ["c.ckpt"]  # no temporary file left behind


def test_batches_with_lengths(tiny_mnist):
    from rnnkit.runs import ClassificationTask

    config = tiny_config(tiny_mnist, Path("unused"))
    task = ClassificationTask(config.to_dict(), 28, 10)
    x, y = torch.randn(4, 28, 28), torch.tensor([0, 1, 2, 3])
    lengths = torch.tensor([28, 5, 9, 1])
    loss_lengths = task._step((x, lengths, y))[0]
    x_padded = x.clone()
    x_padded[1, 5:] = 7.0
    torch.testing.assert_close(task._step((x_padded, lengths, y))[0], loss_lengths)
    with pytest.raises(ValueError, match=r"\(x, y\) or \(x, lengths, y\)"):
        task._step((x,))


def test_checkpoint_state_keeps_lightnings_key_for_earlier_runs(tmp_path):
    from lightning.pytorch.callbacks import ModelCheckpoint

    from rnnkit.runs.trainer import RunCheckpoint

    for monitor in ("val_acc", None):
        ours = RunCheckpoint(dirpath=tmp_path, filename="last", monitor=monitor)
        assert ours.state_key == ModelCheckpoint(dirpath=tmp_path, monitor=monitor).state_key
    best = RunCheckpoint(dirpath=tmp_path, filename="best", monitor=None)
    assert best.state_key != RunCheckpoint(dirpath=tmp_path, filename="last").state_key
