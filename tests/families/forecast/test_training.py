"""Training through the public seams: the sine beats naive, and a saved run is reproducible."""

import json

from rnnkit.runs.evaluate import evaluate
from rnnkit.runs.forecast import forecast


def test_a_pure_seasonal_sine_is_forecast_better_than_naive(sine_run):
    metrics = json.loads((sine_run["run"] / "test_metrics.json").read_text())
    naive = metrics["baselines"]["naive"]
    assert metrics["test_mae"] < 0.5 * naive["mae"]
    assert metrics["test_smape"] < naive["smape"]


def test_the_train_line_shows_the_model_beside_the_baselines(sine_run):
    metrics = json.loads((sine_run["run"] / "test_metrics.json").read_text())
    line = next(x for x in sine_run["out"].splitlines() if x.startswith("test MASE"))
    assert f"test MASE {metrics['test_mase']:.3f}" in line
    for name in ("seasonal naive", "naive", "drift", "mean"):
        assert f" {name} " in line
    # data.backtest=auto: 2 origins, the holdout at most a fifth of the 120 months
    assert "on the same 2 test windows of 12 steps" in line


def test_a_saved_run_evaluates_and_forecasts_the_same_after_reloading(sine_run):
    metrics = json.loads((sine_run["run"] / "test_metrics.json").read_text())
    again = evaluate(sine_run["run"], [("trainer.threads", 1)]).metrics
    assert again["test_mase"] == metrics["test_mase"]
    assert again["baselines"] == metrics["baselines"]
    first = forecast(sine_run["run"], sine_run["data"], 12, [("trainer.threads", 1)])
    second = forecast(sine_run["run"], sine_run["data"], 12, [("trainer.threads", 1)])
    assert first.columns == second.columns
    assert first.columns["date"][0] == "2010-01-01"
    assert len(first.columns["forecast"]) == 12
