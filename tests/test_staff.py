"""Golden tests for the staff statistics (etl.statistics.staff): every pe_* indicator, T/K/M and age bands.

The staff below is small enough to count on paper; every expected value is written as the
arithmetic it comes from. Period 2018-T1: 1 January–30 April 2018, last month April, ages are
2018 − birth year.

    id  sex  born  age  band    employed            on 30 April?
    A1  K    1989  29   ≤29     2010-01-01 –         yes
    A2  K    1988  30   30–49   2015-01-01 –         yes  (turns 30: first year in 30–49)
    A3  M    1968  50   ≥50     2000-01-01 – 04-30   yes  (turns 50; leaves on the last day)
    A4  M    1969  49   30–49   2005-01-01 – 03-15   no   (left before the last day)
    A5  K    1990  28   ≤29     2018-05-01 –         no   (starts after P)
    A6  K    1980  38   30–49   2017-01-01 –         yes  (on leave in April: fte 0, no hours)
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from etl.periods import Period
from etl.statistics.staff import staff_statistics
from etl.vocabulary import ALL, BASIS, INTERNAL, NOT_INDIVIDUAL, RULE, STAFF_GROUP

T1 = Period(2018, 1)
BASE_IDS = [
    "pe_anstallda",
    "pe_arsarbetare",
    "pe_sjukfranvaro",
    "pe_sjukfranvaro_dag_1_14",
    "pe_langtidssjuk_andel",
]
BANDS = ["", "_alder_29", "_alder_30_49", "_alder_50"]


def _staff(rows: list[tuple]) -> pd.DataFrame:
    columns = ["staff_id", "sex", "role", "birth_year", "employed_from", "employed_to"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype(
        {
            "staff_id": "string",
            "sex": "string",
            "role": "string",
            "birth_year": "Int64",
            "employed_from": "datetime64[s]",
            "employed_to": "datetime64[s]",
        }
    )


def _months(rows: list[tuple]) -> pd.DataFrame:
    columns = ["staff_id", "month", "fte", "scheduled_hours", "sick_hours"]
    columns += ["sick_hours_day_1_14", "sick_hours_day_60_plus"]
    frame = pd.DataFrame(rows, columns=columns)
    hours = {c: "float64" for c in columns[2:]}
    return frame.astype({"staff_id": "string", "month": "datetime64[s]"} | hours)


STAFF = _staff(
    [
        ("A1", "K", "socialsekreterare", 1989, "2010-01-01", None),
        ("A2", "K", "socialsekreterare", 1988, "2015-01-01", None),
        ("A3", "M", "enhetschef", 1968, "2000-01-01", "2018-04-30"),
        ("A4", "M", "bidragshandlaggare", 1969, "2005-01-01", "2018-03-15"),
        ("A5", "K", "socialsekreterare", 1990, "2018-05-01", None),
        ("A6", "K", "socialsekreterare", 1980, "2017-01-01", None),
    ]
)
#                 staff  month         fte   sched  sick  1–14  60+
STAFF_MONTH = _months(
    [
        ("A1", "2017-12-01", 1.0, 160, 80, 0, 80),  # before P: ignored
        ("A1", "2018-01-01", 1.0, 160, 16, 16, 0),
        ("A1", "2018-04-01", 1.0, 160, 0, 0, 0),
        ("A2", "2018-02-01", 0.5, 80, 40, 10, 30),
        ("A2", "2018-04-01", 0.75, 120, 0, 0, 0),
        ("A3", "2018-03-01", 1.0, 160, 100, 20, 60),
        ("A3", "2018-04-01", 1.0, 160, 20, 0, 20),
        ("A4", "2018-01-01", 0.8, 128, 32, 32, 0),
        ("A4", "2018-03-01", 0.8, 64, 0, 0, 0),  # half March, then left
        ("A5", "2018-05-01", 1.0, 160, 8, 8, 0),  # after P: ignored
        ("A6", "2018-04-01", 0.0, 0, 0, 0, 0),  # on leave
    ]
)
# Sums over January–April per employee (sched, sick, 1–14, 60+):
#   A1 320, 16, 16, 0   A2 200, 40, 10, 30   A3 320, 120, 20, 80   A4 192, 32, 32, 0   A6 0, 0, 0, 0


@pytest.fixture(scope="module")
def stats() -> pd.DataFrame:
    return staff_statistics({"staff": STAFF, "staff_month": STAFF_MONTH}, T1)


def _row(stats: pd.DataFrame, indicator_id: str, sex: str) -> pd.Series:
    hit = stats[(stats["indicator_id"] == indicator_id) & (stats["sex"] == sex)]
    assert len(hit) == 1, (indicator_id, sex)
    return hit.iloc[0]


def _check(stats, indicator_id, sex, value, basis, numerator=None, denominator=None):
    row = _row(stats, indicator_id, sex)
    if value is None:
        assert math.isnan(row["value"]), (indicator_id, sex, row["value"])
    else:
        assert row["value"] == pytest.approx(value), (indicator_id, sex)
    assert row[BASIS] == basis, (indicator_id, sex, row[BASIS])
    if numerator is not None:
        assert row["numerator"] == pytest.approx(numerator)
    if denominator is not None:
        assert row["denominator"] == pytest.approx(denominator)


def test_shape_columns_and_rules(stats):
    assert list(stats.columns) == [c for c in INTERNAL if c != "period"]
    expected = {(b + band, s) for b in BASE_IDS for band in BANDS for s in "TKM"}
    assert set(zip(stats["indicator_id"], stats["sex"], strict=True)) == expected
    assert len(stats) == len(expected) == 60
    assert (stats["district_code"] == ALL).all()
    rules = stats.groupby("indicator_id")[RULE].unique().map(tuple)
    for base in BASE_IDS:
        for band in BANDS:
            # Headcount and FTE by sex are not sensitive (the unit's plan publishes them).
            want = NOT_INDIVIDUAL if base in ("pe_anstallda", "pe_arsarbetare") else STAFF_GROUP
            assert rules[base + band] == (want,)
    units = dict(zip(stats["indicator_id"], stats["unit"], strict=False))
    assert units["pe_anstallda_alder_50"] == "antal"
    assert units["pe_arsarbetare"] == "årsarbetare"
    assert units["pe_langtidssjuk_andel_alder_29"] == "procent"
    assert str(stats["numerator"].dtype) == "Float64" and str(stats["denominator"].dtype) == "Float64"
    assert stats["value"].dtype == "float64"


def test_headcount_on_last_day(stats):
    # Employed on 30 April: A1 (K ≤29), A2 (K 30–49), A3 (M ≥50, leaves that day), A6 (K 30–49).
    # A4 left 15 March, A5 starts 1 May.
    for sex, n in (("T", 4), ("K", 3), ("M", 1)):
        _check(stats, "pe_anstallda", sex, n, n, numerator=n)
        assert pd.isna(_row(stats, "pe_anstallda", sex)["denominator"])
    for sex, n in (("T", 1), ("K", 1), ("M", 0)):
        _check(stats, "pe_anstallda_alder_29", sex, n, n)
    for sex, n in (("T", 2), ("K", 2), ("M", 0)):  # A2 turns 30, A6 is 38
        _check(stats, "pe_anstallda_alder_30_49", sex, n, n)
    for sex, n in (("T", 1), ("K", 0), ("M", 1)):  # A3 turns 50
        _check(stats, "pe_anstallda_alder_50", sex, n, n)


def test_arsarbetare_last_month(stats):
    # April fte: A1 1.0, A2 0.75, A3 1.0, A6 0.0 (not counted in BASIS: contributes nothing).
    _check(stats, "pe_arsarbetare", "T", 1.0 + 0.75 + 1.0, 3)
    _check(stats, "pe_arsarbetare", "K", 1.0 + 0.75, 2)
    _check(stats, "pe_arsarbetare", "M", 1.0, 1)
    _check(stats, "pe_arsarbetare_alder_29", "K", 1.0, 1)
    _check(stats, "pe_arsarbetare_alder_30_49", "T", 0.75, 1)
    _check(stats, "pe_arsarbetare_alder_30_49", "M", 0.0, 0)  # zero stays zero, not NaN
    _check(stats, "pe_arsarbetare_alder_50", "M", 1.0, 1)
    _check(stats, "pe_arsarbetare_alder_50", "K", 0.0, 0)


def test_sick_leave_all_ages(stats):
    # A4 left before the last day but his January and March hours count.
    # T: sched 320+200+320+192 = 1032, sick 16+40+120+32 = 208, 1–14 16+10+20+32 = 78, 60+ 0+30+80+0 = 110
    _check(stats, "pe_sjukfranvaro", "T", 208 / 1032 * 100, 4, 208, 1032)
    _check(stats, "pe_sjukfranvaro_dag_1_14", "T", 78 / 1032 * 100, 4, 78, 1032)
    _check(stats, "pe_langtidssjuk_andel", "T", 110 / 208 * 100, 4, 110, 208)
    # K = A1 + A2 (A6 has no scheduled hours, so no BASIS): sched 520, sick 56, 1–14 26, 60+ 30
    _check(stats, "pe_sjukfranvaro", "K", 56 / 520 * 100, 2, 56, 520)
    _check(stats, "pe_sjukfranvaro_dag_1_14", "K", 26 / 520 * 100, 2)
    _check(stats, "pe_langtidssjuk_andel", "K", 30 / 56 * 100, 2)
    # M = A3 + A4: sched 512, sick 152, 1–14 52, 60+ 80. BASIS: two men with scheduled time but
    # only A3 employed on the last day (the headcount shown beside): the group counts as 1.
    _check(stats, "pe_sjukfranvaro", "M", 152 / 512 * 100, 1)
    _check(stats, "pe_sjukfranvaro_dag_1_14", "M", 52 / 512 * 100, 1)
    _check(stats, "pe_langtidssjuk_andel", "M", 80 / 152 * 100, 1)


def test_sick_leave_age_bands(stats):
    # ≤29: A1 only (K). Men: no one, so every rate is NaN ("nothing to report") with BASIS 0.
    _check(stats, "pe_sjukfranvaro_alder_29", "T", 16 / 320 * 100, 1)
    _check(stats, "pe_sjukfranvaro_alder_29", "K", 16 / 320 * 100, 1)
    _check(stats, "pe_sjukfranvaro_dag_1_14_alder_29", "K", 16 / 320 * 100, 1)
    _check(stats, "pe_langtidssjuk_andel_alder_29", "K", 0 / 16 * 100, 1)
    for base in ("pe_sjukfranvaro", "pe_sjukfranvaro_dag_1_14", "pe_langtidssjuk_andel"):
        _check(stats, f"{base}_alder_29", "M", None, 0, 0, 0)
        _check(stats, f"{base}_alder_50", "K", None, 0, 0, 0)
    # 30–49: A2 (K, turns 30) and A4 (M, 49): sched 200+192 = 392, sick 40+32 = 72, 1–14 10+32 = 42, 60+ 30
    _check(stats, "pe_sjukfranvaro_alder_30_49", "T", 72 / 392 * 100, 2)
    _check(stats, "pe_sjukfranvaro_alder_30_49", "K", 40 / 200 * 100, 1)
    _check(stats, "pe_sjukfranvaro_alder_30_49", "M", 32 / 192 * 100, 1)
    _check(stats, "pe_sjukfranvaro_dag_1_14_alder_30_49", "T", 42 / 392 * 100, 2)
    _check(stats, "pe_langtidssjuk_andel_alder_30_49", "T", 30 / 72 * 100, 2)
    _check(stats, "pe_langtidssjuk_andel_alder_30_49", "M", 0 / 32 * 100, 1)
    # ≥50: A3 (M, turns 50): sched 320, sick 120, 1–14 20, 60+ 80
    _check(stats, "pe_sjukfranvaro_alder_50", "M", 120 / 320 * 100, 1)
    _check(stats, "pe_sjukfranvaro_dag_1_14_alder_50", "T", 20 / 320 * 100, 1)
    _check(stats, "pe_langtidssjuk_andel_alder_50", "M", 80 / 120 * 100, 1)


def test_zero_sick_hours_gives_nan_long_share_but_zero_sick_leave():
    staff = _staff([("B1", "M", "socialsekreterare", 1975, "2010-01-01", None)])
    months = _months([("B1", "2018-02-01", 1.0, 160, 0, 0, 0)])
    stats = staff_statistics({"staff": staff, "staff_month": months}, T1)
    _check(stats, "pe_sjukfranvaro", "M", 0.0, 1, 0, 160)  # 0 / 160: a real zero
    _check(stats, "pe_langtidssjuk_andel", "M", None, 1, 0, 0)  # 0 / 0 sick hours: nothing to report
    _check(stats, "pe_arsarbetare", "M", 0.0, 0)  # no April row
    _check(stats, "pe_sjukfranvaro", "K", None, 0, 0, 0)  # no women at all


def test_later_period_moves_the_last_day_and_month():
    # 2018-T2 ends 31 August: A5 (from 1 May) is employed, A3 (to 30 April) no longer is.
    stats = staff_statistics({"staff": STAFF, "staff_month": STAFF_MONTH}, Period(2018, 2))
    _check(stats, "pe_anstallda", "T", 4, 4)  # A1, A2, A5, A6
    _check(stats, "pe_anstallda", "M", 0, 0)
    _check(stats, "pe_arsarbetare", "T", 0.0, 0)  # nobody has an August row
    # May is now inside P: A5's 8 sick hours of 160 join the women's sum (520 + 160 = 680).
    _check(stats, "pe_sjukfranvaro", "K", (56 + 8) / 680 * 100, 3)


def test_missing_table_or_column_is_a_clear_error():
    with pytest.raises(ValueError, match="tabellen staff_month saknas"):
        staff_statistics({"staff": STAFF}, T1)
    with pytest.raises(ValueError, match="saknar kolumnerna sick_hours_day_60_plus"):
        months = STAFF_MONTH.drop(columns="sick_hours_day_60_plus")
        staff_statistics({"staff": STAFF, "staff_month": months}, T1)
