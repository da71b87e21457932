"""rnnkit.nn vs torch.nn: forward+backward time, measured side by side in one process.

For each configuration the torch.nn layer and the rnnkit layer (same weights) run in alternation,
``--repeats`` rounds of ``--iters`` forward+backward passes each; the figure reported is the median
of the per-round time ratios rnnkit / torch.nn, so machine noise that hits both alike cancels out.

    python benchmarks/bench_nn.py                 # both paths, all configurations
    python benchmarks/bench_nn.py --paths fast    # only the fast path
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import rnnkit.nn

CONFIGS = {
    "small": dict(batch=100, length=28, input_size=28, hidden=128, layers=2),
    "large": dict(batch=64, length=100, input_size=512, hidden=512, layers=1),
}


def step_time(layer: torch.nn.Module, x: torch.Tensor, iters: int) -> float:
    start = time.perf_counter()
    for _ in range(iters):
        out, _ = layer(x)
        out.sum().backward()
    return time.perf_counter() - start


def measure(cell: str, config: dict, bidirectional: bool, path: str, iters: int,
            repeats: int) -> float:
    """Median over rounds of (rnnkit time / torch.nn time)."""
    kwargs = dict(num_layers=config["layers"], bidirectional=bidirectional, batch_first=True)
    ref = getattr(torch.nn, cell)(config["input_size"], config["hidden"], **kwargs)
    ours = getattr(rnnkit.nn, cell)(config["input_size"], config["hidden"], path=path, **kwargs)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(config["batch"], config["length"], config["input_size"])
    step_time(ref, x, 1), step_time(ours, x, 1)  # warm-up
    ratios = []
    for round_index in range(repeats):
        first, second = (ref, ours) if round_index % 2 == 0 else (ours, ref)
        t_first, t_second = step_time(first, x, iters), step_time(second, x, iters)
        t_ref, t_ours = (t_first, t_second) if first is ref else (t_second, t_first)
        ratios.append(t_ours / t_ref)
    assert ours.last_path == path
    return statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", nargs="+", default=["fast", "explicit"])
    parser.add_argument("--cells", nargs="+", default=["LSTM", "GRU", "RNN"])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS))
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"ratio = rnnkit / torch.nn forward+backward time (median of {args.repeats} rounds)")
    print("| cell | config | directions | " + " | ".join(f"{p} path" for p in args.paths) + " |")
    print("|---|---|---|" + "---|" * len(args.paths))
    for config_name in args.configs:
        config = CONFIGS[config_name]
        shape = "N={batch} L={length} F={input_size} H={hidden} layers={layers}".format(**config)
        for cell in args.cells:
            for bidirectional in (False, True):
                ratios = [measure(cell, config, bidirectional, path, args.iters, args.repeats)
                          for path in args.paths]
                cells = " | ".join(f"{r:.2f}x" for r in ratios)
                print(f"| {cell} | {shape} | {'bi' if bidirectional else 'uni'} | {cells} |",
                      flush=True)


if __name__ == "__main__":
    main()
