"""Sequence files: does the generic path match the MNIST task, respect lengths, read fast?

Three measurements, each printing the exact command and a markdown table::

    python benchmarks/bench_files.py generic   # MNIST task vs the same rows as .ts and long CSV
    python benchmarks/bench_files.py lengths   # variable lengths: lengths= path vs fed the padding
    python benchmarks/bench_files.py read      # .ts (>= 100 MB) vs NPZ reading speed

generic
    Full MNIST (``--mnist DIR``) is written out as ``.ts`` files and as long-form CSV files in a
    temporary directory, and three runs use one recipe (the main job's model: 2-layer LSTM,
    H=128, batch 100, Adam + onecycle, seed 0, ``--epochs`` epochs), all through
    ``rnnkit.cli.main(["train", ...])``: the MNIST task (``--data-dir``), ``--train train.ts``
    and ``--train train.csv``. For a fair comparison the files hold exactly the MNIST task's
    inputs (pixels / 255 standardised with MNIST's mean and std, written so they parse back to
    the same float32) and the file runs set ``data.normalize=false``; the MNIST task's
    validation images (1000, chosen by its seeded permutation) are written to ``val.*`` files
    passed as ``data.val``. The remaining difference is the shuffling order (the MNIST task
    shuffles with torch's generator, the files path with its seeded sampler and length buckets).

lengths
    A generated task whose label depends only on each sequence's valid steps: a noisy sine of
    one of two frequencies with a random phase, lengths 5..200, the rest of each row of ``X``
    filled with 1e3 (``--pad``). Written as NPZ and trained via ``--train`` once with
    ``lengths`` (padding never reaches a state) and once from an NPZ without ``lengths`` (the
    same model fed every step up to L_max: the padding is data).

read
    Random multivariate sequences (F = 3, lengths 50..150) written as a ``.ts`` file of at
    least ``--mb`` MB, as NPZ and as long CSV; reading speed in sequences per second.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_MNIST = HERE.parent.parent / "shared" / "data" / "mnist"


def _command() -> str:
    return "nice -n 5 .venv/bin/python benchmarks/bench_files.py " + shlex.join(sys.argv[1:])


def _train(argv: list[str]) -> tuple[dict, float]:
    """``rnnkit train ARGV`` in this process; (test_metrics.json, wall seconds)."""
    from rnnkit.cli import main

    out = Path(argv[argv.index("--out") + 1])
    start = time.perf_counter()
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        status = main(["train", *argv, "--no-progress"])
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"rnnkit train {' '.join(argv)} exited with {status}")
    print("   ", captured.getvalue().strip().splitlines()[-2], flush=True)
    return json.loads((out / "test_metrics.json").read_text()), seconds


# ------------------------------------------------------------------------------- generic


def _value_strings() -> np.ndarray:
    """The text of the MNIST task's input for each pixel value 0..255, shortest exact form."""
    from rnnkit.data.mnist import mnist_view

    pixels = np.arange(784).reshape(1, 28, 28) % 256
    values = mnist_view(pixels.astype(np.uint8), "rows", normalize=True).reshape(-1)[:256]
    texts = []
    for v in values:
        short = np.format_float_positional(v, unique=True, trim="-")
        if np.float32(float(short)) != v:  # parsed as float64, then cast, as the readers do
            short = f"{float(v):.9g}"
        texts.append(short)
    table = np.array(texts)
    assert (np.array(table, dtype=np.float64).astype(np.float32) == values).all()
    return table


def _write_mnist_files(root: Path, images: np.ndarray, labels: np.ndarray, name: str,
                       table: np.ndarray) -> None:
    """``name.ts`` (28 dimensions = pixel columns, 28 steps = rows) and ``name.csv`` (long)."""
    header = ["@problemName mnist_rows", "@timeStamps false", "@missing false",
              "@univariate false", "@dimensions 28", "@equalLength true", "@seriesLength 28",
              "@classLabel true " + " ".join(str(d) for d in range(10)), "@data"]
    with open(root / f"{name}.ts", "w") as f:
        f.write("\n".join(header) + "\n")
        for img, label in zip(images, labels, strict=True):
            cols = table[img.T]  # (28 columns, 28 rows) of text
            f.write(":".join(",".join(c) for c in cols) + f":{label}\n")
    with open(root / f"{name}.csv", "w") as f:
        f.write("id,time," + ",".join(f"c{j}" for j in range(28)) + ",label\n")
        for i, (img, label) in enumerate(zip(images, labels, strict=True)):
            rows = table[img]  # (28 rows, 28 columns)
            f.write("".join(f"{name}{i},{t},{','.join(r)},{label}\n" for t, r in enumerate(rows)))


def generic(args: argparse.Namespace) -> None:
    import torch

    from rnnkit.data import load_mnist, read_sequences
    from rnnkit.data.mnist.datamodule import MNISTDataModule

    torch.set_num_threads(args.threads)
    tmp = Path(tempfile.mkdtemp(prefix="rnnkit-bench-files-", dir=args.tmp))
    try:
        start = time.perf_counter()
        images, labels = load_mnist(args.mnist, "train")
        test_images, test_labels = load_mnist(args.mnist, "test")
        # the MNIST task's own split (MNISTDataModule.setup): a permutation seeded with the seed
        order = np.random.default_rng(args.seed).permutation(len(images))
        val_idx, train_idx = np.sort(order[: args.val_size]), np.sort(order[args.val_size :])
        table = _value_strings()
        for name, idx in (("train", train_idx), ("val", val_idx)):
            _write_mnist_files(tmp, images[idx], labels[idx], name, table)
        _write_mnist_files(tmp, test_images, test_labels, "test", table)
        sizes = {ext: sum((tmp / f"{n}.{ext}").stat().st_size for n in ("train", "val", "test"))
                 for ext in ("ts", "csv")}
        print(f"wrote MNIST as .ts ({sizes['ts'] / 1e6:.0f} MB) and long CSV "
              f"({sizes['csv'] / 1e6:.0f} MB) in {time.perf_counter() - start:.0f} s", flush=True)
        # the files hold exactly the MNIST task's validation inputs
        dm = MNISTDataModule(args.mnist, val_size=args.val_size, seed=args.seed, normalize=True)
        dm.setup("fit")
        val_ts = read_sequences(tmp / "val.ts")
        assert np.array_equal(np.stack(val_ts.sequences), dm.val_set.tensors[0].numpy())
        assert np.array_equal(val_ts.targets, dm.val_set.tensors[1].numpy())
        del dm, val_ts

        recipe = ["--epochs", str(args.epochs), "--seed", str(args.seed), "--set",
                  f"data.batch_size={args.batch_size}", f"data.val_size={args.val_size}"]
        runs = [("MNIST task (`--data-dir`)", ["--data-dir", str(args.mnist)], "")]
        for ext in ("ts", "csv"):
            runs.append(("`.ts` files (`--train train.ts`)" if ext == "ts"
                         else "long CSV (`--train train.csv`)",
                         ["--train", str(tmp / f"train.{ext}"), "--test", str(tmp / f"test.{ext}"),
                          "--set", f"data.val={tmp / f'val.{ext}'}", "data.normalize=false"],
                         f"{sizes[ext] / 1e6:.0f} MB"))
        results = []
        for label, data_args, size in runs:
            print(f"training: {label}", flush=True)
            out = tmp / f"run{len(results)}"
            metrics, seconds = _train([*data_args, *recipe, "--out", str(out)])
            results.append((label, size, metrics, seconds))
            shutil.rmtree(out, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    base = results[0][2]["test_acc"]
    print(f"\n{_command()}\n")
    print(f"Full MNIST rows (59,000 train / 1,000 val / 10,000 test), LSTM 2x128, batch "
          f"{args.batch_size}, Adam + onecycle, {args.epochs} epochs, seed {args.seed}, "
          f"{args.threads} thread(s)\n")
    print("| data path | files | test accuracy | difference | best epoch | wall time |")
    print("|---|---|---|---|---|---|")
    for label, size, m, seconds in results:
        diff = 100 * (m["test_acc"] - base)
        print(f"| {label} | {size or '-'} | {100 * m['test_acc']:.2f} % | "
              f"{diff:+.2f} points | {m['epoch']} | {seconds / 60:.1f} min |")


# ------------------------------------------------------------------------------- lengths


def _sines(n: int, rng: np.random.Generator, l_min: int, l_max: int, pad: float,
           periods: tuple[float, float], noise: float) -> tuple[np.ndarray, ...]:
    lengths = rng.integers(l_min, l_max + 1, n)
    y = rng.integers(0, 2, n)
    x = np.full((n, l_max, 1), pad, dtype=np.float32)
    for i, (k, c) in enumerate(zip(lengths, y, strict=True)):
        t = np.arange(k)
        phase = rng.uniform(0, 2 * np.pi)
        x[i, :k, 0] = np.sin(2 * np.pi * t / periods[c] + phase) + rng.normal(0, noise, k)
    return x, lengths, np.array(["slow", "fast"])[1 - y]


def lengths(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="rnnkit-bench-lengths-", dir=args.tmp))
    common = dict(l_min=5, l_max=200, pad=args.pad, periods=(6.0, 9.0), noise=args.noise)
    try:
        splits = {"train": _sines(args.n, rng, **common), "test": _sines(2000, rng, **common)}
        for name, (x, lens, y) in splits.items():
            np.savez(tmp / f"{name}.npz", X=x, lengths=lens, y=y)  # lengths=: padding is not data
            np.savez(tmp / f"{name}_padded.npz", X=x, y=y)  # no lengths: every row has L_max
        recipe = ["--epochs", str(args.epochs), "--seed", str(args.seed), "--set",
                  "model.cell=lstm", f"model.hidden_size={args.hidden}", "model.num_layers=1",
                  "data.batch_size=64", "optim.lr=0.005", "data.normalize=false"]
        results = []
        for label, suffix in (("with `lengths` (files path)", ""),
                              ("fed the padding (all lengths = L_max)", "_padded")):
            print(f"training: {label}", flush=True)
            out = tmp / f"run{suffix or '_lengths'}"
            metrics, seconds = _train(["--train", str(tmp / f"train{suffix}.npz"), "--test",
                                       str(tmp / f"test{suffix}.npz"), *recipe, "--out", str(out)])
            results.append((label, metrics, seconds))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    print(f"\n{_command()}\n")
    print(f"Sine of period 6 or 9 steps (random phase, noise {args.noise}), lengths 5..200, "
          f"padding {args.pad:g}; {args.n} train (10 % validation) / 2000 test; LSTM 1x"
          f"{args.hidden}, {args.epochs} epochs, seed {args.seed}, no input standardisation\n")
    print("| model input | test accuracy | best epoch | wall time |")
    print("|---|---|---|---|")
    for label, m, seconds in results:
        print(f"| {label} | {100 * m['test_acc']:.2f} % | {m['epoch']} | {seconds:.0f} s |")


# ---------------------------------------------------------------------------------- read


def read(args: argparse.Namespace) -> None:
    from rnnkit.data import read_sequences, write_npz, write_ts
    from rnnkit.data.sequences import SequenceDataset

    rng = np.random.default_rng(args.seed)
    # ~ 11 bytes per value in .ts text (%.9g), 3 features, mean length 100
    n = int(args.mb * 1e6 / (11 * 3 * 100)) + 1
    lengths_ = rng.integers(50, 151, n)
    seqs = [rng.normal(size=(k, 3)).astype(np.float32) for k in lengths_]
    ds = SequenceDataset(seqs, rng.integers(0, 4, n), "classification", ["a", "b", "c", "d"])
    tmp = Path(tempfile.mkdtemp(prefix="rnnkit-bench-read-", dir=args.tmp))
    rows = []
    try:
        start = time.perf_counter()
        write_ts(ds, tmp / "data.ts")
        write_npz(ds, tmp / "data.npz")
        with open(tmp / "data.csv", "w") as f:
            f.write("id,time,f0,f1,f2,label\n")
            for i, (s, c) in enumerate(zip(ds.sequences, ds.targets, strict=True)):
                f.write("".join(f"s{i},{t},{a:.9g},{b:.9g},{d:.9g},{'abcd'[c]}\n"
                                for t, (a, b, d) in enumerate(s.tolist())))
        print(f"wrote {n} sequences in {time.perf_counter() - start:.0f} s", flush=True)
        assert (tmp / "data.ts").stat().st_size >= args.mb * 1e6, "increase the size estimate"
        for label, name in (("UEA/UCR `.ts`", "data.ts"), ("NPZ", "data.npz"),
                            ("long CSV", "data.csv")):
            best = float("inf")
            for _ in range(args.repeats):
                start = time.perf_counter()
                got = read_sequences(tmp / name)
                best = min(best, time.perf_counter() - start)
            assert len(got) == n and np.array_equal(got.sequences[-1], seqs[-1])
            del got
            rows.append((label, (tmp / name).stat().st_size, best))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    npz_rate = n / rows[1][2]
    print(f"\n{_command()}\n")
    print(f"{n} sequences, F = 3, lengths 50..150 ({int(lengths_.sum()):,} steps), float32 "
          f"values written with 9 significant digits; best of {args.repeats} reads\n")
    print("| format | file size | read time | sequences / s | MB / s | vs NPZ |")
    print("|---|---|---|---|---|---|")
    for label, size, seconds in rows:
        rate = n / seconds
        print(f"| {label} | {size / 1e6:.0f} MB | {seconds:.2f} s | {rate:,.0f} | "
              f"{size / 1e6 / seconds:.0f} | {rate / npz_rate:.3f}x |")
    ts_rate = n / rows[0][2]
    print(f"\nNPZ reads {npz_rate / ts_rate:.0f}x as many sequences per second as .ts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="which", required=True)
    for name in ("generic", "lengths", "read"):
        p = sub.add_parser(name)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
        p.add_argument("--tmp", default=None, help="where the temporary files go")
        p.add_argument("--keep", action="store_true", help="keep the temporary files")
    g = sub.choices["generic"]
    g.add_argument("--mnist", type=Path, default=DEFAULT_MNIST, help="the full MNIST IDX files")
    g.add_argument("--epochs", type=int, default=3)
    g.add_argument("--batch-size", type=int, default=100)
    g.add_argument("--val-size", type=int, default=1000)
    g = sub.choices["lengths"]
    g.add_argument("--n", type=int, default=3000, help="training sequences")
    g.add_argument("--epochs", type=int, default=12)
    g.add_argument("--hidden", type=int, default=32)
    g.add_argument("--pad", type=float, default=1e3)
    g.add_argument("--noise", type=float, default=0.05)
    g = sub.choices["read"]
    g.add_argument("--mb", type=float, default=100.0, help="minimum .ts file size")
    g.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("MPLBACKEND", "Agg")
    {"generic": generic, "lengths": lengths, "read": read}[args.which](args)


if __name__ == "__main__":
    main()
