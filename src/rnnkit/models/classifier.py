"""SequenceClassifier: a sequence encoder, a sequence summary and a head (many-to-one)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torch import Tensor, nn

from rnnkit.models.encoder import SequenceEncoder
from rnnkit.models.head import Head
from rnnkit.models.summary import SUMMARIES, make_summary, summary_size
from rnnkit.nn import LAYERS

if TYPE_CHECKING:
    from rnnkit.families.classify.config import SequenceModelConfig

__all__ = ["CELLS", "SequenceClassifier"]

CELLS = LAYERS  # the cells a classifier can use: every rnnkit.nn layer


class SequenceClassifier(nn.Module):
    """Many-to-one model: ``x -> SequenceEncoder -> summary (N, D*H) -> head (N, C)``.

    The encoder (:class:`~rnnkit.models.encoder.SequenceEncoder`) embeds token ids or takes
    numeric features, optionally shortens the sequence (patches or a strided convolution), and
    runs an rnnkit.nn layer (batch first). The summary turns its last layer's outputs into one
    vector per sequence (see :mod:`rnnkit.models.summary`); ``"last"`` is direction-aware: the
    forward direction at each sequence's last valid step, the backward direction at its first
    step. With ``lengths``, padded steps reach neither the recurrent states nor the summary.

    The head's output size is generic: ``num_classes=C`` gives logits for C classes;
    ``num_classes=1`` gives one score per sequence (a regression output).

    Args:
        input_size: F, features per step (numeric inputs).
        num_classes: C, outputs of the head.
        cell: a key of ``CELLS`` (every :data:`rnnkit.nn.LAYERS` entry): ``"rnn"`` (tanh),
            ``"lstm"``, ``"gru"``, or a cell torch.nn lacks (``"layernorm_lstm"``,
            ``"layernorm_gru"``, ``"peephole_lstm"``, ``"indrnn"``, ``"mingru"``,
            ``"minlstm"``).
        hidden_size: H, units per layer and direction.
        num_layers: stacked recurrent layers.
        bidirectional: D = 2 adds a backward direction.
        dropout: dropout between recurrent layers (needs ``num_layers >= 2``).
        summary: ``"last"``, ``"mean"``, ``"max"``, ``"meanmax"`` or ``"attention"``.
        head_hidden: units of a hidden ReLU layer in the head (0 = linear head).
        head_batchnorm: BatchNorm1d on the summary.
        head_dropout: dropout on the summary (and the head's hidden layer).
        path: rnnkit.nn execution path, ``"auto"``, ``"fast"`` or ``"explicit"``.
        layer_options: further keywords for the recurrent layer, e.g. the regularizers
            ``recurrent_dropout``, ``zoneout`` or IndRNN's ``recurrent_max_abs``.
        patch: k, the factor by which the front end shortens the sequence before the
            recurrent layer: a long sequence becomes a short one, which a recurrent layer
            learns much better from little data, and faster.
        frontend: how: ``"patch"`` puts every k consecutive steps side by side (k*F
            features); ``"conv"`` runs a strided convolution over 2k+1 steps with
            ``hidden_size`` channels.
        vocab_size: V > 0: the inputs are token ids (0 = padding), embedded first.
        embedding_dim: E, features of each token's embedding.

    Inputs: ``x, lengths=None``
        * x: ``(N, L, F)`` float, or ``(N, L)`` int64 token ids when ``vocab_size > 0``.
        * lengths: ``(N,)`` int64, valid steps of each sequence, 1 <= lengths <= L; None means
          every sequence has L steps.

    Outputs: ``(N, C)`` logits (unnormalised scores).

    Attributes:
        encoder: the :class:`~rnnkit.models.encoder.SequenceEncoder`; ``encoder.rnn`` is the
            recurrent layer, ``encoder.embedding`` the embedding (token inputs) or None.
        summary, head: the sequence summary and the head.

    Example::

        >>> import torch
        >>> model = SequenceClassifier(28, 10, cell="gru", hidden_size=64)
        >>> model(torch.randn(4, 28, 28), torch.tensor([28, 20, 9, 1])).shape
        torch.Size([4, 10])
    """

    def __init__(
        self,
        input_size: int,
        num_classes: int,
        *,
        cell: str = "lstm",
        hidden_size: int = 128,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        summary: str = "last",
        head_hidden: int = 0,
        head_batchnorm: bool = False,
        head_dropout: float = 0.0,
        path: str = "auto",
        layer_options: dict[str, Any] | None = None,
        patch: int = 1,
        frontend: str = "patch",
        vocab_size: int = 0,
        embedding_dim: int = 128,
    ) -> None:
        super().__init__()
        if summary not in SUMMARIES:
            raise ValueError(f"summary must be one of {', '.join(SUMMARIES)}, got {summary!r}")
        self.input_size = input_size
        self.num_classes = num_classes
        self.encoder = SequenceEncoder(
            input_size, hidden_size, cell=cell, num_layers=num_layers,
            bidirectional=bidirectional, dropout=dropout, path=path, vocab_size=vocab_size,
            embedding_dim=embedding_dim, patch=patch, frontend=frontend,
            layer_options=layer_options,
        )
        merge = getattr(self.encoder.rnn, "merge_mode", "concat")
        if merge == "none" or (merge != "concat" and summary == "last"):
            raise ValueError(
                f"merge_mode={merge!r} with summary={summary!r}: the 'last' summary needs the "
                "directions kept apart (merge_mode='concat'), and every summary needs one "
                "feature axis (not 'none')"
            )
        directions = 2 if bidirectional and merge == "concat" else 1
        features = self.encoder.output_size  # D*H_out (H_out for sum/mean/mul merges)
        self.summary = make_summary(summary, features, directions)
        self.head = Head(
            summary_size(summary, features), num_classes, hidden=head_hidden,
            batchnorm=head_batchnorm, dropout=head_dropout,
        )

    @property
    def rnn(self) -> nn.Module:
        """The recurrent layer (``encoder.rnn``)."""
        return self.encoder.rnn

    @classmethod
    def from_config(
        cls, config: SequenceModelConfig, input_size: int, num_classes: int, *,
        vocab_size: int = 0,
    ) -> SequenceClassifier:
        """Build from a :class:`~rnnkit.families.classify.config.SequenceModelConfig`."""
        return cls(
            input_size,
            num_classes,
            cell=config.cell,
            hidden_size=config.hidden_size,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            dropout=config.dropout,
            summary=config.summary,
            head_hidden=config.head_hidden,
            head_batchnorm=config.head_batchnorm,
            head_dropout=config.head_dropout,
            path=config.path,
            layer_options=config.layer_options(),
            patch=int(config.patch),
            frontend=config.frontend,
            vocab_size=vocab_size,
            embedding_dim=config.embedding_dim,
        )

    def encode(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The sequence summary ``(N, D*H)`` of ``x``."""
        out, lengths = self.encoder(x, lengths)  # (N, L', D*H)
        return self.summary(out, lengths)  # (N, D*H)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        return self.head(self.encode(x, lengths))  # (N, C)
