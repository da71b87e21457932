"""Sequence summaries: direction-aware last step, and padded steps never reach a summary."""

from __future__ import annotations

import pytest
import torch

from rnnkit.models.summary import AttentionPool, LastStep, MaxPool, MeanPool, make_summary
from rnnkit.nn import GRU, LSTM

LENGTHS = torch.tensor([5, 2, 1, 4])


def _garbage_in_padding(out: torch.Tensor, lengths: torch.Tensor, value: float) -> torch.Tensor:
    out = out.clone()
    for n, t in enumerate(lengths.tolist()):
        out[n, t:] = value
    return out


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_last_is_forward_last_valid_and_backward_first_step(cls):
    torch.manual_seed(0)
    rnn = cls(3, 4, num_layers=2, bidirectional=True, batch_first=True).double()
    x = torch.randn(4, 5, 3, dtype=torch.float64)
    out, state = rnn(x, lengths=LENGTHS)  # (N, L, 2H)
    h_n = state[0] if isinstance(state, tuple) else state  # (2*layers, N, H)
    summary = LastStep(num_directions=2)(out, LENGTHS)  # (N, 2H)
    # h_n of the top layer: forward at the last valid step, backward at step 0.
    torch.testing.assert_close(summary, torch.cat([h_n[-2], h_n[-1]], dim=-1))
    for n, t in enumerate(LENGTHS.tolist()):
        torch.testing.assert_close(summary[n, :4], out[n, t - 1, :4])
        torch.testing.assert_close(summary[n, 4:], out[n, 0, 4:])
    # ... and never out[:, -1], whose backward half saw one step only.
    assert not torch.allclose(summary[0, 4:], out[0, -1, 4:])


def test_last_unidirectional_without_lengths_is_the_last_step():
    out = torch.randn(2, 6, 5)
    torch.testing.assert_close(LastStep(1)(out), out[:, -1])
    torch.testing.assert_close(LastStep(1)(out, torch.tensor([6, 3])), out[[0, 1], [5, 2]])


@pytest.mark.parametrize("kind", ["last", "mean", "max", "meanmax", "attention"])
@pytest.mark.parametrize("value", [0.0, 1e6, float("nan")])
def test_padded_values_never_change_a_summary(kind, value):
    torch.manual_seed(0)
    summary = make_summary(kind, 6, num_directions=2)
    out = torch.randn(4, 5, 6)
    reference = summary(_garbage_in_padding(out, LENGTHS, 0.5), LENGTHS)
    result = summary(_garbage_in_padding(out, LENGTHS, value), LENGTHS)
    assert torch.isfinite(result).all()
    torch.testing.assert_close(result, reference)


def test_mean_and_max_over_valid_steps():
    out = torch.randn(4, 5, 3)
    mean, top = MeanPool()(out, LENGTHS), MaxPool()(out, LENGTHS)
    for n, t in enumerate(LENGTHS.tolist()):
        torch.testing.assert_close(mean[n], out[n, :t].mean(0))
        torch.testing.assert_close(top[n], out[n, :t].amax(0))


def test_attention_weights_are_zero_on_padding_and_sum_to_one():
    pool = AttentionPool(3)
    pool(torch.randn(4, 5, 3), LENGTHS)
    w = pool.last_weights
    assert w is not None and w.shape == (4, 5)
    torch.testing.assert_close(w.sum(1), torch.ones(4))
    for n, t in enumerate(LENGTHS.tolist()):
        assert (w[n, t:] == 0).all()


def test_bad_inputs():
    with pytest.raises(ValueError, match="summary must be one of"):
        make_summary("first", 4, 1)
    with pytest.raises(ValueError, match=r"\(N, L, D\*H\)"):
        MeanPool()(torch.randn(4, 3))
    with pytest.raises(ValueError, match="lengths of shape"):
        MaxPool()(torch.randn(2, 3, 4), torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="num_directions"):
        LastStep(3)
