"""The seq2seq task's loss and scores: the teacher-forced loss is the sum of the per-step
losses, and the scores count what a user would count by hand."""

from __future__ import annotations

import itertools
import random

import pytest
import torch
import torch.nn.functional as F

from rnnkit.config import RunConfig
from rnnkit.data.info import DataInfo
from rnnkit.families.seq2seq.metrics import edit_distance, score_sequence, text_scores
from rnnkit.families.seq2seq.task import Seq2SeqTask, sequence_loss

TARGETS = ("<pad>", "<unk>", "<s>", "</s>", "a", "b", "c")


def make_task(**model) -> Seq2SeqTask:
    config = RunConfig.from_dict({"task": "seq2seq",
                                  "data": {"name": "pairs", "train": "pairs.tsv"},
                                  "model": {"hidden_size": 8, "embedding_dim": 6, **model}})
    info = DataInfo("pairs", vocabulary=("<pad>", "<unk>", "x", "y", "z"),
                    target_vocabulary=TARGETS)
    torch.manual_seed(0)
    return Seq2SeqTask(config.to_dict(), info.to_dict())


@pytest.mark.parametrize("model", [{}, {"input_feeding": True, "attention": "additive"}])
@torch.no_grad()
def test_teacher_forced_loss_is_the_sum_of_the_per_step_losses(model):
    task = make_task(**model).double().eval()
    source = torch.tensor([[2, 3, 4], [3, 0, 0]])
    lengths = torch.tensor([3, 1])
    target = torch.tensor([[2, 4, 5, 6, 3], [2, 6, 3, 0, 0]])
    logits = task(source, lengths, target[:, :-1])
    total = sequence_loss(logits, target[:, 1:])
    by_hand = 0.0
    state = task.model.encode(source, lengths)
    for t in range(target.shape[1] - 1):
        step_logits, state = task.model.step(target[:, t], state)
        for row in range(2):
            if target[row, t + 1] != 0:
                by_hand += float(F.cross_entropy(step_logits[row:row + 1],
                                                 target[row, t + 1:t + 2]))
    assert float(total) == pytest.approx(by_hand, rel=1e-9)
    smoothed = sequence_loss(logits, target[:, 1:], label_smoothing=0.1)
    assert float(smoothed) != pytest.approx(by_hand)


def brute_edit_distance(a, b):
    """The fewest edits, by trying every alignment of the two (tiny) sequences."""
    if not a or not b:
        return len(a) + len(b)
    return min(brute_edit_distance(a[1:], b) + 1, brute_edit_distance(a, b[1:]) + 1,
               brute_edit_distance(a[1:], b[1:]) + (a[0] != b[0]))


def test_edit_distance_matches_brute_force():
    rng = random.Random(0)
    for _ in range(200):
        a = [rng.randint(0, 2) for _ in range(rng.randint(0, 5))]
        b = [rng.randint(0, 2) for _ in range(rng.randint(0, 5))]
        assert edit_distance(a, b) == brute_edit_distance(a, b)


def test_score_counts_any_reference_and_the_closest_one():
    both = [(4, 5, 6), (4, 6)]  # two pronunciations, both correct
    assert score_sequence([(4, 6)], both).exact
    s = score_sequence([(4, 5)], both)  # one edit from either; the shorter gives the length
    assert (s.exact, s.errors, s.reference_length) == (False, 1, 2)
    s = score_sequence([(5, 5), (4, 6)], both)  # wrong, but the second best is right
    assert (s.exact, s.in_nbest, s.errors) == (False, True, 2)
    s = score_sequence([(4, 5, 6)], [(4, -1, 6)])  # a token training never had: never right
    assert (s.exact, s.errors) == (False, 1)
    with pytest.raises(ValueError, match="reference"):
        score_sequence([(4,)], [])


def test_text_scores_are_sacrebleus():
    import sacrebleu

    hyps = ["the cat sat on the mat", "a dog barked at the moon"]
    refs = [["the cat sat on the mat"], ["a dog barked at a moon", "the dog barked at the moon"]]
    got = text_scores(hyps, refs)
    streams = [[r[min(k, len(r) - 1)] for r in refs] for k in range(2)]
    assert got["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hyps, streams).score)
    assert got["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hyps, streams).score)
    assert text_scores(hyps, [[h] for h in hyps])["bleu"] == pytest.approx(100)


def test_decoding_stops_at_the_configured_length():
    task = make_task(max_length_ratio=1.0, max_length_extra=1, beam_size=3).eval()
    source = torch.tensor([[2, 3, 4, 2], [3, 0, 0, 0]])
    lengths = torch.tensor([4, 1])
    for beam in (1, 3):
        for hyps, n in zip(task.decode(source, lengths, beam), (4, 1), strict=True):
            assert len(hyps[0].tokens) + hyps[0].ended <= n + 1
            assert not set(hyps[0].tokens) & {0, 2}  # never padding or <s>
    assert list(itertools.chain(task.max_lengths(lengths).tolist())) == [5, 2]
