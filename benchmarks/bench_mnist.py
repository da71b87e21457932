"""Row-MNIST benchmarks on full MNIST: recipe accuracy, time to 98 %, training-loop overhead.

    python benchmarks/bench_mnist.py recipes  [--data-dir DIR] [--configs FILE ...]
    python benchmarks/bench_mnist.py fast     [--data-dir DIR] [--config FILE]
    python benchmarks/bench_mnist.py overhead [--data-dir DIR]

* ``recipes`` trains each shipped row-MNIST recipe with ``rnnkit.runs.train`` (what
  ``rnnkit train --config FILE --data-dir DIR`` runs) and prints its test accuracy and wall time.
* ``fast`` runs, in one process, the popular tutorial recipe (a bare PyTorch loop: 2-layer
  torch.nn.LSTM, hidden 128, Adam 0.01, batch 100, 2 epochs, linear head on ``out[:, -1]``) and
  then an rnnkit recipe whose test accuracy is measured every ``--eval-every`` batches and at
  each epoch end; it reports the training wall time at which it first reaches 98 % test
  accuracy and its ratio to the tutorial recipe's wall time (evaluation time excluded).
* ``overhead`` trains the same model on the same data for the same number of steps with a bare
  PyTorch loop and with rnnkit's Lightning loop, alternating, and prints the time ratio.

The data directory defaults to ``../shared/data/mnist`` beside the repository.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import lightning.pytorch as pl
import torch
from torch import nn

from rnnkit.config import RunConfig, load_config
from rnnkit.data.mnist import load_mnist, mnist_view
from rnnkit.runs import train

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "mnist"
RECIPES = ["mnist_rows_lstm.yaml", "mnist_rows_bilstm.yaml", "mnist_rows_gru.yaml"]


def recipe(path: Path, data_dir: Path, out: Path, *extra: tuple[str, object]) -> RunConfig:
    overrides = [("data.source", str(data_dir)), ("data.download", False), ("out", str(out)),
                 ("trainer.progress_bar", False), *extra]
    return load_config(path, overrides)


def test_tensors(data_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = load_mnist(str(data_dir), "test")
    return torch.from_numpy(mnist_view(images, "rows", normalize=True)), torch.from_numpy(labels)


def run_recipes(args: argparse.Namespace) -> None:
    print("| recipe | test accuracy | epochs | wall time |")
    print("|---|---|---|---|")
    for name in args.configs:
        with tempfile.TemporaryDirectory() as tmp:
            config = recipe(ROOT / "configs" / name, args.data_dir, Path(tmp) / "run")
            result = train(config)
        accuracy = result.metrics["test_acc"]
        print(f"| {name} | {100 * accuracy:.2f} % | {config.trainer.epochs} | "
              f"{result.seconds / 60:.1f} min |", flush=True)


# -- the tutorial recipe, as a bare PyTorch loop ---------------------------------------------------
class TutorialModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(28, 128, 2, batch_first=True)
        self.fc = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    correct = sum(int((model(x[i : i + 1000]).argmax(1) == y[i : i + 1000]).sum())
                  for i in range(0, len(x), 1000))
    model.train()
    return correct / len(x)


def tutorial_recipe(data_dir: Path, epochs: int = 2) -> tuple[float, float]:
    """(training seconds, test accuracy) of the popular recipe; pixels in [0, 1] as ToTensor."""
    images, labels = load_mnist(str(data_dir), "train")
    x = torch.from_numpy(mnist_view(images, "rows"))
    y = torch.from_numpy(labels)
    test_images, test_labels = load_mnist(str(data_dir), "test")
    x_test = torch.from_numpy(mnist_view(test_images, "rows"))
    torch.manual_seed(0)
    model = TutorialModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for _ in range(epochs):
        for batch in torch.randperm(len(x)).split(100):
            loss = loss_fn(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    return seconds, accuracy(model, x_test, torch.from_numpy(test_labels))


class TestAccuracyClock(pl.Callback):
    """Test accuracy every ``every`` training batches and at each epoch end, with the training
    time spent so far (the evaluations themselves are not counted)."""

    def __init__(self, x_test: torch.Tensor, y_test: torch.Tensor, every: int) -> None:
        self.x_test, self.y_test, self.every = x_test, y_test, every
        self.points: list[tuple[float, float, float]] = []  # (epoch, seconds, accuracy)
        self.train_seconds = 0.0

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if (batch_idx + 1) % self.every == 0:
            self._measure(trainer, pl_module, batch_idx + 1)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._measure(trainer, pl_module, trainer.num_training_batches)

    def _measure(self, trainer, pl_module, batches_done: int) -> None:
        self.train_seconds += time.perf_counter() - self._start
        epoch = trainer.current_epoch + batches_done / trainer.num_training_batches
        if not self.points or self.points[-1][0] != epoch:
            acc = accuracy(pl_module, self.x_test, self.y_test)
            self.points.append((epoch, self.train_seconds, acc))
            print(f"  epoch {epoch:.2f}: test accuracy {100 * acc:.2f} % after "
                  f"{self.train_seconds:.1f} s of training", flush=True)
        self._start = time.perf_counter()


def run_fast(args: argparse.Namespace) -> None:
    seed_seconds, seed_acc = tutorial_recipe(args.data_dir)
    print(f"tutorial recipe (2-layer LSTM, Adam 0.01, 2 epochs, out[:, -1]): "
          f"{100 * seed_acc:.2f} % in {seed_seconds:.0f} s", flush=True)
    x_test, y_test = test_tensors(args.data_dir)
    clock = TestAccuracyClock(x_test, y_test, args.eval_every)
    with tempfile.TemporaryDirectory() as tmp:
        config = recipe(args.config, args.data_dir, Path(tmp) / "run",
                        ("data.val_size", args.val_size))
        train(config, callbacks=[clock])
    reached = next(((e, s) for e, s, a in clock.points if a >= 0.98), None)
    print(f"rnnkit recipe {args.config.name}: final {100 * clock.points[-1][2]:.2f} % after "
          f"{clock.points[-1][1]:.0f} s of training")
    if reached is None:
        print("rnnkit recipe never reached 98 % test accuracy")
    else:
        epoch, seconds = reached
        print(f"98 % reached at epoch {epoch:.2f}, {seconds:.0f} s of training: "
              f"{seconds / seed_seconds:.2f}x the tutorial recipe's wall time")


def run_overhead(args: argparse.Namespace) -> None:
    """Lightning loop (rnnkit.runs.train) vs a bare loop: same model, data, steps, optimizer."""
    rounds = []
    for round_index in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            config = recipe(ROOT / "configs" / "mnist_rows_lstm.yaml", args.data_dir,
                            Path(tmp) / "run", ("trainer.epochs", 1),
                            ("model.hidden_size", 128), ("model.dropout", 0.0),
                            ("model.head_dropout", 0.0))
            clock = EpochClock()
            order = ("bare", "rnnkit") if round_index % 2 == 0 else ("rnnkit", "bare")
            times = {}
            for which in order:
                if which == "rnnkit":
                    train(config, callbacks=[clock])
                    times["rnnkit"] = clock.seconds
                else:
                    times["bare"] = bare_loop(config, args.data_dir)
        rounds.append(times["rnnkit"] / times["bare"])
        print(f"  round {round_index + 1}: rnnkit {times['rnnkit']:.1f} s, bare "
              f"{times['bare']:.1f} s, ratio {rounds[-1]:.3f}", flush=True)
    print(f"training-loop overhead (one epoch, median of {args.repeats}): "
          f"{100 * (statistics.median(rounds) - 1):+.1f} %")


class EpochClock(pl.Callback):
    """Wall time of the training epoch (without validation), as the bare loop measures it."""

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.seconds = time.perf_counter() - self._start


def bare_loop(config: RunConfig, data_dir: Path) -> float:
    """One epoch of the same model/optimizer/schedule/clipping as a plain PyTorch loop."""
    from rnnkit.data.mnist.datamodule import MNISTDataModule
    from rnnkit.models import SequenceClassifier
    from rnnkit.families.optim import make_optimizer, make_scheduler

    torch.manual_seed(config.trainer.seed)
    dm = MNISTDataModule(str(data_dir), view="rows", batch_size=config.data.batch_size,
                         val_size=config.data.val_size, normalize=config.data.normalize)
    dm.setup("fit")
    model = SequenceClassifier.from_config(config.model, dm.input_size, dm.num_classes)
    loader = dm.train_dataloader()
    optimizer = make_optimizer(config.optim, model.parameters())
    schedule = make_scheduler(config.optim, optimizer, config.trainer.epochs * len(loader))
    scheduler = schedule["scheduler"] if schedule and schedule["interval"] == "step" else None
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for x, y in loader:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.trainer.grad_clip)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("recipes", "fast", "overhead"):
        p = sub.add_parser(name)
        p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
        p.add_argument("--threads", type=int, default=2)
    sub.choices["recipes"].add_argument("--configs", nargs="+", default=RECIPES)
    sub.choices["fast"].add_argument("--config", type=Path,
                                     default=ROOT / "configs" / "mnist_rows_fast.yaml")
    sub.choices["fast"].add_argument("--val-size", type=int, default=1000)
    sub.choices["fast"].add_argument("--eval-every", type=int, default=100,
                                     help="test accuracy every N training batches")
    sub.choices["overhead"].add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, data {args.data_dir}")
    {"recipes": run_recipes, "fast": run_fast, "overhead": run_overhead}[args.command](args)


if __name__ == "__main__":
    main()
