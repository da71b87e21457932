"""Seq2Seq: stepping equals the whole-sequence forward, padding in the source never changes an
output, the bridge joins encoders and decoders of other shapes."""

import pytest
import torch

from rnnkit.models.seq2seq import Seq2Seq


def _model(**options):
    torch.manual_seed(0)
    kw = {"embedding_dim": 5, "hidden_size": 6, **options}
    return Seq2Seq(9, 11, **kw).double().eval()


SOURCE = torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0], [5, 0, 0, 0]])
LENGTHS = torch.tensor([4, 2, 1])
TARGET_IN = torch.tensor([[2, 4, 5, 6, 7], [2, 9, 4, 0, 0], [2, 5, 0, 0, 0]])

CONFIGS = [
    {},
    {"attention": "dot", "bidirectional": False},
    {"attention": "additive", "cell": "gru", "num_layers": 2},
    {"attention": "none", "cell": "rnn"},
    {"input_feeding": True, "cell": "layernorm_lstm"},
    {"cell": "lstm", "decoder_cell": "gru", "decoder_hidden_size": 7, "decoder_layers": 2},
    {"bridge": "zeros", "cell": "indrnn", "decoder_cell": "mingru"},
]


@pytest.mark.parametrize("options", CONFIGS)
def test_stepping_equals_forward(options):
    model = _model(**options)
    logits, weights = model(SOURCE, LENGTHS, TARGET_IN)
    assert logits.shape == (3, 5, 11)
    state = model.encode(SOURCE, LENGTHS)
    for t in range(TARGET_IN.shape[1]):
        step_logits, state = model.step(TARGET_IN[:, t], state)
        torch.testing.assert_close(step_logits, logits[:, t])
        if weights is not None:
            torch.testing.assert_close(state.weights, weights[:, t])


@pytest.mark.parametrize("options", CONFIGS)
def test_source_padding_changes_nothing(options):
    model = _model(**options)
    logits, weights = model(SOURCE, LENGTHS, TARGET_IN)
    for row in range(3):
        n = int(LENGTHS[row])
        alone, alone_w = model(SOURCE[row:row + 1, :n], LENGTHS[row:row + 1],
                               TARGET_IN[row:row + 1])
        torch.testing.assert_close(alone[0], logits[row])
        if weights is not None:
            torch.testing.assert_close(alone_w[0], weights[row, :, :n])
            assert (weights[row, :, n:] == 0).all()
            torch.testing.assert_close(weights[row].sum(-1), torch.ones(5, dtype=torch.float64))


def test_teacher_forcing_below_one_reads_its_own_guesses():
    model = _model()
    torch.manual_seed(3)
    forced, _ = model(SOURCE, LENGTHS, TARGET_IN, teacher_forcing=1.0)
    own, _ = model(SOURCE, LENGTHS, TARGET_IN, teacher_forcing=0.0)
    torch.testing.assert_close(own[:, 0], forced[:, 0])  # the first step reads <s> either way
    assert not torch.allclose(own, forced)
    # With no teacher, step t+1 reads the argmax of step t: the greedy path.
    state = model.encode(SOURCE, LENGTHS)
    tokens = TARGET_IN[:, 0]
    for t in range(5):
        step_logits, state = model.step(tokens, state)
        torch.testing.assert_close(step_logits[0], own[0, t])
        tokens = step_logits.argmax(-1)


def test_bad_options_and_inputs():
    with pytest.raises(ValueError, match="attention must be one of"):
        Seq2Seq(5, 5, attention="luong")
    with pytest.raises(ValueError, match="needs attention"):
        Seq2Seq(5, 5, attention="none", input_feeding=True)
    with pytest.raises(ValueError, match="same size"):
        Seq2Seq(5, 5, attention="dot", hidden_size=4, decoder_hidden_size=6)
    model = _model()
    with pytest.raises(ValueError, match=r"\(N, S\)"):
        model.encode(torch.randn(2, 3))
    with pytest.raises(ValueError, match=r"\(N,\)"):
        model.step(torch.tensor([[2]]), model.encode(SOURCE, LENGTHS))


def test_learns_to_reverse():
    """A tiny reverse task, learnt to exact match by greedy decoding."""
    from rnnkit.models.beam_search import greedy_search

    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    n, vocab = 512, 8  # tokens 4..7; 2 = <s>, 3 = </s>
    lengths = torch.randint(2, 6, (n,), generator=gen)
    source = torch.randint(4, vocab, (n, 5), generator=gen)
    source[torch.arange(5)[None] >= lengths[:, None]] = 0
    target = torch.zeros(n, 7, dtype=torch.long)
    for i in range(n):
        k = int(lengths[i])
        target[i, : k + 2] = torch.tensor([2, *source[i, :k].flip(0).tolist(), 3])
    model = Seq2Seq(vocab, vocab, embedding_dim=16, hidden_size=32, cell="gru")
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        idx = torch.randint(0, n, (64,), generator=gen)
        logits, _ = model(source[idx], lengths[idx], target[idx, :-1])
        loss = torch.nn.functional.cross_entropy(logits.transpose(1, 2), target[idx, 1:],
                                                 ignore_index=0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    hyps = greedy_search(model.step, model.encode(source[:100], lengths[:100]), bos=2, eos=3,
                         max_lengths=lengths[:100] + 2, banned=[0, 2])
    right = sum(list(h.tokens) == source[i, : int(lengths[i])].flip(0).tolist()
                for i, h in enumerate(hyps))
    assert right >= 95, right
