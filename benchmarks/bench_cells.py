"""Speed of the extended cells (issue 17): LayerNormLSTM/GRU kernels, MinGRU/MinLSTM, vs torch.nn.

Forward+backward on the same input in each round, contenders in rotated order; reported per
contender: the median over rounds of its time ratio to the reference in the same round (noise
that hits a whole round cancels out) and, since this machine is shared, the ratio of the fastest
rounds (the least disturbed ones). Rows:

* ``layernorm``: LayerNormLSTM (and LayerNormGRU) at the issue-6 sizes against torch.nn.LSTM
  (torch.nn.GRU): the whole-sequence kernel (``rnnkit.nn.layernorm_kernels``) and the generic
  step loop (kernels switched off);
* ``minimal``: MinGRU/MinLSTM at pixel-MNIST size against torch.nn.LSTM, reported as speed-up
  (torch.nn time / rnnkit time): the shipped kernel (``rnnkit.nn.minimal_kernels``), the kernel
  recomputing its gates instead of keeping them, and issue 6's ``gated_scan``;
* ``compile`` (only with ``--compile-probe``): ``torch.compile`` of MinGRU's backward gate block
  (given the kept gates) against the kernel's eager operations, with its compile time.

    python benchmarks/bench_cells.py --threads 1          # layernorm + minimal rows
    python benchmarks/bench_cells.py --rows minimal --threads 2
    python benchmarks/bench_cells.py --rows compile --compile-probe
    python benchmarks/bench_cells.py --quick              # smoke test, a few seconds
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import torch
from bench_explicit import CONFIGS, MINIMAL, forward_backward

import rnnkit.nn
from rnnkit.nn import minimal_kernels
from rnnkit.nn.scan import gated_scan


def rounds(contenders: dict[str, Callable[[], None]], repeats: int) -> dict[str, list[float]]:
    """Seconds per round of each contender, the order rotated every round (after a warm-up)."""
    names = list(contenders)
    for fn in contenders.values():
        fn()
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            start = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - start)
    return times


def ratios(times: dict[str, list[float]], name: str, ref: str = "ref") -> tuple[float, float]:
    """(median of per-round ratios name/ref, ratio of the fastest rounds)."""
    per_round = statistics.median(t / r for t, r in zip(times[name], times[ref], strict=True))
    return per_round, min(times[name]) / min(times[ref])


def layernorm_rows(args) -> None:
    print("| layer-normalised, forward+backward | torch.nn (ms) | kernel (ms) | kernel / torch.nn "
          "(median; fastest rounds) | step loop / torch.nn (median; fastest) |")
    print("|---|---:|---:|---:|---:|", flush=True)
    for cell, ref_cell in (("LayerNormLSTM", "LSTM"), ("LayerNormGRU", "GRU")):
        for config_name in args.configs:
            c = CONFIGS[config_name]
            for bidirectional in args.directions:
                kwargs = dict(num_layers=c["layers"], bidirectional=bidirectional)
                torch.manual_seed(0)
                ref = getattr(torch.nn, ref_cell)(c["input_size"], c["hidden"], **kwargs)
                ours = getattr(rnnkit.nn, cell)(c["input_size"], c["hidden"], **kwargs)
                x = torch.randn(c["length"], c["batch"], c["input_size"])
                grad = torch.randn(c["length"], c["batch"], c["hidden"] * (1 + bidirectional))
                times = rounds({
                    "ref": lambda ref=ref, x=x, g=grad: forward_backward(ref, x, g),
                    "kernel": lambda ours=ours, x=x, g=grad: forward_backward(ours, x, g),
                    "loop": lambda ours=ours, x=x, g=grad: forward_backward(ours, x, g, loop=True),
                }, args.repeats)
                k_med, k_min = ratios(times, "kernel")
                l_med, l_min = ratios(times, "loop")
                shape = f"N={c['batch']} L={c['length']} F={c['input_size']} H={c['hidden']}"
                name = (f"{cell} vs torch.nn.{ref_cell}, {'bi' if bidirectional else 'uni'}, "
                        f"{c['layers']} layer(s), {shape}")
                print(f"| {name} | {1e3 * statistics.median(times['ref']):.1f} | "
                      f"{1e3 * statistics.median(times['kernel']):.1f} | **{k_med:.2f}x**; "
                      f"{k_min:.2f}x | {l_med:.2f}x; {l_min:.2f}x |", flush=True)


def minimal_rows(args) -> None:
    c = MINIMAL
    print("| minimal cells, forward+backward | torch.nn.LSTM (ms) | kernel (ms) | speed-up: kernel "
          "(median; fastest rounds) | gates recomputed | issue 6's gated_scan |")
    print("|---|---:|---:|---:|---:|---:|", flush=True)
    torch.manual_seed(0)
    ref = torch.nn.LSTM(c["input_size"], c["hidden"])
    x = torch.randn(c["length"], c["batch"], c["input_size"])
    grad = torch.randn(c["length"], c["batch"], c["hidden"])
    h0 = torch.zeros(c["batch"], c["hidden"])
    for cls in (rnnkit.nn.MinGRU, rnnkit.nn.MinLSTM):
        ours = cls(c["input_size"], c["hidden"])
        params = ours.cell_parameters(0)

        def recomputed(ours=ours):
            stored, minimal_kernels.STORE_GATES_MAX = minimal_kernels.STORE_GATES_MAX, 0
            try:
                forward_backward(ours, x, grad)
            finally:
                minimal_kernels.STORE_GATES_MAX = stored

        def issue6(ours=ours, params=params):
            ours.zero_grad(set_to_none=True)
            out = gated_scan(x, h0, ours.specs[0].gates, params["weight_ih"], params["bias_ih"])
            out.backward(grad)

        times = rounds({
            "ref": lambda: forward_backward(ref, x, grad),
            "kernel": lambda ours=ours: forward_backward(ours, x, grad),
            "recomputed": recomputed,
            "issue6": issue6,
        }, args.repeats)
        cells = []
        for name in ("kernel", "recomputed", "issue6"):
            med, fastest = ratios(times, name)
            cells.append(f"{1 / med:.2f}x; {1 / fastest:.2f}x")
        shape = f"N={c['batch']} L={c['length']} F={c['input_size']} H={c['hidden']}"
        print(f"| {cls.__name__} vs torch.nn.LSTM, {shape}, {torch.get_num_threads()} thread(s) | "
              f"{1e3 * statistics.median(times['ref']):.1f} | "
              f"{1e3 * statistics.median(times['kernel']):.1f} | **{cells[0]}** | {cells[1]} | "
              f"{cells[2]} |", flush=True)


def _eager_block_grads(y: torch.Tensor, g: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
    """The shipped kernel's backward gate operations for one block (kept ``y = [a, c]``)."""
    hid = g.shape[-1]
    a, c = y[..., :hid], y[..., hid:]
    grad_a = torch.sub(h_prev, c).mul_(g)  # dL/da = dL/dh (h_prev - c)
    grad_c = torch.addcmul(g, g, a, value=-1.0)  # dL/dc = dL/dh (1 - a)
    dk = torch.empty_like(y)
    minimal_kernels.MinGRUMap.backward(y, grad_a, grad_c, dk)
    return dk


def _fused_block_grads(y: torch.Tensor, g: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
    """The same values as one expression, for ``torch.compile`` to fuse."""
    hid = g.shape[-1]
    a, c = y[..., :hid], y[..., hid:]
    grad_c = g * (1 - a)
    d_c = torch.where(c > 0.5, grad_c, grad_c * c * (1 - c))
    return torch.cat([g * (h_prev - c) * a * (1 - a), d_c], -1)


def compile_rows(args) -> None:
    """torch.compile of MinGRU's backward gate block against the kernel's eager operations."""
    c = MINIMAL
    steps = max(1, 131072 // (c["batch"] * c["hidden"]))  # scan.BLOCK_ELEMENTS // (N * H)
    y = torch.rand(steps, c["batch"], 2 * c["hidden"])
    g = torch.randn(steps, c["batch"], c["hidden"])
    h_prev = torch.randn(steps, c["batch"], c["hidden"])
    start = time.perf_counter()
    compiled = torch.compile(_fused_block_grads, dynamic=False)
    torch.testing.assert_close(compiled(y, g, h_prev), _eager_block_grads(y, g, h_prev))
    compile_s = time.perf_counter() - start
    times = rounds({"ref": lambda: _eager_block_grads(y, g, h_prev),
                    "compiled": lambda: compiled(y, g, h_prev)}, args.repeats * 4)
    med, fastest = ratios(times, "compiled")
    blocks = -(-c["length"] // steps)
    saved = blocks * (statistics.median(times["ref"]) - statistics.median(times["compiled"]))
    print(f"torch.compile of MinGRU's backward gate block ({steps} steps x N={c['batch']} x "
          f"H={c['hidden']}): first call (compile) {compile_s:.1f} s; eager "
          f"{1e6 * statistics.median(times['ref']):.0f} us, compiled "
          f"{1e6 * statistics.median(times['compiled']):.0f} us per block (compiled / eager "
          f"{med:.2f}, fastest rounds {fastest:.2f}); {blocks} blocks per sequence: "
          f"{1e3 * saved:.1f} ms less per forward+backward", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", default=["layernorm", "minimal"],
                        choices=["layernorm", "minimal", "compile"])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--bidirectional", action="store_true", help="also the bi rows")
    parser.add_argument("--repeats", type=int, default=11, help="rounds (median is reported)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--compile-probe", action="store_true",
                        help="allow the compile rows (they need a C++ compiler and take a while)")
    parser.add_argument("--quick", action="store_true", help="smoke test: 2 rounds, small only")
    args = parser.parse_args()
    args.directions = [False, True] if args.bidirectional else [False]
    if args.quick:
        args.repeats, args.configs = 2, ["small"]
    if "compile" in args.rows and not args.compile_probe:
        parser.error("--rows compile needs --compile-probe")
    torch.set_num_threads(args.threads)
    command = "python benchmarks/bench_cells.py " + " ".join(sys.argv[1:])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {args.repeats} "
          f"rounds; `{command.strip()}`\n", flush=True)
    for row in args.rows:
        {"layernorm": layernorm_rows, "minimal": minimal_rows, "compile": compile_rows}[row](args)
        print(flush=True)


if __name__ == "__main__":
    main()
