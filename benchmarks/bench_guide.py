"""The numbers quoted in docs/guide.md (issue 19), one subcommand per question.

``curves``: "why 96 % after 2 epochs?" Learning curves on full MNIST of the tutorials' row
LSTM (2 x 128, 2 epochs) beside a logistic regression and an MLP on the same 784 pixels, in
plain torch, all three with the tutorials' Adam 0.01 and batch 100, each evaluated on the whole
test set every ``--eval-every`` steps; then the same three models on *permuted* pixels (one
fixed permutation of the 784 pixels for every image and every model, the row LSTM reading the
permuted image as 28 rows of 28). A permutation of the inputs changes nothing for the logistic
regression and the MLP (it only relabels their input weights); for the row LSTM it destroys
the rows it reads::

    python benchmarks/bench_guide.py curves --data-dir ../shared/data/mnist

``dropout``: no dropout vs dropout between stacked layers vs variational dropout (input and
recurrent, one mask per sequence), each a real ``rnnkit train`` run (one thread), on row MNIST
(the bundled sample, what plain ``rnnkit train`` uses) or on the Chinese sentiment recipe::

    python benchmarks/bench_guide.py dropout mnist --epochs 4 --seeds 0 1
    python benchmarks/bench_guide.py dropout sentiment --steps 392 --seeds 0 1
    python benchmarks/bench_guide.py dropout mnist --variants recurrent   # recurrent_dropout alone

Each prints a Markdown table and writes JSON beside the runs (``--out``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

import rnnkit.nn
from rnnkit.data.mnist.images import load_mnist, pixel_permutation

ROOT = Path(__file__).resolve().parents[1]
RNNKIT = str(Path(sys.executable).with_name("rnnkit"))

# ---- curves ---------------------------------------------------------------------------------


class LogisticRegression(nn.Module):
    """784 pixels -> 10 logits, one matrix. Input (N, 28, 28), output (N, 10)."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(784, 10)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x.flatten(1))  # (N, 10)


class MLP(nn.Module):
    """784 pixels -> 256 ReLU units -> 10 logits. Input (N, 28, 28), output (N, 10)."""

    def __init__(self, hidden: int = 256) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x.flatten(1))  # (N, 10)


class RowLSTM(nn.Module):
    """The tutorials' model: 28 rows of 28 pixels -> 2-layer LSTM 128 -> last step -> 10."""

    def __init__(self, hidden: int = 128, num_layers: int = 2) -> None:
        super().__init__()
        self.lstm = rnnkit.nn.LSTM(28, hidden, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden, 10)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.lstm(x)  # (N, 28, H); one direction, so out[:, -1] is h_n[-1]
        return self.fc(out[:, -1])  # (N, 10)


MODELS = {"logreg": LogisticRegression, "mlp": MLP, "row_lstm": RowLSTM}
LR = 0.01  # the tutorials' recipe for all three: Adam 0.01, batch 100


@torch.no_grad()
def accuracy(model: nn.Module, x: Tensor, y: Tensor, batch: int = 1000) -> float:
    model.eval()
    correct = sum(int((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum())
                  for i in range(0, len(x), batch))
    model.train()
    return correct / len(x)


def train_curve(name: str, train: tuple[Tensor, Tensor], test: tuple[Tensor, Tensor], *,
                epochs: int, batch: int, eval_every: int, seed: int) -> dict:
    """Adam, cross-entropy, shuffled batches; test accuracy every ``eval_every`` steps."""
    torch.manual_seed(seed)
    model = MODELS[name]()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    x, y = train
    generator = torch.Generator().manual_seed(seed)
    points, step, start = [], 0, time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for i in range(0, len(x), batch):
            index = order[i:i + batch]
            loss = nn.functional.cross_entropy(model(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if step % eval_every == 0:
                points.append((step, accuracy(model, *test)))
    if not points or points[-1][0] != step:
        points.append((step, accuracy(model, *test)))
    return {"model": name, "lr": LR, "points": points,
            "seconds": round(time.perf_counter() - start, 1),
            "parameters": sum(p.numel() for p in model.parameters())}


def load(source: str, split: str, permutation: np.ndarray | None) -> tuple[Tensor, Tensor]:
    images, labels = load_mnist(source, split)
    x = images.astype(np.float32).reshape(len(images), 784) / 255.0  # (N, 784), as ToTensor
    if permutation is not None:
        x = x[:, permutation]  # the same fixed order for every image and every model
    return torch.from_numpy(np.ascontiguousarray(x).reshape(-1, 28, 28)), torch.from_numpy(labels)


def run_curves(args: argparse.Namespace) -> None:
    results = []
    for order in ("rows", "permuted"):
        permutation = pixel_permutation(args.perm_seed) if order == "permuted" else None
        train, test = load(args.data_dir, "train", permutation), load(args.data_dir, "test",
                                                                       permutation)
        for name in args.models:
            result = train_curve(name, train, test, epochs=args.epochs, batch=args.batch,
                                 eval_every=args.eval_every, seed=args.seed)
            result["pixels"] = order
            results.append(result)
            last = result["points"][-1]
            print(f"{order:<9} {name:<9} step {last[0]}: {100 * last[1]:.2f} % "
                  f"({result['seconds']} s)", flush=True)
    steps = [s for s, _ in results[0]["points"]]
    print(f"\ntest accuracy (%) after N steps of batch {args.batch} "
          f"({len(train[0])} training images, {len(test[0])} test images, seed {args.seed})\n")
    print("| pixels | model | " + " | ".join(str(s) for s in steps) + " |")
    print("|---|---|" + "---|" * len(steps))
    for r in results:
        print(f"| {r['pixels']} | {r['model']} | "
              + " | ".join(f"{100 * a:.2f}" for _, a in r["points"]) + " |")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "curves.json").write_text(json.dumps(results, indent=1))
    if args.plot:
        plot_curves(results, args.out / "curves.png")


def plot_curves(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for r in results:
        steps, acc = zip(*r["points"], strict=True)
        style = "-" if r["pixels"] == "rows" else "--"
        ax.plot(steps, [100 * a for a in acc], style, marker=".",
                label=f"{r['model']}, {r['pixels']} pixels")
    ax.set(xlabel="optimizer steps (batch 100)", ylabel="test accuracy (%)", ylim=(80, 100))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"plot: {path}")


# ---- dropout --------------------------------------------------------------------------------

VARIANTS = {
    "none": ["model.dropout=0", "model.input_dropout=0", "model.recurrent_dropout=0"],
    "between layers 0.3": ["model.dropout=0.3", "model.input_dropout=0",
                           "model.recurrent_dropout=0"],
    "variational 0.3 (input + recurrent)": ["model.dropout=0", "model.input_dropout=0.3",
                                            "model.recurrent_dropout=0.3"],
    "recurrent 0.3 only": ["model.dropout=0", "model.input_dropout=0",
                           "model.recurrent_dropout=0.3"],
}
DEFAULT_VARIANTS = ["none", "between", "variational"]


def task_command(task: str, args: argparse.Namespace) -> list[str]:
    """The ``rnnkit train`` command of a task, before the variant's overrides."""
    if task == "mnist":  # plain `rnnkit train`: bundled sample, 2 x 128 LSTM
        return [RNNKIT, "train", "--epochs", str(args.epochs), "--set", "trainer.threads=1"]
    # the sentiment recipe with two layers (dropout between layers needs a second one)
    # (and, to fit the CPU time of one session, H=64 and texts cut at 100 characters)
    return [RNNKIT, "train", "--config", "configs/sentiment_chinese.yaml", "--set",
            "trainer.threads=1", f"trainer.steps={args.steps}",
            f"trainer.check_every={args.steps // 4}", "model.num_layers=2",
            "model.hidden_size=64", "data.max_length=100"]


def run_dropout(args: argparse.Namespace) -> None:
    rows = []
    chosen = [v for v in VARIANTS if v.split()[0] in args.variants]
    for variant in chosen:
        overrides = VARIANTS[variant]
        accs = []
        for seed in args.seeds:
            out = args.out / args.task / f"{variant.split()[0]}-seed{seed}"
            command = [*task_command(args.task, args), *overrides, "--seed", str(seed),
                       "--out", str(out), "--no-progress"]
            start = time.perf_counter()
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            seconds = time.perf_counter() - start
            if done.returncode != 0:
                sys.exit(f"failed: {' '.join(command)}\n{done.stderr[-2000:]}")
            acc = json.loads((out / "test_metrics.json").read_text())["test_acc"]
            accs.append(acc)
            print(f"{args.task} {variant} seed {seed}: {100 * acc:.2f} % ({seconds:.0f} s)",
                  flush=True)
            rows.append({"variant": variant, "seed": seed, "test_acc": acc,
                         "seconds": round(seconds), "command": command[1:]})
        mean = sum(accs) / len(accs)
        spread = max(accs) - min(accs)
        print(f"  {variant}: mean {100 * mean:.2f} %, seeds {args.seeds}, "
              f"spread {100 * spread:.2f} points", flush=True)
    print(f"\n| {args.task}: variant | " + " | ".join(f"seed {s}" for s in args.seeds)
          + " | mean |")
    print("|---|" + "---|" * (len(args.seeds) + 1))
    for variant in chosen:
        accs = [r["test_acc"] for r in rows if r["variant"] == variant]
        print(f"| {variant} | " + " | ".join(f"{100 * a:.2f}" for a in accs)
              + f" | {100 * sum(accs) / len(accs):.2f} |")
    name = "dropout.json" if args.variants == DEFAULT_VARIANTS else (
        f"dropout-{'-'.join(args.variants)}.json")
    (args.out / args.task / name).write_text(json.dumps(rows, indent=1))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    curves = sub.add_parser("curves", help="learning curves: row LSTM vs logreg vs MLP")
    curves.add_argument("--data-dir", default="bundled", help="MNIST IDX directory or bundled")
    curves.add_argument("--epochs", type=int, default=2)
    curves.add_argument("--batch", type=int, default=100)
    curves.add_argument("--eval-every", type=int, default=100)
    curves.add_argument("--seed", type=int, default=0)
    curves.add_argument("--perm-seed", type=int, default=0)
    curves.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    curves.add_argument("--plot", action="store_true", help="also write curves.png")
    curves.add_argument("--out", type=Path, default=Path("/tmp/bench_guide"))
    dropout = sub.add_parser("dropout", help="dropout variants with rnnkit train")
    dropout.add_argument("task", choices=("mnist", "sentiment"))
    dropout.add_argument("--epochs", type=int, default=4, help="mnist: training epochs")
    dropout.add_argument("--steps", type=int, default=392,
                         help="sentiment: optimizer steps (196 per epoch)")
    dropout.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    dropout.add_argument("--variants", nargs="+", default=DEFAULT_VARIANTS,
                         choices=[v.split()[0] for v in VARIANTS])
    dropout.add_argument("--out", type=Path, default=Path("/tmp/bench_guide"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread", flush=True)
    if args.command == "curves":
        run_curves(args)
    else:
        if args.steps < 4:
            parser.error("--steps must be at least 4")
        run_dropout(args)


if __name__ == "__main__":
    main()
