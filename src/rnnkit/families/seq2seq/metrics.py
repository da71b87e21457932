"""How right decoded sequences are: exact match against any reference, token error rate by
edit distance (the phoneme error rate of grapheme-to-phoneme), n-best accuracy, and BLEU and
chrF of the texts (sacrebleu)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["SequenceScore", "edit_distance", "score_sequence", "text_scores"]


def edit_distance(a: Sequence[object], b: Sequence[object]) -> int:
    """The Levenshtein distance of two token sequences: the fewest insertions, deletions and
    substitutions that turn ``a`` into ``b``.

    Example::

        >>> edit_distance("kitten", "sitting")
        3
    """
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


@dataclass(frozen=True)
class SequenceScore:
    """One example's score against its references (any of which is correct).

    Attributes:
        exact: the hypothesis equals one of the references.
        errors: the edit distance to the closest reference.
        reference_length: that reference's length (the error rate's denominator).
        in_nbest: one of the n best hypotheses equals a reference.
    """

    exact: bool
    errors: int
    reference_length: int
    in_nbest: bool


def score_sequence(hypotheses: Sequence[Sequence[int]],
                   references: Sequence[Sequence[int]]) -> SequenceScore:
    """Score the best hypothesis (``hypotheses[0]``; the others count for n-best accuracy)
    against ``references``: the closest one by edit distance (the shortest of equally close
    ones) gives the errors and the length."""
    if not references:
        raise ValueError("an example to score needs at least one reference")
    best = tuple(hypotheses[0]) if hypotheses else ()
    refs = [tuple(r) for r in references]
    errors, length = min((edit_distance(best, r), len(r)) for r in refs)
    return SequenceScore(best in refs, errors, length,
                         any(tuple(h) in refs for h in hypotheses))


def text_scores(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> dict:
    """Corpus BLEU and chrF (sacrebleu's defaults) of hypothesis texts, each against its
    reference texts (an example with fewer references than the most repeats its first: a
    repeated reference changes neither score)."""
    import sacrebleu

    most = max((len(r) for r in references), default=1)
    streams = [[r[min(k, len(r) - 1)] for r in references] for k in range(most)]
    bleu = sacrebleu.corpus_bleu(list(hypotheses), streams)
    chrf = sacrebleu.corpus_chrf(list(hypotheses), streams)
    return {"bleu": float(bleu.score), "chrf": float(chrf.score)}
