"""SequenceClassifier: a recurrent encoder, a sequence summary and a head (many-to-one)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from rnnkit.models.head import Head
from rnnkit.models.summary import SUMMARIES, make_summary
from rnnkit.nn import LAYERS

if TYPE_CHECKING:
    from rnnkit.config import ModelConfig

__all__ = ["CELLS", "SequenceClassifier"]

CELLS = LAYERS  # the cells a classifier can use: every rnnkit.nn layer


class SequenceClassifier(nn.Module):
    """Many-to-one model: ``x (N, L, F) -> rnnkit.nn layer -> summary (N, D*H) -> head (N, C)``.

    The recurrent layer is :class:`rnnkit.nn.RNN`, :class:`~rnnkit.nn.LSTM` or
    :class:`~rnnkit.nn.GRU` (batch first). The summary turns its last layer's outputs into one
    vector per sequence (see :mod:`rnnkit.models.summary`); ``"last"`` is direction-aware: the
    forward direction at each sequence's last valid step, the backward direction at its first
    step. With ``lengths``, padded steps reach neither the recurrent states nor the summary.

    The head's output size is generic: ``num_classes=C`` gives logits for C classes;
    ``num_classes=1`` gives one score per sequence (a regression output).

    Args:
        input_size: F, features per step.
        num_classes: C, outputs of the head.
        cell: a key of ``CELLS``: ``"rnn"`` (tanh), ``"lstm"``, ``"gru"``, or one of the cells
            torch.nn lacks (``"layernorm_lstm"``, ``"layernorm_gru"``, ``"peephole_lstm"``,
            ``"indrnn"``, ``"mingru"``, ``"minlstm"``).
        hidden_size: H, units per layer and direction.
        num_layers: stacked recurrent layers.
        bidirectional: D = 2 adds a backward direction.
        dropout: dropout between recurrent layers (needs ``num_layers >= 2``).
        summary: ``"last"``, ``"mean"``, ``"max"`` or ``"attention"``.
        head_hidden: units of a hidden ReLU layer in the head (0 = linear head).
        head_batchnorm: BatchNorm1d on the summary.
        head_dropout: dropout on the summary (and the head's hidden layer).
        path: rnnkit.nn execution path, ``"auto"``, ``"fast"`` or ``"explicit"``.
        layer_options: further keywords for the recurrent layer, e.g. the regularizers
            ``recurrent_dropout``, ``zoneout`` or IndRNN's ``recurrent_max_abs``.

    Inputs: ``x, lengths=None``
        * x: ``(N, L, F)`` float.
        * lengths: ``(N,)`` int64, valid steps of each sequence, 1 <= lengths <= L; None means
          every sequence has L steps.

    Outputs: ``(N, C)`` logits (unnormalised scores).
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
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {cell!r}")
        if summary not in SUMMARIES:
            raise ValueError(f"summary must be one of {', '.join(SUMMARIES)}, got {summary!r}")
        self.input_size = input_size
        self.num_classes = num_classes
        self.rnn = CELLS[cell](
            input_size,
            hidden_size,
            num_layers,
            batch_first=True,
            dropout=dropout,
            bidirectional=bidirectional,
            path=path,
            **(layer_options or {}),
        )
        merge = getattr(self.rnn, "merge_mode", "concat")
        if merge == "none" or (merge != "concat" and summary == "last"):
            raise ValueError(
                f"merge_mode={merge!r} with summary={summary!r}: the 'last' summary needs the "
                "directions kept apart (merge_mode='concat'), and every summary needs one "
                "feature axis (not 'none')"
            )
        directions = 2 if bidirectional and merge == "concat" else 1
        features = self.rnn.output_size  # D*H_out (H_out for sum/mean/mul merges)
        self.summary = make_summary(summary, features, directions)
        self.head = Head(
            features, num_classes, hidden=head_hidden, batchnorm=head_batchnorm,
            dropout=head_dropout,
        )

    @classmethod
    def from_config(
        cls, config: ModelConfig, input_size: int, num_classes: int
    ) -> SequenceClassifier:
        """Build from a :class:`rnnkit.config.ModelConfig`."""
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
        )

    def encode(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The sequence summary ``(N, D*H)`` of ``x (N, L, F)``."""
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(
                f"expected input of shape (N, L, {self.input_size}), found {tuple(x.shape)}"
            )
        if lengths is not None:
            lengths = torch.as_tensor(lengths, device=x.device).long()
        out, _ = self.rnn(x, lengths=lengths)  # (N, L, D*H), zero on padded steps
        return self.summary(out, lengths)  # (N, D*H)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        return self.head(self.encode(x, lengths))  # (N, C)
