"""Training runs: run directory, checkpoints, resume, NaN stop, evaluate, predict and
load_run."""

from __future__ import annotations

import json
import os

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from tiny_data import tiny_config

from rnnkit.config import ConfigError, RunConfig, load_config
from rnnkit.data.source import PredictInputs
from rnnkit.families.classify.task import ClassificationTask
from rnnkit.runs import (
    AtomicCheckpointIO,
    CheckpointError,
    NonFiniteLossError,
    RunError,
    RunInterrupted,
    evaluate,
    load_run,
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
    assert metrics["test_acc"] > 0.8  # the tiny digits are learnt (chance is 0.1)
    assert (metrics["task"], metrics["split"], metrics["num_examples"]) == ("classify", "test", 40)
    assert metrics["checkpoint"] == "checkpoints/best.ckpt"
    assert sum(map(sum, metrics["confusion_matrix"])) == 40
    assert set(metrics["per_class_accuracy"]) == {str(d) for d in range(10)}
    epochs = {int(r["epoch"]) for r in read_metrics(run / "metrics.csv") if "val_acc" in r}
    assert epochs == {0, 1, 2}


def test_checkpoints_hold_plain_values_the_family_the_config_and_the_data(finished_run):
    for name in ("best", "last"):
        path = finished_run.run_dir / "checkpoints" / f"{name}.ckpt"
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        hparams = ckpt["hyper_parameters"]
        assert set(hparams) == {"family", "config", "info"}
        assert hparams["family"] == "classify"  # a checkpoint names its family
        config, info = hparams["config"], hparams["info"]
        assert type(config) is dict and config["model"]["hidden_size"] == 8
        assert config["task"] == "classify"  # auto, resolved from the labels
        assert type(info) is dict and info["source"] == "mnist"
        assert (info["input_size"], info["max_length"], info["num_train"]) == (28, 28, 100)
        assert info["class_names"] == [str(d) for d in range(10)]
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
    with pytest.raises(RunError, match=r"cannot override model.hidden_size.*may change only"):
        evaluate(finished_run.run_dir, ["model.hidden_size=3"])


def test_predict_npy_and_idx(finished_run, tiny_mnist, tmp_path):
    from rnnkit.data.mnist.idx import read_idx

    images = read_idx(tiny_mnist / "t10k-images-idx3-ubyte")
    labels = read_idx(tiny_mnist / "t10k-labels-idx1-ubyte")
    np.save(tmp_path / "five.npy", images[:5])
    np.save(tmp_path / "one.npy", images[0])
    files = [tmp_path / "five.npy", tmp_path / "one.npy", tiny_mnist / "t10k-images-idx3-ubyte"]
    preds = predict(finished_run.run_dir, PredictInputs(files=[str(f) for f in files]))
    classes = [str(d) for d in range(10)]
    assert list(preds.columns) == ["image", "predicted", "probability",
                                   *(f"prob_{c}" for c in classes)]
    assert len(preds) == 5 + 1 + 40
    assert preds.columns["image"][:6] == [f"{files[0]}[{i}]" for i in range(5)] + [str(files[1])]
    probs = np.array([preds.columns[f"prob_{c}"] for c in classes]).T  # (46, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert preds.columns["predicted"] == [classes[i] for i in probs.argmax(axis=1)]
    np.testing.assert_allclose(preds.columns["probability"], probs.max(axis=1))
    assert preds.columns["predicted"][5] == preds.columns["predicted"][0]  # the same image
    # the IDX file's predictions are the accuracy evaluate reports
    accuracy = np.mean([p == str(y) for p, y in zip(preds.columns["predicted"][6:], labels,
                                                    strict=True)])
    assert accuracy == pytest.approx(finished_run.metrics["test_acc"], abs=1e-6)
    rows = preds.to_csv().splitlines()
    assert rows[0] == "image,predicted,probability," + ",".join(f"prob_{c}" for c in classes)
    assert len(rows) == 47


def test_predict_refuses_inputs_the_source_does_not_read(finished_run):
    with pytest.raises(ValueError, match="reads MNIST images; --data FILE"):
        predict(finished_run.run_dir, PredictInputs(data="x.csv"))
    with pytest.raises(ValueError, match="reads MNIST images; --text"):
        predict(finished_run.run_dir, PredictInputs(texts=["a text"]))


def test_load_run_gives_the_checkpoints_task_in_eval_mode(finished_run):
    run = load_run(finished_run.run_dir)
    assert run.path.name == "best.ckpt" and run.family.name == "classify"
    assert isinstance(run.task, ClassificationTask) and not run.task.training
    assert run.info.class_names == tuple(str(d) for d in range(10))
    assert run.config.model.hidden_size == 8
    saved = read_checkpoint(run.path)["state_dict"]
    for key, value in run.task.state_dict().items():
        assert torch.equal(value, saved[key]), key


def test_load_run_refuses_a_checkpoint_without_a_family(finished_run, tmp_path):
    ckpt = read_checkpoint(finished_run.run_dir / "checkpoints/best.ckpt")
    del ckpt["hyper_parameters"]["family"]  # as an earlier rnnkit wrote them
    torch.save(ckpt, tmp_path / "old.ckpt")
    with pytest.raises(RunError, match="names no task family") as info:
        load_run(tmp_path / "old.ckpt")
    assert str(tmp_path / "old.ckpt") in str(info.value)
    ckpt["hyper_parameters"]["family"] = "astrology"
    torch.save(ckpt, tmp_path / "unknown.ckpt")
    with pytest.raises(RunError, match="'astrology' model, a task family this rnnkit does not"):
        load_run(tmp_path / "unknown.ckpt")
    del ckpt["hyper_parameters"]["config"]
    torch.save(ckpt, tmp_path / "foreign.ckpt")
    with pytest.raises(RunError, match="holds no rnnkit config"):
        evaluate(tmp_path / "foreign.ckpt")


def test_a_checkpoint_of_another_family_names_both(finished_run):
    with pytest.raises(RunError) as info:
        load_run(finished_run.run_dir, families=["regress"], command="x")
    message = str(info.value)
    assert "\n" not in message
    assert "holds a classify model; x needs a regress model" in message
    assert "best.ckpt" in message
    assert load_run(finished_run.run_dir, families=["regress", "classify"]).family.name == \
        "classify"


def test_a_family_the_data_cannot_train_is_refused_before_anything_is_written(tiny_mnist,
                                                                            tmp_path):
    config = tiny_config(tiny_mnist, tmp_path / "run")
    config = RunConfig.from_dict({**config.to_dict(), "task": "regress"})
    with pytest.raises(ConfigError, match="task regress needs numeric targets; the mnist data "
                                          "have class labels"):
        train(config)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("monitor", "message"), [
    ("val_mae", "the classify family logs val_acc, val_loss"),
    ("train_loss", "the classify family logs val_acc, val_loss"),
])
def test_monitor_must_be_a_metric_the_family_logs(tiny_mnist, tmp_path, monitor, message):
    with pytest.raises(ConfigError, match=message):
        train(tiny_config(tiny_mnist, tmp_path / "run", trainer={"monitor": monitor}))
    assert not (tmp_path / "run").exists()


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


def test_batches_with_lengths_never_see_the_padding(finished_run):
    from torch.utils.data import DataLoader, TensorDataset

    task = load_run(finished_run.run_dir).task
    trainer = pl.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)
    torch.manual_seed(0)
    x, y = torch.randn(4, 28, 28), torch.tensor([0, 1, 2, 3])
    lengths = torch.tensor([28, 5, 9, 1])
    x_padded = x.clone()
    for n, t in enumerate(lengths.tolist()):
        x_padded[n, t:] = 7.0

    def loss(*tensors):
        loader = DataLoader(TensorDataset(*tensors), batch_size=4)
        return trainer.test(task, dataloaders=loader, verbose=False)[0]["test_loss"]

    with_lengths = loss(x, lengths, y)
    assert loss(x_padded, lengths, y) == pytest.approx(with_lengths, rel=1e-6)
    assert loss(x_padded, y) != pytest.approx(with_lengths, rel=1e-3)  # no lengths: it counts
    with pytest.raises(ValueError, match=r"needs labels: \(x, lengths, y\)"):
        loss(x)


def test_checkpoint_state_keeps_lightnings_key_for_earlier_runs(tmp_path):
    from lightning.pytorch.callbacks import ModelCheckpoint

    from rnnkit.runs.trainer import RunCheckpoint

    for monitor in ("val_acc", None):
        ours = RunCheckpoint(dirpath=tmp_path, filename="last", monitor=monitor)
        assert ours.state_key == ModelCheckpoint(dirpath=tmp_path, monitor=monitor).state_key
    best = RunCheckpoint(dirpath=tmp_path, filename="best", monitor=None)
    assert best.state_key != RunCheckpoint(dirpath=tmp_path, filename="last").state_key
