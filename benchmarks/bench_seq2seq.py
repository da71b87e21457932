"""English grapheme-to-phoneme on CMUdict: rnnkit's encoder-decoder recipe, its word error rate
(a word is wrong when any phoneme is) and phoneme error rate on the test words, greedy and
beam 5, beside the published figures.

    .venv/bin/python benchmarks/bench_seq2seq.py [--config configs/g2p_cmudict.yaml] [--out DIR]
    .venv/bin/python benchmarks/bench_seq2seq.py --run RUN_DIR     # score a trained run

Without --run it trains the recipe first (in this process, so the CPU time is this
process's). The split is the recipe's: a word is a test word when the MD5 of the word
(rnnkit.data.text.datamodule.hash_fraction) is below 0.1; a test word is right when the output
equals any of its listed pronunciations. The papers use a fixed list of test words instead, so
the figures are comparable in size only.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("MPLBACKEND", "Agg")

ANCHORS = [  # word error rate on CMUdict, the papers' own split
    ("joint-sequence model (Sequitur; Bisani & Ney 2008)", 24.5),
    ("bi-LSTM with alignments (Yao & Zweig 2015)", 23.55),
    ("global attention, one model (Toshniwal & Livescu 2016)", 21.7),
    ("global attention, ensemble (Toshniwal & Livescu 2016)", 20.2),
    ("Transformer 3x256 (g2p-seq2seq)", 20.6),
]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="configs/g2p_cmudict.yaml")
    parser.add_argument("--run", type=Path, default=None, help="score this run; no training")
    parser.add_argument("--out", type=Path, default=None, help="run directory of the training")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    os.chdir(ROOT)
    from rnnkit.runs.evaluate import evaluate

    run, trained = args.run, None
    if run is None:
        from rnnkit.config import load_config
        from rnnkit.runs.train import train

        overrides = [f"trainer.threads={args.threads}", "trainer.progress_bar=false"]
        if args.out:
            overrides.append(f"out={args.out}")
        start, cpu = time.perf_counter(), cpu_seconds()
        result = train(load_config(args.config, overrides), announce=print)
        trained = (time.perf_counter() - start, cpu_seconds() - cpu)
        run = result.run_dir
    rows = []
    for beam in (1, 5):
        start, cpu = time.perf_counter(), cpu_seconds()
        m = evaluate(run, [f"model.beam_size={beam}", f"trainer.threads={args.threads}",
                           "trainer.progress_bar=false"]).metrics
        rows.append((f"rnnkit, {'greedy' if beam == 1 else f'beam {beam}'}",
                     100 * (1 - m["test_exact_match"]), 100 * m["test_token_error_rate"],
                     time.perf_counter() - start, cpu_seconds() - cpu, m["num_examples"]))
    print(f"\nrun: {run}")
    if trained:
        print(f"training: {trained[0] / 60:.1f} min wall, {trained[1] / 60:.1f} CPU-min "
              f"({args.threads} thread(s))")
    print(f"{'model':58s} {'WER %':>7s} {'PER %':>7s}")
    for name, wer, per, seconds, cpu, n in rows:
        print(f"{name:58s} {wer:7.2f} {per:7.2f}   ({n:,} test words, decoded in "
              f"{seconds:.0f} s, {cpu:.0f} CPU-s)")
    for name, wer in ANCHORS:
        print(f"{name:58s} {wer:7.2f} {'':>7s}   (published, the papers' split)")
    best = min(r[1] for r in rows)
    print(f"goal: WER <= 23.5 % with one model (bar <= 27 %): {best:.2f} % -> "
          f"{'goal met' if best <= 23.5 else 'bar met, goal not' if best <= 27 else 'missed'}")


if __name__ == "__main__":
    main()
