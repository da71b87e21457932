"""CRF: a linear-chain conditional random field, the output layer of a sequence tagger.

A tagger's network gives emission scores ``E (N, L, T)``, one per step and tag; the CRF adds
learned scores for the first tag, the last tag and every transition between consecutive tags,
so that the tags of a sequence are chosen together rather than one step at a time. Training
maximises the log-likelihood of the gold tags (:meth:`CRF.forward` is its negative),
:meth:`CRF.decode` finds the best tag path (Viterbi) and :meth:`CRF.marginals` each tag's
posterior probability at each step (forward-backward). :meth:`CRF.for_scheme` builds a CRF
that forbids the transitions a chunk-tagging scheme (BIO, BIOES, BMES, BILOU) never produces.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = ["CRF", "REDUCTIONS", "detect_scheme", "scheme_constraints"]

REDUCTIONS = ("mean", "sum", "token_mean", "none")

_TAG = re.compile(r"^([A-Za-z])(?:[-_](.+))?$")  # "B", "b", "B-PER", "I_LOC"
_INSIDE = {"I": "I", "M": "I"}  # BIOES' I is BMES' M
_END = {"E": "E", "L": "E"}  # BILOU's L(ast) is BIOES' E
_SINGLE = {"S": "S", "U": "S"}  # BILOU's U(nit) is BIOES' S


def _parse(tag_names: Sequence[str]) -> list[tuple[str, str | None]] | None:
    """Each tag as (role, type): role one of O, B, I, E, S; None if a name is not a chunk tag."""
    parsed: list[tuple[str, str | None]] = []
    for name in tag_names:
        if name.upper() == "O":
            parsed.append(("O", None))
            continue
        match = _TAG.match(name)
        if match is None:
            return None
        letter = match.group(1).upper()
        role = "B" if letter == "B" else _INSIDE.get(letter) or _END.get(letter) or _SINGLE.get(
            letter
        )
        if role is None:
            return None
        parsed.append((role, match.group(2)))
    return parsed


def detect_scheme(tag_names: Sequence[str]) -> str | None:
    """The chunk-tagging scheme of ``tag_names``: ``"bio"``, ``"bioes"`` or None.

    Each name is ``"O"`` (outside) or a role letter alone (``"B"``) or followed by ``-`` or
    ``_`` and a type (``"B-PER"``, ``"I_LOC"``); letters are case-insensitive. ``"bio"`` (IOB2)
    when the roles are only B and I; ``"bioes"`` when there is any of E, S (BIOES), M (BMES: M is
    inside) or L, U (BILOU: last, unit). None when some name is none of these (e.g. POS tags
    ``"NOUN"``), or when every name is ``"O"``.
    """
    parsed = _parse(tag_names)
    if parsed is None:
        return None
    roles = {role for role, _ in parsed} - {"O"}
    if not roles:
        return None
    return "bio" if roles <= {"B", "I"} else "bioes"


def scheme_constraints(tag_names: Sequence[str]) -> tuple[Tensor, Tensor, Tensor] | None:
    """``(allowed (T, T), allowed_start (T,), allowed_end (T,))`` bool for ``tag_names``.

    ``allowed[i, j]`` is whether tag j may follow tag i. ``"bio"``: I-X only after B-X or I-X
    (so never first, never after O or another type). ``"bioes"``: after B-X or I-X only I-X or
    E-X; after E, S or O only B, S or O (any type); never starting with I or E, never ending
    with B or I. Types compare exactly (``"B-PER"`` and ``"I-per"`` differ); a role letter alone
    has no type and only matches other untyped roles. None when :func:`detect_scheme` is None.
    """
    scheme = detect_scheme(tag_names)
    if scheme is None:
        return None
    parsed = _parse(tag_names)
    assert parsed is not None
    num_tags = len(parsed)
    allowed = torch.ones(num_tags, num_tags, dtype=torch.bool)
    start = torch.ones(num_tags, dtype=torch.bool)
    end = torch.ones(num_tags, dtype=torch.bool)
    for j, (role_j, type_j) in enumerate(parsed):
        continues = role_j in ("I", "E")  # a tag that continues a chunk opened before it
        start[j] = not continues
        if scheme == "bioes":
            end[j] = role_j not in ("B", "I")
        for i, (role_i, type_i) in enumerate(parsed):
            open_i = role_i in ("B", "I")  # tag i leaves a chunk open
            if continues:
                allowed[i, j] = open_i and type_i == type_j
            elif scheme == "bioes":
                allowed[i, j] = not open_i
    return allowed, start, end


class CRF(nn.Module):
    r"""Linear-chain conditional random field over T tags, the output layer of a tagger.

    For emission scores :math:`E` of a sequence of length :math:`L` and tags
    :math:`y_1 \dots y_L`:

    .. math::
        s(y) = \text{start}[y_1] + \sum_{t=1}^{L} E_{t, y_t}
               + \sum_{t=2}^{L} \text{transitions}[y_{t-1}, y_t] + \text{end}[y_L],
        \qquad p(y \mid E) = \frac{\exp s(y)}{\sum_{y'} \exp s(y')}

    The partition function is computed by the forward algorithm in log space; every method is
    batched over N and T and loops over steps only. Padded steps (``mask`` False) never change
    a result: their emissions and tags may hold anything (even NaN or -100). Computation runs
    in float32 at least (float64 when the emissions or parameters are float64), also under
    autocast. Forbidden transitions (``allowed`` False) score ``FORBIDDEN = -1e4`` in place of
    their parameter, which then gets no gradient; scores stay finite, so a forbidden gold path
    gives a large finite loss, and decode avoids forbidden transitions as long as emission
    scores differ by far less than 1e4.

    Args:
        num_tags: T, the number of tags.
        allowed: ``(T, T)`` bool, ``allowed[i, j]`` whether tag j may follow tag i;
            None allows every transition.
        allowed_start: ``(T,)`` bool, the tags a sequence may start with; None allows all.
        allowed_end: ``(T,)`` bool, the tags a sequence may end with; None allows all.

    Inputs: ``emissions, tags, mask, reduction="mean"`` (forward)
        * emissions: ``(N, L, T)`` float, scores of each tag at each step (unnormalised).
        * tags: ``(N, L)`` int64, the gold tags, in ``[0, T)`` on valid steps.
        * mask: ``(N, L)`` bool, True on valid steps: each row a prefix of at least one step.
        * reduction: ``"mean"`` (over sequences), ``"sum"``, ``"token_mean"`` (the sum divided
          by the number of valid steps) or ``"none"``.

    Outputs: the negative log-likelihood, a scalar, or ``(N,)`` for ``"none"``.
        :meth:`log_likelihood` gives ``(N,)`` log p(tags | emissions), :meth:`decode`
        ``(N, L)`` int64 best paths (0 beyond each row's length), :meth:`marginals`
        ``(N, L, T)`` posterior tag probabilities (0 on padding).

    Attributes:
        start: ``(T,)`` scores of the first tag, initialised U(-0.1, 0.1).
        end: ``(T,)`` scores of the last tag, initialised U(-0.1, 0.1).
        transitions: ``(T, T)`` ``transitions[i, j]`` the score of tag i followed by tag j,
            initialised U(-0.1, 0.1).
        allowed, allowed_start, allowed_end: the bool buffers above (all True when not given);
            saved in the state dict.
        scheme: the tagging scheme of :meth:`for_scheme` (``"bio"``, ``"bioes"``) or None.

    Example::

        >>> import torch
        >>> crf = CRF.for_scheme(["O", "B-PER", "I-PER"])
        >>> emissions = torch.randn(2, 4, 3)
        >>> tags = torch.tensor([[1, 2, 0, 0], [0, 1, 0, 0]])
        >>> mask = torch.tensor([[True, True, True, True], [True, True, False, False]])
        >>> crf(emissions, tags, mask).shape
        torch.Size([])
        >>> crf.decode(emissions, mask).shape, crf.marginals(emissions, mask).shape
        (torch.Size([2, 4]), torch.Size([2, 4, 3]))
        >>> crf.allowed[0, 2].item()  # O -> I-PER is forbidden
        False
    """

    FORBIDDEN = -1e4

    start: Tensor
    end: Tensor
    transitions: Tensor
    allowed: Tensor
    allowed_start: Tensor
    allowed_end: Tensor

    def __init__(self, num_tags: int, *, allowed: Tensor | None = None,
                 allowed_start: Tensor | None = None, allowed_end: Tensor | None = None) -> None:
        super().__init__()
        if isinstance(num_tags, bool) or not isinstance(num_tags, int) or num_tags < 1:
            raise ValueError(f"num_tags must be an int >= 1, got {num_tags!r}")
        self.num_tags = num_tags
        self.scheme: str | None = None
        self.start = nn.Parameter(torch.empty(num_tags))
        self.end = nn.Parameter(torch.empty(num_tags))
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags))
        for name, value, shape in (("allowed", allowed, (num_tags, num_tags)),
                                   ("allowed_start", allowed_start, (num_tags,)),
                                   ("allowed_end", allowed_end, (num_tags,))):
            if value is None:
                value = torch.ones(shape, dtype=torch.bool)
            elif not isinstance(value, Tensor) or value.dtype != torch.bool:
                found = value.dtype if isinstance(value, Tensor) else type(value).__name__
                raise ValueError(f"{name} must be a bool tensor, found {found}")
            elif tuple(value.shape) != shape:
                raise ValueError(f"{name} must have shape {shape}, found {tuple(value.shape)}")
            self.register_buffer(name, value.detach().clone())
        self.reset_parameters()

    @classmethod
    def for_scheme(cls, tag_names: Sequence[str]) -> CRF:
        """A CRF over ``tag_names`` that forbids the transitions their scheme never produces.

        The scheme is read from the names (:func:`detect_scheme`): ``"O"``, ``"B-PER"``,
        ``"I-PER"`` is BIO; any E, S, M, L or U role makes it BIOES (BMES ``b m e s`` as in the
        People's Daily corpus, BILOU); letters are case-insensitive. The rules are those of
        :func:`scheme_constraints`. Names of no known scheme give a CRF with every transition
        allowed (``scheme`` None).
        """
        names = list(tag_names)
        if not names:
            raise ValueError("tag_names must name at least one tag, found none")
        constraints = scheme_constraints(names)
        if constraints is None:
            return cls(len(names))
        allowed, start, end = constraints
        crf = cls(len(names), allowed=allowed, allowed_start=start, allowed_end=end)
        crf.scheme = detect_scheme(names)
        return crf

    def reset_parameters(self) -> None:
        """Draw start, end and transitions from U(-0.1, 0.1)."""
        for parameter in (self.start, self.end, self.transitions):
            nn.init.uniform_(parameter, -0.1, 0.1)

    def extra_repr(self) -> str:
        return f"num_tags={self.num_tags}, scheme={self.scheme!r}"

    # -- checks and scores --------------------------------------------------------------------

    def _check(self, emissions: Tensor, mask: Tensor, tags: Tensor | None = None) -> None:
        if emissions.dim() != 3 or emissions.shape[2] != self.num_tags:
            raise ValueError(f"emissions must have shape (N, L, {self.num_tags}), "
                             f"found {tuple(emissions.shape)}")
        if not emissions.is_floating_point():
            raise ValueError(f"emissions must be a float tensor, found {emissions.dtype}")
        n, length = emissions.shape[:2]
        if length < 1:
            raise ValueError(f"emissions must have at least one step (L >= 1), found L={length}")
        if tuple(mask.shape) != (n, length):
            raise ValueError(f"mask must have shape {(n, length)} (N, L) as the emissions, "
                             f"found {tuple(mask.shape)}")
        if mask.dtype != torch.bool:
            raise ValueError(f"mask must be a bool tensor, found {mask.dtype}")
        if tags is not None:
            if tuple(tags.shape) != (n, length):
                raise ValueError(f"tags must have shape {(n, length)} (N, L) as the emissions, "
                                 f"found {tuple(tags.shape)}")
            if tags.dtype != torch.int64:
                raise ValueError(f"tags must be an int64 tensor, found {tags.dtype}")
        if n == 0:
            return
        empty = ~mask[:, 0]
        gaps = mask[:, 1:] & ~mask[:, :-1]
        bad_tags = mask & ((tags < 0) | (tags >= self.num_tags)) if tags is not None else empty
        if bool(empty.any() | gaps.any() | bad_tags.any()):  # one sync on the happy path
            if bool(empty.any()):
                row = int(empty.nonzero()[0, 0])
                raise ValueError(f"every row of mask needs at least one valid step (a True at "
                                 f"step 0), found none in row {row}")
            if bool(gaps.any()):
                row = int(gaps.nonzero()[0, 0])
                raise ValueError(f"mask must be a prefix mask (True steps, then False ones), "
                                 f"found a True after a False in row {row}")
            row, step = (int(v) for v in bad_tags.nonzero()[0])
            raise ValueError(f"tags must be in [0, {self.num_tags}) on valid steps, found "
                             f"{int(tags[row, step])} at row {row}, step {step}")

    def _scores(self, emissions: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Emissions (zero on padding), start, end and transitions in the compute dtype, with
        forbidden entries at FORBIDDEN (no gradient reaches their parameters)."""
        dtype = torch.promote_types(torch.promote_types(emissions.dtype, self.start.dtype),
                                    torch.float32)
        emissions = emissions.to(dtype).masked_fill(~mask.unsqueeze(-1), 0.0)  # (N, L, T)
        start = self.start.to(dtype).masked_fill(~self.allowed_start, self.FORBIDDEN)
        end = self.end.to(dtype).masked_fill(~self.allowed_end, self.FORBIDDEN)
        transitions = self.transitions.to(dtype).masked_fill(~self.allowed, self.FORBIDDEN)
        return emissions, start, end, transitions

    def _forward_alphas(self, emissions: Tensor, mask: Tensor, start: Tensor,
                        transitions: Tensor, shift: bool = False) -> list[Tensor]:
        """log alpha_t (N, T) for every step t: the log-sum of the scores of every path prefix
        ending in each tag at t; held unchanged past each row's length. ``shift``: each step
        less its maximum over tags (the marginals need only ratios; values stay near 0)."""
        alpha = start + emissions[:, 0]  # (N, T)
        alphas = [alpha - alpha.amax(dim=1, keepdim=True) if shift else alpha]
        for t in range(1, emissions.shape[1]):
            step = torch.logsumexp(alphas[-1].unsqueeze(2) + transitions, dim=1)  # (N, T)
            alpha = step + emissions[:, t]
            if shift:
                alpha = alpha - alpha.amax(dim=1, keepdim=True)
            alphas.append(torch.where(mask[:, t : t + 1], alpha, alphas[-1]))
        return alphas

    # -- public API -------------------------------------------------------------------------

    def log_likelihood(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """``(N,)`` log p(tags | emissions) of each sequence; see the class docstring."""
        self._check(emissions, mask, tags)
        emissions, start, end, transitions = self._scores(emissions, mask)
        tags = tags.masked_fill(~mask, 0)  # padding may hold anything, e.g. -100
        lengths = mask.sum(dim=1)  # (N,)
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2).sum(dim=1)  # (N,)
        moves = transitions[tags[:, :-1], tags[:, 1:]] * mask[:, 1:]  # (N, L-1)
        last = tags.gather(1, (lengths - 1).unsqueeze(1)).squeeze(1)  # (N,)
        gold = start[tags[:, 0]] + emitted + moves.sum(dim=1) + end[last]
        alpha = self._forward_alphas(emissions, mask, start, transitions)[-1]
        return gold - torch.logsumexp(alpha + end, dim=1)

    def forward(self, emissions: Tensor, tags: Tensor, mask: Tensor,
                reduction: str = "mean") -> Tensor:
        """The negative log-likelihood of ``tags``, reduced by ``reduction``."""
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, found {reduction!r}")
        nll = -self.log_likelihood(emissions, tags, mask)  # (N,)
        if reduction == "none":
            return nll
        if reduction == "sum":
            return nll.sum()
        if reduction == "token_mean":
            return nll.sum() / mask.sum().clamp(min=1)
        return nll.mean()

    @torch.no_grad()
    def decode(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """``(N, L)`` int64 best tag path of each sequence (Viterbi); 0 beyond its length.

        Ties go to the lower tag index at each step.
        """
        self._check(emissions, mask)
        emissions, start, end, transitions = self._scores(emissions, mask)
        n, length, num_tags = emissions.shape
        stay = torch.arange(num_tags, device=emissions.device).expand(n, num_tags)  # (N, T)
        score = start + emissions[:, 0]  # (N, T) best score of a path ending in each tag
        pointers = []  # pointers[t-1][n, j]: the best tag at t-1 before tag j at t
        for t in range(1, length):
            best, before = (score.unsqueeze(2) + transitions).max(dim=1)  # (N, T)
            valid = mask[:, t : t + 1]
            score = torch.where(valid, best + emissions[:, t], score)
            pointers.append(torch.where(valid, before, stay))  # padding: carry the last tag
        tag = (score + end).argmax(dim=1)  # (N,) the last valid step's tag
        path = [tag]
        for before in reversed(pointers):
            tag = before.gather(1, tag.unsqueeze(1)).squeeze(1)
            path.append(tag)
        return torch.stack(path[::-1], dim=1).masked_fill(~mask, 0)

    def marginals(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """``(N, L, T)`` p(tag at step t = j | emissions) by forward-backward; 0 on padding."""
        self._check(emissions, mask)
        emissions, start, end, transitions = self._scores(emissions, mask)
        alphas = self._forward_alphas(emissions, mask, start, transitions, shift=True)
        beta = end.expand_as(alphas[-1])  # (N, T) log-sum of the path suffixes after step t
        betas = [beta]
        for t in range(emissions.shape[1] - 2, -1, -1):
            step = torch.logsumexp(transitions + (emissions[:, t + 1] + beta).unsqueeze(1),
                                   dim=2)  # (N, T)
            step = step - step.amax(dim=1, keepdim=True)  # only ratios matter, as for alpha
            beta = torch.where(mask[:, t + 1 : t + 2], step, end)
            betas.append(beta)
        # p(y_t = j) = alpha_t(j) beta_t(j) / Z, and sum_j alpha_t(j) beta_t(j) = Z at every t
        log_products = torch.stack(alphas, dim=1) + torch.stack(betas[::-1], dim=1)  # (N, L, T)
        return log_products.softmax(dim=2).masked_fill(~mask.unsqueeze(-1), 0.0)
