"""ForecastTask: a Forecaster trained on scaled windows, scored beside the baselines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.families.base import FamilyTask
from rnnkit.families.forecast.baselines import BASELINES, baseline_forecasts
from rnnkit.families.forecast.metrics import forecast_errors
from rnnkit.families.forecast.model import build_forecaster

__all__ = ["ForecastTask", "pinball_loss"]


def pinball_loss(pred: Tensor, target: Tensor, levels: Tensor) -> Tensor:
    """Mean pinball (quantile) loss of ``pred`` (N, H, Q) for ``target`` (N, H) at ``levels``
    (Q,): ``max(q (y - p), (q - 1) (y - p))``."""
    diff = target[..., None] - pred  # (N, H, Q)
    return torch.maximum(levels * diff, (levels - 1) * diff).mean()


class ForecastTask(FamilyTask):
    """Multi-horizon forecasting of windows (:mod:`rnnkit.data.series.windows`).

    The network sees and predicts *scaled* values (each window's ``(y - loc) / scale``, the
    statistics of its series' training part or of its own past); the loss (``model.loss``, or
    the pinball loss of ``model.quantiles``) is on that scale. Every reported figure is in the
    data's units.

    Args:
        config: a :class:`~rnnkit.config.RunConfig` as a plain dict.
        info: a :class:`~rnnkit.data.info.DataInfo` of the series source as a plain dict.

    Batches: dicts with ``past`` (N, L, F), ``length`` (N,), ``future`` (N, H, K), ``target``
    (N, H), ``y`` (N, H), ``loc``, ``scale``, ``mase_scale`` (N,) and the baselines' history
    summary (``season_tail`` (N, m), ``first``, ``mean``, ``count``).

    Logged: ``train_loss``, ``val_loss``, ``val_mae``, ``val_mase``, ``test_loss``. After
    ``Trainer.test``, :attr:`test_report` holds ``test_mae``, ``test_rmse``, ``test_smape``,
    ``test_mase`` of the model (the median for quantiles) and ``baselines``: the same four for
    naive, seasonal naive, drift and mean on the very same windows; with quantiles, the share of
    targets inside the outermost interval (``coverage``).
    """

    family = "forecast"

    def __init__(self, config: Mapping[str, Any], info: Mapping[str, Any]) -> None:
        super().__init__(config, info)
        self.model = build_forecaster(self.run_config.model, self.info)
        self.levels = tuple(self.run_config.model.levels())
        self.register_buffer("level_tensor", torch.tensor(self.levels or (0.5,)),
                             persistent=False)
        self.point = self.levels.index(0.5) if self.levels else 0
        self._test: list[dict[str, np.ndarray]] = []

    def forward(self, batch: Mapping[str, Tensor]) -> Tensor:
        """Forecasts ``(N, H, Q)`` in the data's units."""
        z = self.model(batch["past"], batch["length"], batch["future"])
        return z * batch["scale"][:, None, None] + batch["loc"][:, None, None]

    def _loss(self, batch: Mapping[str, Tensor]) -> tuple[Tensor, Tensor]:
        z = self.model(batch["past"], batch["length"], batch["future"])  # (N, H, Q)
        target = batch["target"]
        m = self.run_config.model
        if self.levels:
            loss = pinball_loss(z, target, self.level_tensor)
        elif m.loss == "mae":
            loss = F.l1_loss(z[..., 0], target)
        elif m.loss == "huber":
            loss = F.huber_loss(z[..., 0], target, delta=m.huber_delta)
        else:
            loss = F.mse_loss(z[..., 0], target)
        pred = z.detach() * batch["scale"][:, None, None] + batch["loc"][:, None, None]
        return loss, pred

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        loss, _ = self._loss(batch)
        self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True,
                 batch_size=len(batch["y"]))
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        loss, pred = self._loss(batch)
        error = (pred[..., self.point] - batch["y"]).abs()  # (N, H)
        n = len(batch["y"])
        self.log("val_loss", loss, prog_bar=True, batch_size=n)
        self.log("val_mae", error.mean(), batch_size=n)
        self.log("val_mase", (error.mean(1) / batch["mase_scale"]).mean(), prog_bar=True,
                 batch_size=n)

    def on_test_epoch_start(self) -> None:
        self._test = []
        self.test_report = {}

    def test_step(self, batch: Any, batch_idx: int) -> None:
        loss, pred = self._loss(batch)
        self.log("test_loss", loss, batch_size=len(batch["y"]))
        H = pred.shape[1]
        base = baseline_forecasts(batch["season_tail"], batch["first"], batch["mean"],
                                  batch["count"], H)
        self._test.append({
            "y": batch["y"].cpu().numpy(), "pred": pred.cpu().numpy(),
            "scale": batch["mase_scale"].cpu().numpy(),
            **{name: base[name].cpu().numpy() for name in BASELINES}})

    def on_test_epoch_end(self) -> None:
        if not self._test:
            return
        parts = {k: np.concatenate([p[k] for p in self._test]) for k in self._test[0]}
        y, pred, scale = parts["y"], parts["pred"], parts["scale"]
        model = forecast_errors(y, pred[..., self.point], scale)
        report: dict[str, Any] = {f"test_{k}": v for k, v in model.items()}
        report["baselines"] = {name: forecast_errors(y, parts[name], scale)
                               for name in BASELINES}
        report["season"] = int(self.info.state["season"])
        report["horizon"] = int(y.shape[1])
        if len(self.levels) > 1:
            inside = (y >= pred[..., 0]) & (y <= pred[..., -1])
            report["coverage"] = float(inside.mean())
            report["interval"] = [self.levels[0], self.levels[-1]]
        self.test_report = report
        self._test = []
