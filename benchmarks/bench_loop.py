"""Training-loop overhead on small data: ``rnnkit train`` vs a bare PyTorch loop.

Both train the same model (a 2x64 bidirectional GRU classifier, rnnkit.models), with the same
optimizer and schedule (Adam + one-cycle, gradient clipping 1.0), on the same batches (batch 8,
length 100, from the same SequenceDataModule), for the same number of optimizer steps. The
bare loop does nothing else; rnnkit's run also validates, logs, prints its progress lines and
writes its checkpoints at every check, as a user's run does. Rounds alternate between the two
in one process; the figure is the median of the per-round ratios of optimizer steps per second.

    python benchmarks/bench_loop.py [--steps 600] [--rounds 5] [--threads 1]

Goal: rnnkit at most 1.15x the bare loop's time per step (issue 9); 1.10x on a quiet
machine (issue 17).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
import time
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch

from rnnkit.config import load_config
from rnnkit.data.registry import get_source
from rnnkit.data.sequences import SequenceDataset
from rnnkit.data.sequences.ts import write_ts
from rnnkit.families import get_family
from rnnkit.families.optim import configure_optimizers
from rnnkit.runs import train


def write_data(root: Path, n: int = 400, length: int = 100, features: int = 3) -> Path:
    rng = np.random.default_rng(0)
    labels = np.arange(n) % 2
    seqs = [rng.normal(0, 1, (length, features)).cumsum(0) * (1 + labels[i]) for i in range(n)]
    write_ts(SequenceDataset(seqs, labels, "classification", ["a", "b"]), root / "train.ts")
    write_ts(SequenceDataset(seqs[:40], labels[:40], "classification", ["a", "b"]),
             root / "test.ts")
    return root


class FitClock(pl.Callback):
    """Wall time from the first to the last training step of a fit."""

    def on_train_start(self, trainer, pl_module):
        self.start = time.perf_counter()

    def on_train_end(self, trainer, pl_module):
        self.seconds = time.perf_counter() - self.start
        self.steps = trainer.global_step


def rnnkit_run(root: Path, steps: int, out: Path) -> float:
    config = load_config(overrides=[
        ("data.name", "files"), ("data.train", str(root / "train.ts")),
        ("data.test", str(root / "test.ts")), ("out", str(out)), "data.batch_size=8",
        "data.val_fraction=0.1", "data.bucket=false", "model.cell=gru", "model.hidden_size=64",
        "model.num_layers=2", "model.bidirectional=true", "model.summary=last",
        "model.patch=1", "optim.name=adam", f"trainer.steps={steps}",
    ])
    clock = FitClock()
    with contextlib.redirect_stdout(io.StringIO()):  # progress lines, as in a piped run
        train(config, callbacks=[clock])
    return clock.seconds / clock.steps


def bare_run(root: Path, steps: int) -> float:
    config = load_config(overrides=[
        ("data.name", "files"), ("data.train", str(root / "train.ts")), "data.batch_size=8",
        "data.val_fraction=0.1", "data.bucket=false", "model.cell=gru", "model.hidden_size=64",
        "model.num_layers=2", "model.bidirectional=true", "model.summary=last",
        "model.patch=1", "optim.name=adam",
    ])
    torch.manual_seed(0)
    dm = get_source("files").datamodule(config.data, seed=0, family="classify")
    dm.setup("fit")
    model = get_family("classify").build_model(config.model, dm.describe())
    setup = configure_optimizers(config.optim, model, steps)
    optimizer, scheduler = setup["optimizer"], setup["lr_scheduler"]["scheduler"]
    loader = dm.train_dataloader()
    done = 0
    start = time.perf_counter()
    while done < steps:
        for x, lengths, y in loader:
            loss = torch.nn.functional.cross_entropy(model(x, lengths), y)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            done += 1
            if done == steps:
                break
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        root = write_data(Path(tmp))
        ratios = []
        for r in range(args.rounds):
            ours = rnnkit_run(root, args.steps, Path(tmp) / f"run{r}")
            bare = bare_run(root, args.steps)
            ratios.append(ours / bare)
            print(f"round {r + 1}: rnnkit {1e3 * ours:.2f} ms/step, bare loop "
                  f"{1e3 * bare:.2f} ms/step, ratio {ours / bare:.3f}", flush=True)
    print(f"median ratio rnnkit / bare loop: {statistics.median(ratios):.3f} "
          f"(goal <= 1.15, issue 17: <= 1.10 on a quiet machine; {args.steps} steps, batch 8, "
          f"length 100, 2x64 BiGRU, "
          f"{args.threads} thread(s))")


if __name__ == "__main__":
    main()
