"""Forecasting recipes vs the classics on the same holdout windows, side by side in one process:
rnnkit (the recipe, trained here), seasonal naive, and statsforecast's AutoETS and AutoARIMA.

    .venv/bin/pip install -e ".[bench]"      # statsforecast, benchmark-only
    .venv/bin/python benchmarks/bench_forecast.py [--recipes seattle co2] [--seeds 0 1 2]

Each recipe (configs/forecast_<name>.yaml) is trained with ``rnnkit.runs.train.train`` (one
CPU thread); its test windows are the recipe's holdout (the last ``horizon`` points of every
series, and the earlier origins of its rolling-origin backtest). AutoETS and AutoARIMA are
fitted on each window's whole history before its origin (what the seasonal naive and the
other baselines read too) with the recipe's seasonal period, and forecast the same ``horizon``
steps. Every method is scored by rnnkit.families.forecast.metrics.forecast_errors: MASE (the
series' in-sample seasonal difference before the holdout as denominator, the mean over
windows) and sMAPE (M4's, in percent). The last column divides rnnkit's MASE by seasonal
naive's (below 1: rnnkit beats it).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("MPLBACKEND", "Agg")
RECIPES = ("seattle", "stocks", "co2", "m1_yearly")


def classic_forecasts(history: np.ndarray, horizon: int, season: int) -> dict[str, np.ndarray]:
    """statsforecast's AutoETS and AutoARIMA forecasts of ``horizon`` steps after ``history``."""
    from statsforecast.models import AutoARIMA, AutoETS

    y = np.asarray(history, dtype=np.float64)
    out = {}
    for name, model in (("AutoETS", AutoETS(season_length=season)),
                        ("AutoARIMA", AutoARIMA(season_length=season))):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[name] = np.asarray(model.forecast(y=y, h=horizon)["mean"], dtype=np.float64)
    return out


def run_recipe(name: str, seed: int, out_dir: Path) -> dict[str, dict[str, float]]:
    """Train recipe ``name`` with ``seed`` and score it and the classics on its test windows."""
    from rnnkit.config import load_config
    from rnnkit.data.series.datamodule import SeriesDataModule
    from rnnkit.families.forecast.metrics import forecast_errors
    from rnnkit.runs.evaluate import load_run
    from rnnkit.runs.train import train

    os.chdir(ROOT)  # the recipes name their data relative to the repository
    config = load_config(ROOT / "configs" / f"forecast_{name}.yaml", [
        ("trainer.threads", 1), ("trainer.seed", seed), ("trainer.progress_bar", False),
        ("out", str(out_dir / f"{name}-seed{seed}"))])
    start = time.perf_counter()
    result = train(config)
    seconds = time.perf_counter() - start
    metrics = result.metrics
    state = load_run(result.run_dir).info.state
    dm = SeriesDataModule(result.config.data, purpose="evaluate", state=state)
    dm.setup("test")
    H, season = int(state["horizon"]), int(state["season"])
    targets, scales, classics = [], [], {"AutoETS": [], "AutoARIMA": []}
    start = time.perf_counter()
    for i, t in dm.datasets["test"].origins:
        series = dm.series[i]
        targets.append(series.values[t:t + H])
        scales.append(state["series"][series.name]["mase_scale"])
        for method, f in classic_forecasts(series.values[:t], H, season).items():
            classics[method].append(f)
    classic_seconds = time.perf_counter() - start
    y, scale = np.stack(targets), np.asarray(scales)
    rows = {"rnnkit": {"mase": metrics["test_mase"], "smape": metrics["test_smape"],
                       "seconds": seconds},
            "seasonal naive": dict(metrics["baselines"]["seasonal_naive"])}
    for method, forecasts in classics.items():
        rows[method] = {**forecast_errors(y, np.stack(forecasts), scale),
                        "seconds": classic_seconds / 2}
    rows["_"] = {"windows": len(y), "horizon": H, "season": season,
                 "epoch": metrics["epoch"]}
    return rows


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
        f"{m + ' MASE/sMAPE':>24}" for m in methods) + f" {'rnnkit/snaive':>13}")
    for name in args.recipes:
        for seed in args.seeds:
            rows = run_recipe(name, seed, out)
            info = rows["_"]
            cells = " ".join(f"{rows[m]['mase']:>13.3f} / {rows[m]['smape']:>6.2f}%"
                             for m in methods)
            ratio = rows["rnnkit"]["mase"] / rows["seasonal naive"]["mase"]
            print(f"{name:<11} {seed:>4} {info['windows']:>7} {cells} {ratio:>13.3f}"
                  f"   (H {info['horizon']}, m {info['season']}, best epoch {info['epoch']}, "
                  f"rnnkit {rows['rnnkit']['seconds']:.0f} s, ETS+ARIMA "
                  f"{2 * rows['AutoETS']['seconds']:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
