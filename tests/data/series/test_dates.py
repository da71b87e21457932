"""Dates as real files write them, the step between them, and a date no format reads."""

from datetime import datetime

import pytest

from rnnkit.data.series.dates import Step, calendar_features, infer_step, parse_dates


@pytest.mark.parametrize(("text", "expected"), [
    ("2012/01/01", datetime(2012, 1, 1)),
    ("2012-01-31", datetime(2012, 1, 31)),
    ("Jan 1 2000", datetime(2000, 1, 1)),
    ("Jan-1-1995", datetime(1995, 1, 1)),
    ("19580329", datetime(1958, 3, 29)),
    ("1970 Q3", datetime(1970, 7, 1)),
    ("1970-Q2", datetime(1970, 4, 1)),
    ("1958-03", datetime(1958, 3, 1)),
    ("2010/01/01 13:00", datetime(2010, 1, 1, 13)),
    ("1972-01-01 00-00-00", datetime(1972, 1, 1)),
])
def test_date_formats(text, expected):
    assert parse_dates([text], [2], where="f.csv") == [expected]


def test_a_plain_year_only_in_a_year_column():
    assert parse_dates(["1700", "1701"], [2, 3], where="f", allow_year=True)[1] == \
        datetime(1701, 1, 1)
    with pytest.raises(ValueError, match="cannot read the date '1700'"):
        parse_dates(["1700"], [2], where="f")


def test_an_unparsable_date_names_its_line_and_value():
    with pytest.raises(ValueError, match=r"f.csv: line 4: cannot read the date '2012-13-45'"):
        parse_dates(["2012-01-01", "2012-01-02", "2012-13-45"], [2, 3, 4], where="f.csv")


@pytest.mark.parametrize(("dates", "name", "season"), [
    ([datetime(2000, m, 1) for m in range(1, 13)], "monthly", 12),
    ([datetime(1970, m, 1) for m in (1, 4, 7, 10)], "quarterly", 4),
    ([datetime(y, 1, 1) for y in range(1980, 1990)], "yearly", 1),
    ([datetime(2000, 1, 31), datetime(2000, 2, 29), datetime(2000, 3, 31)], "monthly", 12),
    ([datetime(1958, 3, 29), datetime(1958, 4, 5), datetime(1958, 4, 12)], "weekly", 52),
    ([datetime(2012, 1, d) for d in range(1, 9)], "daily", 7),
    ([datetime(2010, 1, 1, h) for h in range(6)], "hourly", 24),
])
def test_the_step_is_inferred(dates, name, season):
    step = infer_step(dates)
    assert (step.name, step.season) == (name, season)
    assert step.add(dates[0], len(dates) - 1) == dates[-1]


def test_month_end_steps_stay_on_the_last_day():
    step = Step("months", 1, month_end=True)
    assert step.add(datetime(2000, 1, 31), 1) == datetime(2000, 2, 29)
    assert step.add(datetime(2000, 2, 29), 1) == datetime(2000, 3, 31)


def test_calendar_features_repeat_with_the_week():
    days = [datetime(2012, 1, d) for d in range(1, 16)]
    week = calendar_features(days, ["weekday"])
    assert week.shape == (15, 2)
    assert abs(week[0] - week[7]).max() < 1e-6
    assert abs(week[0] - week[3]).max() > 0.5
