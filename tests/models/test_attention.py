"""Attention: weights sum to 1 over the real steps, and padding changes nothing."""

import pytest
import torch

from rnnkit.models.attention import ATTENTIONS, Attention


@pytest.mark.parametrize("kind", ATTENTIONS)
def test_weights_sum_to_one_on_real_steps_and_padding_changes_nothing(kind):
    torch.manual_seed(0)
    att = Attention(kind, query_size=6, memory_size=6).double()
    memory = torch.randn(3, 5, 6, dtype=torch.float64)
    lengths = torch.tensor([5, 3, 1])
    mask = torch.arange(5)[None] < lengths[:, None]
    query = torch.randn(3, 4, 6, dtype=torch.float64)  # (N, T, Q)
    context, weights = att(query, att.keys(memory), memory, mask)
    assert weights.shape == (3, 4, 5) and context.shape == (3, 4, 6)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 4, dtype=torch.float64))
    assert (weights[1, :, 3:] == 0).all() and (weights[2, :, 1:] == 0).all()
    # Garbage in the padded steps: the same weights and contexts.
    noisy = memory.clone()
    noisy[~mask] = 1e3 * torch.randn(int((~mask).sum()), 6, dtype=torch.float64)
    context2, weights2 = att(query, att.keys(noisy), noisy, mask)
    torch.testing.assert_close(weights2, weights)
    torch.testing.assert_close(context2, context)
    # A single query is the same as the first of T.
    c1, w1 = att(query[:, 0], att.keys(memory), memory, mask)
    torch.testing.assert_close(w1, weights[:, 0])
    torch.testing.assert_close(c1, context[:, 0])


def test_dot_needs_equal_sizes_and_kinds_are_checked():
    with pytest.raises(ValueError, match="same size"):
        Attention("dot", 4, 6)
    with pytest.raises(ValueError, match="attention must be one of"):
        Attention("luong", 4, 4)
    Attention("general", 4, 6)
    Attention("additive", 4, 6, hidden_size=3)


def test_additive_is_bahdanau_score():
    torch.manual_seed(1)
    att = Attention("additive", 3, 2, hidden_size=4).double()
    memory, q = torch.randn(1, 2, 2, dtype=torch.float64), torch.randn(1, 3, dtype=torch.float64)
    _, weights = att(q, att.keys(memory), memory)
    e = torch.stack([att.score.weight[0] @ torch.tanh(att.query_proj.weight @ q[0]
                                                     + att.query_proj.bias
                                                     + att.memory_proj.weight @ memory[0, s])
                     for s in range(2)])
    torch.testing.assert_close(weights[0], e.softmax(0))
