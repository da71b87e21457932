"""Train a recurrent network written in plain NumPy, with hand-written backpropagation.

Two small synthetic tasks, each learned by plain gradient descent (W <- W - lr * dloss/dW):

* many-to-one: read a sequence of 3-channel noise of random length and say which channel had
  the largest total over the sequence's valid steps (3 classes, one label per sequence);
* many-to-many: read a stream of symbols and, at every step, name the symbol seen one step
  earlier (4 classes, one label per step; padded steps are not counted).

Everything here is NumPy: see ``rnnkit.reference`` for the equations. Runs in a few seconds::

    python examples/numpy_rnn_classifier.py --cell lstm
"""

from __future__ import annotations

import argparse

import numpy as np

from rnnkit.reference import Network

MAX_LEN = 12


def largest_channel_task(rng: np.random.Generator, batch: int):
    """x (L, N, 3) noise, lengths (N,), targets (N,) = argmax of each channel's valid sum."""
    lengths = rng.integers(4, MAX_LEN + 1, size=batch)
    valid = (np.arange(MAX_LEN)[:, None] < lengths)[:, :, None]  # (L, N, 1)
    x = rng.normal(size=(MAX_LEN, batch, 3)) * valid  # padded steps are zero
    return x, lengths, (x * valid).sum(axis=0).argmax(axis=1)


def previous_symbol_task(rng: np.random.Generator, batch: int):
    """x (L, N, 4) one-hot symbols, lengths (N,), targets (L, N) = the symbol at t - 1."""
    lengths = rng.integers(4, MAX_LEN + 1, size=batch)
    symbols = rng.integers(0, 4, size=(MAX_LEN, batch))
    targets = np.concatenate([np.zeros((1, batch), int), symbols[:-1]])  # step 0: class 0
    return np.eye(4)[symbols], lengths, targets


def accuracy(net: Network, x, lengths, targets) -> float:
    predicted = net.logits(x, lengths).argmax(axis=-1)
    if not net.many_to_many:
        return float((predicted == targets).mean())
    valid = np.arange(MAX_LEN)[:, None] < lengths  # (L, N)
    return float((predicted == targets)[valid].mean())


def train(title: str, task, net: Network, steps: int, lr: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    test = task(np.random.default_rng(seed + 1000), 500)  # a fixed held-out set
    print(f"\n{title}  ({net.cell}, {'many-to-many' if net.many_to_many else 'many-to-one'})")
    print(f"{'steps':>6} {'mean train loss':>16} {'test accuracy':>14}")
    print(f"{0:>6} {net.loss(test[0], test[2], test[1]):>16.4f} {accuracy(net, *test):>14.1%}")
    losses = []
    for step in range(1, steps + 1):
        x, lengths, targets = task(rng, 32)  # a fresh batch of 32 every step
        losses.append(net.train_step(x, targets, lengths, lr=lr))
        if step % (steps // 8) == 0:
            print(f"{step:>6} {np.mean(losses):>16.4f} {accuracy(net, *test):>14.1%}")
            losses = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", choices=["rnn", "lstm", "gru"], default="gru")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    net = Network.create(args.cell, 3, 16, 3, seed=args.seed)
    train(
        "Which channel has the largest total?",
        largest_channel_task,
        net,
        args.steps,
        args.lr,
        args.seed,
    )
    net = Network.create(args.cell, 4, 16, 4, many_to_many=True, seed=args.seed)
    train(
        "Which symbol came one step ago?", previous_symbol_task, net, args.steps, args.lr, args.seed
    )


if __name__ == "__main__":
    main()
