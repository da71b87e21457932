"""SequenceTagger: a label for every step (many-to-many) — features, a recurrent stack read in
both directions, a score for every tag at every step, and optionally a CRF over the tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.models.token_features import TokenFeatures
from rnnkit.nn import LAYERS, length_mask

__all__ = ["IGNORE", "SequenceTagger"]

IGNORE = -100  # the tag of a padded step: no loss, no metric


class SequenceTagger(nn.Module):
    """Many-to-many model: ``x -> features -> rnnkit.nn layer -> Linear -> emissions (N, L, T)``,
    then softmax per step or a linear-chain CRF (:class:`~rnnkit.models.crf.CRF`, Viterbi
    decoding).

    Token inputs ``x (N, L)`` go through :class:`~rnnkit.models.token_features.TokenFeatures`
    (token embedding, optionally a character CNN of each word and character-bigram
    embeddings); numeric inputs ``x (N, L, F)`` go to the recurrent layer as they are. With
    ``lengths`` no padded step reaches a state, an emission the loss counts, or a decoded tag.

    Args:
        num_tags: T.
        input_size: F for numeric inputs (ignored when ``vocab_size > 0``).
        vocab_size: V > 0: token inputs. embedding_dim, num_chars, char_dim, char_channels,
            num_bigrams, bigram_dim: as for :class:`TokenFeatures`.
        cell, hidden_size, num_layers, bidirectional, dropout, path: the rnnkit.nn layer's.
        layer_options: further keywords for the layer (its regularizers).
        feature_dropout: dropout on the features before the recurrent layer.
        output_dropout: dropout on the recurrent outputs before the tag scores.
        crf: put a CRF over the tags (transitions learnt; impossible ones of a BIO, BIOES or
            BMES ``tag_names`` forbidden).
        tag_names: the T tag names (for the CRF's scheme).

    Inputs: ``x, lengths=None, chars=None, bigrams=None``: ``x (N, L)`` int64 or ``(N, L, F)``
    float, ``lengths (N,)`` int64, ``chars (N, L, K)``, ``bigrams (N, L)``.

    Outputs: emissions ``(N, L, T)``: per-step tag scores (CRF: before the transitions).

    Attributes:
        features: the :class:`TokenFeatures` (token inputs) or None.
        rnn: the recurrent layer. scores: the ``Linear(D*H, T)``. crf: the CRF or None.

    Example::

        >>> model = SequenceTagger(4, vocab_size=50, embedding_dim=8, hidden_size=16)
        >>> tokens, lengths = torch.tensor([[5, 6, 7], [8, 9, 0]]), torch.tensor([3, 2])
        >>> emissions = model(tokens, lengths)
        >>> emissions.shape, model.decode(emissions, lengths).shape
        (torch.Size([2, 3, 4]), torch.Size([2, 3]))
    """

    def __init__(self, num_tags: int, *, input_size: int = 0, vocab_size: int = 0,
                 embedding_dim: int = 100, num_chars: int = 0, char_dim: int = 30,
                 char_channels: int = 50, num_bigrams: int = 0, bigram_dim: int = 50,
                 cell: str = "lstm", hidden_size: int = 128, num_layers: int = 1,
                 bidirectional: bool = True, dropout: float = 0.0, path: str = "auto",
                 layer_options: dict[str, Any] | None = None, feature_dropout: float = 0.0,
                 output_dropout: float = 0.0, crf: bool = False,
                 tag_names: Sequence[str] | None = None) -> None:
        super().__init__()
        if cell not in LAYERS:
            raise ValueError(f"cell must be one of {', '.join(LAYERS)}, got {cell!r}")
        if num_tags < 1:
            raise ValueError(f"num_tags must be >= 1, got {num_tags}")
        self.num_tags = num_tags
        self.features = TokenFeatures(
            vocab_size, embedding_dim, num_chars=num_chars, char_dim=char_dim,
            char_channels=char_channels, num_bigrams=num_bigrams, bigram_dim=bigram_dim,
        ) if vocab_size else None
        self.input_size = input_size
        width = self.features.output_size if self.features is not None else input_size
        self.feature_dropout = nn.Dropout(feature_dropout)
        self.rnn = LAYERS[cell](width, hidden_size, num_layers, batch_first=True,
                                dropout=dropout, bidirectional=bidirectional, path=path,
                                **(layer_options or {}))
        self.output_dropout = nn.Dropout(output_dropout)
        self.scores = nn.Linear(int(self.rnn.output_size), num_tags)
        self.crf = None
        if crf:
            from rnnkit.models.crf import CRF

            self.crf = CRF.for_scheme(list(tag_names)) if tag_names else CRF(num_tags)

    def forward(self, x: Tensor, lengths: Tensor | None = None, chars: Tensor | None = None,
                bigrams: Tensor | None = None) -> Tensor:
        if self.features is not None:
            if x.dim() != 2 or x.dtype not in (torch.int64, torch.int32):
                raise ValueError(f"expected token ids of shape (N, L), int64, found "
                                 f"{tuple(x.shape)} {x.dtype}")
            x = self.features(x, chars, bigrams)  # (N, L, E')
        elif x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(f"expected input of shape (N, L, {self.input_size}), found "
                             f"{tuple(x.shape)}")
        out, _ = self.rnn(self.feature_dropout(x), lengths=lengths)  # (N, L, D*H)
        return self.scores(self.output_dropout(out))  # (N, L, T)

    def _mask(self, emissions: Tensor, lengths: Tensor | None) -> Tensor:
        n, length = emissions.shape[:2]
        if lengths is None:
            return torch.ones(n, length, dtype=torch.bool, device=emissions.device)
        return length_mask(lengths.to(emissions.device), length)  # (N, L)

    def loss(self, emissions: Tensor, tags: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The mean loss per valid step: cross-entropy, or the CRF's negative log-likelihood
        per token. Steps tagged :data:`IGNORE` or -1 (a tag unseen in training) add nothing
        to the cross-entropy; the CRF reads them as tag 0 (its sequences need whole paths)."""
        if self.crf is None:
            return F.cross_entropy(emissions.flatten(0, 1), tags.flatten().where(
                tags.flatten() >= 0, torch.full_like(tags.flatten(), IGNORE)),
                ignore_index=IGNORE)
        mask = self._mask(emissions, lengths)
        return self.crf(emissions, tags.clamp(min=0).masked_fill(~mask, 0), mask,
                        reduction="token_mean")

    def decode(self, emissions: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The best tags ``(N, L)`` int64 (0 on padded steps): Viterbi with a CRF, else the
        best tag of each step."""
        mask = self._mask(emissions, lengths)
        if self.crf is not None:
            return self.crf.decode(emissions, mask)
        return emissions.argmax(dim=-1).masked_fill(~mask, 0)

    def probabilities(self, emissions: Tensor, lengths: Tensor | None = None) -> Tensor:
        """``(N, L, T)``: each step's tag probabilities (CRF: the posterior marginals); zeros
        on padded steps."""
        mask = self._mask(emissions, lengths)
        if self.crf is not None:
            return self.crf.marginals(emissions, mask)
        return emissions.softmax(dim=-1) * mask[..., None]
