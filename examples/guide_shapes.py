"""RNN, LSTM and GRU shapes: output vs h_n, one direction and two.

    python examples/guide_shapes.py

Letters: N batch, L steps, F input features, H hidden units per direction, D directions.
With ``batch_first=True``:

    input    (N, L, F)
    output   (N, L, D*H)              the top layer's h at EVERY step
    h_n      (num_layers*D, N, H)     the LAST h of every layer and direction
    c_n      (num_layers*D, N, H)     LSTM only: the last cell state

One direction: ``output[:, -1] == h_n[-1]``. Two directions: the forward half of the last
step is ``h_n[-2]``, but the backward direction ends at step 0, so its final state is
``output[:, 0, H:] == h_n[-1]``; the backward half of ``output[:, -1]`` has read one step.
"""

from __future__ import annotations

import argparse

import torch

import rnnkit.nn


def same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return torch.allclose(a, b, atol=1e-6)


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
    print(f"x {tuple(x.shape)} (N, L, F), batch_first=True, one direction:")
    for name in ("RNN", "LSTM", "GRU"):
        layer = getattr(rnnkit.nn, name)(f, h, batch_first=True)
        output, state = layer(x)  # an LSTM returns (h_n, c_n), the others h_n
        h_n = state[0] if name == "LSTM" else state
        states = f"h_n {tuple(h_n.shape)}" + (f"  c_n {tuple(state[1].shape)}"
                                              if name == "LSTM" else "")
        print(f"  {name:<5} output {tuple(output.shape)}  {states}"
              f"  output[:, -1] == h_n[-1]: {same(output[:, -1], h_n[-1])}")

    layers = 2
    lstm = rnnkit.nn.LSTM(f, h, num_layers=layers, batch_first=True, bidirectional=True)
    output, (h_n, c_n) = lstm(x)  # (N, L, 2H), ((2*layers, N, H), ...)
    print(f"LSTM({f}, {h}, num_layers={layers}, bidirectional=True), D = 2:")
    print(f"  output {tuple(output.shape)} (N, L, D*H): [forward h_t | backward h_t] at every t")
    print(f"  h_n    {tuple(h_n.shape)} (num_layers*D, N, H): rows l0 fwd, l0 bwd, l1 fwd, "
          "l1 bwd")
    print(f"  h_n.view({layers}, 2, N, H)[-1] {tuple(h_n.view(layers, 2, n, h)[-1].shape)}: "
          "the top layer's two directions")
    print("  output[:, -1, :H] == h_n[-2] (forward, last step):", same(output[:, -1, :h], h_n[-2]))
    print("  output[:, 0, H:] == h_n[-1] (backward, ends at step 0):",
          same(output[:, 0, h:], h_n[-1]))
    print("  output[:, -1, H:] == h_n[-1]:", same(output[:, -1, h:], h_n[-1]),
          "(the backward half of the last step has read one step)")
    summary = torch.cat([h_n[-2], h_n[-1]], dim=1)  # (N, 2H)
    print(f"  a summary of the whole sequence: torch.cat([h_n[-2], h_n[-1]], 1) "
          f"{tuple(summary.shape)}")


if __name__ == "__main__":
    main()
