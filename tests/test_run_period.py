"""The period a run covers and how its note says so (etl/run_period.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from etl.periods import Period
from etl.run_period import (
    PeriodMismatch,
    choose_period,
    describe,
    historical_catch_up,
    interval_period,
    run_note,
)

TZ = "Europe/Stockholm"
UTC = dt.UTC
# 2018-T2 in Stockholm: [1 May 00:00 CEST, 1 Sep 00:00 CEST) = [30 Apr 22:00Z, 31 Aug 22:00Z).
T2_START = dt.datetime(2018, 4, 30, 22, tzinfo=UTC)
T2_END = dt.datetime(2018, 8, 31, 22, tzinfo=UTC)


def test_interval_period_is_exact_tertials_only():
    assert interval_period(T2_START, T2_END, TZ) == Period(2018, 2)
    assert interval_period(T2_START + dt.timedelta(hours=1), T2_END, TZ) is None  # 01:00 local
    assert interval_period(dt.datetime(2018, 1, 1, tzinfo=UTC), T2_END, TZ) is None  # not one tertial
    assert interval_period(None, T2_END, TZ) is None


def test_period_parameter_wins_over_run_after_and_must_match_the_interval():
    assert choose_period("2018-T2", tz=TZ, interval_start=T2_START, interval_end=T2_END) == Period(2018, 2)
    assert choose_period("2018-T2", tz=TZ, run_after=dt.datetime(2026, 11, 26, tzinfo=UTC)) == Period(2018, 2)
    # The UI's form before the fix: period 2018-T2, interval = 2026-T2 (inferred from "now").
    expected = r"^period=2018-T2 men körningens dataintervall är tertialet 2026-T2"
    with pytest.raises(PeriodMismatch, match=expected):
        choose_period(
            "2018-T2",
            tz=TZ,
            interval_start=dt.datetime(2026, 4, 30, 22, tzinfo=UTC),
            interval_end=dt.datetime(2026, 8, 31, 22, tzinfo=UTC),
        )


def test_without_period_the_interval_then_run_after_decide():
    assert choose_period(None, tz=TZ, interval_start=T2_START, interval_end=T2_END) == Period(2018, 2)
    # 16 Jan 2019 local: the last completed tertial is 2018-T3.
    new_year = dt.datetime(2019, 1, 15, 23, 30, tzinfo=UTC)
    assert choose_period(None, tz=TZ, run_after=new_year) == Period(2018, 3)
    with pytest.raises(ValueError, match="saknar både period"):
        choose_period(None, tz=TZ)


def test_describe_and_run_note_in_local_dates():
    assert describe(Period(2018, 2)) == "2018-T2 (Tertialrapport 2, 1 jan–31 aug 2018)"
    assert describe(Period(2019, 3)) == "2019-T3 (Verksamhetsberättelse, 1 jan–31 dec 2019)"
    note = run_note(Period(2018, 2), tz=TZ, forced=True, interval_start=T2_START, interval_end=T2_END)
    assert note.splitlines() == [
        "**Period 2018-T2 (Tertialrapport 2, 1 jan–31 aug 2018)**",
        "",
        "Dataintervall: 1 maj 2018 – 31 aug 2018 (Europe/Stockholm); rapporten avser året till och med "
        "31 aug 2018.",
        "Perioden valdes med parametern period=2018-T2.",
    ]
    assert run_note(Period(2018, 1), tz=TZ, forced=False).endswith("Perioden följer av schemat.")


def test_catch_up_runs_of_old_tertials_send_no_mail():
    today = dt.date(2026, 11, 26)  # previous tertial (last completed): 2026-T2
    assert historical_catch_up(Period(2018, 1), "scheduled", today)
    assert historical_catch_up(Period(2026, 1), "backfill", today)
    assert not historical_catch_up(Period(2026, 2), "scheduled", today)  # the current report
    assert not historical_catch_up(Period(2018, 1), "manual", today)
    # The task SDK's DagRunType is a (str, Enum): str() of it is "DagRunType.SCHEDULED".
    import enum

    class DagRunType(str, enum.Enum):  # noqa: UP042 - as the task SDK declares it
        SCHEDULED = "scheduled"
        MANUAL = "manual"

    assert str(DagRunType.SCHEDULED) == "DagRunType.SCHEDULED"
    assert historical_catch_up(Period(2018, 1), DagRunType.SCHEDULED, today)
    assert not historical_catch_up(Period(2018, 1), DagRunType.MANUAL, today)
