"""Reading wide and long CSV files and .tsf files; gaps, NaN, unsorted and duplicated dates."""

import numpy as np
import pytest

from rnnkit.data.series.readers import read_series_file
from rnnkit.data.series.regular import regularize

from .helpers import daily_dates, monthly_dates, write_csv


def test_a_two_column_csv_is_one_series(tmp_path):
    path = write_csv(tmp_path / "s.csv", monthly_dates(5), [1, 2, 3, 4, 5])
    (series,) = read_series_file(path).series
    assert series.name == "value"
    assert series.values.tolist() == [1, 2, 3, 4, 5]
    assert regularize(series, path=str(path)).step.name == "monthly"


def test_wide_csv_needs_a_target_among_several_numeric_columns(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("date,precipitation,temp_max,weather\n2012/01/01,0.0,12.8,rain\n"
                    "2012/01/02,10.9,10.6,sun\n")
    with pytest.raises(ValueError, match="numeric columns: precipitation, temp_max"):
        read_series_file(path)
    file = read_series_file(path, target="temp_max", covariates=("precipitation",))
    (series,) = file.series
    assert series.values.tolist() == [12.8, 10.6]
    assert series.covariates["precipitation"].tolist() == [0.0, 10.9]


def test_an_unnamed_index_column_and_quarters(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text(",Quarter,Consumption\n0,1970 Q1,0.6\n1,1970 Q2,0.4\n2,1970 Q3,0.8\n")
    (series,) = read_series_file(path).series
    assert series.name == "Consumption"
    assert regularize(series, path=str(path)).step.name == "quarterly"


def test_long_csv_has_one_series_per_id(tmp_path):
    path = tmp_path / "stocks.csv"
    rows = ["symbol,date,price"] + [f"{s},{m} 1 2000,{v}" for s, base in (("A", 10), ("B", 50))
                                    for m, v in zip(("Jan", "Feb", "Mar"),
                                                    (base, base + 1, base + 2), strict=True)]
    path.write_text("\n".join(rows) + "\n")
    file = read_series_file(path)
    assert file.layout == "long"
    assert [(s.name, s.values.tolist()) for s in file.series] == \
        [("A", [10, 11, 12]), ("B", [50, 51, 52])]


def test_tsf_series_with_their_frequency_and_horizon(tmp_path):
    path = tmp_path / "m.tsf"
    path.write_text("# comment\n@relation M\n@attribute series_name string\n"
                    "@attribute start_timestamp date\n@frequency yearly\n@horizon 2\n@data\n"
                    "T1:1972-01-01 00-00-00:1,2,3,4\nT2:1980-01-01 00-00-00:5,?,7\n")
    file = read_series_file(path)
    assert (file.step.name, file.horizon) == ("yearly", 2)
    assert [s.name for s in file.series] == ["T1", "T2"]
    assert file.series[1].dates[-1].year == 1982
    assert np.isnan(file.series[1].values[1])


def _raw(tmp_path, dates, values):
    path = write_csv(tmp_path / "s.csv", dates, values)
    return path, read_series_file(path).series[0]


def test_unsorted_dates_are_refused(tmp_path):
    dates = daily_dates(4)
    path, raw = _raw(tmp_path, [dates[0], dates[2], dates[1], dates[3]], [1, 2, 3, 4])
    with pytest.raises(ValueError, match="not in order: line 4"):
        regularize(raw, path=str(path))


def test_duplicated_dates_are_refused(tmp_path):
    dates = daily_dates(3)
    path, raw = _raw(tmp_path, [dates[0], dates[1], dates[1], dates[2]], [1, 2, 3, 4])
    with pytest.raises(ValueError, match="2012-01-02 appears twice \\(lines 3 and 4\\)"):
        regularize(raw, path=str(path))


def test_a_gap_is_an_error_naming_it_unless_filled(tmp_path):
    dates = daily_dates(6)
    path, raw = _raw(tmp_path, dates[:2] + dates[4:], [1.0, 2.0, 5.0, 6.0])
    with pytest.raises(ValueError, match="no row for 2012-01-03 .*data.fill=interpolate"):
        regularize(raw, path=str(path))
    filled = regularize(raw, path=str(path), fill="interpolate")
    assert filled.values.tolist() == [1, 2, 3, 4, 5, 6]
    assert filled.filled == 2
    assert regularize(raw, path=str(path), fill="previous").values.tolist() == [1, 2, 2, 2, 5, 6]


def test_a_missing_value_is_an_error_naming_its_line(tmp_path):
    path, raw = _raw(tmp_path, daily_dates(4), [1, "", "NaN", 4])
    with pytest.raises(ValueError, match="line 3: no value \\(empty or NaN\\) at 2012-01-02"):
        regularize(raw, path=str(path))
    assert regularize(raw, path=str(path), fill="interpolate").values.tolist() == [1, 2, 3, 4]


def test_a_date_off_the_grid_is_irregular(tmp_path):
    mondays = ["2012-01-02", "2012-01-09", "2012-01-16", "2012-01-23", "2012-01-31"]
    path, raw = _raw(tmp_path, mondays, [1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="line 6: 2012-01-31 is off the series' grid"):
        regularize(raw, path=str(path), fill="interpolate")
