import datetime as dt

import pytest

from etl.periods import Period, PeriodError


@pytest.mark.parametrize(
    ("text", "start", "end", "months", "tertial_start"),
    [
        ("2018-T1", dt.date(2018, 1, 1), dt.date(2018, 4, 30), 4, dt.date(2018, 1, 1)),
        ("2018-T2", dt.date(2018, 1, 1), dt.date(2018, 8, 31), 8, dt.date(2018, 5, 1)),
        ("2018-T3", dt.date(2018, 1, 1), dt.date(2018, 12, 31), 12, dt.date(2018, 9, 1)),
    ],
)
def test_periods_are_year_to_date(text, start, end, months, tertial_start):
    p = Period.parse(text)
    assert (p.start, p.end, p.months, p.tertial_start) == (start, end, months, tertial_start)
    assert str(p) == text


def test_end_exclusive_crosses_the_year():
    assert Period.parse("2019-T3").end_exclusive == dt.date(2020, 1, 1)


@pytest.mark.parametrize("bad", ["2018-T4", "2018T1", "18-T1", "", "2018-t1 x"])
def test_bad_period_names_are_refused_in_swedish(bad):
    with pytest.raises(PeriodError, match="Ogiltig period"):
        Period.parse(bad)


@pytest.mark.parametrize(
    ("interval_end", "expected"),
    [(dt.date(2018, 5, 1), "2018-T1"), (dt.date(2018, 9, 1), "2018-T2"), (dt.date(2019, 1, 1), "2018-T3")],
)
def test_period_from_timetable_interval_end(interval_end, expected):
    assert str(Period.ending_at(interval_end)) == expected


def test_interval_end_not_on_a_tertial_boundary_is_refused():
    with pytest.raises(PeriodError):
        Period.ending_at(dt.date(2018, 6, 1))
