"""Forecaster: a recurrent encoder over the past window and a multi-horizon output."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.data.info import DataInfo
from rnnkit.families.forecast.config import ForecastModelConfig
from rnnkit.models.summary import LastStep
from rnnkit.nn import LAYERS

__all__ = ["Forecaster", "build_forecaster"]


class Forecaster(nn.Module):
    """Forecasts the next H steps (Q quantiles or one value each) from a window of the past.

    ``direct``: ``s = encoder(past)[last valid step]``, ``out = head([s, future.flatten()])``,
    all H steps at once. ``seq2seq``: a decoder of the same cell starts from the encoder's final
    state and reads, at horizon step h, the known-future features of that step and a one-hot
    code of h; a linear layer maps each decoder output to Q values. With ``residual`` the last
    observed value (``past[n, length - 1, 0]``, the scaled target) is added to every output, so
    the network learns a correction to the naive forecast.

    Args:
        input_size: F, features of each past step (the target first).
        future_size: K, known-future features of each horizon step (0: none).
        horizon: H.
        hidden_size, cell, num_layers, dropout, path: the recurrent layers'
            (:data:`rnnkit.nn.LAYERS`).
        decoder: ``"direct"`` or ``"seq2seq"``.
        outputs: Q values per step (quantiles; 1 for a point forecast).
        head_hidden: direct head: hidden ReLU units (0: linear).
        head_dropout: dropout before the head.
        residual: add the last observed value.

    Inputs: ``past`` (N, L, F), ``lengths`` (N,) int64 valid past steps (the rest is padding
    at the end), ``future`` (N, H, K).

    Outputs: (N, H, Q), in the scaled units of the target.

    Example::

        >>> import torch
        >>> net = Forecaster(3, 2, 12, hidden_size=16)
        >>> net(torch.randn(4, 24, 3), torch.tensor([24, 24, 10, 5]), torch.randn(4, 12, 2)).shape
        torch.Size([4, 12, 1])
    """

    def __init__(self, input_size: int, future_size: int, horizon: int, *,
                 hidden_size: int = 64, cell: str = "lstm", num_layers: int = 1,
                 dropout: float = 0.0, decoder: str = "direct", outputs: int = 1,
                 head_hidden: int = 0, head_dropout: float = 0.0, residual: bool = True,
                 path: str = "auto") -> None:
        super().__init__()
        if decoder not in ("direct", "seq2seq"):
            raise ValueError(f"decoder must be direct or seq2seq, got {decoder!r}")
        if horizon < 1 or outputs < 1:
            raise ValueError(f"horizon and outputs must be >= 1, got {horizon} and {outputs}")
        self.horizon, self.outputs, self.residual = horizon, outputs, residual
        self.future_size, self.decoder_kind = future_size, decoder
        self.encoder = LAYERS[cell](input_size, hidden_size, num_layers, batch_first=True,
                                    dropout=dropout, path=path)
        self.last = LastStep(1)
        self.dropout = nn.Dropout(head_dropout)
        if decoder == "direct":
            width = hidden_size + horizon * future_size
            self.head: nn.Module = nn.Linear(width, horizon * outputs) if not head_hidden \
                else nn.Sequential(nn.Linear(width, head_hidden), nn.ReLU(),
                                   nn.Linear(head_hidden, horizon * outputs))
            self.decoder = None
        else:
            self.decoder = LAYERS[cell](future_size + horizon, hidden_size, num_layers,
                                        batch_first=True, dropout=dropout, path=path)
            self.head = nn.Linear(hidden_size, outputs)

    def forward(self, past: Tensor, lengths: Tensor, future: Tensor) -> Tensor:
        N = past.shape[0]
        lengths = lengths.long()
        out, state = self.encoder(past, lengths=lengths)  # (N, L, H)
        if self.decoder is None:
            summary = self.dropout(self.last(out, lengths))  # (N, H)
            y = self.head(torch.cat([summary, future.reshape(N, -1)], dim=1))
            y = y.view(N, self.horizon, self.outputs)  # (N, H, Q)
        else:
            steps = torch.eye(self.horizon, dtype=past.dtype, device=past.device)
            inputs = torch.cat([future, steps.expand(N, -1, -1)], dim=2)  # (N, H, K + H)
            decoded, _ = self.decoder(inputs, state)  # (N, H, H_hidden)
            y = self.head(self.dropout(decoded))  # (N, H, Q)
        if self.residual:
            last = past[torch.arange(N, device=past.device), (lengths - 1).clamp(min=0), 0]
            y = y + last[:, None, None]
        return y


def build_forecaster(model: ForecastModelConfig, info: DataInfo) -> Forecaster:
    """The :class:`Forecaster` of a ``model:`` section for the series ``info`` describes."""
    state = info.state
    return Forecaster(int(info.input_size), int(state["future_size"]), int(state["horizon"]),
                      hidden_size=model.hidden_size, cell=model.cell,
                      num_layers=model.num_layers, dropout=model.dropout,
                      decoder=model.decoder, outputs=max(1, len(model.levels())),
                      head_hidden=model.head_hidden, head_dropout=model.head_dropout,
                      residual=model.residual, path=model.path)
