"""Windows and splits: no target among its own inputs, nothing of the holdout in training,
scaling fitted on the training part alone, clear errors for short series."""

import numpy as np
import pytest

from rnnkit.config import ConfigError, load_config
from rnnkit.data.series.datamodule import SeriesDataModule

from .helpers import monthly_dates, write_csv


def _datamodule(path, **data):
    config = load_config(overrides=[("data.name", "series"), ("data.train", str(path)),
                                    ("task", "forecast"),
                                    *((f"data.{k}", v) for k, v in data.items())])
    dm = SeriesDataModule(config.data)
    dm.setup("fit")
    return dm


def _raw_windows(dm, split):
    """(origin, past values, target values) of every window, in the data's units."""
    out = []
    for batch in (dm.train_dataloader() if split == "train" else
                  dm.val_dataloader() if split == "val" else dm.test_dataloader()):
        for i in range(len(batch["y"])):
            n = int(batch["length"][i])
            past = batch["past"][i, :n, 0] * batch["scale"][i] + batch["loc"][i]
            out.append((int(batch["origin"][i]), past.numpy(), batch["y"][i].numpy()))
    return out


def test_windows_never_see_their_targets_nor_the_holdout(tmp_path):
    T, H = 60, 6
    path = write_csv(tmp_path / "s.csv", monthly_dates(T), list(range(T)))  # value = index
    dm = _datamodule(path, horizon=H, lookback=12, validation=H, backtest=1)
    test_start, val_start = T - H, T - 2 * H
    for split, end in (("train", val_start), ("val", test_start)):
        windows = _raw_windows(dm, split)
        assert windows
        for origin, past, target in windows:
            np.testing.assert_allclose(past, np.arange(origin - len(past), origin), atol=1e-4)
            np.testing.assert_allclose(target, np.arange(origin, origin + H), atol=1e-4)
            assert origin + H <= end  # targets (and so inputs) end before the next part
    ((origin, past, target),) = _raw_windows(dm, "test")
    assert origin == test_start and past[-1] == pytest.approx(test_start - 1, abs=1e-4)


def test_scaling_statistics_come_from_the_training_part_only(tmp_path):
    T, H = 48, 6
    values = [float(v) for v in np.arange(T) % 7]
    changed = values[: T - 2 * H] + [1000.0] * (2 * H)  # other validation and holdout values
    stats = []
    for name, vals in (("a.csv", values), ("b.csv", changed)):
        dm = _datamodule(write_csv(tmp_path / name, monthly_dates(T), vals), horizon=H,
                         lookback=12, validation=H)
        stats.append(dm.describe().state["series"]["value"])
    assert stats[0]["loc"] == stats[1]["loc"] == pytest.approx(np.mean(values[: T - 2 * H]))
    assert stats[0]["scale"] == pytest.approx(np.std(values[: T - 2 * H]))
    assert stats[1]["scale"] == stats[0]["scale"]


def test_a_series_shorter_than_lookback_and_horizon_is_named(tmp_path):
    path = write_csv(tmp_path / "s.csv", monthly_dates(20), list(range(20)))
    with pytest.raises(ValueError, match="series value has 20 points, shorter than lookback "
                                         "\\+ horizon = 24 \\+ 12 = 36"):
        _datamodule(path, horizon=12, lookback=24)


def test_a_horizon_of_zero_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="data.horizon must be >= 1, got 0"):
        _datamodule(write_csv(tmp_path / "s.csv", monthly_dates(30), list(range(30))),
                    horizon=0)


def test_many_series_share_one_model_and_keep_their_own_scaling(tmp_path):
    path = tmp_path / "long.csv"
    rows = ["id,date,value"]
    for name, level in (("low", 1.0), ("high", 1000.0)):
        rows += [f"{name},{d},{level + k % 5}" for k, d in enumerate(monthly_dates(40))]
    path.write_text("\n".join(rows) + "\n")
    dm = _datamodule(path, horizon=4, lookback=8)
    state = dm.describe().state
    assert state["series"]["low"]["loc"] < 10 < 900 < state["series"]["high"]["loc"]
    assert state["backtest"] == 2  # auto: 10 test windows in all, at most 8 of 40 points
    assert len(dm.datasets["test"]) == 4


def test_a_rolling_origin_backtest_has_origins_a_step_apart(tmp_path):
    T = 60
    path = write_csv(tmp_path / "s.csv", monthly_dates(T), list(range(T)))
    dm = _datamodule(path, horizon=6, lookback=12, backtest=3, backtest_step=3)
    assert [o for o, _, _ in _raw_windows(dm, "test")] == [T - 12, T - 9, T - 6]
    for origin, _, _ in _raw_windows(dm, "train") + _raw_windows(dm, "val"):
        assert origin + 6 <= T - 12
