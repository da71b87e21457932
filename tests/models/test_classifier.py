"""SequenceClassifier: shapes for every cell/summary/direction, lengths, head options."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
import torch

from rnnkit.config import ConfigError
from rnnkit.families.classify.config import SequenceModelConfig
from rnnkit.models import CELLS, SequenceClassifier, auto_patch, patch_steps
from rnnkit.nn import GRU, LSTM, RNN


@pytest.mark.parametrize(
    ("cell", "summary", "bidirectional"),
    list(itertools.product(["rnn", "lstm", "gru"], ["last", "mean", "max", "attention"],
                           [False, True])),
)
def test_output_shapes(cell, summary, bidirectional):
    torch.manual_seed(0)
    model = SequenceClassifier(
        5, 7, cell=cell, hidden_size=6, num_layers=2, bidirectional=bidirectional,
        summary=summary,
    )
    x = torch.randn(3, 4, 5)
    assert model(x).shape == (3, 7)
    assert model(x, torch.tensor([4, 1, 2])).shape == (3, 7)
    assert model.encode(x).shape == (3, 6 * (2 if bidirectional else 1))


def test_config_offers_exactly_the_classifier_cells():
    choices = {f.name: f for f in dataclasses.fields(SequenceModelConfig)}["cell"]
    assert set(choices.metadata["choices"]) == set(CELLS)


@pytest.mark.parametrize("cell", [c for c in CELLS if c not in ("rnn", "lstm", "gru")])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_extended_cells_classify_with_lengths(cell, bidirectional):
    torch.manual_seed(0)
    config = SequenceModelConfig(cell=cell, hidden_size=6, num_layers=2,
                                 bidirectional=bidirectional, zoneout=0.1, input_dropout=0.1)
    model = SequenceClassifier.from_config(config, 5, 7).eval()
    assert isinstance(model.rnn, CELLS[cell]) and model.rnn.zoneout == 0.1
    x = torch.randn(3, 4, 5)
    lengths = torch.tensor([4, 1, 2])
    logits = model(x, lengths)
    assert logits.shape == (3, 7)
    x[1, 1:] = 1e6  # padding never reaches the logits
    torch.testing.assert_close(model(x, lengths), logits)


def test_layer_options_reach_the_layer_and_are_checked():
    config = SequenceModelConfig(cell="indrnn", recurrent_max_abs=1.5, recurrent_dropout=0.2)
    layer = SequenceClassifier.from_config(config, 2, 3).rnn
    assert layer.recurrent_max_abs == 1.5 and layer.recurrent_dropout == 0.2
    with pytest.raises(ConfigError, match="recurrent_max_abs"):
        SequenceModelConfig(cell="gru", recurrent_max_abs=1.5)


def test_cells_are_rnnkit_layers():
    assert isinstance(SequenceClassifier(2, 3, cell="rnn").rnn, RNN)
    assert isinstance(SequenceClassifier(2, 3, cell="lstm").rnn, LSTM)
    assert isinstance(SequenceClassifier(2, 3, cell="gru").rnn, GRU)
    model = SequenceClassifier(2, 3, cell="gru")
    assert model.rnn is model.encoder.rnn and model.encoder.embedding is None


def test_token_inputs_are_embedded_and_padding_ignored():
    torch.manual_seed(0)
    model = SequenceClassifier(0, 3, cell="gru", hidden_size=4, vocab_size=10, embedding_dim=5,
                               summary="mean").eval()
    ids = torch.tensor([[4, 2, 7], [3, 0, 0]])  # 0: the padding token
    logits = model(ids, torch.tensor([3, 1]))
    assert logits.shape == (2, 3)
    torch.testing.assert_close(logits[1:], model(ids[1:, :1]))
    with pytest.raises(ValueError, match=r"token ids of shape \(N, L\)"):
        model(torch.randn(2, 3, 5))


@pytest.mark.parametrize("summary", ["last", "mean", "max", "meanmax", "attention"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize(("frontend", "patch"), [("patch", 1), ("patch", 4), ("conv", 1),
                                               ("conv", 4)])
def test_padded_inputs_do_not_change_logits(summary, bidirectional, frontend, patch):
    torch.manual_seed(0)
    model = SequenceClassifier(
        3, 4, hidden_size=5, num_layers=2, bidirectional=bidirectional, summary=summary,
        head_batchnorm=True, head_dropout=0.2, head_hidden=8, patch=patch, frontend=frontend,
    ).eval()
    lengths = torch.tensor([6, 2, 4])
    x = torch.randn(3, 6, 3)
    y = x.clone()
    for n, t in enumerate(lengths.tolist()):
        y[n, t:] = torch.randn(6 - t, 3) * 100
    torch.testing.assert_close(model(x, lengths), model(y, lengths))
    # a padded sequence gives what the same sequence alone, unpadded, gives
    torch.testing.assert_close(model(x, lengths)[1:2], model(x[1:2, :2]))


def test_regression_variant_is_one_output():
    model = SequenceClassifier(3, 1, cell="gru", hidden_size=4)
    assert model(torch.randn(2, 5, 3)).shape == (2, 1)


def test_from_config():
    config = SequenceModelConfig(cell="gru", hidden_size=6, num_layers=3, bidirectional=True,
                                 dropout=0.1, summary="max", head_batchnorm=True, head_hidden=5)
    model = SequenceClassifier.from_config(config, 4, 10)
    assert (model.rnn.hidden_size, model.rnn.num_layers, model.rnn.bidirectional) == (6, 3, True)
    assert model(torch.randn(2, 3, 4)).shape == (2, 10)


def test_gradients_reach_every_parameter():
    model = SequenceClassifier(3, 4, hidden_size=5, num_layers=2, summary="attention",
                               head_batchnorm=True, head_hidden=6)
    model(torch.randn(4, 6, 3), torch.tensor([6, 3, 1, 5])).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="cell must be one of"):
        SequenceClassifier(3, 4, cell="transformer")
    with pytest.raises(ValueError, match="summary must be one of"):
        SequenceClassifier(3, 4, summary="first")
    model = SequenceClassifier(3, 4, hidden_size=5)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, L, 3\)"):
        model(torch.randn(2, 5, 4))
    with pytest.raises(ValueError, match="lengths"):
        model(torch.randn(2, 5, 3), torch.tensor([6, 1]))


def test_merged_directions_size_the_head_and_reject_the_last_summary():
    model = SequenceClassifier(3, 4, cell="gru", hidden_size=5, bidirectional=True,
                               summary="mean", layer_options={"merge_mode": "sum"})
    assert model(torch.randn(2, 6, 3), [6, 2]).shape == (2, 4)  # lengths as a list work too
    with pytest.raises(ValueError, match="'last' summary needs the directions kept apart"):
        SequenceClassifier(3, 4, bidirectional=True, layer_options={"merge_mode": "sum"})


def test_patches_are_consecutive_steps_side_by_side():
    x = torch.arange(2 * 5 * 2, dtype=torch.float32).reshape(2, 5, 2)
    patched, lengths = patch_steps(x, torch.tensor([5, 3]), 2)
    assert patched.shape == (2, 3, 4) and lengths.tolist() == [3, 2]
    torch.testing.assert_close(patched[0, 0], torch.cat([x[0, 0], x[0, 1]]))
    torch.testing.assert_close(patched[0, 2], torch.cat([x[0, 4], torch.zeros(2)]))
    torch.testing.assert_close(patched[1, 1], torch.cat([x[1, 2], torch.zeros(2)]))  # t=3 padded
    model = SequenceClassifier(2, 3, cell="gru", hidden_size=4, patch=2)
    assert model.rnn.input_size == 4 and model(x).shape == (2, 3)
    assert [auto_patch(n) for n in (28, 64, 65, 427, 1460)] == [1, 1, 2, 7, 23]
    with pytest.raises(ValueError, match="patch"):
        SequenceClassifier(2, 3, patch=0)


def test_conv_frontend_shortens_by_its_stride():
    model = SequenceClassifier(1, 2, cell="gru", hidden_size=6, patch=3, frontend="conv")
    out, lengths = model.encoder.frontend(torch.randn(2, 10, 1), torch.tensor([10, 7]))
    assert out.shape == (2, 4, 6) and lengths.tolist() == [4, 3]
    assert model.rnn.input_size == 6 and model(torch.randn(2, 10, 1)).shape == (2, 2)
    with pytest.raises(ValueError, match="frontend"):
        SequenceClassifier(1, 2, frontend="lstm")
