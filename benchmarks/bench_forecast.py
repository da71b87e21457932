"""Forecasting recipes vs the classics on the same holdout windows, side by side in one process:
rnnkit (the recipe, trained here), seasonal naive, and statsforecast's AutoETS and AutoARIMA.

    .venv/bin/pip install -e ".[bench]"      # statsforecast, benchmark-only
    .venv/bin/python benchmarks/bench_forecast.py [--recipes seattle co2] [--seeds 0 1 2]

Each recipe (configs/forecast_<name>.yaml) is trained with ``rnnkit.runs.train.train`` (one
CPU thread); its test windows are the recipe's holdout (the last ``horizon`` points of every
series, and the earlier origins of its rolling-origin backtest). AutoETS and AutoARIMA are
fitted on each window's whole history before its origin (what the seasonal naive and the
other baselines read too; AutoARIMA the last 5 seasons when the season is longer than 24
steps, see ARIMA_SEASONS) with the recipe's seasonal period, and forecast the same
``horizon`` steps. Every method is scored by
rnnkit.families.forecast.metrics.forecast_errors: MASE (the series' in-sample seasonal
difference before the holdout as denominator, the mean over windows) and sMAPE (M4's, in
percent). The last column divides rnnkit's MASE by seasonal
naive's (below 1: rnnkit beats it).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("MPLBACKEND", "Agg")
RECIPES = ("seattle", "stocks", "co2", "m1_yearly")
# AutoARIMA with a long season (weekly data, m = 52) reads only the last 5 seasons: on one CO2
# window it took 33 s for 260 points, 154 s for 520, and did not finish in 20 minutes for the
# whole 2,200-week history (one CPU thread).
ARIMA_LONG_SEASON, ARIMA_SEASONS = 24, 5


def classic_forecasts(history: np.ndarray, horizon: int, season: int) -> dict[str, np.ndarray]:
    """statsforecast's AutoETS and AutoARIMA forecasts of ``horizon`` steps after ``history``."""
    from statsforecast.models import AutoARIMA, AutoETS

    y = np.asarray(history, dtype=np.float64)
    arima_y = y if season < ARIMA_LONG_SEASON else y[-ARIMA_SEASONS * season:]
    out = {}
    for name, model, data in (("AutoETS", AutoETS(season_length=season), y),
                              ("AutoARIMA", AutoARIMA(season_length=season), arima_y)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[name] = np.asarray(model.forecast(y=data, h=horizon)["mean"], dtype=np.float64)
    return out


def train_recipe(name: str, seed: int, out_dir: Path) -> tuple[dict, Any]:
    """Train recipe ``name`` with ``seed``: its test figures, and its test windows (a data
    module rebuilt from the run's checkpoint)."""
    from rnnkit.config import load_config
    from rnnkit.data.series.datamodule import SeriesDataModule
    from rnnkit.runs.evaluate import load_run
    from rnnkit.runs.train import train

    os.chdir(ROOT)  # the recipes name their data relative to the repository
    config = load_config(ROOT / "configs" / f"forecast_{name}.yaml", [
        ("trainer.threads", 1), ("trainer.seed", seed), ("trainer.progress_bar", False),
        ("out", str(out_dir / f"{name}-seed{seed}"))])
    start = time.perf_counter()
    result = train(config)
    metrics = {**result.metrics, "seconds": time.perf_counter() - start}
    state = load_run(result.run_dir).info.state
    dm = SeriesDataModule(result.config.data, purpose="evaluate", state=state)
    dm.setup("test")
    return metrics, dm


def score_classics(dm: Any) -> dict[str, dict[str, float]]:
    """AutoETS and AutoARIMA on the test windows of ``dm``, scored as rnnkit is."""
    from rnnkit.families.forecast.metrics import forecast_errors

    state = dm.state
    H, season = int(state["horizon"]), int(state["season"])
    targets, scales, forecasts = [], [], {"AutoETS": [], "AutoARIMA": []}
    start = time.perf_counter()
    for i, t in dm.datasets["test"].origins:
        series = dm.series[i]
        targets.append(series.values[t:t + H])
        scales.append(state["series"][series.name]["mase_scale"])
        for method, f in classic_forecasts(series.values[:t], H, season).items():
            forecasts[method].append(f)
    seconds = time.perf_counter() - start
    y, scale = np.stack(targets), np.asarray(scales)
    return {method: {**forecast_errors(y, np.stack(f), scale), "seconds": seconds}
            for method, f in forecasts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=RECIPES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--out", type=Path, default=None, help="where the runs go (default: a "
                        "temporary directory)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_forecast-"))
    methods = ("rnnkit", "seasonal naive", "AutoETS", "AutoARIMA")
    print(f"{'recipe':<11} {'seed':>4} {'windows':>7} " + " ".join(
        f"{m + ' MASE/sMAPE':>24}" for m in methods) + f" {'rnnkit/snaive':>13}", flush=True)
    for name in args.recipes:
        classics = None
        for seed in args.seeds:
            metrics, dm = train_recipe(name, seed, out)
            if classics is None:  # the windows are the recipe's, whatever the seed
                classics = score_classics(dm)
            rows = {"rnnkit": {"mase": metrics["test_mase"], "smape": metrics["test_smape"]},
                    "seasonal naive": metrics["baselines"]["seasonal_naive"], **classics}
            cells = " ".join(f"{rows[m]['mase']:>13.3f} / {rows[m]['smape']:>6.2f}%"
                             for m in methods)
            ratio = rows["rnnkit"]["mase"] / rows["seasonal naive"]["mase"]
            print(f"{name:<11} {seed:>4} {metrics['num_examples']:>7} {cells} {ratio:>13.3f}"
                  f"   (H {metrics['horizon']}, m {metrics['season']}, best epoch "
                  f"{metrics['epoch']}, rnnkit {metrics['seconds']:.0f} s, ETS+ARIMA "
                  f"{classics['AutoETS']['seconds']:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
