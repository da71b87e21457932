"""The two contract commands, and bad input as one line through the CLI (exit 2, nothing
written)."""

import csv

import pytest

from rnnkit.cli import main

from .conftest import FAST, sine, write_series


def test_forecast_writes_the_csv_and_a_plot_beside_it(sine_run, tmp_path, capsys):
    out = tmp_path / "forecast.csv"
    code = main(["forecast", str(sine_run["run"]), "--data", str(sine_run["data"]),
                 "--horizon", "12", "--output", str(out), "--set", "trainer.threads=1"])
    assert code == 0
    assert "12 steps (2010-01-01 to 2010-12-01)" in capsys.readouterr().out
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["date", "forecast"]
    assert [r["date"] for r in rows] == [f"2010-{m:02d}-01" for m in range(1, 13)]
    expected = sine(132)[120:]
    assert max(abs(float(r["forecast"]) - e) for r, e in zip(rows, expected, strict=True)) < 1
    assert (tmp_path / "forecast.png").read_bytes()[:4] == b"\x89PNG"


def test_forecast_refuses_an_existing_output_and_a_longer_horizon(sine_run, tmp_path, capsys):
    out = tmp_path / "forecast.csv"
    out.write_text("mine\n")
    args = ["forecast", str(sine_run["run"]), "--data", str(sine_run["data"]), "--output",
            str(out)]
    assert main(args) == 2
    assert "exists; rnnkit never writes over a file unless asked" in capsys.readouterr().err
    assert out.read_text() == "mine\n"
    assert main([*args[:-1], str(tmp_path / "new.csv"), "--horizon", "24"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnkit forecast: error: --horizon 24 is beyond the 12 steps")
    assert not (tmp_path / "new.csv").exists() and not (tmp_path / "new.png").exists()
    assert main([*args[:-1], str(tmp_path / "new.csv"), "--horizon", "0"]) == 2
    assert "at least 1, got 0" in capsys.readouterr().err


def test_forecast_of_another_family_is_refused(sine_run, tmp_path, capsys):
    assert main(["forecast", str(tmp_path), "--data", str(sine_run["data"])]) == 2
    assert capsys.readouterr().err.startswith("rnnkit forecast: error:")


DATES = [f"{2000 + k // 12}-{k % 12 + 1:02d}-01" for k in range(60)]


def _file(tmp_path, dates, values):
    path = tmp_path / "bad.csv"
    path.write_text("date,value\n" + "".join(f"{d},{v}\n" for d, v in
                                             zip(dates, values, strict=True)))
    return path


@pytest.mark.parametrize(("name", "dates", "values", "extra", "message"), [
    ("unsorted", DATES[:30] + [DATES[31], DATES[30]] + DATES[32:], list(range(60)), [],
     "dates are not in order: line 33"),
    ("duplicated", DATES[:30] + [DATES[29]] + DATES[31:], list(range(60)), [],
     "appears twice (lines 31 and 32)"),
    ("gap", DATES[:30] + DATES[31:], list(range(59)), [], "no row for 2002-07-01"),
    ("nan", DATES, list(range(30)) + ["NaN"] + list(range(31, 60)), [],
     "line 32: no value (empty or NaN) at 2002-07-01"),
    ("short", DATES[:20], list(range(20)), ["data.lookback=24"],
     "series value has 20 points, shorter than lookback + horizon = 24 + 12 = 36"),
    ("horizon 0", DATES, list(range(60)), ["data.horizon=0"], "data.horizon must be >= 1"),
    ("bad date", DATES[:10] + ["2000-14-01"] + DATES[11:], list(range(60)), [],
     "line 12: cannot read the date '2000-14-01'"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, name, dates, values, extra,
                                                  message):
    path = _file(tmp_path, dates, values)
    run = tmp_path / "run"
    code = main(["train", "--task", "forecast", "--series", str(path), "--set",
                 "data.horizon=12", *FAST, *extra, "--out", str(run), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("rnnkit train: error: ") and err.count("\n") == 1, err
    assert message in err
    assert "Traceback" not in err
    assert not run.exists()


def test_series_without_task_trains_a_forecaster(tmp_path, capsys):
    path = write_series(tmp_path / "s.csv", sine(60))
    code = main(["train", "--series", str(path), "--set", "data.horizon=6", "trainer.steps=5",
                 "trainer.threads=1", "model.hidden_size=4", "--out", str(tmp_path / "r"),
                 "--no-progress"])
    assert code == 0
    assert "test MASE" in capsys.readouterr().out
