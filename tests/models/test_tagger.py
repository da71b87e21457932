"""SequenceTagger: padding never changes a tag, a probability or the loss; features reach it."""

from __future__ import annotations

import pytest
import torch

from rnnkit.models.tagger import IGNORE, SequenceTagger


def tagger(crf: bool) -> SequenceTagger:
    torch.manual_seed(0)
    return SequenceTagger(4, vocab_size=30, embedding_dim=6, num_chars=12, char_dim=4,
                          char_channels=5, num_bigrams=20, bigram_dim=3, hidden_size=7,
                          num_layers=2, crf=crf, tag_names=["O", "B-X", "I-X", "B-Y"]).double()


@pytest.mark.parametrize("crf", [False, True])
def test_padding_changes_no_tag_probability_or_loss(crf, one_thread):
    model = tagger(crf).eval()
    torch.manual_seed(1)
    tokens = torch.randint(1, 30, (1, 5))
    chars = torch.randint(1, 12, (1, 5, 4))
    bigrams = torch.randint(1, 20, (1, 5))
    tags = torch.randint(0, 4, (1, 5))
    lengths = torch.tensor([5])
    alone = model(tokens, lengths, chars=chars, bigrams=bigrams)
    # the same sentence beside a longer one: padded with garbage ids
    longer = 9
    pad = lambda x, fill: torch.cat([x, torch.full((1, longer - 5, *x.shape[2:]), fill)], 1)  # noqa: E731
    batch_tokens = torch.cat([pad(tokens, 7), torch.randint(1, 30, (1, longer))])
    batch_chars = torch.cat([pad(chars, 3), torch.randint(1, 12, (1, longer, 4))])
    batch_bigrams = torch.cat([pad(bigrams, 5), torch.randint(1, 20, (1, longer))])
    batch_tags = torch.cat([pad(tags, IGNORE), torch.randint(0, 4, (1, longer))])
    batch_lengths = torch.tensor([5, longer])
    both = model(batch_tokens, batch_lengths, chars=batch_chars, bigrams=batch_bigrams)
    torch.testing.assert_close(both[:1, :5], alone, rtol=1e-10, atol=1e-10)
    assert torch.equal(model.decode(both, batch_lengths)[0, :5], model.decode(alone, lengths)[0])
    torch.testing.assert_close(model.probabilities(both, batch_lengths)[0, :5],
                               model.probabilities(alone, lengths)[0])
    assert (model.probabilities(both, batch_lengths)[0, 5:] == 0).all()
    one = model.loss(alone, tags, lengths)
    first = model.loss(both[:1], batch_tags[:1], batch_lengths[:1])
    torch.testing.assert_close(first, one)


def test_unseen_tags_add_no_cross_entropy():
    model = tagger(False).eval()
    tokens, lengths = torch.randint(1, 30, (2, 4)), torch.tensor([4, 4])
    with torch.no_grad():
            emissions = model(tokens, lengths, chars=torch.randint(1, 12, (2, 4, 3)),
                          bigrams=torch.randint(1, 20, (2, 4)))
    tags = torch.tensor([[0, 1, 2, 3], [1, 1, 1, 1]])
    marked = tags.clone()
    marked[1] = -1
    assert float(model.loss(emissions, marked, lengths)) == pytest.approx(
        float(model.loss(emissions[:1], tags[:1], lengths[:1])))


def test_a_model_with_character_features_needs_them():
    model = tagger(False)
    with pytest.raises(ValueError, match="reads chars features; the batch has none"):
        model(torch.randint(1, 30, (1, 3)), torch.tensor([3]), bigrams=torch.ones(1, 3).long())
