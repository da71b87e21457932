"""Head: the feed-forward layers from a sequence summary to the outputs."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["Head"]


class Head(nn.Module):
    """``[BatchNorm1d] -> [Dropout] -> [Linear -> ReLU -> Dropout] -> Linear``.

    Args:
        in_features: S, features of the summary (D*H for a recurrent summary).
        out_features: C, outputs (classes for a classifier, 1 for a scalar regression).
        hidden: units of an optional hidden layer (0 = none: a linear head).
        batchnorm: normalise the summary with BatchNorm1d first.
        dropout: dropout probability before each Linear (0 = none).

    Inputs: ``(N, S)``. Outputs: ``(N, C)``. In training, a batch of one example is normalised
    with the running statistics (BatchNorm1d cannot compute batch statistics from one).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        hidden: int = 0,
        batchnorm: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 0:
            raise ValueError(f"hidden must be an int >= 0, got {hidden!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        layers: list[nn.Module] = []
        if batchnorm:
            layers.append(nn.BatchNorm1d(in_features))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = in_features
        if hidden:
            layers += [nn.Linear(in_features, hidden), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hidden
        layers.append(nn.Linear(width, out_features))
        self.layers = nn.Sequential(*layers)
        self.in_features = in_features
        self.out_features = out_features

    def forward(self, summary: Tensor) -> Tensor:
        norm = self.layers[0]
        if isinstance(norm, nn.BatchNorm1d) and self.training and summary.shape[0] == 1:
            # One example has no batch statistics: normalise it with the running ones.
            summary = F.batch_norm(summary, norm.running_mean, norm.running_var, norm.weight,
                                   norm.bias, training=False, eps=norm.eps)
            return self.layers[1:](summary)
        return self.layers(summary)  # (N, C)
