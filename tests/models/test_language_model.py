"""LanguageModel: streaming equals whole-sequence forward, carried state, tying, regularizers."""

from __future__ import annotations

import doctest

import pytest
import torch

from rnnkit.models import language_model
from rnnkit.models.language_model import LanguageModel
from rnnkit.nn import LAYERS

V, E, H = 13, 6, 8
ATOL = 1e-10


def tiny_model(cell: str, **options) -> LanguageModel:
    torch.manual_seed(0)
    options = {"embedding_dim": E, "hidden_size": H, "num_layers": 2, **options}
    return LanguageModel(V, cell=cell, **options).double().eval()


def as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def assert_states_equal(a, b):
    assert len(as_tuple(a)) == len(as_tuple(b))
    for got, want in zip(as_tuple(a), as_tuple(b), strict=True):
        torch.testing.assert_close(got, want, atol=ATOL, rtol=0)


@pytest.mark.parametrize("cell", list(LAYERS))
def test_greedy_streaming_equals_rerunning_the_whole_sequence(one_thread, cell):
    # the regularizers are set to show they do nothing in evaluation
    model = tiny_model(cell, tie_weights=True, embedding_dropout=0.3, output_dropout=0.3,
                       input_dropout=0.3, dropout=0.2)
    prompt = torch.tensor([3, 1, 4, 1, 5])
    with torch.no_grad():
        logits, state = model(prompt[None])  # warm the state with the prompt
        token = logits[:, -1].argmax(-1)  # (1,)
        streamed_tokens, streamed_logits = [int(token)], [logits[0, -1]]
        for _ in range(6):
            logits, state = model.step(token, state)  # (1, V)
            token = logits.argmax(-1)
            streamed_tokens.append(int(token))
            streamed_logits.append(logits[0])

        sequence, rerun_tokens, rerun_logits = prompt, [], []
        for _ in range(7):
            last = model(sequence[None])[0][0, -1]  # (V,), the whole sequence again
            rerun_tokens.append(int(last.argmax()))
            rerun_logits.append(last)
            sequence = torch.cat([sequence, last.argmax().view(1)])
    assert streamed_tokens == rerun_tokens
    torch.testing.assert_close(torch.stack(streamed_logits), torch.stack(rerun_logits),
                               atol=ATOL, rtol=0)


@pytest.mark.parametrize("cell", list(LAYERS))
def test_state_carried_across_batches_equals_one_forward(one_thread, cell):
    model = tiny_model(cell)
    tokens = torch.randint(0, V, (3, 9))
    whole_logits, whole_state = model(tokens)
    first_logits, state = model(tokens[:, :4])
    second_logits, state = model(tokens[:, 4:], LanguageModel.detach_state(state))
    torch.testing.assert_close(torch.cat([first_logits, second_logits], dim=1), whole_logits,
                               atol=ATOL, rtol=0)
    assert_states_equal(state, whole_state)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_detach_state_cuts_the_graph(cell):
    model = tiny_model(cell)
    _, state = model(torch.randint(0, V, (2, 3)))
    assert all(s.requires_grad for s in as_tuple(state))
    detached = LanguageModel.detach_state(state)
    assert type(detached) is type(state)
    for got, want in zip(as_tuple(detached), as_tuple(state), strict=True):
        assert not got.requires_grad and torch.equal(got, want)
    assert LanguageModel.detach_state(None) is None


@pytest.mark.parametrize("hidden_size", [E, H], ids=["H==E", "H!=E"])
def test_tie_weights_shares_the_embedding_matrix(hidden_size):
    options = {"embedding_dim": E, "hidden_size": hidden_size, "num_layers": 1}
    untied = LanguageModel(V, **options)
    tied = LanguageModel(V, tie_weights=True, **options)
    assert tied.decoder.weight is tied.embedding.weight
    assert tied.decoder.weight.data_ptr() == tied.embedding.weight.data_ptr()
    assert untied.decoder.weight is not untied.embedding.weight
    assert tied.decoder.bias is not None and untied.projection is None
    if hidden_size == E:
        assert tied.projection is None
        assert untied.num_parameters - tied.num_parameters == V * E
    else:
        assert tied.projection.in_features == hidden_size
        assert tied.projection.out_features == E and tied.projection.bias is None
        assert untied.num_parameters - tied.num_parameters == V * hidden_size - hidden_size * E
    # the shared matrix learns from both ends
    logits, _ = tied(torch.tensor([[1, 2, 3]]))
    logits[..., 7].sum().backward()
    grad = tied.embedding.weight.grad
    assert grad[7].abs().sum() > 0  # from the decoder: token 7 never went in
    assert grad[1].abs().sum() > 0  # from the embedding


def test_embedding_dropout_drops_whole_word_types_in_training():
    torch.manual_seed(0)
    model = LanguageModel(20, embedding_dim=E, hidden_size=H, embedding_dropout=0.5)
    tokens = torch.arange(20).repeat(3, 2)  # (3, 40): every type 6 times
    plain = model.embedding(tokens)  # (N, L, E)
    model.train()
    dropped = model.embed(tokens)
    zero = (dropped == 0).all(-1)  # (N, L): whole rows
    kept = torch.isclose(dropped, plain * 2).all(-1)  # scaled by 1 / (1 - p)
    assert (zero | kept).all()
    zero_types = set(tokens[zero].tolist())
    assert zero_types.isdisjoint(tokens[kept].tolist())  # a type drops everywhere or nowhere
    assert 0 < len(zero_types) < 20
    model.eval()
    assert torch.equal(model.embed(tokens), plain)


def test_output_dropout_acts_in_training_only():
    torch.manual_seed(0)
    model = LanguageModel(V, embedding_dim=E, hidden_size=H, output_dropout=0.5)
    tokens = torch.randint(0, V, (2, 5))
    assert not torch.equal(model(tokens)[0], model(tokens)[0])
    model.eval()
    assert torch.equal(model(tokens)[0], model(tokens)[0])


def test_regularizers_reach_the_layer():
    model = LanguageModel(V, cell="lstm", embedding_dim=E, hidden_size=H, dropout=0.1,
                          input_dropout=0.2, recurrent_dropout=0.25, weight_drop=0.3,
                          embedding_dropout=0.05, output_dropout=0.4)
    assert isinstance(model.rnn, LAYERS["lstm"]) and model.rnn.batch_first
    assert model.rnn.dropout == 0.1 and model.rnn.input_dropout == 0.2
    assert model.rnn.recurrent_dropout == 0.25 and model.rnn.weight_drop == 0.3
    assert model.embedding_dropout == 0.05 and model.output_dropout.p == 0.4


@pytest.mark.parametrize("cell", ["mingru", "minlstm"])
@pytest.mark.parametrize("option", ["weight_drop", "recurrent_dropout"])
def test_a_cell_that_cannot_take_a_regularizer_is_named(cell, option):
    match = rf"^LanguageModel\(cell='{cell}', {option}=0.3\): .*{option}"
    with pytest.raises(ValueError, match=match):
        LanguageModel(V, cell=cell, **{option: 0.3})


def test_bad_arguments():
    with pytest.raises(ValueError, match="cell must be one of rnn, lstm, gru, .*, got 'tcn'"):
        LanguageModel(V, cell="tcn")
    with pytest.raises(ValueError, match=r"embedding_dropout must be a number in \[0, 1\)"):
        LanguageModel(V, embedding_dropout=1.0)
    with pytest.raises(ValueError, match="vocab_size must be an int >= 1, got 0"):
        LanguageModel(0)
    model = LanguageModel(V, embedding_dim=E, hidden_size=H)
    with pytest.raises(ValueError, match=r"expected token ids of shape \(N, L\)"):
        model(torch.zeros(2, 3))  # float
    with pytest.raises(ValueError, match=r"expected token ids of shape \(N,\)"):
        model.step(torch.zeros(2, 1, dtype=torch.long))


def test_docstring_examples_run():
    torch.manual_seed(0)
    result = doctest.testmod(language_model, raise_on_error=False, verbose=False)
    assert result.attempted > 0 and result.failed == 0
