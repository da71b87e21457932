"""Attention over an encoder's outputs: additive (Bahdanau) and multiplicative (Luong dot and
general) scores, masked on padding."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["ATTENTIONS", "Attention"]

ATTENTIONS = ("additive", "dot", "general")


class Attention(nn.Module):
    r"""Scores of a query against every step of a memory, softmax over the valid steps, and
    the weighted sum of the memory (the context).

    With query :math:`q` (a decoder state) and memory steps :math:`m_s` (encoder outputs):

    .. math::
        \text{additive:}\quad & e_s = v^\top \tanh(W_q q + W_m m_s) \quad\text{(Bahdanau et al.
        2015)} \\
        \text{dot:}\quad & e_s = q^\top m_s \\
        \text{general:}\quad & e_s = q^\top W m_s \quad\text{(Luong et al. 2015)} \\
        & a_s = \operatorname{softmax}_s(e_s) \text{ over the valid steps}, \qquad
        c = \textstyle\sum_s a_s m_s

    The part of each score that depends on the memory only is computed once per sequence
    (:meth:`keys`), so a decoder that attends at every output step pays one product per step.
    Padded memory steps get weight exactly 0 and change nothing.

    Args:
        kind: ``"additive"``, ``"dot"`` or ``"general"``.
        query_size: Q, features of the query.
        memory_size: M, features of each memory step (``dot`` needs Q = M).
        hidden_size: A, features of the additive score's hidden layer (default Q).

    Inputs: ``query, keys, memory, mask``
        * **query**: ``(N, Q)`` one query per sequence, or ``(N, T, Q)`` T queries.
        * **keys**: ``(N, S, K)`` from :meth:`keys` of ``memory``.
        * **memory**: ``(N, S, M)``.
        * **mask**: ``(N, S)`` bool, True on valid steps (at least one per row), or None.

    Outputs: ``context, weights``: ``(N, M)`` and ``(N, S)`` (with T queries ``(N, T, M)``
    and ``(N, T, S)``); each row of ``weights`` sums to 1 over the valid steps.

    Example::

        >>> import torch
        >>> att = Attention("general", query_size=4, memory_size=6)
        >>> memory = torch.randn(2, 5, 6)  # (N, S, M)
        >>> mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
        >>> context, weights = att(torch.randn(2, 4), att.keys(memory), memory, mask)
        >>> context.shape, weights[1, 2:].abs().sum().item()
        (torch.Size([2, 6]), 0.0)
    """

    def __init__(self, kind: str, query_size: int, memory_size: int,
                 hidden_size: int | None = None) -> None:
        super().__init__()
        if kind not in ATTENTIONS:
            raise ValueError(f"attention must be one of {', '.join(ATTENTIONS)}, got {kind!r}")
        if kind == "dot" and query_size != memory_size:
            raise ValueError(f"dot attention multiplies the query ({query_size} features) with "
                             f"each memory step ({memory_size}): they must have the same size; "
                             "use general or additive attention")
        self.kind, self.query_size, self.memory_size = kind, query_size, memory_size
        self.memory_proj: nn.Linear | None = None
        self.query_proj: nn.Linear | None = None
        self.score: nn.Linear | None = None
        if kind == "general":
            self.memory_proj = nn.Linear(memory_size, query_size, bias=False)  # W
        elif kind == "additive":
            hidden = hidden_size or query_size
            self.memory_proj = nn.Linear(memory_size, hidden, bias=False)  # W_m
            self.query_proj = nn.Linear(query_size, hidden)  # W_q (with the bias)
            self.score = nn.Linear(hidden, 1, bias=False)  # v

    def keys(self, memory: Tensor) -> Tensor:
        """The memory's share of the scores, ``(N, S, K)``: the memory itself (dot), W m
        (general), W_m m (additive)."""
        return memory if self.memory_proj is None else self.memory_proj(memory)

    def forward(self, query: Tensor, keys: Tensor, memory: Tensor,
                mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        single = query.dim() == 2
        q = query[:, None] if single else query  # (N, T, Q)
        if self.kind == "additive":
            hidden = torch.tanh(self.query_proj(q)[:, :, None] + keys[:, None])  # (N, T, S, A)
            scores = self.score(hidden).squeeze(-1)  # (N, T, S)
        else:
            scores = q @ keys.transpose(1, 2)  # (N, T, S)
        if mask is not None:
            scores = scores.masked_fill(~mask[:, None], -torch.inf)
        weights = scores.softmax(dim=-1)  # (N, T, S)
        context = weights @ memory  # (N, T, M)
        if single:
            return context[:, 0], weights[:, 0]
        return context, weights

    def extra_repr(self) -> str:
        return f"{self.kind}, query_size={self.query_size}, memory_size={self.memory_size}"
