"""Small UCR/UEA problems: rnnkit's default ``train`` run next to 1-NN DTW and MiniRocket.

For each problem directory ``DATA/NAME`` holding ``NAME_TRAIN.ts`` and ``NAME_TEST.ts`` it measures,
training on the TRAIN file only and scoring on the TEST file:

* rnnkit defaults: ``.venv/bin/rnnkit train --train NAME_TRAIN.ts --test NAME_TEST.ts --out TMP``
  (no other flag), run as a subprocess; the figures come from its final line and the seconds are
  the wall time of the whole command;
* 1-NN DTW (full window): aeon ``KNeighborsTimeSeriesClassifier(n_neighbors=1, distance="dtw")``,
  ``KNeighborsTimeSeriesRegressor`` for regression;
* MiniRocket: aeon ``MiniRocketClassifier`` / ``MiniRocketRegressor`` (seeded);
* chance: the majority training class (regression: predicting the training mean).

Classification prints test accuracy, regression test RMSE / MAE, with seconds (fit + predict).

Goal: rnnkit's defaults reach at least 1-NN DTW's test accuracy on every classification problem,
each default run taking at most 2 minutes.

aeon 1.6 pins numpy below 2.4, so it lives in its own virtualenv; run this script with it::

    python3 -m venv /tmp/aeon-venv && /tmp/aeon-venv/bin/pip install aeon==1.6.0
    /tmp/aeon-venv/bin/python benchmarks/bench_small.py [--problems GunPoint] [--skip-rnnkit]

(only numpy and aeon are imported here; rnnkit runs from ``--rnnkit``, default
``.venv/bin/rnnkit``).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "ucr_uea"
LINE = re.compile(r"test (?:accuracy (?P<acc>[\d.]+)%|MAE (?P<mae>\S+), RMSE (?P<rmse>\S+)) on")


def load(path: Path):
    """(X (n, channels, length), y) via aeon; regression targets as float."""
    from aeon.datasets import load_from_ts_file

    X, y = load_from_ts_file(str(path))
    return X, y


def is_regression(y: np.ndarray) -> bool:
    return np.issubdtype(np.asarray(y).dtype, np.floating)


def score(y_true, y_pred, regression: bool) -> str:
    if regression:
        err = np.asarray(y_pred, float) - np.asarray(y_true, float)
        return f"RMSE {np.sqrt(np.mean(err ** 2)):.4g} MAE {np.mean(np.abs(err)):.4g}"
    return f"{100 * np.mean(np.asarray(y_pred) == np.asarray(y_true)):.1f}%"


def rnnkit_default(exe: str, train: Path, test: Path, threads: int) -> tuple[str, float]:
    with tempfile.TemporaryDirectory(prefix="rnnkit-bench-small-") as out:
        cmd = [exe, "train", "--train", str(train), "--test", str(test), "--out", out]
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
        seconds = time.perf_counter() - start
    found = [m for m in map(LINE.search, proc.stdout.splitlines()) if m]  # the figures line
    match = found[-1] if found else None
    if proc.returncode != 0 or match is None:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return "failed: " + " | ".join(tail), seconds
    if match["acc"] is not None:
        return f"{float(match['acc']):.1f}%", seconds
    return f"RMSE {float(match['rmse']):.4g} MAE {float(match['mae']):.4g}", seconds


def anchor(make, X_train, y_train, X_test, y_test, regression: bool) -> tuple[str, float]:
    start = time.perf_counter()
    model = make().fit(X_train, y_train)
    pred = model.predict(X_test)
    return score(y_test, pred, regression), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of problem dirs")
    parser.add_argument("--problems", nargs="+",
                        help="problem names (default: every one in --data)")
    parser.add_argument("--rnnkit", default=str(ROOT / ".venv" / "bin" / "rnnkit"))
    parser.add_argument("--threads", type=int, default=1, help="threads for rnnkit's torch")
    parser.add_argument("--skip-rnnkit", action="store_true", help="anchors only")
    parser.add_argument("--skip-anchors", action="store_true", help="rnnkit only")
    args = parser.parse_args()

    names = args.problems or sorted(p.name for p in args.data.iterdir()
                                    if (p / f"{p.name}_TRAIN.ts").exists())
    print("command: " + " ".join([Path(sys.executable).name, *sys.argv]))
    print("\n| problem | n train/test | length | classes | chance | rnnkit default | s | "
          "1-NN DTW | s | MiniRocket | s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in names:
        train, test = args.data / name / f"{name}_TRAIN.ts", args.data / name / f"{name}_TEST.ts"
        X_train, y_train = load(train)
        X_test, y_test = load(test)
        regression = is_regression(y_train)
        if regression:
            chance = score(y_test, np.full(len(y_test), np.mean(y_train.astype(float))), True)
            classes = "regr."
        else:
            labels, counts = np.unique(y_train, return_counts=True)
            chance = score(y_test, np.full(len(y_test), labels[np.argmax(counts)]), False)
            classes = str(len(labels))
        row = [name, f"{len(y_train)}/{len(y_test)}", str(X_train.shape[-1]), classes, chance]
        if args.skip_rnnkit:
            row += ["-", "-"]
        else:
            figure, seconds = rnnkit_default(args.rnnkit, train, test, args.threads)
            row += [figure, f"{seconds:.0f}"]
        if args.skip_anchors:
            row += ["-"] * 4
        else:
            from aeon.classification.convolution_based import MiniRocketClassifier
            from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier
            from aeon.regression.convolution_based import MiniRocketRegressor
            from aeon.regression.distance_based import KNeighborsTimeSeriesRegressor

            knn = KNeighborsTimeSeriesRegressor if regression else KNeighborsTimeSeriesClassifier
            rocket = MiniRocketRegressor if regression else MiniRocketClassifier
            for cls, kwargs in ((knn, {"n_neighbors": 1, "distance": "dtw"}),
                                (rocket, {"random_state": 0})):
                figure, seconds = anchor(lambda c=cls, k=kwargs: c(**k), X_train, y_train,
                                         X_test, y_test, regression)
                row += [figure, f"{seconds:.1f}"]
        print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
