"""The corpus source on a large text: tokenising speed, and memory that does not grow with the
text.

    .venv/bin/python benchmarks/corpus_scale.py [--mb 300] [--tokenizers char word] [--keep]

Writes a synthetic UTF-8 text of about ``--mb`` MB in a temporary directory (Tiny Shakespeare,
its paragraphs shuffled anew in every copy, with lines of Chinese words between them), then,
for each tokenizer, runs two fresh processes on one thread:

* ``encode``: the data module's setup on an empty cache (data.val_fraction 0.1): the scan
  (SHA-256, characters), the split, the vocabulary (its pass over the training part) and the
  token files written (a pass over each part), each timed; characters/s and tokens/s count the
  whole text;
* ``read``: the setup again (the cache found: only the scan), then 200 training batches of 64
  streams x 128 tokens read from the memory-mapped file.

Each prints its peak resident memory (``ru_maxrss``) beside what importing torch and Lightning
alone costs: both stay far below the file's size. The temporary files are deleted unless
``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHAKESPEARE = Path("/work/shared/data/tinyshakespeare/input.txt")
CJK_WORDS = ["天地", "人", "山水", "春风", "明月", "故乡", "江湖", "朋友", "时间", "城市",
             "学生", "老师", "今天", "明天", "我们", "他们", "世界", "和平", "文字", "语言",
             "书", "花", "鸟", "鱼", "雨", "雪", "长城", "黄河", "北京", "上海"]
BATCHES, STREAMS, BPTT = 200, 64, 128


def write_text(path: Path, megabytes: float, seed: int = 0) -> int:
    """About ``megabytes`` MB of text at ``path``, one shuffled copy of Tiny Shakespeare at a
    time (constant memory); returns its bytes."""
    paragraphs = SHAKESPEARE.read_text(encoding="utf-8").split("\n\n")
    rng = random.Random(seed)
    size, goal = 0, int(megabytes * 1e6)
    with open(path, "w", encoding="utf-8") as f:
        while size < goal:
            rng.shuffle(paragraphs)
            parts = []
            for p in paragraphs:
                parts.append(p)
                if rng.random() < 0.1:
                    parts.append(" ".join(rng.choices(CJK_WORDS, k=rng.randint(4, 12))) + "。")
            copy = "\n\n".join(parts) + "\n\n"
            f.write(copy)
            size += len(copy.encode("utf-8"))
    return size


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _datamodule(text: str, tokenizer: str, cache: str):
    from rnnkit.config.section import build_section
    from rnnkit.data.corpus.config import CorpusConfig
    from rnnkit.data.corpus.datamodule import CorpusDataModule

    config = build_section(CorpusConfig, {"train": text, "tokenizer": tokenizer,
                                          "cache_dir": cache, "bptt": BPTT,
                                          "batch_size": STREAMS}, "data.")
    return CorpusDataModule(config, seed=0)


def encode(text: str, tokenizer: str, cache: str) -> dict:
    """The data module's setup on an empty cache, each encode step timed."""
    import lightning.pytorch  # noqa: F401  (what a run imports)
    import torch

    import rnnkit.data.corpus.datamodule as dm_module

    torch.set_num_threads(1)
    imports_mb = _peak_mb()
    phases: dict[str, float] = {}
    scans: list = []

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                result = fn(*args, **kwargs)
                if name == "scan_text":
                    scans.append(result)
                return result
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - start
        return wrapper

    for name in ("scan_text", "char_offset", "cached_vocabulary", "cached_tokens"):
        setattr(dm_module, name, timed(name, getattr(dm_module, name)))
    dm = _datamodule(text, tokenizer, cache)
    start = time.perf_counter()
    dm.setup("fit")
    total = time.perf_counter() - start
    tokens = sum(f.count for f in dm.files.values())
    return {"seconds": total, "phases": phases, "tokens": tokens,
            "vocabulary": len(dm.vocabulary), "chars": scans[0].num_chars, "imports_mb": imports_mb,
            "peak_mb": _peak_mb(), "notes": dm.notes}


def read(text: str, tokenizer: str, cache: str) -> dict:
    """The setup with the cache found, then 200 training batches."""
    import lightning.pytorch  # noqa: F401
    import torch

    torch.set_num_threads(1)
    imports_mb = _peak_mb()
    dm = _datamodule(text, tokenizer, cache)
    start = time.perf_counter()
    dm.setup("fit")
    setup = time.perf_counter() - start
    loader = dm.train_dataloader()
    loader.sampler.set_epoch(3)
    start, seen = time.perf_counter(), 0
    for i, (x, _) in enumerate(loader):
        seen += x.numel()
        if i + 1 == BATCHES:
            break
    seconds = time.perf_counter() - start
    return {"setup_seconds": setup, "batch_ms": 1000 * seconds / BATCHES,
            "batches_per_epoch": len(loader), "tokens_read": seen, "imports_mb": imports_mb,
            "peak_mb": _peak_mb(), "notes": dm.notes}


def _child(mode: str, text: str, tokenizer: str, cache: str) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, __file__, "--child", mode, text, tokenizer, cache],
                         check=True, capture_output=True, text=True, env=env, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=300.0)
    parser.add_argument("--tokenizers", nargs="+", default=["char", "word"])
    parser.add_argument("--keep", action="store_true", help="keep the temporary files")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, text, tokenizer, cache = args.child
        print(json.dumps((encode if mode == "encode" else read)(text, tokenizer, cache)))
        return
    work = Path(tempfile.mkdtemp(prefix="corpus_scale_"))
    try:
        text = work / "big.txt"
        start = time.perf_counter()
        size = write_text(text, args.mb)
        print(f"text: {size / 1e6:,.0f} MB written in {time.perf_counter() - start:.0f} s "
              f"({text})")
        for tokenizer in args.tokenizers:
            cache = str(work / f"cache-{tokenizer}")
            e = _child("encode", str(text), tokenizer, cache)
            r = _child("read", str(text), tokenizer, cache)
            mb = size / 1e6
            phases = ", ".join(f"{k} {v:.1f} s" for k, v in e["phases"].items())
            s = e["seconds"]
            print(f"\n{tokenizer}: encode {s:.1f} s: {e['chars'] / s / 1e6:.2f} M chars/s, "
                  f"{e['tokens'] / s / 1e6:.2f} M tokens/s, {mb / s:.1f} MB/s ({e['chars']:,} "
                  f"chars, {e['tokens']:,} tokens, vocabulary {e['vocabulary']:,})")
            print(f"  steps: {phases}")
            print(f"  encode peak RSS {e['peak_mb']:.0f} MB (imports alone {e['imports_mb']:.0f}"
                  f" MB; the text {mb:,.0f} MB)")
            print(f"  read: setup with the cache {r['setup_seconds']:.1f} s; {BATCHES} batches "
                  f"of {STREAMS}x{BPTT}: {r['batch_ms']:.2f} ms a batch; peak RSS "
                  f"{r['peak_mb']:.0f} MB (imports alone {r['imports_mb']:.0f} MB)")
            print(f"  an epoch: {r['batches_per_epoch']:,} batches; notes: "
                  f"{'; '.join(n for n in r['notes'] if n.startswith('an epoch'))}")
            if not args.keep:
                shutil.rmtree(cache)
    finally:
        if not args.keep:
            shutil.rmtree(work)


if __name__ == "__main__":
    main()
