"""Scratch record: one variant of the sentiment recipe, trained and scored on its own split.

    .venv/bin/python benchmarks/explore_text.py NAME KEY=VALUE ...

trains ``configs/sentiment_chinese.yaml`` with the overrides into ``/tmp/explore/NAME`` and
appends ``NAME  test ACC  best_val ACC  SECONDS  OVERRIDES`` to ``/tmp/explore/results.tsv``.
The variants in benchmarks/RESULTS.md (issue 11) were run with it; the overrides of each are
listed there. The recipe changed while they ran (a run's config.yaml says what it used).
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("MPLBACKEND", "Agg")


def main() -> None:
    from rnnkit.config import load_config
    from rnnkit.runs.train import train

    name, *overrides = sys.argv[1:]
    os.chdir(ROOT)
    out = Path("/tmp/explore") / name
    config = load_config("configs/sentiment_chinese.yaml",
                         [*overrides, ("out", str(out)), "trainer.progress_bar=false"])
    result = train(config)
    rows = [r for r in csv.DictReader(open(out / "metrics.csv")) if r.get("val_acc")]
    best_val = max(float(r["val_acc"]) for r in rows) if rows else float("nan")
    line = (f"{name}\ttest {result.metrics['test_acc']:.4f}\tbest_val {best_val:.4f}\t"
            f"{result.seconds:.0f}s\t{' '.join(overrides)}")
    print(line)
    with open("/tmp/explore/results.tsv", "a") as f:
        f.write(line + "\n")


if __name__ == "__main__":
    main()
