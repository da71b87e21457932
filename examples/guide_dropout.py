"""Stacking and dropout: what ``num_layers`` and the three kinds of dropout do to a layer.

    python examples/guide_dropout.py

``num_layers=K`` stacks K layers: layer k > 0 reads layer k-1's output, so its input weights
are ``(G*H, D*H)`` instead of ``(G*H, F)`` (G gates: 4 for LSTM), and ``h_n`` holds one final
state per layer and direction, ``(K*D, N, H)``. Letters: N batch, L steps, F features, H hidden.

Dropout, in training mode only (``model.eval()`` switches all of it off):

* ``dropout=p`` (torch.nn's): on the output of every layer but the last, a fresh mask at every
  step. Needs ``num_layers >= 2``; with one layer it does nothing (a warning says so).
* ``input_dropout=p`` (variational): on each layer's input, ONE mask per sequence, the same at
  every step.
* ``recurrent_dropout=p`` (variational, Gal and Ghahramani): on ``h_{t-1}`` inside the
  recurrent product, one mask per sequence. torch's fused kernels have neither, so the layer
  runs its explicit path (``explain()`` says which path runs and why).
"""

from __future__ import annotations

import argparse

import torch

import rnnkit.nn


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=3, help="N")
    parser.add_argument("--seq-len", type=int, default=5, help="L")
    parser.add_argument("--input-size", type=int, default=2, help="F")
    parser.add_argument("--hidden-size", type=int, default=4, help="H")
    args = parser.parse_args(argv)
    n, length, f, h = args.batch, args.seq_len, args.input_size, args.hidden_size

    torch.manual_seed(0)
    x = torch.randn(n, length, f)  # (N, L, F)
    stacked = rnnkit.nn.LSTM(f, h, num_layers=3, dropout=0.5, batch_first=True)
    print(f"LSTM({f}, {h}, num_layers=3, dropout=0.5, batch_first=True)")
    for name, p in stacked.named_parameters():
        if name.startswith("weight_ih"):
            print(f"  {name}  {tuple(p.shape)}")
    output, (h_n, c_n) = stacked(x)
    print(f"  output {tuple(output.shape)} (N, L, H): the top layer only")
    print(f"  h_n    {tuple(h_n.shape)} (num_layers*D, N, H): one final state per layer")
    print("  train mode, two calls equal:", torch.equal(stacked(x)[0], stacked(x)[0]))
    stacked.eval()
    print("  eval mode, two calls equal:", torch.equal(stacked(x)[0], stacked(x)[0]))
    print(" ", stacked.explain())

    variational = rnnkit.nn.LSTM(f, h, num_layers=2, batch_first=True, input_dropout=0.3,
                                 recurrent_dropout=0.3)
    print(f"LSTM({f}, {h}, num_layers=2, input_dropout=0.3, recurrent_dropout=0.3)")
    print(f"  output {tuple(variational(x)[0].shape)}, the same shapes: dropout changes values, "
          "never shapes")
    print(" ", variational.explain())
    variational.eval()
    variational(x)
    print("  after eval():", variational.explain())


if __name__ == "__main__":
    main()
