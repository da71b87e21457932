"""The baselines and the error figures, against values worked out by hand."""

import numpy as np
import pytest
import torch

from rnnkit.data.series.windows import history_summary, mase_scale
from rnnkit.families.forecast.baselines import baseline_forecasts
from rnnkit.families.forecast.metrics import forecast_errors


def _forecasts(history, season, horizon):
    summary = {k: torch.as_tensor(np.asarray(v))[None] for k, v in
               history_summary(np.asarray(history, dtype=float), season).items()}
    summary["season_tail"] = summary["season_tail"].reshape(1, -1)
    out = baseline_forecasts(summary["season_tail"], summary["first"], summary["mean"],
                             summary["count"], horizon)
    return {k: v[0].tolist() for k, v in out.items()}


def test_baselines_on_a_tiny_series():
    # history 1 2 4 3 5 6 (t = 6), season 2, horizon 3
    f = _forecasts([1, 2, 4, 3, 5, 6], season=2, horizon=3)
    assert f["naive"] == [6, 6, 6]
    assert f["seasonal_naive"] == [5, 6, 5]
    assert f["drift"] == pytest.approx([7, 8, 9])  # slope (6 - 1) / 5 = 1
    assert f["mean"] == pytest.approx([3.5, 3.5, 3.5])


def test_seasonal_naive_of_a_history_shorter_than_a_season_is_naive_where_it_must_be():
    f = _forecasts([3, 7], season=4, horizon=4)
    assert f["seasonal_naive"] == [3, 3, 3, 7]


def test_error_figures_by_hand():
    y = np.array([[2.0, 4.0], [10.0, 10.0]])
    f = np.array([[1.0, 4.0], [12.0, 7.0]])
    scale = np.array([0.5, 2.0])
    e = forecast_errors(y, f, scale)
    assert e["mae"] == pytest.approx((1 + 0 + 2 + 3) / 4)
    assert e["rmse"] == pytest.approx(np.sqrt((1 + 0 + 4 + 9) / 4))
    assert e["smape"] == pytest.approx(200 / 4 * (1 / 3 + 0 + 2 / 22 + 3 / 17))
    assert e["mase"] == pytest.approx(((0.5 / 0.5) + (2.5 / 2.0)) / 2)


def test_mase_scale_is_the_in_sample_seasonal_difference():
    assert mase_scale(np.array([1.0, 2, 4, 3, 5, 6]), 2) == pytest.approx((3 + 1 + 1 + 3) / 4)
    assert mase_scale(np.array([1.0, 3.0]), 12) == pytest.approx(2.0)  # shorter: m = 1
    assert mase_scale(np.array([5.0, 5.0, 5.0]), 1) == 1.0  # constant: no division by 0
