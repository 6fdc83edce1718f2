"""Comparison periods and which figures the run's extract can compute for them."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from etl.periods import Period
from etl.settings import settings
from etl.settings.catalogue import Entry
from etl.statistics import comparison

CAT = settings().catalogue
T2 = Period(2018, 2)


def test_periods_of_t1_t2_t3():
    assert comparison.comparison_periods(Period(2018, 1)) == {
        "previous_year": Period(2017, 1), "previous_full_year": Period(2017, 3),
    }  # fmt: skip
    assert comparison.comparison_periods(T2) == {
        "T1": Period(2018, 1), "previous_year": Period(2017, 2), "previous_full_year": Period(2017, 3),
    }  # fmt: skip
    assert list(comparison.comparison_periods(Period(2018, 3))) == [
        "T1", "T2", "previous_year", "previous_full_year",
    ]  # fmt: skip


def test_windows_must_cover_the_comparison_period():
    shares = CAT.get("eb_andel_befolkning")  # payment P + previous_year, population two years
    assert comparison.covers(shares, T2, Period(2017, 2))
    assert comparison.covers(shares, T2, Period(2017, 3))
    # Without the history windows only the earlier tertials of the year are covered.
    base = shares.model_dump()
    bare = Entry(**{**base, "reads": [r for r in base["reads"] if r["window"] not in comparison.HISTORY]})
    assert comparison.covers(bare, T2, Period(2018, 1))
    assert not comparison.covers(bare, T2, Period(2017, 2))
    # Rows followed from another table are never assumed covered.
    assert not comparison.covers(CAT.get("ja_beviljat_kr_justerad_skillnad"), T2, Period(2018, 1))
    # The rolling 12 months a year back (Sep 2016–Aug 2017) are within the 24 months to P's end.
    assert comparison.covers(CAT.get("eb_langvarigt_vuxna"), T2, Period(2017, 2))


def test_a_figure_needs_source_rows_from_the_start_of_its_window():
    long_term = CAT.get("eb_langvarigt_vuxna")
    earliest = {"payment": pd.Timestamp("2017-01-01"), "population": 2016}
    # 2017-T2 needs payments from September 2016: the source starts in January 2017 → no figure.
    assert not comparison.in_source(long_term, Period(2017, 2), earliest)
    assert comparison.in_source(long_term, Period(2018, 1), earliest)  # May 2017 onwards
    # A first event a few days into the window's first month still counts as covered.
    places = CAT.get("am_feriejobb_platser")
    assert comparison.in_source(places, Period(2017, 2), {"job_place": dt.date(2017, 1, 7)})
    assert not comparison.in_source(places, Period(2017, 2), {"job_place": dt.date(2017, 2, 7)})
    assert not comparison.in_source(places, Period(2017, 2), {"job_place": None})


def test_comparisons_from_the_demo_extract_and_a_bad_earlier_year_only_loses_its_comparison(caplog):
    from tests.support.demo import demo_tables

    tables = dict(demo_tables())
    districts = sorted(tables["district"]["district_code"])
    stats = comparison.comparison_statistics(tables, T2, districts, CAT)
    assert set(stats["period"]) == {"2018-T1", "2017-T2", "2017-T3"}
    # The same period a year back equals that period's own statistics (same code, same rows).
    own = comparison.case.case_statistics(tables, Period(2017, 2), districts, CAT).set_index(
        ["indicator_id", "district_code", "sex"]
    )["value"]
    back = stats[stats["period"] == "2017-T2"].set_index(["indicator_id", "district_code", "sex"])["value"]
    key = ("eb_andel_befolkning", "OST", "T")
    assert back[key] == own[key] and back[("eb_hushall", "ALL", "T")] == own[("eb_hushall", "ALL", "T")]
    # A reported value of an unknown indicator in 2017 stops only the 2017 full-year comparison.
    bad = tables["indicator_input"].iloc[:1].copy()
    bad["indicator_id"], bad["year"], bad["tertial"] = "okand", 2017, pd.array([pd.NA], dtype="Int64")
    tables["indicator_input"] = pd.concat([tables["indicator_input"], bad], ignore_index=True)
    stats = comparison.comparison_statistics(tables, T2, districts, CAT)
    assert set(stats["period"]) == {"2018-T1", "2017-T2"}
    assert "Jämförelse med 2017-T3 beräknas inte" in caplog.text
