"""next_token and stream_tokens: greedy, top-k, nucleus, seeds, O(1) steps, banned ids."""

from __future__ import annotations

import doctest

import pytest
import torch

from rnnkit.models import decoding
from rnnkit.models.decoding import next_token, stream_tokens
from rnnkit.models.language_model import LanguageModel

# a distribution with known probabilities, most probable first
PROBS = [0.5, 0.25, 0.15, 0.07, 0.03]
KNOWN = torch.tensor([PROBS]).log()  # (1, 5)


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def draws(logits: torch.Tensor, count: int, **options) -> torch.Tensor:
    """``count`` tokens drawn from the one row of ``logits`` (one call, ``count`` rows)."""
    return next_token(logits.expand(count, -1), generator=seeded(), **options)


def test_greedy_is_argmax():
    logits = torch.randn(6, 40, generator=seeded())
    assert torch.equal(next_token(logits, temperature=0), logits.argmax(-1))
    assert next_token(logits, temperature=0).dtype == torch.int64


@pytest.mark.parametrize("temperature", [0.5, 1.0, 3.0])
def test_top_k_one_is_argmax(temperature):
    logits = torch.randn(50, 40, generator=seeded())
    tokens = next_token(logits, temperature=temperature, top_k=1, generator=seeded())
    assert torch.equal(tokens, logits.argmax(-1))


def test_tiny_top_p_is_argmax():
    logits = torch.randn(50, 40, generator=seeded())
    assert torch.equal(next_token(logits, top_p=1e-6, generator=seeded()), logits.argmax(-1))


def test_tiny_temperature_approaches_greedy():
    # logits 0.1 apart at least: a temperature of 1e-3 puts them 100 nats apart
    logits = torch.stack([torch.randperm(30, generator=seeded(i)) * 0.1 for i in range(40)])
    assert not torch.equal(next_token(logits, generator=seeded()), logits.argmax(-1))
    tokens = next_token(logits, temperature=1e-3, generator=seeded())
    assert torch.equal(tokens, logits.argmax(-1))


@pytest.mark.parametrize("k", [2, 5])
def test_top_k_draws_only_the_k_most_probable(k):
    logits = torch.randn(1, 30, generator=seeded(3))
    tokens = draws(logits, 4000, top_k=k)
    assert set(tokens.tolist()) == set(logits[0].topk(k).indices.tolist())


def test_top_k_at_least_v_is_no_limit():
    logits = torch.zeros(1, 4)
    assert torch.equal(draws(logits, 200, top_k=4), draws(logits, 200))
    assert torch.equal(draws(logits, 200, top_k=10), draws(logits, 200))


def test_top_p_draws_only_the_nucleus_in_proportion():
    # 0.5 + 0.25 < 0.8 <= 0.5 + 0.25 + 0.15: the nucleus is the three most probable tokens
    tokens = draws(KNOWN, 6000, top_p=0.8)
    assert set(tokens.tolist()) == {0, 1, 2}
    frequencies = torch.bincount(tokens, minlength=5)[:3] / 6000
    expected = torch.tensor(PROBS[:3]) / sum(PROBS[:3])
    torch.testing.assert_close(frequencies, expected, atol=0.03, rtol=0)
    assert set(draws(KNOWN, 2000, top_p=0.7).tolist()) == {0, 1}


def test_temperature_acts_before_top_p():
    # at temperature 100 the five tokens are almost equally probable (about 0.2 each), so the
    # nucleus of p = 0.5 holds three of them; on the untempered probabilities it holds one
    assert set(draws(KNOWN, 2000, top_p=0.5).tolist()) == {0}
    assert set(draws(KNOWN, 2000, temperature=100.0, top_p=0.5).tolist()) == {0, 1, 2}


def test_seeds_reproduce_and_differ():
    logits = torch.randn(200, 20, generator=seeded())
    first = next_token(logits, top_p=0.9, generator=seeded(1))
    assert torch.equal(next_token(logits, top_p=0.9, generator=seeded(1)), first)
    assert not torch.equal(next_token(logits, top_p=0.9, generator=seeded(2)), first)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"temperature": -1.0}, r"temperature must be >= 0 \(0 = greedy\), got -1.0"),
        ({"top_k": -1}, r"top_k must be an int >= 0 \(0 = no limit\), got -1"),
        ({"top_k": 2.5}, r"top_k must be an int >= 0 \(0 = no limit\), got 2.5"),
        ({"top_p": 0.0}, r"top_p must be a number in \(0, 1\] \(1 = no limit\), got 0.0"),
        ({"top_p": 1.5}, r"top_p must be a number in \(0, 1\] \(1 = no limit\), got 1.5"),
    ],
)
def test_sampling_option_errors(options, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        next_token(torch.zeros(1, 3), **options)
    model = LanguageModel(5, embedding_dim=4, hidden_size=4, num_layers=1)
    with pytest.raises(ValueError, match=f"^{message}$"):  # at the call, before any step
        stream_tokens(model.step, torch.tensor([1]), 3, **options)


def test_logits_must_be_n_by_v():
    with pytest.raises(ValueError, match=r"expected float logits of shape \(N, V\), found \(3,\)"):
        next_token(torch.zeros(3))


# -- stream_tokens ---------------------------------------------------------------------------

def tiny_model(cell: str = "lstm") -> LanguageModel:
    torch.manual_seed(0)
    return LanguageModel(11, cell=cell, embedding_dim=6, hidden_size=7).double().eval()


class Counted:
    """Wraps a ``(ids, state) -> (logits, state)`` function and counts its calls."""

    def __init__(self, function):
        self.function, self.calls = function, 0

    def __call__(self, tokens, state):
        self.calls += 1
        return self.function(tokens, state)


def rerun_greedy(model: LanguageModel, prompt: torch.Tensor, length: int) -> list[int]:
    """Greedy continuation by running the whole growing sequence again for every token."""
    sequence = prompt
    with torch.no_grad():
        for _ in range(length):
            token = model(sequence[None])[0][0, -1].argmax().view(1)
            sequence = torch.cat([sequence, token])
    return sequence[len(prompt):].tolist()


@pytest.mark.parametrize("cell", ["lstm", "gru", "mingru"])
@pytest.mark.parametrize("with_warm", [True, False], ids=["warm", "step_warm"])
def test_greedy_stream_equals_rerunning_the_sequence(one_thread, cell, with_warm):
    model = tiny_model(cell)
    prompt = torch.tensor([2, 7, 1, 8])
    warm = model if with_warm else None
    streamed = list(stream_tokens(model.step, prompt, 8, warm=warm, temperature=0))
    assert streamed == rerun_greedy(model, prompt, 8)


def test_one_token_prompt():
    model = tiny_model()
    prompt = torch.tensor([4])
    assert list(stream_tokens(model.step, prompt, 5, warm=model, temperature=0)) \
        == rerun_greedy(model, prompt, 5)


@pytest.mark.parametrize("length", [1, 4, 9])
def test_step_runs_once_per_new_token(length):
    model = tiny_model()
    prompt = torch.tensor([1, 2, 3, 4, 5, 6])
    step, warm = Counted(model.step), Counted(model)
    tokens = stream_tokens(step, prompt, length, warm=warm)
    assert step.calls == 0  # nothing runs before the first token is asked for
    ids = []
    for token in tokens:
        ids.append(token)
        assert step.calls == len(ids)  # one step per token, however long the text so far
    assert len(ids) == length and warm.calls == 1

    step_only = Counted(model.step)  # no warm: step reads the prompt too, once per token
    assert len(list(stream_tokens(step_only, prompt, length))) == length
    assert step_only.calls == len(prompt) - 1 + length


def test_banned_ids_never_appear():
    def step(tokens, state):  # tokens 0 and 1 are by far the most probable
        return torch.tensor([[9.0, 8.0, 0.0, 0.5, 0.2]]), state

    prompt = torch.tensor([3])
    assert set(stream_tokens(step, prompt, 50, generator=seeded())) <= {0, 1}
    tokens = list(stream_tokens(step, prompt, 300, generator=seeded(), banned=[0, 1]))
    assert set(tokens) == {2, 3, 4}
    assert set(stream_tokens(step, prompt, 5, temperature=0, banned=(0, 1))) == {3}


def test_stream_works_under_inference_mode_and_is_seeded():
    model = tiny_model()
    prompt = torch.tensor([1, 2, 3])
    plain = list(stream_tokens(model.step, prompt, 12, warm=model, generator=seeded(5)))
    with torch.inference_mode():
        inside = list(stream_tokens(model.step, prompt, 12, warm=model, generator=seeded(5)))
    assert inside == plain
    other = list(stream_tokens(model.step, prompt, 12, warm=model, generator=seeded(6)))
    assert other != plain


def test_stream_argument_errors():
    model = tiny_model()
    with pytest.raises(ValueError, match=r"length must be an int >= 1 .*got 0"):
        stream_tokens(model.step, torch.tensor([1]), 0)
    with pytest.raises(ValueError, match=r"expected prompt ids of shape \(L,\), L >= 1"):
        stream_tokens(model.step, torch.tensor([], dtype=torch.long), 3)
    with pytest.raises(ValueError, match=r"expected prompt ids of shape \(L,\)"):
        stream_tokens(model.step, torch.tensor([[1, 2]]), 3)
    with pytest.raises(ValueError, match="banned must hold token ids"):
        stream_tokens(model.step, torch.tensor([1]), 3, banned=[-1])
    with pytest.raises(ValueError, match=r"banned ids must lie in \[0, 11\).*got 11"):
        next(stream_tokens(model.step, torch.tensor([1]), 3, banned=[11]))
    with pytest.raises(ValueError, match="banned holds all 11 tokens"):
        next(stream_tokens(model.step, torch.tensor([1]), 3, banned=range(11)))


def test_docstring_examples_run():
    torch.manual_seed(0)
    result = doctest.testmod(decoding, raise_on_error=False, verbose=False)
    assert result.attempted > 0 and result.failed == 0
