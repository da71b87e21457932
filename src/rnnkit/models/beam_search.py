"""Decoding a sequence model's output: greedy and beam search, batched.

Both drive a model only through ``step(tokens (B,), state) -> (logits (B, V), state)`` (one
output step, O(1) work: :meth:`Seq2Seq.step <rnnkit.models.seq2seq.Seq2Seq.step>`) and, for
beam search, ``state.select(index)`` (the states of rows ``index``, to copy and reorder
hypotheses). Greedy picks with :func:`rnnkit.models.decoding.next_token`, as the language
model's generation does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from rnnkit.models.decoding import next_token

__all__ = ["Hypothesis", "beam_search", "greedy_search"]

Step = Callable[[Tensor, Any], tuple[Tensor, Any]]


@dataclass(frozen=True)
class Hypothesis:
    """One decoded sequence.

    Attributes:
        tokens: the token ids, without the start token and without the end token.
        log_prob: the sum of the log-probabilities of its tokens (the end token included).
        score: what hypotheses are ranked by: ``log_prob / steps ** length_penalty``, steps
            counting the end token.
        ended: whether it ended with the end token (False: cut at the maximum length).
        weights: ``(T, S)`` the attention weights of each output step (greedy search with
            ``record``), or None.
    """

    tokens: tuple[int, ...]
    log_prob: float
    score: float
    ended: bool
    weights: Tensor | None = None


def _check(bos: int, eos: int, max_lengths: Tensor, batch: int) -> Tensor:
    if bos == eos:
        raise ValueError(f"the start and end tokens must differ, both are {bos}")
    max_lengths = torch.as_tensor(max_lengths).long().cpu()
    if max_lengths.shape != (batch,) or (max_lengths < 1).any():
        raise ValueError(f"max_lengths must be ({batch},) ints >= 1, found "
                         f"{tuple(max_lengths.shape)} {max_lengths.tolist()[:5]}")
    return max_lengths


def _ban(logits: Tensor, banned: Sequence[int]) -> Tensor:
    return logits.index_fill(-1, torch.tensor(list(banned), device=logits.device), -torch.inf) \
        if banned else logits


def _normalised(log_prob: float, steps: int, length_penalty: float) -> float:
    return log_prob / steps ** length_penalty if length_penalty else log_prob


@torch.inference_mode()
def greedy_search(
    step: Step, state: Any, *, bos: int, eos: int, max_lengths: Tensor,
    length_penalty: float = 1.0, banned: Sequence[int] = (),
    record: Callable[[Any], Tensor | None] | None = None,
) -> list[Hypothesis]:
    """The most probable next token at every step, for a batch of N sequences.

    Args:
        step: the model's step; ``state`` its state for the N sequences.
        bos, eos: the start token (read first) and the end token (stops a sequence).
        max_lengths: ``(N,)`` the most output steps of each sequence (the end token counts).
        length_penalty: only for the :attr:`Hypothesis.score`.
        banned: token ids never chosen (padding, the start token).
        record: ``state -> (N, S)`` what to keep of each step (the attention weights) in
            :attr:`Hypothesis.weights`.

    Outputs: one :class:`Hypothesis` per sequence.
    """
    batch = len(max_lengths)
    max_lengths = _check(bos, eos, max_lengths, batch)
    device = max_lengths.device
    tokens = torch.full((batch,), bos, dtype=torch.long)
    done = torch.zeros(batch, dtype=torch.bool)
    log_probs = torch.zeros(batch, dtype=torch.float64)
    chosen, kept = [], []
    for t in range(int(max_lengths.max())):
        logits, state = step(tokens.to(_device(state, device)), state)  # (N, V)
        logits = _ban(logits.float(), banned)
        best = next_token(logits, temperature=0).cpu()  # (N,)
        lp = logits.log_softmax(-1).gather(-1, best[:, None].to(logits.device))[:, 0].cpu()
        log_probs += torch.where(done, 0.0, lp.double())
        chosen.append(torch.where(done, -1, best))
        if record is not None:
            kept.append(record(state))
        done |= (best == eos) | (max_lengths <= t + 1)
        if done.all():
            break
        tokens = best
    steps = torch.stack(chosen, dim=1).tolist()  # (N, T), -1 after a sequence is done
    out = []
    for n, row in enumerate(steps):
        stop = next((i for i, x in enumerate(row) if x in (eos, -1)), len(row))
        ended = stop < len(row) and row[stop] == eos
        seq = row[:stop]
        length = len(seq) + ended
        weights = None if not kept or kept[0] is None else \
            torch.stack([w[n] for w in kept[:length]]).float().cpu()
        out.append(Hypothesis(tuple(seq), float(log_probs[n]),
                              _normalised(float(log_probs[n]), length, length_penalty),
                              ended, weights))
    return out


def _device(state: Any, default: torch.device) -> torch.device:
    memory = getattr(state, "memory", None)
    return memory.device if isinstance(memory, Tensor) else default


@torch.inference_mode()
def beam_search(
    step: Step, state: Any, *, bos: int, eos: int, max_lengths: Tensor, beam_size: int = 5,
    length_penalty: float = 1.0, nbest: int = 1, banned: Sequence[int] = (),
) -> list[list[Hypothesis]]:
    """The ``nbest`` best hypotheses of each of N sequences by beam search.

    Every sequence keeps its ``beam_size`` (K) best unfinished hypotheses. At each step all K
    are extended by every token; of the 2K best extensions, those ending with ``eos`` among
    the first K become finished hypotheses, and the best K others go on. A sequence is done
    when it has K finished hypotheses, or at its maximum length (then its unfinished ones,
    cut, fill up to K). Hypotheses that ended come first (a cut one never paid for its end
    token, so its score would flatter it), each group ranked by :attr:`Hypothesis.score`. With
    ``beam_size=1`` this is :func:`greedy_search`; with a beam as wide as every possible
    prefix and ``length_penalty=0`` it is an exhaustive search.

    Args:
        step, state: the model's step and its state for the N sequences (``state.select``).
        bos, eos, max_lengths, banned: as for :func:`greedy_search`.
        beam_size: K >= 1.
        length_penalty: alpha in ``log_prob / steps ** alpha``; 0 ranks by ``log_prob``
            (favouring short outputs), 1 by the mean log-probability per step.
        nbest: hypotheses returned per sequence, 1 <= nbest <= K.

    Outputs: N lists of at most ``nbest`` :class:`Hypothesis`, the best first.
    """
    if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
        raise ValueError(f"beam size must be an int >= 1, got {beam_size!r}")
    if not 1 <= nbest <= beam_size:
        raise ValueError(f"nbest must lie in [1, beam size {beam_size}], got {nbest}")
    batch, k = len(max_lengths), beam_size
    max_lengths = _check(bos, eos, max_lengths, batch)
    device = _device(state, max_lengths.device)
    state = state.select(torch.arange(batch, device=device).repeat_interleave(k))  # N*K rows
    scores = torch.full((batch, k), -torch.inf, dtype=torch.float64, device=device)
    scores[:, 0] = 0.0  # the K copies are one hypothesis until the first step
    history = torch.zeros(batch, k, 0, dtype=torch.long)
    tokens = torch.full((batch * k,), bos, dtype=torch.long)
    finished: list[list[Hypothesis]] = [[] for _ in range(batch)]
    done = torch.zeros(batch, dtype=torch.bool)
    for t in range(int(max_lengths.max())):
        logits, state = step(tokens.to(device), state)  # (N*K, V)
        logp = _ban(logits.float(), banned).log_softmax(-1).double()  # on the model's device
        vocab = logp.shape[-1]
        candidates = (scores[:, :, None] + logp.view(batch, k, vocab)).view(batch, k * vocab)
        top, where = (t.cpu() for t in candidates.topk(min(2 * k, k * vocab), dim=-1))  # (N, 2K)
        beam, token = where // vocab, where % vocab
        ends = (token == eos) & top.isfinite() & ~done[:, None]
        ends[:, k:] = False
        for n, r in ends.nonzero().tolist():
            if len(finished[n]) < k:
                finished[n].append(_hypothesis(history[n, beam[n, r]], top[n, r], t + 1,
                                               length_penalty, ended=True))
        alive, pick = top.masked_fill(token == eos, -torch.inf).topk(k, dim=-1)  # (N, K)
        origin = beam.gather(1, pick)  # (N, K)
        history = torch.cat([history.gather(1, origin[:, :, None].expand(-1, -1, t)),
                             token.gather(1, pick)[:, :, None]], dim=2)  # (N, K, t + 1)
        counts = torch.tensor([len(h) for h in finished])
        for n in (~done & (counts < k) & (max_lengths <= t + 1)).nonzero()[:, 0].tolist():
            for j in range(k):  # cut at the maximum length: the best unfinished ones fill up
                if len(finished[n]) < k and torch.isfinite(alive[n, j]):
                    finished[n].append(_hypothesis(history[n, j], alive[n, j], t + 1,
                                                   length_penalty, ended=False))
        done |= (counts >= k) | (max_lengths <= t + 1)
        if done.all():
            break
        scores = alive.masked_fill(done[:, None], -torch.inf).to(device)
        rows = (torch.arange(batch)[:, None] * k + origin).view(-1)  # (N*K,)
        state = state.select(rows.to(device))
        tokens = history[:, :, -1].reshape(-1)
    return [sorted(hyps, key=lambda h: (not h.ended, -h.score))[:nbest] for hyps in finished]


def _hypothesis(tokens: Tensor, log_prob: Tensor, steps: int, length_penalty: float, *,
                ended: bool) -> Hypothesis:
    lp = float(log_prob)
    return Hypothesis(tuple(tokens.tolist()), lp, _normalised(lp, steps, length_penalty), ended)
