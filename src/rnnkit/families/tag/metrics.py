"""What a tagging is scored by beyond token accuracy: entity spans (BIO, BIOES, counted as
conlleval and seqeval count them) and words (BMES segmentation), with a per-tag report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

__all__ = ["SCHEME_METRIC", "entities_of", "span_scores", "tag_report", "words_of"]

# What the F1 of each scheme counts (rnnkit.models.tag_schemes.tag_scheme names them).
SCHEME_METRIC = {"BIO": "span", "BIOES": "span", "BMES": "word"}


def words_of(tags: Sequence[str]) -> list[tuple[int, int]]:
    """The words ``[start, end)`` of a BMES tagging: a word starts at B or S and ends after E
    or S; a tag sequence that breaks the rules still cuts a word at every B and S (and after
    every E), as SIGHAN's scorer reads a segmentation."""
    words, start = [], 0
    for i, tag in enumerate(tags):
        kind = tag[:1].upper()
        if kind in ("B", "S") and i > start:
            words.append((start, i))
            start = i
        if kind in ("E", "S"):
            words.append((start, i + 1))
            start = i + 1
    if start < len(tags):
        words.append((start, len(tags)))
    return words


def entities_of(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """The entities ``(type, start, end)`` of a BIO or BIOES tagging, read as the CoNLL
    evaluation script (conlleval) and seqeval's default mode read them: an entity begins at
    B- or S-, or at an I-/E- whose type differs from the entity before it or that follows O,
    E- or S-; it ends before the next beginning or O, and after E- or S-."""
    found: list[tuple[str, int, int]] = []
    kind, start = None, 0
    previous = "O"
    for i, tag in enumerate([*tags, "O"]):
        role, _, label = tag.partition("-") if "-" in tag else (tag[:1], "", tag[2:])
        role = role.upper()
        begins = role in ("B", "S") or (role in ("I", "E") and (
            previous[:1].upper() in ("O", "E", "S") or label != kind))
        if kind is not None and (begins or role == "O"):
            found.append((kind, start, i))
            kind = None
        if role != "O" and (begins or kind is None):
            kind, start = label, i
        if role in ("E", "S") and kind is not None:
            found.append((kind, start, i + 1))
            kind = None
        previous = tag
    return found


def _prf(correct: int, found: int, gold: int) -> dict[str, float]:
    precision = correct / found if found else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def _chunks(tags: Sequence[str], kind: str) -> set[tuple[str, int, int]]:
    return {("", a, b) for a, b in words_of(tags)} if kind == "word" else set(entities_of(tags))


def span_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]],
                scheme: str) -> dict[str, float] | None:
    """Precision, recall and F1 of the spans (``span``: entities of BIO/BIOES tags, as
    conlleval counts them) or words (``word``: BMES), over all sentences; None for a tag set
    of no known scheme."""
    kind = SCHEME_METRIC.get(scheme)
    if kind is None:
        return None
    correct = found = total = 0
    for g, p in zip(gold, predicted, strict=True):
        gs, ps = _chunks(g, kind), _chunks(p, kind)
        correct, found, total = correct + len(gs & ps), found + len(ps), total + len(gs)
    return _prf(correct, found, total)


def tag_report(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]],
               scheme: str) -> dict[str, dict[str, Any]]:
    """Per entity type (BIO/BIOES, seqeval) or per tag (other schemes): precision, recall,
    F1 and support (how many gold spans or tokens)."""
    if SCHEME_METRIC.get(scheme) == "span":
        counts: dict[str, list[int]] = {}  # type -> [correct, found, gold]
        for g, p in zip(gold, predicted, strict=True):
            gs, ps = set(entities_of(g)), set(entities_of(p))
            for index, spans in ((2, gs), (1, ps), (0, gs & ps)):
                for kind, _, _ in spans:
                    counts.setdefault(kind, [0, 0, 0])[index] += 1
        return {kind: {**_prf(*c), "support": c[2]} for kind, c in sorted(counts.items())}
    pairs = [(g, p) for gs, ps in zip(gold, predicted, strict=True)
             for g, p in zip(gs, ps, strict=True)]
    support = Counter(g for g, _ in pairs)
    found = Counter(p for _, p in pairs)
    correct = Counter(g for g, p in pairs if g == p)
    return {tag: {**_prf(correct[tag], found[tag], support[tag]), "support": support[tag]}
            for tag in sorted(support | found)}
