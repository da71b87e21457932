"""SequenceClassifier: a recurrent encoder, a sequence summary and a head (many-to-one)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.models.head import Head
from rnnkit.models.summary import SUMMARIES, make_summary, summary_size
from rnnkit.nn import LAYERS

if TYPE_CHECKING:
    from rnnkit.config import ModelConfig

__all__ = [
    "CELLS",
    "FRONTENDS",
    "PATCH_TARGET_STEPS",
    "ConvFrontend",
    "SequenceClassifier",
    "auto_patch",
    "patch_steps",
]

CELLS = LAYERS  # the cells a classifier can use: every rnnkit.nn layer
PATCH_TARGET_STEPS = 64  # model.patch=auto: patches that leave about this many steps
FRONTENDS = ("patch", "conv")


def auto_patch(max_length: int, target_steps: int = PATCH_TARGET_STEPS) -> int:
    """``model.patch=auto``: the patch size k = ceil(L / target_steps) (1 for short data), so
    a sequence of L steps reaches the recurrent layer as about ``target_steps`` steps."""
    return max(1, math.ceil(int(max_length) / target_steps))


def patch_steps(x: Tensor, lengths: Tensor | None, k: int) -> tuple[Tensor, Tensor | None]:
    """``(N, L, F) -> (N, ceil(L/k), k*F)``: every k consecutive steps become one step.

    The time axis is zero-padded to a multiple of k; lengths become ``ceil(lengths / k)``. A
    sequence's patches start at its step 0, so its result never depends on how long the other
    sequences of its batch are (padding is zero in every batch).
    """
    if k == 1:
        return x, lengths
    n, steps, features = x.shape
    extra = -steps % k
    if extra:
        x = torch.cat([x, x.new_zeros(n, extra, features)], dim=1)
    if lengths is not None:
        valid = torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]  # (N, L)
        x = torch.where(valid[..., None], x, x.new_zeros(()))  # NaN padding too
        lengths = torch.div(lengths + k - 1, k, rounding_mode="floor")
    return x.reshape(n, -1, k * features), lengths  # (N, L/k, kF)


class ConvFrontend(nn.Module):
    """A strided 1-D convolution that shortens a sequence k times: ``Conv1d(F, C, 2k+1,
    stride=k, padding=k)`` and GELU over time.

    Output step j sees input steps ``jk - k .. jk + k``; a sequence of T valid steps gives
    ``ceil(T / k)`` valid outputs. Padded input steps are zeroed first, so they read as the
    convolution's own zero padding and a sequence gives the same outputs in any batch.

    Args:
        input_size: F. channels: C, features of each output step. k: the stride.

    Inputs: ``x (N, L, F)``, ``lengths (N,)`` or None. Outputs: ``(N, ceil(L/k), C)`` and the
    output lengths (or None).
    """

    def __init__(self, input_size: int, channels: int, k: int) -> None:
        super().__init__()
        self.k = k
        self.conv = nn.Conv1d(input_size, channels, 2 * k + 1, stride=k, padding=k)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        if lengths is not None:
            valid = torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]
            x = torch.where(valid[..., None], x, x.new_zeros(()))  # (N, L, F), padding 0
            lengths = torch.div(lengths + self.k - 1, self.k, rounding_mode="floor")
        out = F.gelu(self.conv(x.transpose(1, 2))).transpose(1, 2)  # (N, ceil(L/k), C)
        return out, lengths


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
        patch: k, the factor by which the front end shortens the sequence before the
            recurrent layer: a long sequence becomes a short one, which a recurrent layer
            learns much better from little data, and faster.
        frontend: how: ``"patch"`` puts every k consecutive steps side by side (k*F features,
            :func:`patch_steps`); ``"conv"`` runs a strided convolution over 2k+1 steps with
            ``hidden_size`` channels (:class:`ConvFrontend`).
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
        patch: int = 1,
        frontend: str = "patch",
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {cell!r}")
        if summary not in SUMMARIES:
            raise ValueError(f"summary must be one of {', '.join(SUMMARIES)}, got {summary!r}")
        if isinstance(patch, bool) or not isinstance(patch, int) or patch < 1:
            raise ValueError(f"patch must be an int >= 1, got {patch!r}")
        if frontend not in FRONTENDS:
            raise ValueError(f"frontend must be one of {', '.join(FRONTENDS)}, got {frontend!r}")
        self.input_size = input_size
        self.num_classes = num_classes
        self.patch = patch
        self.frontend = ConvFrontend(input_size, hidden_size, patch) if frontend == "conv" \
            else None
        self.rnn = CELLS[cell](
            hidden_size if self.frontend is not None else input_size * patch,
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
            summary_size(summary, features), num_classes, hidden=head_hidden,
            batchnorm=head_batchnorm, dropout=head_dropout,
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
            patch=int(config.patch),
            frontend=config.frontend,
        )

    def encode(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The sequence summary ``(N, D*H)`` of ``x (N, L, F)``."""
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(
                f"expected input of shape (N, L, {self.input_size}), found {tuple(x.shape)}"
            )
        if lengths is not None:
            lengths = torch.as_tensor(lengths, device=x.device).long()
        if self.frontend is not None:
            x, lengths = self.frontend(x, lengths)  # (N, L/k, H)
        else:
            x, lengths = patch_steps(x, lengths, self.patch)  # (N, L/k, kF)
        out, _ = self.rnn(x, lengths=lengths)  # (N, L, D*H), zero on padded steps
        return self.summary(out, lengths)  # (N, D*H)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        return self.head(self.encode(x, lengths))  # (N, C)
