"""Training on several processes and machines with Lightning's DDP: which process this one is,
where the run directory is, and what the processes agree on.

Lightning runs ``trainer.devices`` processes per machine on ``trainer.num_nodes`` machines.
On one machine it starts the others itself, when the first calls ``Trainer.fit``: they run
the same ``rnnkit train`` command again, with ``LOCAL_RANK`` set. Launched by torchrun or
SLURM, every process starts at once with its rank in the environment. Either way each process
runs :func:`~rnnkit.runs.train.train` from the top: it reads the data and builds the model as
the others do, but only the first process (global rank 0) creates and writes the run
directory; the others learn its path from :data:`RUN_DIR_ENV` (set by the first before it
starts them) or ``--out``. After training, the first process alone tests the best checkpoint,
in one process, so every test example counts once.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import torch

from rnnkit.config import ConfigError, RunConfig

__all__ = ["RUN_DIR_ENV", "check_launch", "check_port", "end_process_group",
           "follower_run_dir", "gather_objects", "global_rank", "process_count",
           "weights_checksum"]

RUN_DIR_ENV = "RNNKIT_RUN_DIR"  # the run directory the first process claimed, for the others


def process_count(config: RunConfig) -> int:
    """The processes a training run of ``config`` takes part in: devices x num_nodes (a list
    of device indices counts its entries; ``auto``: what Lightning would use, 1 on a CPU)."""
    t = config.trainer
    devices = t.devices
    if isinstance(devices, str) and devices != "auto":
        count = len([d for d in devices.split(",") if d.strip()])
    elif devices == "auto":
        count = torch.cuda.device_count() if t.accelerator in ("auto", "gpu", "cuda") \
            and torch.cuda.is_available() else 1
    else:
        count = int(devices)
    return max(count, 1) * t.num_nodes


def global_rank(config: RunConfig) -> int:
    """This process's rank among all, from the environment its launcher set: a process
    Lightning started for the first one (it sees :data:`RUN_DIR_ENV`) is never first;
    ``RANK`` (torchrun); ``SLURM_PROCID`` (a SLURM batch job, as Lightning detects it); else
    ``NODE_RANK`` x devices + ``LOCAL_RANK`` (processes started by hand); 0 alone."""
    from lightning.fabric.plugins.environments import SLURMEnvironment

    env = os.environ
    if process_count(config) == 1:
        return 0
    local = int(env.get("LOCAL_RANK", "0") or 0)
    if env.get(RUN_DIR_ENV):
        return max(local, 1)
    if env.get("RANK", "").isdigit():
        return int(env["RANK"])
    if SLURMEnvironment.detect() and env.get("SLURM_PROCID", "").isdigit():
        return int(env["SLURM_PROCID"])
    node = int(env.get("NODE_RANK", env.get("GROUP_RANK", "0")) or 0)
    return node * (process_count(config) // config.trainer.num_nodes) + local


def check_launch(config: RunConfig) -> None:
    """Raise ConfigError when the processes a launcher started do not match the config
    (``WORLD_SIZE`` vs devices x num_nodes), or when they were started outside rnnkit
    (torchrun, SLURM, by hand) without the one ``--out`` they all must share."""
    from lightning.fabric.plugins.environments import SLURMEnvironment

    env, wanted = os.environ, process_count(config)
    started = int(env["WORLD_SIZE"]) if env.get("WORLD_SIZE", "").isdigit() else None
    if started is not None and started > 1 and started != wanted and not env.get(RUN_DIR_ENV):
        raise ConfigError(f"WORLD_SIZE={started} processes were started, but trainer.devices x "
                          f"trainer.num_nodes is {wanted}; make them match")
    external = not env.get(RUN_DIR_ENV) and (
        "RANK" in env or "TORCHELASTIC_RUN_ID" in env or SLURMEnvironment.detect()
        or "LOCAL_RANK" in env)
    if wanted > 1 and external and not config.out:
        raise ConfigError("every process of a run started by torchrun, SLURM or by hand "
                          "writes to one run directory: give each the same --out DIR (on a "
                          "file system they share)")


def follower_run_dir(config: RunConfig) -> Path:
    """The run directory of a process other than the first: the one the first claimed
    (:data:`RUN_DIR_ENV`), else ``--out``, which every process started outside rnnkit needs."""
    if os.environ.get(RUN_DIR_ENV):
        return Path(os.environ[RUN_DIR_ENV])
    if config.out:
        return Path(config.out)
    raise ConfigError("every process of a run started by torchrun, SLURM or by hand writes "
                      "to one run directory: give each the same --out DIR (on a file system "
                      "they share)")


def check_port() -> None:
    """Raise ConfigError when ``MASTER_PORT`` (where the first process listens for the others)
    is already taken on this machine; only the first process on the first machine binds it
    (under torchrun its agent does, so nothing is checked)."""
    port = os.environ.get("MASTER_PORT")
    if not port or "TORCHELASTIC_RUN_ID" in os.environ:
        return
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"MASTER_PORT must be a port number, got {port!r}")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((os.environ.get("MASTER_ADDR", "127.0.0.1"), int(port)))
        except OSError as err:
            raise ConfigError(f"MASTER_PORT={port} is in use on this machine ({err.strerror}); "
                              "choose another port (or unset it for a free one)") from None


def gather_objects(value: Any) -> list[Any]:
    """``value`` of every process, in rank order (``[value]`` in a single process)."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return [value]
    out: list[Any] = [None] * torch.distributed.get_world_size()
    torch.distributed.all_gather_object(out, value)
    return out


def weights_checksum(model: torch.nn.Module) -> float:
    """A sum over every parameter (float64) that two copies of a model share only when their
    weights are equal: each process's copy after training must give the same one."""
    with torch.no_grad():
        return float(sum((p.double() * (1 + i % 7)).sum().item()
                         for i, p in enumerate(model.parameters())))


def end_process_group() -> None:
    """Leave the process group (after training), so a test in one process never waits on the
    others."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
