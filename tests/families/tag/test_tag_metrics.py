"""Span and word scores of taggings: entities as seqeval reads them, words of BMES tags."""

from __future__ import annotations

import random

import pytest

from rnnkit.families.tag.metrics import entities_of, span_scores, tag_report, words_of

seqeval = pytest.importorskip("seqeval.metrics")  # the dev extra installs it: the oracle
from seqeval.metrics.sequence_labeling import get_entities  # noqa: E402


def random_tags(rng: random.Random, roles: str, n: int) -> list[str]:
    return [t if t == "O" else f"{t}-{rng.choice('XY')}"
            for t in (rng.choice(roles) for _ in range(n))]


@pytest.mark.parametrize("roles", ["BIO", "BIOES"])
def test_entities_are_seqevals_on_every_tagging_even_broken_ones(roles):
    rng = random.Random(0)
    for _ in range(3000):
        tags = random_tags(rng, roles, rng.randint(1, 9))
        ours = sorted((k, a, b - 1) for k, a, b in entities_of(tags))
        assert ours == sorted(get_entities(tags)), tags


def test_span_scores_and_report_equal_seqevals():
    rng = random.Random(1)
    gold = [random_tags(rng, "BIO", rng.randint(1, 12)) for _ in range(200)]
    predicted = [[t if rng.random() < 0.8 else rng.choice(["O", "B-X", "I-Y"]) for t in s]
                 for s in gold]
    ours = span_scores(gold, predicted, "BIO")
    assert ours["f1"] == pytest.approx(seqeval.f1_score(gold, predicted))
    assert ours["precision"] == pytest.approx(seqeval.precision_score(gold, predicted))
    assert ours["recall"] == pytest.approx(seqeval.recall_score(gold, predicted))
    report = seqeval.classification_report(gold, predicted, output_dict=True)
    for kind, row in tag_report(gold, predicted, "BIO").items():
        assert row["f1"] == pytest.approx(report[kind]["f1-score"])
        assert row["support"] == report[kind]["support"]


def test_words_of_bmes_tags():
    assert words_of(list("bmesbe")) == [(0, 3), (3, 4), (4, 6)]
    assert words_of(list("BES")) == [(0, 2), (2, 3)]
    assert words_of(list("bmm")) == [(0, 3)]  # an unfinished word still ends with the sentence


def test_word_f1_counts_whole_words():
    gold, predicted = [list("bebes")], [list("besss")]  # 我们|喜欢|好 vs 我们|喜|欢|好
    scores = span_scores(gold, predicted, "BMES")
    assert scores == pytest.approx({"precision": 2 / 4, "recall": 2 / 3, "f1": 4 / 7})
    assert span_scores(gold, predicted, "other") is None
