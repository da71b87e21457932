"""The reliability probe: bad inputs and faults through the ``rnnkit`` command line.

Every case must end with exit status 2 and one line on stderr (no traceback) that names the
offending file or setting, and must leave every file that existed before untouched. Each case
writes the small files it needs.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
import yaml
from tiny_data import tiny_config

from rnnkit.cli import main
from rnnkit.data.sequences import SequenceDataset
from rnnkit.data.sequences.ts import write_ts
from rnnkit.runs import RunError, RunInterrupted, read_checkpoint, resume_config, train
from rnnkit.runs.rundir import claim_run_dir

TINY = ["--no-progress", "--epochs", "2", "--set", "model.hidden_size=8", "model.num_layers=1",
        "data.batch_size=16", "optim.lr=0.02"]


def _sequences(n: int, seed: int, classes: int = 2, labels: tuple[str, ...] = ("a", "b")
               ) -> SequenceDataset:
    rng = np.random.default_rng(seed)
    k = np.arange(n) % classes
    seqs = [np.cumsum(rng.normal(k[i] - 0.5, 1.0, (12, 1)), axis=0) for i in range(n)]
    return SequenceDataset(seqs, k, "classification", list(labels[:classes]))


def cli(argv: list) -> int:
    """``rnnkit`` with paths in ``argv`` turned into strings."""
    return main([str(a) for a in argv])


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def fails(argv: list[str], capsys: pytest.CaptureFixture, *needles: str,
          keep: Path | None = None) -> str:
    """Run ``rnnkit argv``; assert exit 2, one stderr line holding every needle, and (with
    ``keep``) every file under ``keep`` unchanged. Returns the line."""
    before = _digest(keep) if keep is not None else None
    capsys.readouterr()
    assert cli(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "weights_only=False" not in err and "weights_only` set to `False" not in err
    for needle in needles:
        assert needle in err, (needle, err)
    if keep is not None:
        assert _digest(keep) == before, "a file that existed before was changed"
    return err


@pytest.fixture(scope="module")
def data(tmp_path_factory, make_tiny_mnist) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("probe")
    write_ts(_sequences(60, 0), root / "train.ts")
    write_ts(_sequences(20, 1), root / "test.ts")
    write_ts(_sequences(20, 2, classes=2, labels=("a", "zzz")), root / "newlabel.ts")
    write_ts(SequenceDataset(_sequences(30, 3).sequences, np.zeros(30, int), "classification",
                             ["only"]), root / "oneclass.ts")
    nan = [np.full((12, 1), np.nan, np.float32) for _ in range(20)]
    np.savez(root / "allnan.npz", X=np.stack(nan), y=np.arange(20) % 2)
    files = {p.name: p for p in root.iterdir()}
    files["mnist"] = make_tiny_mnist()
    files["mnist_small"] = make_tiny_mnist(n_train=60, n_test=20, seed=1)
    return files


@pytest.fixture(scope="module")
def files_run(data, tmp_path_factory) -> Path:
    """A finished run on a .ts file without a test file (reports on its validation split)."""
    out = tmp_path_factory.mktemp("files_run") / "run"
    assert cli(["train", "--train", data["train.ts"], "--out", out, "--val-fraction", "0.25",
                 *TINY]) == 0
    return out


@pytest.fixture(scope="module")
def mnist_run(data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mnist_run") / "run"
    train(tiny_config(data["mnist"], out, optim={"schedule": "none"}))
    return out


# ---- data lost without a word ------------------------------------------------------------------


def test_a_moved_run_resumes_with_its_best_score_and_paths(mnist_run, tmp_path):
    moved = tmp_path / "elsewhere"
    shutil.copytree(mnist_run, moved)
    resumed = train(resume_config(moved, ["trainer.epochs=4"]), resume=True)
    best = read_checkpoint(moved / "checkpoints/last.ckpt")["callbacks"]
    state = next(v for k, v in best.items() if "val_acc" in k)
    with open(moved / "metrics.csv") as f:
        accs = [float(r["val_acc"]) for r in csv.DictReader(f) if r.get("val_acc")]
    assert len(accs) == 4
    assert float(state["best_model_score"]) == pytest.approx(max(accs))
    assert state["dirpath"] == "." and "/" not in state["best_model_path"]
    assert resumed.metrics["checkpoint"] == "checkpoints/best.ckpt"
    assert resumed.metrics["epoch"] == 1 + int(np.argmax(accs))


def test_out_refuses_a_directory_it_did_not_create(data, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "metrics.csv").write_text("my,own\n1,2\n")
    (mine / "config.yaml").write_text("my: notes\n")
    fails(["train", "--train", data["train.ts"], "--test", data["test.ts"], "--out", mine,
           *TINY], capsys, str(mine), "not empty", keep=mine)


def test_out_refuses_a_file(data, tmp_path, capsys):
    target = tmp_path / "afile"
    target.write_text("x")
    fails(["train", "--train", data["train.ts"], "--out", target, *TINY], capsys, "is a file",
          keep=tmp_path)


# ---- figures that are silently wrong ------------------------------------------------------------


@pytest.mark.parametrize("override", ["data.val_fraction=0.9", "trainer.seed=5",
                                      "data.normalize=none", "model.hidden_size=4"])
def test_evaluate_refuses_overrides_that_change_the_model_or_its_split(files_run, override,
                                                                        capsys):
    fails(["evaluate", files_run, "--set", override], capsys, override.partition("=")[0],
          keep=files_run)


def test_evaluate_refuses_mnist_normalisation_override(mnist_run, capsys):
    fails(["evaluate", mnist_run, "--set", "data.normalize=false"], capsys, "data.normalize",
          keep=mnist_run)


def test_evaluate_rebuilds_the_saved_split_and_notices_a_changed_file(data, tmp_path, capsys):
    train_file = tmp_path / "train.ts"
    shutil.copy(data["train.ts"], train_file)
    out = tmp_path / "run"
    assert cli(["train", "--train", train_file, "--out", out, "--val-fraction", "0.25",
                 *TINY]) == 0
    assert cli(["evaluate", out, "--json"]) == 0
    lines = train_file.read_text().splitlines()
    head = [i for i, line in enumerate(lines) if line.lower().startswith("@data")][0] + 1
    train_file.write_text("\n".join(lines[:head] + lines[head:][::-1]) + "\n")  # reordered
    fails(["evaluate", out], capsys, str(train_file), "changed", keep=out)


def test_test_file_is_read_before_training(data, tmp_path, capsys):
    out = tmp_path / "run"
    fails(["train", "--train", data["train.ts"], "--test", data["newlabel.ts"], "--out", out,
           *TINY], capsys, "newlabel.ts")
    assert not out.exists()


def test_mnist_test_files_are_read_before_training(data, tmp_path, capsys):
    broken = tmp_path / "mnist"
    shutil.copytree(data["mnist"], broken)
    shutil.copy(data["mnist_small"] / "t10k-labels-idx1-ubyte",
                broken / "t10k-labels-idx1-ubyte")  # 20 labels for 40 images
    out = tmp_path / "run"
    fails(["train", "--data-dir", broken, "--out", out, *TINY, "data.val_size=20"], capsys,
          "t10k")
    assert not out.exists()


# ---- one line where a traceback was -------------------------------------------------------------


@pytest.mark.parametrize(("override", "needle"), [
    ("trainer.accelerator=gpu", "trainer.accelerator=gpu"),
    ("trainer.devices=abc", "trainer.devices"),
    ("trainer.devices=0", "trainer.devices"),
    ("trainer.devices=-1", "trainer.devices"),
    ("trainer.precision=banana", "trainer.precision"),
])
def test_trainer_settings_are_checked_before_anything_is_written(data, tmp_path, override,
                                                                  needle, capsys):
    out = tmp_path / "run"
    fails(["train", "--train", data["train.ts"], "--test", data["test.ts"], "--out", out, *TINY,
           override], capsys, needle)
    assert not out.exists()


def test_evaluate_checks_trainer_settings(files_run, capsys):
    fails(["evaluate", files_run, "--set", "trainer.devices=abc"], capsys, "trainer.devices")


def test_resume_after_config_yaml_was_edited(data, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli(["train", "--train", data["train.ts"], "--out", out, "--val-fraction", "0.25",
                 *TINY]) == 0
    config = yaml.safe_load((out / "config.yaml").read_text())
    config["model"]["hidden_size"] = 16
    (out / "config.yaml").write_text(yaml.safe_dump(config))
    fails(["train", "--resume", out, "--set", "trainer.epochs=3"], capsys, "model.hidden_size",
          keep=out)


def test_checkpoint_whose_shapes_disagree_with_its_config(files_run, tmp_path, capsys):
    ckpt = read_checkpoint(files_run / "checkpoints/best.ckpt")
    ckpt["hyper_parameters"]["config"]["model"]["hidden_size"] = 16
    torch.save(ckpt, tmp_path / "tampered.ckpt")
    fails(["evaluate", tmp_path / "tampered.ckpt"], capsys, "tampered.ckpt", "shape")


def test_hidden_size_that_cannot_fit_is_refused_before_allocating(data, tmp_path, capsys):
    out = tmp_path / "run"
    fails(["train", "--train", data["train.ts"], "--test", data["test.ts"], "--out", out, *TINY,
           "model.hidden_size=100000000"], capsys, "parameters", "GiB")
    assert not out.exists()


@pytest.mark.parametrize("args", [["--seq-len", "0"], ["--seq-len", "-1"], ["--batch", "-2"],
                                  ["--hidden-size", "0"]])
def test_shapes_refuses_sizes_below_one(args, capsys):
    fails(["shapes", *args], capsys, args[0])


# ---- messages that mislead ----------------------------------------------------------------------


@pytest.mark.parametrize(("content", "needle"), [
    (b"name: not a checkpoint\n", "not a checkpoint"),
    (b"", "not a checkpoint"),
    (bytes(range(256)) * 4, "not a checkpoint"),
    (b"\x80" + bytes(range(1, 200)), "truncated or corrupt"),
])
def test_files_that_are_not_checkpoints_are_named_for_what_they_are(tmp_path, content, needle,
                                                                     capsys):
    path = tmp_path / "x.ckpt"
    path.write_bytes(content)
    fails(["evaluate", path], capsys, str(path), needle)


def test_truncated_checkpoint(files_run, tmp_path, capsys):
    data = (files_run / "checkpoints/best.ckpt").read_bytes()
    (tmp_path / "cut.ckpt").write_bytes(data[: len(data) // 2])
    fails(["evaluate", tmp_path / "cut.ckpt"], capsys, "cut.ckpt", "truncated or corrupt")


def test_a_pickled_object_is_refused_without_suggesting_to_unpickle(files_run, tmp_path,
                                                                    capsys):
    ckpt = read_checkpoint(files_run / "checkpoints/best.ckpt")
    ckpt["hyper_parameters"]["extra"] = Path("x")  # an object, not a plain value
    torch.save(ckpt, tmp_path / "objects.ckpt")
    fails(["evaluate", tmp_path / "objects.ckpt"], capsys, "must not hold")


def test_config_file_that_is_not_utf8(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_bytes(b"name: x\nmodel:\n  cell: gru\n  # caf\xe9\n")
    fails(["train", "--config", path], capsys, str(path), "line 4", "UTF-8")


def test_a_training_file_with_one_class(data, tmp_path, capsys):
    fails(["train", "--train", data["oneclass.ts"], "--out", tmp_path / "r", *TINY], capsys,
          "oneclass.ts", "one class", "at least two")
    assert not (tmp_path / "r").exists()


def test_an_all_missing_training_file(data, tmp_path, capsys):
    fails(["train", "--train", data["allnan.npz"], "--out", tmp_path / "r", *TINY], capsys,
          "allnan.npz", "missing")


@pytest.mark.parametrize("name", ["../escape", "a/b", ".."])
def test_run_names_stay_under_runs(data, name, capsys):
    fails(["train", "--train", data["train.ts"], *TINY, f"name={name}"], capsys, "name")


# ---- left open by the team's own review ---------------------------------------------------------


def test_batchnorm_head_with_a_last_batch_of_one(data, tmp_path):
    out = tmp_path / "run"  # 61 sequences at batch 20: the last training batch holds one
    write_ts(_sequences(61, 4), tmp_path / "t.ts")
    assert cli(["train", "--train", tmp_path / "t.ts", "--test", data["test.ts"], "--out", out,
                 *TINY, "data.batch_size=20", "data.bucket=false", "data.val_fraction=0",
                 "model.head_batchnorm=true"]) == 0


def test_resume_refuses_data_with_another_number_of_batches(data, tmp_path, capsys):
    out = tmp_path / "run"
    with pytest.raises(RunInterrupted):
        train(tiny_config(data["mnist"], out, trainer={"epochs": 3}),
              callbacks=[_StopAfterFirstEpoch()])
    assert (out / "checkpoints/last.ckpt").is_file()
    fails(["train", "--resume", out, "--data-dir", data["mnist_small"]], capsys, "batches",
          keep=out)


class _StopAfterFirstEpoch(pl.Callback):
    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == 1:
            raise KeyboardInterrupt


def test_predict_keeps_an_existing_output_file(files_run, data, tmp_path, capsys):
    mine = tmp_path / "predictions.csv"
    mine.write_text("my own file\n")
    fails(["predict", files_run, "--data", data["test.ts"], "--output", mine], capsys,
          str(mine), "--overwrite", keep=tmp_path)
    assert cli(["predict", files_run, "--data", data["test.ts"], "--output", mine,
                "--overwrite"]) == 0
    assert mine.read_text().startswith("index,predicted")


# ---- found by the second probe ------------------------------------------------------------------


def test_two_runs_never_share_a_directory(tmp_path):
    first, lock1 = claim_run_dir(tmp_path / "runs/x-20261201-093508", default=True)
    second, lock2 = claim_run_dir(tmp_path / "runs/x-20261201-093508", default=True)
    assert first != second and second.name.endswith("-2")
    with pytest.raises(RunError, match="another run"):
        claim_run_dir(first, default=False)
    os.close(lock1)
    os.close(lock2)
    again, lock = claim_run_dir(first, default=False)  # its run ended: free again
    assert again == first
    os.close(lock)


def test_a_failed_resume_writes_nothing(files_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(files_run, run)
    (run / "checkpoints/best.ckpt").unlink()
    fails(["train", "--resume", run], capsys, "best.ckpt", keep=run)
    fails(["train", "--resume", tmp_path / "nothere"], capsys, "no such directory")


def test_a_run_stopped_before_its_first_check_can_start_again(data, tmp_path, capsys):
    out = tmp_path / "run"
    with pytest.raises(RunInterrupted, match="nothing to resume"):
        train(tiny_config(data["mnist"], out), callbacks=[_StopInFirstEpoch()])
    assert not (out / "checkpoints/last.ckpt").exists()
    assert cli(["train", "--data-dir", data["mnist"], "--out", out, *TINY, "data.val_size=20"]) \
        == 0
    assert (out / "checkpoints/best.ckpt").is_file()


def test_evaluate_refuses_read_options_that_would_move_the_split(files_run, capsys):
    fails(["evaluate", files_run, "--set", "data.delimiter=;"], capsys, "data.delimiter",
          keep=files_run)


@pytest.mark.parametrize(("args", "needle"), [
    (["--epochs", "2", "--set", "trainer.steps=30"], "both set the budget"),
    (["--set", "trainer.threads=999"], "trainer.threads=999"),
    (["--seed", str(2**32)], "trainer.seed"),
])
def test_budget_and_machine_settings_that_cannot_hold(data, tmp_path, args, needle, capsys):
    fails(["train", "--train", data["train.ts"], "--test", data["test.ts"], "--out",
           tmp_path / "r", *args], capsys, needle)
    assert not (tmp_path / "r").exists()


class _StopInFirstEpoch(pl.Callback):
    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        raise KeyboardInterrupt


def test_a_config_key_given_twice(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  hidden_size: 8\n  hidden_size: 16\n")
    fails(["train", "--config", path], capsys, str(path), "'hidden_size' is given twice",
          "c.yaml\", line 3")


def test_evaluate_notices_a_changed_validation_file(data, tmp_path, capsys):
    val = tmp_path / "val.ts"
    shutil.copy(data["test.ts"], val)
    out = tmp_path / "run"
    assert cli(["train", "--train", data["train.ts"], "--out", out, *TINY, f"data.val={val}"]) \
        == 0
    assert cli(["evaluate", out]) == 0
    val.write_text(val.read_text().replace("@data", "# edited\n@data", 1))
    fails(["evaluate", out], capsys, str(val), "changed", keep=out)


def test_resume_refuses_a_test_file_changed_since_the_run_started(data, tmp_path, capsys):
    test = tmp_path / "test.ts"
    shutil.copy(data["test.ts"], test)
    out = tmp_path / "run"
    assert cli(["train", "--train", data["train.ts"], "--test", test, "--out", out, *TINY]) == 0
    test.write_text(test.read_text().replace("@data", "# edited\n@data", 1))
    fails(["train", "--resume", out], capsys, str(test), "changed", keep=out)


def test_a_validation_file_is_named_as_the_validation(data, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli(["train", "--train", data["train.ts"], "--out", out, "--set",
                f"data.val={data['test.ts']}", "model.hidden_size=8", "trainer.steps=20"]) == 0
    printed = capsys.readouterr().out
    assert f"validation on {data['test.ts']}" in printed and "no validation split" not in printed


def test_predict_output_must_be_a_file_in_an_existing_folder(files_run, data, tmp_path, capsys):
    fails(["predict", files_run, "--data", data["test.ts"], "--output", tmp_path], capsys,
          "is a directory")
    fails(["predict", files_run, "--data", data["test.ts"], "--output",
           tmp_path / "no/such/p.csv"], capsys, "does not exist")
