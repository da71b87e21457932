"""Shared by the corpus tests: a private cache directory (never ~/.cache) and small texts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rnnkit.config.section import build_section
from rnnkit.data.corpus.config import CorpusConfig

_MIXED = "First line.\n\nTwo  spaces,\ttab; 中文 字符 😀 end\n  indented\n"


@pytest.fixture(autouse=True)
def corpus_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$RNNKIT_CACHE_DIR``: a fresh directory per test."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("RNNKIT_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def mixed_text() -> str:
    """What a verbatim tokenizer must keep: newlines, runs of spaces, tabs, CJK, emoji."""
    return _MIXED


@pytest.fixture
def corpus_config(tmp_path: Path) -> Callable[..., CorpusConfig]:
    """``corpus_config(text, **data)``: a ``data:`` section training on ``text`` (written to a
    file; ``train=PATH`` instead reads that file)."""

    def make(text: str | None = None, **data: Any) -> CorpusConfig:
        if text is not None:
            path = tmp_path / "train.txt"
            path.write_bytes(text.encode("utf-8"))
            data["train"] = str(path)
        return build_section(CorpusConfig, data, "data.")

    return make
