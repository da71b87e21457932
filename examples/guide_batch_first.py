"""``batch_first``: the same numbers in a different layout.

    python examples/guide_batch_first.py

``batch_first=False`` (torch's default) wants time first, ``x (L, N, F)``, and returns
``output (L, N, D*H)``; ``batch_first=True`` wants ``x (N, L, F)`` and returns
``output (N, L, D*H)``. Nothing else changes: the parameters are the same, the computation is
the same, and ``h_n`` is ``(num_layers*D, N, H)`` in BOTH layouts. Two layers with one
``state_dict`` give the same numbers on ``x`` and ``x.transpose(0, 1)``.

The trap: batch-first data given to a layer built with ``batch_first=False`` raises no error
(any ``(a, b, F)`` tensor is a valid input), it silently reads the batch as time.
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
    time_first = rnnkit.nn.GRU(f, h)  # batch_first=False
    batch_first = rnnkit.nn.GRU(f, h, batch_first=True)
    batch_first.load_state_dict(time_first.state_dict())  # the very same parameters

    x = torch.randn(n, length, f)  # (N, L, F)
    out_b, h_b = batch_first(x)  # (N, L, H), (1, N, H)
    out_t, h_t = time_first(x.transpose(0, 1))  # (L, N, F) in: (L, N, H), (1, N, H)
    print(f"batch_first=True:  x {tuple(x.shape)} (N, L, F) -> output {tuple(out_b.shape)} "
          f"(N, L, H), h_n {tuple(h_b.shape)}")
    print(f"batch_first=False: x {tuple(x.transpose(0, 1).shape)} (L, N, F) -> output "
          f"{tuple(out_t.shape)} (L, N, H), h_n {tuple(h_t.shape)}")
    print("same parameter names and shapes:",
          [(k, v.shape) for k, v in time_first.state_dict().items()]
          == [(k, v.shape) for k, v in batch_first.state_dict().items()])
    print("output == output_time_first.transpose(0, 1):",
          torch.allclose(out_b, out_t.transpose(0, 1), atol=1e-6))
    print("h_n equal (never transposed):", torch.allclose(h_b, h_t, atol=1e-6))

    wrong, _ = time_first(x)  # (N, L, F) read as (L', N', F): no error
    print(f"the trap: x (N, L, F) given to batch_first=False -> output {tuple(wrong.shape)}, "
          f"no error; equal to the right output: {torch.allclose(wrong, out_b, atol=1e-6)}")


if __name__ == "__main__":
    main()
