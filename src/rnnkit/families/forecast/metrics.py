"""Forecast errors over windows: MAE, RMSE, sMAPE and MASE.

For targets ``y`` and forecasts ``f`` of W windows of H steps:

* MAE ``mean |y - f|``; RMSE ``sqrt(mean (y - f)^2)`` (in the data's units);
* sMAPE ``mean 200 |y - f| / (|y| + |f|)`` in percent (the M4 competition's; a step where both
  are 0 counts 0);
* MASE ``mean over windows of (mean_h |y - f|) / s``, ``s`` the series' in-sample mean absolute
  seasonal difference (:func:`rnnkit.data.series.windows.mase_scale`): below 1 beats the
  in-sample seasonal naive forecast.
"""

from __future__ import annotations

import numpy as np

__all__ = ["forecast_errors"]


def forecast_errors(y: np.ndarray, f: np.ndarray, scale: np.ndarray) -> dict[str, float]:
    """``{"mae", "rmse", "smape", "mase"}`` of forecasts ``f`` (W, H) for targets ``y`` (W, H),
    ``scale`` (W,) each window's MASE denominator."""
    y, f = np.asarray(y, dtype=np.float64), np.asarray(f, dtype=np.float64)
    if y.shape != f.shape or y.ndim != 2:
        raise ValueError(f"expected targets and forecasts of one shape (W, H), found "
                         f"{y.shape} and {f.shape}")
    error = np.abs(y - f)
    denominator = np.abs(y) + np.abs(f)
    ratio = np.divide(error, denominator, out=np.zeros_like(error), where=denominator > 0)
    return {"mae": float(error.mean()), "rmse": float(np.sqrt(((y - f) ** 2).mean())),
            "smape": float(200 * ratio.mean()),
            "mase": float((error.mean(axis=1) / np.asarray(scale, dtype=np.float64)).mean())}
