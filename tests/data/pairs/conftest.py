"""Tiny pair files for the pairs tests: a G2P-like table, its CMUdict-like dictionary and
aligned line files."""

import pytest
from pairs_helpers import spell, words


@pytest.fixture
def cmu_file(tmp_path):
    """A CMUdict-like file: 200 words, every fifth with a second pronunciation ``word(2)``,
    comments after ``#`` and comment-only lines."""
    lines = ["# a comment line", ""]
    for k, word in enumerate(words(200)):
        lines.append(f"{word} {spell(word)}" + (" # name, made up" if k % 7 == 0 else ""))
        if k % 5 == 0:
            lines.append(f"{word}(2) {spell(word[::-1])}")
    path = tmp_path / "tiny.dict"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def table_file(tmp_path):
    """A TSV with a ``source<TAB>target`` header: 200 words and their pronunciations."""
    path = tmp_path / "g2p.tsv"
    rows = ["source\ttarget"] + [f"{w}\t{spell(w)}" for w in words(200)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path
