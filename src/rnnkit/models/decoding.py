"""Choosing the next token from a language model's logits, and generating token by token.

:func:`next_token` picks one token per row of logits: greedy (temperature 0), or sampled from
the softmax at a temperature, limited to the k most probable tokens (top-k) and to the nucleus
(top-p: the fewest most probable tokens whose probability reaches p; Holtzman et al. 2020).
:func:`stream_tokens` runs a prompt through a model once and then yields new tokens one at a
time, each from one step of the model on the token before it: O(1) work per token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import torch
from torch import Tensor

from rnnkit.models.language_model import RecurrentState

__all__ = ["Step", "check_sampling", "next_token", "stream_tokens"]

Step = Callable[[Tensor, RecurrentState | None], tuple[Tensor, RecurrentState]]
"""A model read as ``(ids, state) -> (logits, state)``; ``state`` None means zeros."""


def check_sampling(temperature: float, top_k: int, top_p: float) -> None:
    """Raise ValueError naming the sampling option out of its range."""
    if isinstance(temperature, bool) or not isinstance(temperature, int | float) or not (
        temperature >= 0
    ):
        raise ValueError(f"temperature must be >= 0 (0 = greedy), got {temperature!r}")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
        raise ValueError(f"top_k must be an int >= 0 (0 = no limit), got {top_k!r}")
    if isinstance(top_p, bool) or not isinstance(top_p, int | float) or not 0 < top_p <= 1:
        raise ValueError(f"top_p must be a number in (0, 1] (1 = no limit), got {top_p!r}")


def next_token(
    logits: Tensor,
    *,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """One token id per row of ``logits``: greedy, or sampled with temperature, top-k, top-p.

    The logits are divided by the temperature first; then only the ``top_k`` most probable
    tokens stay, then only the nucleus of those: the fewest most probable tokens whose
    probabilities (renormalised over what stays) sum to at least ``top_p`` (the most probable
    token always stays). The token is drawn from the softmax of what is left.

    Args:
        logits: ``(N, V)`` unnormalised scores; ``-inf`` marks a token that is never chosen.
        temperature: 0 picks the most probable token (argmax, no randomness); below 1 sharpens
            the distribution, above 1 flattens it. Default 1.
        top_k: keep the k most probable tokens; 0 (default) or k >= V keeps them all.
        top_p: in (0, 1]; 1 (default) keeps every token.
        generator: the random source (``torch.multinomial``'s): the same seed gives the same
            tokens. torch's default generator when None.

    Outputs: ``(N,)`` int64 token ids.

    Example::

        >>> import torch
        >>> logits = torch.tensor([[2.0, 1.0, 0.0], [0.0, 0.0, 5.0]])
        >>> next_token(logits, temperature=0).tolist()
        [0, 2]
        >>> next_token(logits, top_k=1, generator=torch.Generator().manual_seed(0)).tolist()
        [0, 2]
    """
    check_sampling(temperature, top_k, top_p)
    if not isinstance(logits, Tensor) or logits.dim() != 2 or not logits.is_floating_point():
        found = (f"{tuple(logits.shape)} {logits.dtype}" if isinstance(logits, Tensor)
                 else type(logits).__name__)
        raise ValueError(f"next_token: expected float logits of shape (N, V), found {found}")
    if temperature == 0:
        return logits.argmax(dim=-1)
    scores = logits.to(torch.promote_types(logits.dtype, torch.float32)) / temperature  # (N, V)
    if 0 < top_k < scores.shape[-1]:
        top = scores.topk(top_k, dim=-1)  # (N, k)
        scores = torch.full_like(scores, -torch.inf).scatter(-1, top.indices, top.values)
    if top_p < 1:
        ordered, order = scores.sort(dim=-1, descending=True)  # (N, V), most probable first
        probs = ordered.softmax(dim=-1)
        before = probs.cumsum(dim=-1) - probs  # the mass of the more probable tokens
        ordered = ordered.masked_fill(before >= top_p, -torch.inf)
        scores = scores.scatter(-1, order, ordered)
    probs = scores.softmax(dim=-1)  # (N, V)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)  # (N,)


def stream_tokens(
    step: Step,
    prompt: Tensor,
    length: int,
    *,
    warm: Step | None = None,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    generator: torch.Generator | None = None,
    banned: Sequence[int] = (),
) -> Iterator[int]:
    """The ``length`` token ids after ``prompt``, one at a time as they are made.

    Every prompt token is read once: all but the last by ``warm`` (one call on the whole
    sequence), the last by ``step``; after that every new token is chosen (:func:`next_token`)
    from the logits of one ``step`` call on the token before it. So ``step`` runs exactly
    ``length`` times after the warm-up, whatever the length of the prompt or of the text so
    far. Runs under ``torch.inference_mode`` (no graph is kept).

    Args:
        step: ``(ids (1,), state) -> (logits (1, V), state)``, e.g.
            :meth:`LanguageModel.step <rnnkit.models.language_model.LanguageModel.step>`.
        prompt: ``(L,)`` int64 token ids, L >= 1.
        length: the number of tokens to generate, >= 1.
        warm: ``(ids (1, L - 1), None) -> (logits, state)``, a whole-sequence forward (e.g.
            the :class:`~rnnkit.models.language_model.LanguageModel` itself). When None,
            ``step`` reads the prompt token by token.
        temperature, top_k, top_p, generator: how each token is chosen, as for
            :func:`next_token`.
        banned: token ids never generated (``<pad>``, ``<unk>``, ...): their logits become
            ``-inf`` before the choice.

    Outputs: an iterator of ``length`` ints, the new token ids.

    Example::

        >>> import torch
        >>> from rnnkit.models.language_model import LanguageModel
        >>> model = LanguageModel(10, cell="gru", embedding_dim=8, hidden_size=8).eval()
        >>> tokens = stream_tokens(model.step, torch.tensor([1, 2, 3]), 5, warm=model,
        ...                        temperature=0, banned=[0])
        >>> ids = list(tokens)
        >>> len(ids), 0 in ids
        (5, False)
    """
    check_sampling(temperature, top_k, top_p)
    if (not isinstance(prompt, Tensor) or prompt.dim() != 1 or prompt.numel() < 1
            or prompt.is_floating_point()):
        found = (f"{tuple(prompt.shape)} {prompt.dtype}" if isinstance(prompt, Tensor)
                 else type(prompt).__name__)
        raise ValueError(f"stream_tokens: expected prompt ids of shape (L,), L >= 1, int64, "
                         f"found {found}")
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise ValueError(f"length must be an int >= 1 (the tokens to generate), got {length!r}")
    banned = list(banned)
    if any(isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in banned):
        raise ValueError(f"banned must hold token ids (ints >= 0), got {banned!r}")
    options = {"temperature": temperature, "top_k": top_k, "top_p": top_p,
               "generator": generator}
    return _stream(step, prompt.long(), length, warm, banned, options)


@torch.inference_mode()
def _stream(
    step: Step, prompt: Tensor, length: int, warm: Step | None, banned: list[int],
    options: dict,
) -> Iterator[int]:
    state = None
    if prompt.numel() > 1 and warm is not None:
        _, state = warm(prompt[None, :-1], None)  # (1, L - 1) ids
    elif prompt.numel() > 1:
        for token in prompt[:-1]:
            _, state = step(token.view(1), state)
    previous = prompt[-1:]  # (1,)
    banned_ids: Tensor | None = None
    for _ in range(length):
        logits, state = step(previous, state)  # (1, V)
        if banned and banned_ids is None:
            banned_ids = _banned_ids(banned, logits)
        if banned_ids is not None:
            logits = logits.index_fill(-1, banned_ids, -torch.inf)
        previous = next_token(logits, **options)  # (1,)
        yield int(previous)


def _banned_ids(banned: list[int], logits: Tensor) -> Tensor:
    """``banned`` as a tensor on ``logits``' device, checked against its V tokens."""
    vocab = logits.shape[-1]
    if max(banned) >= vocab:
        raise ValueError(f"banned ids must lie in [0, {vocab}) (the vocabulary), "
                         f"got {max(banned)}")
    if len(set(banned)) == vocab:
        raise ValueError(f"banned holds all {vocab} tokens of the vocabulary: none is left")
    return torch.tensor(banned, dtype=torch.long, device=logits.device)
