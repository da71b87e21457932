"""Greedy and beam search: beam 1 is greedy; a wide beam finds the best sequence that brute
force finds on a toy model small enough to enumerate; batching changes nothing."""

import itertools
import math
from dataclasses import dataclass

import pytest
import torch

from rnnkit.models.beam_search import beam_search, greedy_search
from rnnkit.models.seq2seq import Seq2Seq

BOS, EOS = 1, 2
WORDS = (3, 4, 5)  # the tokens a toy sequence is made of; 0 is padding


@dataclass
class ToyState:
    """The toy model's state: the step and the hash of the prefix so far, per row."""

    t: torch.Tensor
    prefix: torch.Tensor
    memory: torch.Tensor

    def select(self, index):
        return ToyState(self.t[index], self.prefix[index], self.memory[index])


TABLE = torch.randn(97, 6, generator=torch.Generator().manual_seed(0)) * 2


def toy_step(tokens, state):
    """Logits that depend on the whole prefix (through its hash), so greedy is not optimal."""
    prefix = (state.prefix * 7 + tokens + state.memory) % 97
    return TABLE[prefix], ToyState(state.t + 1, prefix, state.memory)


def toy_start(rows):
    z = torch.zeros(len(rows), dtype=torch.long)
    return ToyState(z, z.clone(), torch.tensor(rows))


def log_prob_of(seq, example, ended):
    state, total, prev = toy_start([example]), 0.0, torch.tensor([BOS])
    for tok in [*seq, EOS] if ended else seq:
        logits, state = toy_step(prev, state)
        logits[:, [0, BOS]] = -math.inf
        total += float(logits.log_softmax(-1)[0, tok])
        prev = torch.tensor([tok])
    return total


@pytest.mark.parametrize("example", [0, 1, 2, 3])
def test_wide_beam_finds_the_brute_force_best(example):
    max_len = 4  # output steps; the end token counts
    candidates = [(seq, True) for n in range(max_len) for seq in itertools.product(WORDS,
                                                                                   repeat=n)]
    candidates += [(seq, False) for seq in itertools.product(WORDS, repeat=max_len)]
    # Ended sequences rank before cut ones, then by log-probability (length_penalty 0).
    best = max(candidates, key=lambda c: (c[1], log_prob_of(c[0], example, c[1])))
    [hyps] = beam_search(toy_step, toy_start([example]), bos=BOS, eos=EOS,
                         max_lengths=torch.tensor([max_len]), beam_size=200,
                         length_penalty=0.0, nbest=3, banned=[0, BOS])
    assert (hyps[0].tokens, hyps[0].ended) == (tuple(best[0]), best[1])
    assert hyps[0].log_prob == pytest.approx(log_prob_of(*best[0:1], example, best[1]))
    ranked = [(h.ended, h.score) for h in hyps]
    assert ranked == sorted(ranked, reverse=True)


def test_beam_of_one_is_greedy_on_the_toy_and_a_real_model():
    rows = list(range(20))
    greedy = greedy_search(toy_step, toy_start(rows), bos=BOS, eos=EOS,
                           max_lengths=torch.full((20,), 6), banned=[0, BOS])
    beam = beam_search(toy_step, toy_start(rows), bos=BOS, eos=EOS,
                       max_lengths=torch.full((20,), 6), beam_size=1, banned=[0, BOS])
    for g, [b] in zip(greedy, beam, strict=True):
        assert (g.tokens, g.ended) == (b.tokens, b.ended)
        assert g.log_prob == pytest.approx(b.log_prob)
    torch.manual_seed(0)
    model = Seq2Seq(9, 10, embedding_dim=6, hidden_size=8).eval()
    source = torch.randint(3, 9, (16, 7))
    lengths = torch.randint(1, 8, (16,))
    limits = lengths + 3
    g = greedy_search(model.step, model.encode(source, lengths), bos=2, eos=3,
                      max_lengths=limits, banned=[0, 2])
    b = beam_search(model.step, model.encode(source, lengths), bos=2, eos=3, max_lengths=limits,
                    beam_size=1, banned=[0, 2])
    assert [h.tokens for h in g] == [h[0].tokens for h in b]
    assert all(len(h.tokens) <= int(m) for h, m in zip(g, limits, strict=True))


def test_batching_changes_no_beam():
    torch.manual_seed(1)
    model = Seq2Seq(9, 10, embedding_dim=6, hidden_size=8, attention="additive").eval()
    source = torch.randint(3, 9, (6, 5))
    lengths = torch.tensor([5, 4, 3, 2, 1, 5])
    source[torch.arange(5)[None] >= lengths[:, None]] = 0
    limits = torch.full((6,), 8)
    batched = beam_search(model.step, model.encode(source, lengths), bos=2, eos=3,
                          max_lengths=limits, beam_size=4, nbest=4, banned=[0, 2])
    for i in range(6):
        n = int(lengths[i])
        [alone] = beam_search(model.step, model.encode(source[i:i + 1, :n], lengths[i:i + 1]),
                              bos=2, eos=3, max_lengths=limits[:1], beam_size=4, nbest=4,
                              banned=[0, 2])
        assert [h.tokens for h in alone] == [h.tokens for h in batched[i]]
        assert [h.score for h in alone] == pytest.approx([h.score for h in batched[i]])


def test_greedy_records_attention_and_checks_arguments():
    torch.manual_seed(2)
    model = Seq2Seq(9, 10, embedding_dim=6, hidden_size=8).eval()
    source, lengths = torch.randint(3, 9, (2, 4)), torch.tensor([4, 2])
    hyps = greedy_search(model.step, model.encode(source, lengths), bos=2, eos=3,
                         max_lengths=torch.tensor([5, 5]), record=lambda s: s.weights)
    for h, n in zip(hyps, (4, 2), strict=True):
        assert h.weights.shape == (len(h.tokens) + h.ended, 4)
        torch.testing.assert_close(h.weights[:, :n].sum(-1), torch.ones(len(h.weights)))
    with pytest.raises(ValueError, match="beam size must be"):
        beam_search(model.step, model.encode(source, lengths), bos=2, eos=3,
                    max_lengths=torch.tensor([5, 5]), beam_size=0)
    with pytest.raises(ValueError, match="nbest"):
        beam_search(model.step, model.encode(source, lengths), bos=2, eos=3,
                    max_lengths=torch.tensor([5, 5]), beam_size=2, nbest=3)
    with pytest.raises(ValueError, match="max_lengths"):
        greedy_search(model.step, model.encode(source, lengths), bos=2, eos=3,
                      max_lengths=torch.tensor([5, 0]))
