"""The explicit path's whole-sequence kernels and the minimal cells' scan, against torch.nn.

Every contender runs forward+backward on the same input in each round, in rotated order, and the
figure reported is the median over rounds of the per-round time ratio to torch.nn's fused kernel
(so noise that hits a whole round cancels out). Rows:

* rnnkit LSTM/GRU on the explicit path: the whole-sequence kernels (``rnnkit.nn.sequence_kernels``)
  and, for reference, the generic step loop (the kernels switched off);
* MinGRU/MinLSTM (parallel scan) and, for reference, their step loop, against torch.nn.LSTM of
  the same size; reported as speed-up (torch.nn time / rnnkit time).

    python benchmarks/bench_explicit.py            # all rows, 2 threads (a few minutes)
    python benchmarks/bench_explicit.py --quick    # one round, small rows only (smoke test)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import torch

import rnnkit.nn
from rnnkit.nn import sequence_kernels
from rnnkit.nn.minimal import MinGRU, MinLSTM

CONFIGS = {
    "small": dict(batch=100, length=28, input_size=28, hidden=128, layers=2),
    "large": dict(batch=64, length=100, input_size=512, hidden=512, layers=1),
}
MINIMAL = dict(batch=32, length=784, input_size=1, hidden=128)


def forward_backward(layer: torch.nn.Module, x: torch.Tensor, grad: torch.Tensor,
                     loop: bool = False) -> None:
    layer.zero_grad(set_to_none=True)
    if loop:
        with sequence_kernels.disabled():
            out, _ = layer(x)
    else:
        out, _ = layer(x)
    out.backward(grad)


def race(contenders: dict[str, Callable[[], None]], repeats: int) -> dict[str, float]:
    """Median per-round time of each contender (seconds) and ratio to the first ("ref")."""
    names = list(contenders)
    for fn in contenders.values():  # warm-up
        fn()
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            start = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - start)
    ref = names[0]
    result = {f"{n}_ms": 1e3 * statistics.median(times[n]) for n in names}
    for n in names[1:]:
        result[f"{n}_ratio"] = statistics.median(
            t / t_ref for t, t_ref in zip(times[n], times[ref], strict=True)
        )
    return result


def classic_rows(args) -> list[str]:
    rows = []
    for cell in args.cells:
        for config_name in args.configs:
            c = CONFIGS[config_name]
            for bidirectional in (False, True):
                kwargs = dict(num_layers=c["layers"], bidirectional=bidirectional)
                torch.manual_seed(0)
                ref = getattr(torch.nn, cell)(c["input_size"], c["hidden"], **kwargs)
                ours = getattr(rnnkit.nn, cell)(c["input_size"], c["hidden"], path="explicit",
                                                **kwargs)
                ours.load_state_dict(ref.state_dict())
                x = torch.randn(c["length"], c["batch"], c["input_size"])
                grad = torch.randn(c["length"], c["batch"], c["hidden"] * (1 + bidirectional))
                contenders = {
                    "ref": lambda ref=ref, x=x, g=grad: forward_backward(ref, x, g),
                    "kernel": lambda ours=ours, x=x, g=grad: forward_backward(ours, x, g),
                }
                with_loop = args.loop == "all" or (args.loop == "uni" and not bidirectional)
                if with_loop:
                    contenders["loop"] = lambda ours=ours, x=x, g=grad: forward_backward(
                        ours, x, g, loop=True)
                res = race(contenders, args.repeats)
                assert ours.last_path == "explicit"
                shape = f"N={c['batch']} L={c['length']} F={c['input_size']} H={c['hidden']}"
                name = f"{cell} {'bi' if bidirectional else 'uni'}, {c['layers']} layer(s), {shape}"
                loop = f"{res['loop_ratio']:.2f}x" if with_loop else "-"
                rows.append(
                    f"| {name} | {res['ref_ms']:.1f} | {res['kernel_ms']:.1f} | "
                    f"**{res['kernel_ratio']:.2f}x** | {loop} |"
                )
                print(rows[-1], flush=True)
    return rows


def minimal_rows(args) -> list[str]:
    c = MINIMAL
    torch.manual_seed(0)
    ref = torch.nn.LSTM(c["input_size"], c["hidden"])
    x = torch.randn(c["length"], c["batch"], c["input_size"])
    grad = torch.randn(c["length"], c["batch"], c["hidden"])
    rows = []
    for cls in (MinGRU, MinLSTM):
        ours = cls(c["input_size"], c["hidden"])
        contenders = {
            "ref": lambda: forward_backward(ref, x, grad),
            "scan": lambda ours=ours: forward_backward(ours, x, grad),
        }
        if args.loop != "none":
            contenders["loop"] = lambda ours=ours: forward_backward(ours, x, grad, loop=True)
        res = race(contenders, args.repeats)
        shape = f"N={c['batch']} L={c['length']} F={c['input_size']} H={c['hidden']}"
        loop = f"{1 / res['loop_ratio']:.2f}x" if "loop_ratio" in res else "-"
        rows.append(
            f"| {cls.__name__} vs torch.nn.LSTM, {shape} | {res['ref_ms']:.1f} | "
            f"{res['scan_ms']:.1f} | **{1 / res['scan_ratio']:.2f}x** | {loop} |"
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="*", default=["LSTM", "GRU"])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--repeats", type=int, default=5, help="rounds (median is reported)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--loop", choices=["uni", "all", "none"], default="uni",
                        help="which rows also time the generic step loop (slow)")
    parser.add_argument("--no-minimal", action="store_true", help="skip the MinGRU/MinLSTM rows")
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 round, small only")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.configs, args.loop = 1, ["small"], "none"
    torch.set_num_threads(args.threads)
    command = "python benchmarks/bench_explicit.py " + " ".join(sys.argv[1:])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, median of "
          f"{args.repeats} rounds; `{command.strip()}`\n", flush=True)
    print("| explicit path, forward+backward | torch.nn fused (ms) | rnnkit kernel (ms) | "
          "kernel / torch.nn | step loop / torch.nn |")
    print("|---|---:|---:|---:|---:|", flush=True)
    classic_rows(args)
    if not args.no_minimal:
        print("\n| minimal cells, forward+backward | torch.nn.LSTM (ms) | rnnkit scan (ms) | "
              "speed-up (scan) | speed-up (step loop) |")
        print("|---|---:|---:|---:|---:|", flush=True)
        minimal_rows(args)


if __name__ == "__main__":
    main()
