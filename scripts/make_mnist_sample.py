"""Make the MNIST sample bundled with rnnkit (src/rnnkit/data/bundled/).

Rule (deterministic, no random numbers): from the full training set take the first 1,000
images of each digit in file order (10,000 in all); from the full test set the first 200 of
each digit (2,000 in all). The chosen images keep their original relative order. They are
written as gzipped IDX files with the official names (gzip level 9, no time stamp, so running
the script again gives byte-identical files with the same zlib), plus a README.md with MNIST's
attribution, the licence and the checksums.

    .venv/bin/python scripts/make_mnist_sample.py --source ../shared/data/mnist
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from rnnkit.data.download import file_md5
from rnnkit.data.mnist.idx import write_idx
from rnnkit.data.mnist.images import BUNDLED_DIR, FILES, find_mnist_file, load_mnist

PER_CLASS = {"train": 1000, "test": 200}
PREFIX = {"train": "train", "test": "t10k"}

README = """\
# Bundled MNIST sample

A class-balanced sample of the MNIST database of handwritten digits, shipped so that rnnkit's
tutorials and tests run offline: {n_train:,} training images (the first {k_train:,} of each digit
in the official training file, in file order) and {n_test:,} test images (the first {k_test} of
each digit in the official test file). Use `source="full"` with `download=True` for the
complete 60,000 + 10,000 images.

## Attribution and licence

MNIST was created by Yann LeCun, Corinna Cortes and Christopher J.C. Burges
(http://yann.lecun.com/exdb/mnist/). It is made available under the terms of the Creative
Commons Attribution-Share Alike 3.0 licence (CC BY-SA 3.0,
https://creativecommons.org/licenses/by-sa/3.0/). This sample is a derived work distributed
under the same licence; the rest of rnnkit is MIT-licensed.

## How it was made

`scripts/make_mnist_sample.py --source <dir with the four official files>`; the script checks
the md5 of the full files first. Its output is reproducible: the uncompressed files are
byte-identical on every run (the .gz files too, given the same zlib version).

| file | images | md5 of the .gz | md5 uncompressed |
| --- | --- | --- | --- |
{rows}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, help="directory with the full MNIST files")
    parser.add_argument("--out", default=str(BUNDLED_DIR), help="output directory")
    args = parser.parse_args(argv)
    source, out = Path(args.source), Path(args.out)

    for name, (raw_md5, _) in FILES.items():
        path = find_mnist_file(source, name)
        if path is None:
            parser.error(f"{name}[.gz] not found in {source}")
        found = file_md5(path, decompress=path.suffix == ".gz")
        if found != raw_md5:
            parser.error(f"{path}: expected uncompressed md5 {raw_md5}, found {found}")

    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for split, k in PER_CLASS.items():
        images, labels = load_mnist(source, split)
        keep = np.sort(np.concatenate([np.flatnonzero(labels == d)[:k] for d in range(10)]))
        assert len(keep) == 10 * k, f"{split}: fewer than {k} images of some digit"
        for kind, array in (
            ("images-idx3-ubyte", images[keep]),
            ("labels-idx1-ubyte", labels[keep].astype(np.uint8)),
        ):
            path = write_idx(out / f"{PREFIX[split]}-{kind}.gz", array)
            gz, raw = file_md5(path), file_md5(path, decompress=True)
            rows.append(f"| {path.name} | {len(keep):,} | {gz} | {raw} |")
            print(f"{path}: {path.stat().st_size:,} bytes, md5 {gz}, uncompressed {raw}")

    (out / "README.md").write_text(
        README.format(
            n_train=10 * PER_CLASS["train"],
            k_train=PER_CLASS["train"],
            n_test=10 * PER_CLASS["test"],
            k_test=PER_CLASS["test"],
            rows="\n".join(rows),
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
