"""Training on two processes (Lightning DDP on the CPU, gloo): the main job started once with
trainer.devices=2, and two processes started by hand as two machines on 127.0.0.1; one run
directory, the expected optimizer steps, the same weights in both processes, the figure printed
once; and the settings that cannot run, refused before anything is written."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rnnkit.cli import main

TRAIN, TEST, VAL = 200, 40, 40
CPU2 = ["trainer.accelerator=cpu", "trainer.threads=1", "model.hidden_size=16"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rnnkit(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("RANK", "LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "MASTER_PORT",
                          "MASTER_ADDR", "RNNKIT_RUN_DIR")}
    return subprocess.Popen([sys.executable, "-m", "rnnkit.cli", "train", *args],
                            env={**clean, "MPLBACKEND": "Agg", **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> tuple[str, str]:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-2000:]
    return out, err


def check_run(root: Path, out: Path, processes: int = 2) -> dict:
    assert [p.name for p in root.iterdir() if p.name != "mnist"] == [out.name]  # one run dir
    metrics = json.loads((out / "test_metrics.json").read_text())
    assert metrics["processes"] == processes and metrics["num_examples"] == TEST
    assert len(set(metrics["weights_checksums"])) == 1  # the same weights in every process
    last = torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)
    per_process = -(-(TRAIN - VAL) // processes)  # each process reads its share of the 160
    assert last["global_step"] == -(-per_process // 32)  # one epoch of batches of 32
    return metrics


@pytest.fixture
def tiny(tmp_path: Path, make_tiny_mnist) -> Path:
    """A folder holding only ``mnist/``, tiny MNIST files: what else appears is a run's."""
    (tmp_path / "mnist").symlink_to(make_tiny_mnist(n_train=TRAIN, n_test=TEST))
    return tmp_path


def test_the_main_job_on_two_processes(tiny):
    out = tiny / "run"
    stdout, _ = finish(rnnkit("--data-dir", str(tiny / "mnist"), "--out", str(out), "--epochs",
                              "1", "--no-progress", "--set", f"data.val_size={VAL}",
                              "data.batch_size=32", "trainer.devices=2", *CPU2))
    check_run(tiny, out)
    assert stdout.count("test accuracy") == 1 and stdout.count("budget:") == 1
    assert "2 processes share every epoch" in stdout
    assert stdout.strip().splitlines()[-1] == f"run directory: {out}"


def test_two_machines_on_one_host_train_one_model(tiny):
    out, port = tiny / "run", free_port()
    args = ["--data-dir", str(tiny / "mnist"), "--out", str(out), "--epochs", "1",
            "--no-progress", "--set", f"data.val_size={VAL}", "data.batch_size=32",
            "trainer.devices=1", "trainer.num_nodes=2", "trainer.strategy=ddp", *CPU2]
    env = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "WORLD_SIZE": "2",
           "LOCAL_RANK": "0"}
    nodes = [rnnkit(*args, env={**env, "NODE_RANK": str(rank)}) for rank in (0, 1)]
    (first, _), (second, _) = finish(nodes[0]), finish(nodes[1])
    check_run(tiny, out)
    assert first.count("test accuracy") == 1 and "test accuracy" not in second


@pytest.mark.parametrize("settings, message", [
    (["trainer.accelerator=cpu", "trainer.devices=4096"], "asks for 4096 CPU processes"),
    (["trainer.accelerator=cpu", "trainer.devices=2", "trainer.strategy=teleport"],
     "cannot run here: "),
])
def test_settings_that_cannot_run_are_refused_before_anything_is_written(tiny, capsys,
                                                                          settings, message):
    out = tiny / "run"
    assert main(["train", "--data-dir", str(tiny / "mnist"), "--out", str(out), "--set",
                 f"data.val_size={VAL}", *settings]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_a_port_in_use_is_refused(tiny, capsys, monkeypatch):
    out = tiny / "run"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
        monkeypatch.setenv("MASTER_PORT", str(taken.getsockname()[1]))
        assert main(["train", "--data-dir", str(tiny / "mnist"), "--out", str(out), "--set",
                     f"data.val_size={VAL}", "trainer.accelerator=cpu",
                     "trainer.devices=2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "is in use on this machine" in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_a_language_model_says_it_trains_in_one_process(tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text("to be or not to be\n" * 200, encoding="utf-8")
    assert main(["train", "--text", str(text), "--out", str(tmp_path / "run"), "--set",
                 "trainer.accelerator=cpu", "trainer.devices=2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "the lm family trains in one process" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "run").exists()


LAUNCH_VARS = ("RANK", "LOCAL_RANK", "NODE_RANK", "GROUP_RANK", "WORLD_SIZE", "SLURM_PROCID",
               "SLURM_NTASKS", "SLURM_JOB_NAME", "TORCHELASTIC_RUN_ID", "RNNKIT_RUN_DIR")


def config_of(**trainer):
    from rnnkit.config import RunConfig

    return RunConfig.from_dict({"trainer": {"accelerator": "cpu", **trainer}})


@pytest.mark.parametrize("env, trainer, rank", [
    ({}, {"devices": 2}, 0),                                           # the first, before fit
    ({"LOCAL_RANK": "1", "RNNKIT_RUN_DIR": "/r"}, {"devices": 2}, 1),  # Lightning's child
    ({"LOCAL_RANK": "0", "RNNKIT_RUN_DIR": "/r"}, {"devices": 2}, 1),  # ... never first
    ({"RANK": "3", "LOCAL_RANK": "1", "WORLD_SIZE": "4"}, {"devices": 2, "num_nodes": 2}, 3),
    ({"NODE_RANK": "1", "LOCAL_RANK": "0", "WORLD_SIZE": "2"}, {"devices": 1, "num_nodes": 2}, 1),
    ({"NODE_RANK": "1", "LOCAL_RANK": "1"}, {"devices": 2, "num_nodes": 2}, 3),
    ({"LOCAL_RANK": "1"}, {"devices": 1}, 0),                          # one process: first
])
def test_which_process_this_is(monkeypatch, env, trainer, rank):
    from rnnkit.runs.distributed import global_rank

    for key in LAUNCH_VARS:
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert global_rank(config_of(**trainer)) == rank


def test_counts_and_launches_that_do_not_match(monkeypatch):
    from rnnkit.config import ConfigError, RunConfig
    from rnnkit.runs.distributed import check_launch, process_count

    for key in LAUNCH_VARS:
        monkeypatch.delenv(key, raising=False)
    assert process_count(config_of(devices="2")) == 2  # a count in quotes is a count
    assert process_count(config_of(devices="0,1", num_nodes=3)) == 6
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(ConfigError, match="WORLD_SIZE=2 processes were started"):
        check_launch(config_of(devices=4))
    with pytest.raises(ConfigError, match="give each the same --out DIR"):
        check_launch(config_of(devices=2))
    check_launch(RunConfig.from_dict({"out": "runs/x", "trainer": {"devices": 2}}))
