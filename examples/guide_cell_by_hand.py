"""A cell driven by hand: an LSTMCell stepped through a sequence is an LSTM layer.

    python examples/guide_cell_by_hand.py

The tutorials' first pattern: ``nn.LSTMCell`` computes ONE time step, so you write the loop
over time yourself. Here the loop is written out, and its result is compared with the layer
that runs the same loop inside (same weights). Letters: N batch, L steps, F input features,
H hidden units.

    x           (N, L, F)   the whole batch of sequences (batch first)
    x[:, t]     (N, F)      step t of every sequence: what a cell reads
    h, c        (N, H)      the cell's two states after each step
    stacked h   (N, L, H)   every step's h: the layer's ``output``
    h_n         (1, N, H)   the layer's final h: (num_layers * D, N, H)
"""

from __future__ import annotations

import argparse

import torch

import rnnkit.nn


def show(name: str, tensor: torch.Tensor, meaning: str) -> None:
    print(f"  {name:<12} {str(tuple(tensor.shape)):<12} {meaning}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=3, help="N")
    parser.add_argument("--seq-len", type=int, default=5, help="L")
    parser.add_argument("--input-size", type=int, default=2, help="F")
    parser.add_argument("--hidden-size", type=int, default=4, help="H")
    args = parser.parse_args(argv)
    n, length, f, h_size = args.batch, args.seq_len, args.input_size, args.hidden_size

    torch.manual_seed(0)
    layer = rnnkit.nn.LSTM(f, h_size, batch_first=True)
    cell = rnnkit.nn.LSTMCell(f, h_size)
    # The layer's parameters are the cell's, with "_l0" (layer 0) added to their names.
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in layer.state_dict().items()})

    x = torch.randn(n, length, f)  # (N, L, F)
    h = torch.zeros(n, h_size)  # (N, H)
    c = torch.zeros(n, h_size)  # (N, H)
    steps = []
    for t in range(length):
        h, c = cell(x[:, t], (h, c))  # one step: (N, F), ((N, H), (N, H)) -> (N, H), (N, H)
        steps.append(h)
    by_hand = torch.stack(steps, dim=1)  # (N, L, H)
    output, (h_n, c_n) = layer(x)  # (N, L, H), ((1, N, H), (1, N, H))

    print(f"LSTMCell({f}, {h_size}) stepped {length} times by hand:")
    show("x", x, "(N, L, F)")
    show("x[:, t]", x[:, 0], "(N, F)     one step of every sequence")
    show("h, c", h, "(N, H)     the states after each step")
    show("stacked h", by_hand, "(N, L, H)  torch.stack(steps, dim=1)")
    print(f"LSTM({f}, {h_size}, batch_first=True) on the same x:")
    show("output", output, "(N, L, H)")
    show("h_n, c_n", h_n, "(num_layers * D, N, H)")
    print("stacked h == output:", torch.allclose(by_hand, output, atol=1e-6))
    print("last h == h_n[0], last c == c_n[0]:",
          torch.allclose(h, h_n[0], atol=1e-6) and torch.allclose(c, c_n[0], atol=1e-6))


if __name__ == "__main__":
    main()
