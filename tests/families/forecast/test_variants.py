"""The encoder-decoder variant, quantile outputs with their columns, and the losses."""

import csv
import doctest

import pytest
import torch

from rnnkit.cli import main
from rnnkit.families.forecast import model as model_module
from rnnkit.families.forecast.model import Forecaster
from rnnkit.families.forecast.task import pinball_loss

from .conftest import sine, write_series

TINY = ["trainer.threads=1", "trainer.steps=30", "model.hidden_size=8"]


def test_the_forecaster_docstring_example_runs():
    failures, _ = doctest.testmod(model_module, verbose=False)
    assert failures == 0


def test_padded_past_steps_never_change_a_forecast():
    torch.manual_seed(0)
    for decoder in ("direct", "seq2seq"):
        net = Forecaster(2, 2, 4, hidden_size=8, decoder=decoder).eval()
        past, future = torch.randn(1, 10, 2), torch.randn(1, 4, 2)
        lengths = torch.tensor([6])
        other = past.clone()
        other[:, 6:] = 100.0  # padding holds anything
        torch.testing.assert_close(net(past, lengths, future), net(other, lengths, future))


def test_pinball_loss_by_hand():
    pred = torch.tensor([[[1.0, 2.0]]])  # levels 0.1, 0.9
    target = torch.tensor([[3.0]])
    # y - p = 2 and 1: max(0.1 * 2, -0.9 * 2) = 0.2; max(0.9 * 1, -0.1 * 1) = 0.9
    assert pinball_loss(pred, target, torch.tensor([0.1, 0.9])).item() == pytest.approx(0.55)


@pytest.mark.parametrize("options", [
    ["model.decoder=seq2seq", "model.loss=huber"],
    ["model.quantiles=0.1,0.9", "model.cell=gru"],
])
def test_variants_train_and_forecast(tmp_path, capsys, options):
    data = write_series(tmp_path / "s.csv", sine(72))
    run = tmp_path / "run"
    assert main(["train", "--series", str(data), "--set", "data.horizon=6", *TINY, *options,
                 "--out", str(run), "--no-progress"]) == 0
    out = tmp_path / "f.csv"
    assert main(["forecast", str(run), "--data", str(data), "--horizon", "4", "--output",
                 str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 4
    if "model.quantiles=0.1,0.9" in options:
        assert list(rows[0]) == ["date", "forecast", "q10", "q50", "q90"]
        assert all(r["forecast"] == r["q50"] for r in rows)
    else:
        assert list(rows[0]) == ["date", "forecast"]
    capsys.readouterr()


def test_many_series_of_a_long_file_are_forecast_by_id(tmp_path, capsys):
    path = tmp_path / "long.csv"
    rows = ["symbol,date,price"]
    for name, level in (("A", 10.0), ("B", 500.0)):
        rows += [f"{name},{d}-01,{level + v}" for d, v in
                 zip([f"{2000 + k // 12}-{k % 12 + 1:02d}" for k in range(48)], sine(48),
                     strict=True)]
    path.write_text("\n".join(rows) + "\n")
    run = tmp_path / "run"
    assert main(["train", "--series", str(path), "--set", "data.horizon=3", *TINY, "--out",
                 str(run), "--no-progress"]) == 0
    out = tmp_path / "f.csv"
    assert main(["forecast", str(run), "--data", str(path), "--output", str(out)]) == 0
    got = list(csv.DictReader(out.open()))
    assert [(r["id"], r["date"]) for r in got] == [
        (s, f"2004-{m:02d}-01") for s in ("A", "B") for m in (1, 2, 3)]
    assert all(float(r["forecast"]) > 400 for r in got if r["id"] == "B")
    assert "forecast of 2 series, 3 steps" in capsys.readouterr().out
