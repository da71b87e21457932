"""Language models of Tiny Shakespeare: validation loss after a CPU-time budget, and the speed of
streaming generation.

    .venv/bin/python benchmarks/bench_lm.py train [--minutes 60] [--out DIR]
    .venv/bin/python benchmarks/bench_lm.py generate [--tokens 500] [--run DIR]

``train`` runs the LSTM and MinGRU recipes (configs/shakespeare_char_*.yaml) side by side, one
process and one thread each, so each gets one of this machine's two cores. Each stops when its
process has used ``--minutes`` of CPU time (or its step budget ends); the figure is the best
checkpoint's validation loss in nats per character on the standard split (the last 10 % of the
characters), printed beside the anchors of the issue. Training tokens/s count the tokens of the
optimizer steps over the fit's wall time.

``generate`` times, in one process and one thread, 500 new tokens made the streaming way (the
prompt once, then one step of the recurrent stack per token) and by re-running the whole
sequence for every new token, from the same model (the LSTM recipe's, trained or not).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ("configs/shakespeare_char_lstm.yaml", "configs/shakespeare_char_mingru.yaml")
ANCHORS = [
    ("nanoGPT character Transformer (10.7 M parameters, GPU)", 1.47),
    ("minGRU / minLSTM paper", 1.55),
    ("nanoGPT CPU quick config", 1.88),
]
GOAL, BAR = 1.55, 1.70


def run_one(config_path: str, minutes: float, out: Path) -> None:
    """Train one recipe (this process), stopping at ``minutes`` of CPU time; writes
    ``clock.jsonl`` (one line per check) into the run directory."""
    import lightning.pytorch as pl

    from rnnkit.config import load_config
    from rnnkit.runs.train import train

    class CpuBudget(pl.Callback):
        def on_fit_start(self, trainer, pl_module) -> None:  # after reading the data
            self.cpu0, self.wall0 = time.process_time(), time.perf_counter()

        def on_train_batch_end(self, trainer, *args) -> None:
            if time.process_time() - self.cpu0 > 60 * minutes:
                trainer.should_stop = True

        def on_validation_end(self, trainer, pl_module) -> None:
            if trainer.sanity_checking:
                return
            line = {"epoch": trainer.current_epoch + 1, "step": trainer.global_step,
                    "cpu_min": (time.process_time() - self.cpu0) / 60,
                    "wall_min": (time.perf_counter() - self.wall0) / 60,
                    "val_loss": float(trainer.callback_metrics["val_loss"])}
            with (out / "clock.jsonl").open("a") as f:
                f.write(json.dumps(line) + "\n")

    config = load_config(ROOT / config_path, [("out", str(out)), ("trainer.progress_bar", False)])
    result = train(config, callbacks=[CpuBudget()])
    print(json.dumps({"seconds": result.seconds, **result.metrics}))


def train_side_by_side(minutes: float, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    procs = []
    for recipe in RECIPES:
        run = out / Path(recipe).stem
        log = (out / f"{run.name}.log").open("w")
        cmd = [sys.executable, __file__, "run-one", recipe, "--minutes", str(minutes),
               "--out", str(run)]
        procs.append((recipe, run, subprocess.Popen(cmd, cwd=ROOT, stdout=log,
                                                    stderr=subprocess.STDOUT)))
    rows = []
    for recipe, run, proc in procs:
        proc.wait()
        metrics_file, clock_file = run / "test_metrics.json", run / "clock.jsonl"
        if proc.returncode or not metrics_file.is_file() or not clock_file.is_file():
            rows.append((recipe, None, None, None, None))
            continue
        from rnnkit.config import read_yaml

        metrics = json.loads(metrics_file.read_text())
        config = read_yaml(run / "config.yaml")
        clock = [json.loads(x) for x in clock_file.read_text().splitlines()]
        tokens = clock[-1]["step"] * config["data"]["bptt"] * config["data"]["batch_size"]
        rows.append((recipe, metrics["test_loss"], clock[-1]["cpu_min"],
                     tokens / (60 * clock[-1]["wall_min"]), clock))
    print(f"\nTiny Shakespeare, validation loss (nats per character) after at most {minutes:g} "
          "CPU-minutes (one thread each, both at once):")
    for recipe, loss, cpu, rate, clock in rows:
        if loss is None:
            print(f"  {recipe}: FAILED (see {out}/{Path(recipe).stem}.log)")
            continue
        verdict = "goal met" if loss <= GOAL else "bar met" if loss <= BAR else "bar missed"
        print(f"  {recipe}: {loss:.4f} after {cpu:.1f} CPU-min, {rate:,.0f} training "
              f"tokens/s ({verdict}: goal {GOAL}, bar {BAR})")
        print("    checks: " + ", ".join(f"{c['cpu_min']:.0f} min {c['val_loss']:.3f}"
                                        for c in clock))
    for name, value in ANCHORS:
        print(f"  anchor: {name}: {value}")


def time_generation(tokens: int, run: str | None) -> None:
    import torch

    from rnnkit.models.decoding import next_token
    from rnnkit.models.language_model import LanguageModel

    torch.set_num_threads(1)
    if run:
        from rnnkit.runs.generate import load_sampler

        model = load_sampler(run)[0].model
    else:
        torch.manual_seed(0)
        model = LanguageModel(67, cell="lstm", embedding_dim=64, hidden_size=512, num_layers=2)
    model.eval()
    prompt = torch.randint(2, model.decoder.out_features, (32,))
    generator = torch.Generator().manual_seed(0)

    @torch.inference_mode()
    def streaming() -> list[int]:
        logits, state = model(prompt[None])
        out, last = [], logits[0, -1:]
        for _ in range(tokens):
            token = next_token(last, temperature=0.0, generator=generator)
            out.append(int(token))
            last, state = model.step(token, state)
        return out

    @torch.inference_mode()
    def rerun() -> list[int]:
        seq = prompt.tolist()
        for _ in range(tokens):
            logits, _ = model(torch.tensor(seq)[None])
            seq.append(int(next_token(logits[:, -1], temperature=0.0, generator=generator)))
        return seq[len(prompt):]

    times = {}
    results = {}
    for name, fn in (("streaming", streaming), ("re-running", rerun), ("streaming", streaming)):
        start = time.perf_counter()
        results[name] = fn()
        times.setdefault(name, []).append(time.perf_counter() - start)
    assert results["streaming"] == results["re-running"], "the two paths made different text"
    stream_s, rerun_s = min(times["streaming"]), min(times["re-running"])
    print(f"{tokens} new tokens after a 32-token prompt (2x512 LSTM, one thread, greedy, the "
          "same text both ways):")
    print(f"  streaming (one step per token): {tokens / stream_s:,.0f} tokens/s")
    print(f"  re-running the whole sequence:  {tokens / rerun_s:,.0f} tokens/s")
    print(f"  ratio: streaming is {rerun_s / stream_s:.1f}x faster")

    # One step of the recurrent stack: the explicit step (what RecurrentLayer.step runs) vs
    # torch's fused kernel called on a sequence of length one.
    rnn, x = model.rnn, model.embedding(prompt[:1])[None]  # (1, 1, E)
    with torch.inference_mode():
        _, state = rnn(model.embedding(prompt)[None])
        per_step = {}
        for path in ("explicit", "fast", "explicit", "fast"):
            rnn.path = path
            start = time.perf_counter()
            for _ in range(200):
                rnn(x, state)
            per_step.setdefault(path, []).append((time.perf_counter() - start) / 200)
        rnn.path = "auto"
    print(f"  one step of the stack: explicit {1e3 * min(per_step['explicit']):.2f} ms, "
          f"torch's fused kernel {1e3 * min(per_step['fast']):.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train")
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--out", type=Path, default=None)
    p = sub.add_parser("run-one")
    p.add_argument("recipe")
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("generate")
    p.add_argument("--tokens", type=int, default=500)
    p.add_argument("--run", default=None)
    args = parser.parse_args()
    os.environ.setdefault("MPLBACKEND", "Agg")
    if args.command == "run-one":
        run_one(args.recipe, args.minutes, args.out)
    elif args.command == "train":
        train_side_by_side(args.minutes, args.out or Path(tempfile.mkdtemp(prefix="bench_lm_")))
    else:
        time_generation(args.tokens, args.run)


if __name__ == "__main__":
    main()
