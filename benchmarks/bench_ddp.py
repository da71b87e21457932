"""One process vs two (Lightning DDP, gloo) on this machine: the main job's training
throughput, measured in the same way for both, one after the other.

    .venv/bin/python benchmarks/bench_ddp.py [--epochs 2] [--rounds 2]

Each round trains the main job (row-MNIST LSTM, bundled sample) for --epochs epochs with
trainer.devices=1 and then trainer.devices=2 (trainer.threads=1 in every process) and takes
the `after N s` that rnnkit train prints (fit and test). Throughput is training examples per
second of that time; the ratio is two processes over one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(devices: int, epochs: int, out: Path) -> tuple[float, dict]:
    env = {k: v for k, v in os.environ.items() if k not in ("MASTER_PORT", "RNNKIT_RUN_DIR")}
    cmd = [sys.executable, "-m", "rnnkit.cli", "train", "--out", str(out), "--epochs",
           str(epochs), "--no-progress", "--set", "trainer.accelerator=cpu",
           f"trainer.devices={devices}", "trainer.threads=1"]
    done = subprocess.run(cmd, cwd=ROOT, env={**env, "MPLBACKEND": "Agg"}, text=True,
                          capture_output=True, check=True)
    seconds = float(re.search(r"after (\d+) s", done.stdout).group(1))
    return seconds, json.loads((out / "test_metrics.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    examples = 9000 * args.epochs  # the bundled sample: 10,000 training images, 1,000 held out
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            times = {}
            for devices in (1, 2):
                seconds, m = run(devices, args.epochs, Path(tmp) / f"r{r}d{devices}")
                times[devices] = seconds
                print(f"round {r + 1}: {devices} process(es): {seconds:.0f} s, "
                      f"{examples / seconds:.0f} examples/s, test accuracy "
                      f"{100 * m['test_acc']:.2f}%", flush=True)
            print(f"round {r + 1}: throughput of 2 processes / 1: "
                  f"{times[1] / times[2]:.2f}x (os.cpu_count() = {os.cpu_count()})", flush=True)


if __name__ == "__main__":
    main()
