"""Chinese word segmentation on People's Daily 1998: a CRF on character-window features vs
rnnkit's BiLSTM-CRF recipe, on the same test sentences, side by side in one process.

    .venv/bin/pip install -e ".[bench]"     # sklearn-crfsuite, benchmark-only
    .venv/bin/python benchmarks/bench_tag.py [--config configs/pku_segmentation.yaml] [--out DIR]

The split is the recipe's: a sentence is a test sentence when the MD5 of its characters joined
by spaces (rnnkit.data.text.datamodule.hash_split) is below data.test_fraction (0.1). The
CRF (sklearn-crfsuite, L-BFGS, c1 0.05, c2 0.01, 100 iterations; features: the characters at
offsets -2..2 and the bigrams around the character) trains on every other sentence; the recipe
holds 10 % of those out for validation. Both are scored by word F1 (the words of the BMES tags,
as SIGHAN's scorer counts them: rnnkit.families.tag.metrics.span_scores) and tag accuracy.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("MPLBACKEND", "Agg")


def char_features(chars: list[str], i: int) -> dict[str, str]:
    def at(k: int) -> str:
        j = i + k
        return chars[j] if 0 <= j < len(chars) else ("<s>" if j < 0 else "</s>")

    features = {f"c[{k}]": at(k) for k in (-2, -1, 0, 1, 2)}
    features["c[-1]c[0]"] = at(-1) + at(0)
    features["c[0]c[1]"] = at(0) + at(1)
    return features


def crf_baseline(train, test) -> dict[str, float]:
    import sklearn_crfsuite

    from rnnkit.families.tag.metrics import span_scores

    start, cpu = time.perf_counter(), time.process_time()
    crf = sklearn_crfsuite.CRF(algorithm="lbfgs", c1=0.05, c2=0.01, max_iterations=100)
    crf.fit([[char_features(s, i) for i in range(len(s))] for s, _ in train],
            [[t.upper() for t in tags] for _, tags in train])
    predicted = crf.predict([[char_features(s, i) for i in range(len(s))] for s, _ in test])
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    gold = [[t.upper() for t in tags] for _, tags in test]
    right = sum(g == p for gs, ps in zip(gold, predicted, strict=True)
                for g, p in zip(gs, ps, strict=True))
    return {"word_f1": span_scores(gold, predicted, "BMES")["f1"],
            "accuracy": right / sum(map(len, gold)), "seconds": seconds, "cpu_seconds": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="configs/pku_segmentation.yaml")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    os.chdir(ROOT)
    from rnnkit.config import load_config
    from rnnkit.data.tagged import read_tagged
    from rnnkit.data.text.datamodule import hash_split
    from rnnkit.runs.train import train

    overrides = [("trainer.progress_bar", False)]
    if args.out is not None:
        overrides.append(("out", str(args.out)))
    config = load_config(args.config, overrides)
    read = read_tagged(config.data.train)
    parts = hash_split((" ".join(t) for t in read.tokens), config.data.test_fraction, 0.0)
    sentences = list(zip(read.tokens, read.tags, strict=True))
    split = {name: [sentences[i] for i in parts[name]] for name in ("train", "test")}
    print(f"{len(split['train'])} training and {len(split['test'])} test sentences "
          f"({sum(len(s) for s, _ in split['test']):,} test characters)", flush=True)

    baseline = crf_baseline(split["train"], split["test"])
    print(f"CRF done in {baseline['seconds']:.0f} s", flush=True)
    cpu = time.process_time()
    result = train(config)
    cpu = time.process_time() - cpu
    m = result.metrics
    assert m["num_examples"] == len(split["test"]), "the recipe's test split is another one"
    print("\nPeople's Daily 1998 word segmentation, the same test sentences:")
    print(f"  CRF (sklearn-crfsuite, char window ±2 + bigrams): word F1 "
          f"{100 * baseline['word_f1']:.2f}, tag accuracy {100 * baseline['accuracy']:.2f}, "
          f"{baseline['seconds']:.0f} s ({baseline['cpu_seconds']:.0f} CPU-s)")
    print(f"  rnnkit {Path(args.config).name}: word F1 {100 * m['test_f1']:.2f}, tag accuracy "
          f"{100 * m['test_acc']:.2f}, {result.seconds:.0f} s ({cpu:.0f} CPU-s, "
          f"{config.trainer.threads} thread(s)); best epoch {m['epoch']}")
    gap = 100 * (m["test_f1"] - baseline["word_f1"])
    verdict = "goal met" if gap >= 0 else "bar met" if gap >= -1 else "bar missed"
    print(f"  rnnkit - CRF: {gap:+.2f} points of word F1 ({verdict}: goal >= 0, bar >= -1)")
    print(f"  run directory: {result.run_dir}")


if __name__ == "__main__":
    main()
