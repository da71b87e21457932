"""SequenceEncoder: the input layer and the recurrent stack every model starts with."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from rnnkit.models.frontend import FRONTENDS, ConvFrontend, patch_steps
from rnnkit.nn import LAYERS

__all__ = ["SequenceEncoder"]


class SequenceEncoder(nn.Module):
    """Input layer + recurrent stack: ``x -> [embedding] -> [front end] -> rnnkit.nn layer``.

    Numeric inputs ``x (N, L, F)`` go to the front end directly; token inputs ``x (N, L)``
    (int64 ids, 0 the padding token) are embedded first (``nn.Embedding(V, E,
    padding_idx=0)``). The front end shortens the sequence k = ``patch`` times: ``"patch"``
    puts k consecutive steps side by side, ``"conv"`` runs a strided convolution over 2k+1
    steps (:mod:`rnnkit.models.frontend`). With ``lengths``, padded steps reach neither the
    front end's valid outputs nor the recurrent states, and come out as zeros.

    Args:
        input_size: F, features per step (numeric inputs; ignored when ``vocab_size > 0``).
        hidden_size: H, units per layer and direction.
        cell: a key of :data:`rnnkit.nn.LAYERS` (``"lstm"``, ``"gru"``, ``"rnn"``, ...).
        num_layers, bidirectional, dropout, path: as for :class:`rnnkit.nn.LSTM`.
        vocab_size: V > 0 for token inputs.
        embedding_dim: E, features of each token's embedding.
        patch: k >= 1. frontend: ``"patch"`` or ``"conv"``.
        layer_options: further keywords for the recurrent layer (regularizers).

    Inputs: ``x`` (N, L, F) float or (N, L) int64, ``lengths`` (N,) int64 or None.

    Outputs: ``(out, lengths)``: ``out`` (N, L', D*H) the last layer's outputs (zero on padded
    steps), ``lengths`` (N,) their valid steps (L' = ceil(L / k)), or None.

    Attributes:
        embedding: the ``nn.Embedding`` (token inputs) or None.
        frontend: the :class:`~rnnkit.models.frontend.ConvFrontend` (``frontend="conv"``) or
            None.
        rnn: the recurrent layer; ``rnn.output_size`` = D*H for concatenated directions.

    Example::

        >>> import torch
        >>> enc = SequenceEncoder(0, 32, cell="gru", vocab_size=100, embedding_dim=16,
        ...                       bidirectional=True)
        >>> out, lengths = enc(torch.tensor([[5, 7, 9], [4, 0, 0]]), torch.tensor([3, 1]))
        >>> out.shape, lengths.tolist()
        (torch.Size([2, 3, 64]), [3, 1])
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int = 128,
        *,
        cell: str = "lstm",
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        path: str = "auto",
        vocab_size: int = 0,
        embedding_dim: int = 128,
        patch: int = 1,
        frontend: str = "patch",
        layer_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if cell not in LAYERS:
            raise ValueError(f"cell must be one of {', '.join(LAYERS)}, got {cell!r}")
        if isinstance(patch, bool) or not isinstance(patch, int) or patch < 1:
            raise ValueError(f"patch must be an int >= 1, got {patch!r}")
        if frontend not in FRONTENDS:
            raise ValueError(f"frontend must be one of {', '.join(FRONTENDS)}, got {frontend!r}")
        if vocab_size < 0:
            raise ValueError(f"vocab_size must be >= 0, got {vocab_size}")
        self.vocab_size = vocab_size
        self.input_size = input_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0) \
            if vocab_size else None
        features = embedding_dim if vocab_size else input_size
        self.patch = patch
        self.frontend = ConvFrontend(features, hidden_size, patch) if frontend == "conv" \
            else None
        self.rnn = LAYERS[cell](
            hidden_size if self.frontend is not None else features * patch,
            hidden_size,
            num_layers,
            batch_first=True,
            dropout=dropout,
            bidirectional=bidirectional,
            path=path,
            **(layer_options or {}),
        )

    @property
    def output_size(self) -> int:
        """Features of each output step: D*H (or H for merged directions)."""
        return int(self.rnn.output_size)

    def check_input(self, x: Tensor) -> None:
        """Raise ValueError naming the expected and the found shape of ``x``."""
        if self.embedding is not None:
            if x.dim() != 2 or x.dtype not in (torch.int64, torch.int32):
                raise ValueError(f"expected token ids of shape (N, L), int64, found "
                                 f"{tuple(x.shape)} {x.dtype}")
        elif x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(
                f"expected input of shape (N, L, {self.input_size}), found {tuple(x.shape)}"
            )

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        self.check_input(x)
        if lengths is not None:
            lengths = torch.as_tensor(lengths, device=x.device).long()
        if self.embedding is not None:
            x = self.embedding(x)  # (N, L, E); padding ids embed to zeros
        if self.frontend is not None:
            x, lengths = self.frontend(x, lengths)  # (N, L/k, H)
        else:
            x, lengths = patch_steps(x, lengths, self.patch)  # (N, L/k, kF)
        out, _ = self.rnn(x, lengths=lengths)  # (N, L', D*H), zero on padded steps
        return out, lengths
