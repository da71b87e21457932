"""onnxruntime against PyTorch on CPU, in one process: the exported graphs of ``rnnkit export``.

    python benchmarks/bench_onnx.py [--threads 1] [--repeats 7]
    python benchmarks/bench_onnx.py --run RUN   # a classify run: accuracy, onnxruntime vs evaluate

* the main job's model (``rnnkit train``'s row-MNIST LSTM): latency of one image (batch 1, 28
  steps) and throughput at batch 64;
* the Tiny Shakespeare character model (``configs/shakespeare_char_lstm.yaml``: 2-layer LSTM of
  512): latency of one streaming step (batch 1, one token in, logits and state out) and
  throughput of the whole-sequence graph at batch 64 x 128 characters.

With ``--run RUN`` (a classification run exported by ``rnnkit export RUN``), it instead reads
the run's test split as ``rnnkit evaluate`` does, runs ``RUN/export/model.onnx`` on it in
onnxruntime and prints its accuracy beside ``rnnkit evaluate``'s.

PyTorch runs the model as rnnkit does in evaluation (``torch.no_grad``, the fused kernel where
one computes it; the step graph's ``RecurrentLayer.step``); onnxruntime the exported file with
the same number of threads. The weights are fresh (timing does not depend on training). Each
figure is the median of ``--repeats`` timed rounds, the two runtimes alternating.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from rnnkit.config import load_config
from rnnkit.data.info import DataInfo
from rnnkit.export.graphs import family_graphs
from rnnkit.export.onnx_file import write_onnx
from rnnkit.families import get_family

ROOT = Path(__file__).resolve().parent.parent


def seconds(run: Callable[[], object], calls: int) -> float:
    """Seconds per call of ``run`` over ``calls`` calls (after one warm-up call)."""
    run()
    start = time.perf_counter()
    for _ in range(calls):
        run()
    return (time.perf_counter() - start) / calls


def compare(name: str, graph, path: Path, inputs: dict[str, torch.Tensor], calls: int,
            repeats: int, threads: int, per_call: int) -> None:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    arrays = {k: v.numpy() for k, v in inputs.items()}
    module = graph.module.eval()

    def torch_call() -> object:
        with torch.no_grad():
            return module(*inputs.values())

    def onnx_call() -> object:
        return session.run(None, arrays)

    pt, ort = [], []
    for _ in range(repeats):
        pt.append(seconds(torch_call, calls))
        ort.append(seconds(onnx_call, calls))
    pt_s, ort_s = statistics.median(pt), statistics.median(ort)
    print(f"| {name} | {1e3 * pt_s:.3f} ms ({per_call / pt_s:,.0f}/s) | {1e3 * ort_s:.3f} ms "
          f"({per_call / ort_s:,.0f}/s) | {ort_s / pt_s:.2f} |")


def accuracy(run_dir: Path) -> None:
    """Accuracy of ``run_dir/export/model.onnx`` on the run's test split, beside evaluate's."""
    from rnnkit.data.registry import get_source
    from rnnkit.export.onnx_file import run_onnx
    from rnnkit.families.base import unpack_batch
    from rnnkit.runs.evaluate import evaluate, load_run

    run = load_run(run_dir)
    dm = get_source(run.config.data.name).datamodule(
        run.config.data, seed=run.config.trainer.seed, family=run.family.name,
        purpose="evaluate", state=run.info.state)
    dm.setup("test")
    split, loader, count = dm.report_split()
    right = 0
    for batch in loader:
        x, lengths, y = unpack_batch(batch)
        lengths = torch.full((len(x),), x.shape[1]) if lengths is None else lengths
        logits, _ = run_onnx(run_dir / "export" / "model.onnx",
                             {"x": x.numpy(), "lengths": lengths.numpy()})
        right += int((logits.argmax(axis=1) == y.numpy()).sum())
    reference = evaluate(run_dir).metrics["test_acc"]
    print(f"{split} split, {count} examples: onnxruntime {100 * right / count:.2f} % "
          f"({right} right), rnnkit evaluate {100 * reference:.2f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--run", type=Path, help="a classification run already exported")
    args = parser.parse_args()
    if args.run is not None:
        accuracy(args.run)
        return
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"threads {args.threads}, torch {torch.__version__}, median of {args.repeats} rounds")
    print("| graph | PyTorch per call | onnxruntime per call | onnxruntime / PyTorch |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(None)
        info = DataInfo("mnist", input_size=28, class_names=tuple(map(str, range(10))),
                        max_length=28)
        task = get_family("classify").build(config, info).eval()
        (graph,) = family_graphs("classify", task, info)
        path = Path(tmp) / "mnist.onnx"
        write_onnx(graph, path, {})
        for batch, calls in ((1, 200), (64, 20)):
            inputs = {"x": torch.randn(batch, 28, 28), "lengths": torch.full((batch,), 28)}
            compare(f"main job, batch {batch} x 28 rows", graph, path, inputs, calls,
                    args.repeats, args.threads, batch)

        config = load_config(ROOT / "configs" / "shakespeare_char_lstm.yaml")
        vocabulary = ("<pad>", "<unk>", *(chr(c) for c in range(32, 95)))
        info = DataInfo("corpus", vocabulary=vocabulary, stream=True, max_length=128)
        task = get_family("lm").build(config, info).eval()
        sequence, step = family_graphs("lm", task, info)
        for graph, name in ((step, "step"), (sequence, "sequence")):
            write_onnx(graph, Path(tmp) / f"lm_{name}.onnx", {})
        zeros = torch.zeros(2, 1, 512)
        inputs = {"token": torch.tensor([5]), "h": zeros, "c": zeros}
        compare("char LSTM 512, one step, batch 1", step, Path(tmp) / "lm_step.onnx", inputs,
                200, args.repeats, args.threads, 1)
        zeros = torch.zeros(2, 64, 512)
        tokens = torch.from_numpy(np.random.default_rng(0).integers(2, 65, (64, 128)))
        inputs = {"tokens": tokens, "lengths": torch.full((64,), 128), "h": zeros, "c": zeros}
        compare("char LSTM 512, batch 64 x 128 chars", sequence, Path(tmp) / "lm_sequence.onnx",
                inputs, 2, args.repeats, args.threads, 64 * 128)


if __name__ == "__main__":
    main()
