"""TertialTimetable: intervals, grace period, restrictions, run ids, serialization, plugin loading.

Golden values are written by hand. Stockholm is UTC+1 (CET) in winter and UTC+2 (CEST) in
summer; DST 2018: 25 Mar – 28 Oct, 2019: 31 Mar – 27 Oct. So local midnight on 1 Jan is 23:00Z
the day before, and local midnight on 1 May / 1 Sep is 22:00Z the day before.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pendulum
import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGINS_DIR = REPO / "plugins"
if str(PLUGINS_DIR) not in sys.path:
    sys.path.insert(0, str(PLUGINS_DIR))

from airflow.timetables.base import DataInterval, TimeRestriction  # noqa: E402
from airflow.utils.types import DagRunType  # noqa: E402

import tertial_timetable  # noqa: E402
from tertial_timetable import TertialTimetable, TertialTimetablePlugin  # noqa: E402

STHLM = "Europe/Stockholm"


def utc(text: str) -> pendulum.DateTime:
    return pendulum.parse(text).in_timezone("UTC")


def local(*args: int) -> pendulum.DateTime:
    return pendulum.datetime(*args, tz=STHLM)


# (label, interval start, interval end, run_after), all in UTC.
GOLDEN = [
    ("2018-T1", "2017-12-31T23:00:00Z", "2018-04-30T22:00:00Z", "2018-05-15T22:00:00Z"),
    ("2018-T2", "2018-04-30T22:00:00Z", "2018-08-31T22:00:00Z", "2018-09-15T22:00:00Z"),
    ("2018-T3", "2018-08-31T22:00:00Z", "2018-12-31T23:00:00Z", "2019-01-15T23:00:00Z"),
    ("2019-T1", "2018-12-31T23:00:00Z", "2019-04-30T22:00:00Z", "2019-05-15T22:00:00Z"),
    ("2019-T2", "2019-04-30T22:00:00Z", "2019-08-31T22:00:00Z", "2019-09-15T22:00:00Z"),
    ("2019-T3", "2019-08-31T22:00:00Z", "2019-12-31T23:00:00Z", "2020-01-15T23:00:00Z"),
]
BY_LABEL = {label: (utc(s), utc(e), utc(r)) for label, s, e, r in GOLDEN}


def interval(label: str) -> DataInterval:
    start, end, _ = BY_LABEL[label]
    return DataInterval(start, end)


def as_tuple(info) -> tuple[pendulum.DateTime, pendulum.DateTime, pendulum.DateTime]:
    return (info.data_interval.start, info.data_interval.end, info.run_after)


def schedule(timetable, restriction, last=None, limit=20) -> list:
    """Ask for runs the way the scheduler does, feeding back each interval."""
    infos = []
    while len(infos) < limit:
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        if info is None:
            break
        infos.append(info)
        last = info.data_interval
    return infos


@pytest.fixture
def tt() -> TertialTimetable:
    return TertialTimetable()


@pytest.fixture
def now(monkeypatch):
    """Freeze the timetable's clock: ``now("2019-06-10T12:00:00Z")``."""

    def set_now(text: str) -> None:
        moment = utc(text)
        monkeypatch.setattr(tertial_timetable, "_utcnow", lambda: moment)

    return set_now


# -- Catch-up, year boundary, DST -----------------------------------------------------------


def test_catchup_from_2018_yields_every_tertial_in_order(tt):
    restriction = TimeRestriction(local(2018, 1, 1), None, True)
    infos = schedule(tt, restriction, limit=6)
    assert [as_tuple(i) for i in infos] == [BY_LABEL[label] for label, *_ in GOLDEN]
    assert [str(tt.period_of(i.data_interval)) for i in infos] == [label for label, *_ in GOLDEN]
    # The logical date is the interval start; everything is aware and in UTC.
    assert infos[0].logical_date == utc("2017-12-31T23:00:00Z")
    for info in infos:
        for moment in (*info.data_interval, info.run_after):
            assert moment.utcoffset() == pendulum.duration(0)


def test_first_interval_t1_2018_exact_bounds(tt):
    info = tt.next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(local(2018, 1, 1), None, True)
    )
    assert info.data_interval.start == local(2018, 1, 1) == utc("2017-12-31T23:00:00Z")
    assert info.data_interval.end == local(2018, 5, 1) == utc("2018-04-30T22:00:00Z")
    # Grace: 15 days after the end, 00:00 on the 16th of May in Stockholm.
    assert info.run_after == local(2018, 5, 16) == utc("2018-05-15T22:00:00Z")


def test_year_boundary_t3_is_followed_by_t1_of_next_year(tt):
    info = tt.next_dagrun_info(
        last_automated_data_interval=interval("2018-T3"),
        restriction=TimeRestriction(local(2018, 1, 1), None, True),
    )
    assert as_tuple(info) == BY_LABEL["2019-T1"]
    # T3's own run is in January of the next year.
    assert BY_LABEL["2018-T3"][2] == local(2019, 1, 16)


def test_dst_intervals_start_and_end_at_local_midnight(tt):
    t1, t2, t3 = (interval(label) for label in ("2018-T1", "2018-T2", "2018-T3"))
    # T1 starts in CET (+01:00) and ends in CEST (+02:00): one hour short of 120 days.
    assert t1.start.in_timezone(STHLM).isoformat() == "2018-01-01T00:00:00+01:00"
    assert t1.end.in_timezone(STHLM).isoformat() == "2018-05-01T00:00:00+02:00"
    assert t1.end - t1.start == pendulum.duration(days=120) - pendulum.duration(hours=1)
    # T2 is entirely in summer time: exactly 123 days.
    assert t2.end - t2.start == pendulum.duration(days=123)
    # T3 goes back to CET on 28 Oct: one hour more than 122 days.
    assert t3.end.in_timezone(STHLM).isoformat() == "2019-01-01T00:00:00+01:00"
    assert t3.end - t3.start == pendulum.duration(days=122) + pendulum.duration(hours=1)


def test_every_boundary_is_local_midnight_on_the_first_for_many_years(tt):
    infos = schedule(tt, TimeRestriction(local(2015, 1, 1), None, True), limit=3 * 12)
    assert len(infos) == 36
    previous_end = None
    for info in infos:
        start, end = (m.in_timezone(STHLM) for m in info.data_interval)
        run_after = info.run_after.in_timezone(STHLM)
        assert (start.day, start.hour, start.minute) == (1, 0, 0)
        assert start.month in (1, 5, 9)
        assert (end.day, end.hour) == (1, 0)
        assert (run_after.day, run_after.hour, run_after.month) == (16, 0, end.month)
        assert previous_end is None or info.data_interval.start == previous_end
        previous_end = info.data_interval.end
    assert str(tt.period_of(infos[-1].data_interval)) == "2026-T3"


# -- start_date (restriction.earliest) ------------------------------------------------------


@pytest.mark.parametrize(
    ("earliest", "first"),
    [
        (local(2018, 3, 10, 12), "2018-T2"),  # mid-tertial: the next FULL tertial
        (local(2018, 1, 1), "2018-T1"),  # exactly on a boundary: that tertial
        (local(2018, 1, 1, 0, 0, 1), "2018-T2"),  # one second late: next tertial
        (local(2018, 4, 30, 23, 59, 59), "2018-T2"),
        (local(2018, 5, 1), "2018-T2"),
        (local(2018, 10, 28, 2, 30), "2019-T1"),  # inside the DST change, mid-T3
        (utc("2017-12-31T23:00:00Z"), "2018-T1"),  # the same instant as local midnight
        # Trap: midnight UTC is 01:00 in Stockholm, after T1 started. Give start_date in Stockholm.
        (utc("2018-01-01T00:00:00Z"), "2018-T2"),
    ],
)
def test_start_date_is_the_earliest_interval_start(tt, earliest, first):
    info = tt.next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(earliest, None, True)
    )
    assert info.data_interval.start >= earliest
    if first in BY_LABEL:
        assert as_tuple(info) == BY_LABEL[first]
    assert str(tt.period_of(info.data_interval)) == first


def test_start_date_moved_later_than_last_run_wins(tt):
    info = tt.next_dagrun_info(
        last_automated_data_interval=interval("2018-T1"),
        restriction=TimeRestriction(local(2019, 1, 1), None, True),
    )
    assert as_tuple(info) == BY_LABEL["2019-T1"]


def test_no_start_date_and_no_previous_run_schedules_nothing(tt):
    restriction = TimeRestriction(None, None, True)
    assert tt.next_dagrun_info(last_automated_data_interval=None, restriction=restriction) is None
    # ... but after a run (e.g. a backfill), scheduling continues from it.
    info = tt.next_dagrun_info(last_automated_data_interval=interval("2018-T2"), restriction=restriction)
    assert as_tuple(info) == BY_LABEL["2018-T3"]


def test_misaligned_previous_interval_realigns_to_tertials(tt):
    restriction = TimeRestriction(None, None, True)
    # A monthly run (e.g. before the DAG switched timetable) covering March 2018.
    march = DataInterval(local(2018, 3, 1).in_timezone("UTC"), local(2018, 4, 1).in_timezone("UTC"))
    info = tt.next_dagrun_info(last_automated_data_interval=march, restriction=restriction)
    assert as_tuple(info) == BY_LABEL["2018-T2"]
    # A monthly run for April ends on a boundary: continue right there.
    april = DataInterval(local(2018, 4, 1).in_timezone("UTC"), local(2018, 5, 1).in_timezone("UTC"))
    info = tt.next_dagrun_info(last_automated_data_interval=april, restriction=restriction)
    assert as_tuple(info) == BY_LABEL["2018-T2"]


# -- end_date (restriction.latest) -------------------------------------------------------------


def test_latest_bounds_the_interval_start(tt):
    infos = schedule(tt, TimeRestriction(local(2018, 1, 1), local(2018, 12, 31), True))
    assert [str(tt.period_of(i.data_interval)) for i in infos] == ["2018-T1", "2018-T2", "2018-T3"]


def test_latest_is_inclusive(tt):
    exact = TimeRestriction(local(2018, 1, 1), local(2018, 9, 1), True)
    info = tt.next_dagrun_info(last_automated_data_interval=interval("2018-T2"), restriction=exact)
    assert as_tuple(info) == BY_LABEL["2018-T3"]
    before = TimeRestriction(local(2018, 1, 1), local(2018, 8, 31, 23, 59, 59), True)
    assert tt.next_dagrun_info(last_automated_data_interval=interval("2018-T2"), restriction=before) is None


def test_start_after_latest_schedules_nothing(tt):
    restriction = TimeRestriction(local(2018, 3, 1), local(2018, 4, 1), True)
    assert tt.next_dagrun_info(last_automated_data_interval=None, restriction=restriction) is None


# -- catchup=False -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now_text", "expected"),
    [
        # 2019-T1 completed (30 Apr 22:00Z) and its grace is over: it runs at once.
        ("2019-06-10T12:00:00Z", "2019-T1"),
        # 2019-T1 completed but still in its grace period: scheduled for 16 May.
        ("2019-05-03T08:00:00Z", "2019-T1"),
        # Exactly at the end of 2019-T1 (local midnight 1 May) it counts as completed.
        ("2019-04-30T22:00:00Z", "2019-T1"),
        # One second earlier the latest completed tertial is 2018-T3.
        ("2019-04-30T21:59:59Z", "2018-T3"),
        # 1 Jan 00:30 in Stockholm is still 31 Dec in UTC: 2018-T3 has completed.
        ("2018-12-31T23:30:00Z", "2018-T3"),
    ],
)
def test_catchup_false_starts_with_latest_completed_tertial(tt, now, now_text, expected):
    now(now_text)
    restriction = TimeRestriction(local(2018, 1, 1), None, False)
    info = tt.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert as_tuple(info) == BY_LABEL[expected]


def test_catchup_false_skips_missed_tertials_after_a_pause(tt, now):
    now("2019-06-10T12:00:00Z")
    restriction = TimeRestriction(local(2018, 1, 1), None, False)
    info = tt.next_dagrun_info(last_automated_data_interval=interval("2018-T1"), restriction=restriction)
    assert as_tuple(info) == BY_LABEL["2019-T1"]


def test_catchup_false_continues_normally_when_up_to_date(tt, now):
    now("2019-06-10T12:00:00Z")
    restriction = TimeRestriction(local(2018, 1, 1), None, False)
    info = tt.next_dagrun_info(last_automated_data_interval=interval("2019-T1"), restriction=restriction)
    assert as_tuple(info) == BY_LABEL["2019-T2"]  # runs in September, not now


def test_catchup_false_respects_future_start_date_and_works_without_one(tt, now):
    now("2019-06-10T12:00:00Z")
    future = TimeRestriction(local(2019, 9, 1), None, False)
    info = tt.next_dagrun_info(last_automated_data_interval=None, restriction=future)
    assert as_tuple(info) == BY_LABEL["2019-T3"]
    no_start = TimeRestriction(None, None, False)
    info = tt.next_dagrun_info(last_automated_data_interval=None, restriction=no_start)
    assert as_tuple(info) == BY_LABEL["2019-T1"]


# -- Manual runs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("run_after", "expected"),
    [
        (local(2018, 5, 1), "2018-T1"),  # exactly at the end of T1
        (local(2018, 4, 30, 23, 59, 59, 999999), "2017-T3"),  # just before it
        (local(2018, 5, 10, 9), "2018-T1"),
        (local(2018, 8, 31, 23, 59), "2018-T1"),
        (local(2018, 9, 1, 0, 0, 1), "2018-T2"),
        (utc("2018-12-31T23:30:00Z"), "2018-T3"),  # 00:30 on 1 Jan in Stockholm
        (utc("2018-12-31T22:30:00Z"), "2018-T2"),  # 23:30 on 31 Dec in Stockholm
        (local(2019, 1, 1), "2018-T3"),
    ],
)
def test_infer_manual_data_interval_is_last_completed_tertial(tt, run_after, expected):
    data_interval = tt.infer_manual_data_interval(run_after=run_after)
    assert data_interval.end <= run_after
    assert str(tt.period_of(data_interval)) == expected
    if expected in BY_LABEL:
        assert data_interval == interval(expected)


def test_infer_manual_data_interval_golden_2017_t3(tt):
    data_interval = tt.infer_manual_data_interval(run_after=utc("2018-04-30T21:59:59Z"))
    assert data_interval == DataInterval(utc("2017-08-31T22:00:00Z"), utc("2017-12-31T23:00:00Z"))


# -- Run ids --------------------------------------------------------------------------------------

ALLOWED_RUN_ID = re.compile(r"^[A-Za-z0-9_.~:+-]+$")  # Airflow's default [scheduler] allowed_run_id_pattern


def test_generate_run_id_for_scheduled_and_backfill_runs(tt):
    start, end, run_after = BY_LABEL["2018-T1"]
    kwargs = {"run_after": run_after, "data_interval": DataInterval(start, end)}
    assert tt.generate_run_id(run_type=DagRunType.SCHEDULED, **kwargs) == "scheduled__tertial__2018-T1"
    assert tt.generate_run_id(run_type=DagRunType.BACKFILL_JOB, **kwargs) == "backfill__tertial__2018-T1"
    # The scheduler also passes partition_key.
    run_id = tt.generate_run_id(run_type=DagRunType.SCHEDULED, partition_key=None, **kwargs)
    assert run_id == "scheduled__tertial__2018-T1"
    assert DagRunType.from_run_id(run_id) == DagRunType.SCHEDULED


def test_generate_run_id_labels_t3_by_local_end(tt):
    # 2018-T3 ends 2018-12-31T23:00Z, which is already 1 Jan 2019 in Stockholm.
    start, end, run_after = BY_LABEL["2018-T3"]
    run_id = tt.generate_run_id(
        run_type=DagRunType.SCHEDULED, run_after=run_after, data_interval=DataInterval(start, end)
    )
    assert run_id == "scheduled__tertial__2018-T3"


def test_generate_run_id_for_manual_runs_is_unique_per_trigger(tt):
    data_interval = interval("2018-T1")
    first = tt.generate_run_id(
        run_type=DagRunType.MANUAL, run_after=utc("2018-06-01T08:00:00Z"), data_interval=data_interval
    )
    second = tt.generate_run_id(
        run_type=DagRunType.MANUAL,
        run_after=utc("2018-06-01T08:05:00.123456Z"),
        data_interval=data_interval,
    )
    assert first == "manual__tertial__2018-T1__2018-06-01T08:00:00+00:00"
    assert second == "manual__tertial__2018-T1__2018-06-01T08:05:00.123456+00:00"
    assert DagRunType.from_run_id(first) == DagRunType.MANUAL
    asset = tt.generate_run_id(
        run_type=DagRunType.ASSET_TRIGGERED,
        run_after=utc("2018-06-01T08:00:00Z"),
        data_interval=data_interval,
    )
    assert asset == "asset_triggered__tertial__2018-T1__2018-06-01T08:00:00+00:00"


def test_generate_run_id_falls_back_without_a_tertial_interval(tt):
    run_after = utc("2018-06-01T08:00:00Z")
    # Airflow 3 manual trigger without logical date: no data interval.
    assert (
        tt.generate_run_id(run_type=DagRunType.MANUAL, run_after=run_after, data_interval=None)
        == "manual__2018-06-01T08:00:00+00:00"
    )
    # An explicit interval that is not exactly one tertial (e.g. from the REST API).
    odd = DataInterval(local(2018, 2, 1).in_timezone("UTC"), local(2018, 5, 1).in_timezone("UTC"))
    assert (
        tt.generate_run_id(run_type=DagRunType.MANUAL, run_after=run_after, data_interval=odd)
        == "manual__2018-06-01T08:00:00+00:00"
    )
    utc_bounds = DataInterval(utc("2018-01-01T00:00:00Z"), utc("2018-05-01T00:00:00Z"))
    assert tt.period_of(utc_bounds) is None


def test_run_ids_match_airflows_allowed_pattern(tt):
    for label in BY_LABEL:
        start, end, run_after = BY_LABEL[label]
        for run_type in DagRunType:
            run_id = tt.generate_run_id(
                run_type=run_type, run_after=run_after, data_interval=DataInterval(start, end)
            )
            assert ALLOWED_RUN_ID.match(run_id), run_id
            assert ".." not in run_id
            assert label in run_id


# -- Parameters, serialization, texts ---------------------------------------------------------------


def test_serialize_round_trip_with_non_default_grace():
    original = TertialTimetable(grace_days=20)
    data = original.serialize()
    assert data == {"grace_days": 20, "timezone": STHLM}
    restored = TertialTimetable.deserialize(json.loads(json.dumps(data)))
    assert isinstance(restored, TertialTimetable)
    assert restored == original
    assert restored.grace_days == 20
    info = restored.next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(local(2018, 1, 1), None, True)
    )
    assert info.run_after == local(2018, 5, 21) == utc("2018-05-20T22:00:00Z")
    assert info.data_interval == interval("2018-T1")


def test_deserialize_defaults_and_equality():
    assert TertialTimetable.deserialize({}) == TertialTimetable()
    assert TertialTimetable(grace_days=20) != TertialTimetable()
    assert repr(TertialTimetable()) == "TertialTimetable(grace_days=15, timezone='Europe/Stockholm')"


def test_zero_grace_runs_at_the_interval_end():
    tt0 = TertialTimetable(grace_days=0)
    info = tt0.next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(local(2018, 1, 1), None, True)
    )
    assert info.run_after == info.data_interval.end == utc("2018-04-30T22:00:00Z")


def test_other_timezone():
    helsinki = TertialTimetable(timezone="Europe/Helsinki")  # UTC+2 / UTC+3
    info = helsinki.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(utc("2017-12-31T22:00:00Z"), None, True),
    )
    assert as_tuple(info) == (
        utc("2017-12-31T22:00:00Z"),
        utc("2018-04-30T21:00:00Z"),
        utc("2018-05-15T21:00:00Z"),
    )
    assert TertialTimetable.deserialize(helsinki.serialize()) == helsinki


@pytest.mark.parametrize(
    "kwargs", [{"grace_days": -1}, {"grace_days": 1.5}, {"grace_days": True}, {"timezone": "Europe/Nowhere"}]
)
def test_invalid_parameters_are_rejected(kwargs):
    with pytest.raises(ValueError):
        TertialTimetable(**kwargs)


def test_naive_datetimes_are_rejected(tt):
    with pytest.raises(ValueError, match="saknar tidszon"):
        tt.infer_manual_data_interval(run_after=pendulum.naive(2018, 5, 1))


def test_summary_and_description_in_swedish(tt):
    assert tt.summary == "Tertial (T1 jan–apr, T2 maj–aug, T3 sep–dec)"
    assert tt.description == (
        "En körning per tertial: T1 jan–apr, T2 maj–aug, T3 sep–dec (dataintervall från midnatt "
        "till midnatt, Europe/Stockholm). Körs 15 dagar efter tertialets slut, kl. 00:00 den 16:e i "
        "månaden efter, så att månadens registreringar hunnit bli klara. Rapporten avser året till "
        "och med tertialets slut."
    )
    assert "den 21:a i månaden efter" in TertialTimetable(grace_days=20).description
    assert "den 12:e i månaden efter" in TertialTimetable(grace_days=11).description
    assert "direkt när tertialet är slut" in TertialTimetable(grace_days=0).description
    assert "45 dagar efter tertialets slut" in TertialTimetable(grace_days=45).description
    assert tt.periodic is True


def test_plugin_class_registers_the_timetable():
    from airflow._shared.plugins_manager import is_valid_plugin

    assert TertialTimetablePlugin.name == "tertial_timetable_plugin"
    assert TertialTimetablePlugin.timetables == [TertialTimetable]
    assert is_valid_plugin(TertialTimetablePlugin)


# -- Plugin discovery in a real Airflow configuration ---------------------------------------------

DISCOVERY_SCRIPT = textwrap.dedent(
    """
    import json, sys

    from airflow import plugins_manager
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    timetables = plugins_manager.get_timetables_plugins()
    plugin_names = [p["name"] for p in plugins_manager.get_plugin_info(attrs_to_dump=["timetables"])]
    bag = DagBag(dag_folder=sys.argv[1])
    dag = bag.dags["tertial_probe"]
    restored = DagSerialization.from_dict(json.loads(json.dumps(DagSerialization.to_dict(dag))))
    print(json.dumps({
        "timetables": sorted(timetables),
        "plugin_names": plugin_names,
        "plugin_import_errors": plugins_manager.get_import_errors(),
        "dag_import_errors": {str(k): v for k, v in bag.import_errors.items()},
        "restored_type": type(restored.timetable).__module__ + "." + type(restored.timetable).__name__,
        "restored": restored.timetable.serialize(),
        "summary": restored.timetable.summary,
    }))
    """
)

PROBE_DAG = textwrap.dedent(
    """
    import pendulum
    from airflow.sdk import DAG
    from tertial_timetable import TertialTimetable

    with DAG(
        "tertial_probe",
        schedule=TertialTimetable(grace_days=20),
        start_date=pendulum.datetime(2018, 1, 1, tz="Europe/Stockholm"),
    ):
        pass
    """
)


@pytest.mark.slow
def test_plugin_is_discovered_by_airflow_plugins_manager(tmp_path):
    """With the project's plugins folder configured, Airflow registers the timetable and a DAG
    that imports it as ``from tertial_timetable import ...`` serializes and deserializes."""
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "probe.py").write_text(PROBE_DAG, encoding="utf-8")
    home = tmp_path / "airflow_home"
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AIRFLOW") and key != "PYTHONPATH"
    }
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(PLUGINS_DIR),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
    )
    proc = subprocess.run(
        [sys.executable, "-c", DISCOVERY_SCRIPT, str(dags)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "tertial_timetable.TertialTimetable" in result["timetables"]
    assert "tertial_timetable_plugin" in result["plugin_names"]
    assert result["plugin_import_errors"] == {}
    assert result["dag_import_errors"] == {}
    assert result["restored_type"] == "tertial_timetable.TertialTimetable"
    assert result["restored"] == {"grace_days": 20, "timezone": STHLM}
    assert result["summary"] == "Tertial (T1 jan–apr, T2 maj–aug, T3 sep–dec)"


def test_last_start_ends_the_schedule_without_a_dag_end_date():
    tt = TertialTimetable(last_start="2019-12-31")
    restriction = TimeRestriction(earliest=None, latest=None, catchup=True)
    local = lambda y, m: pendulum.datetime(y, m, 1, tz="Europe/Stockholm")  # noqa: E731
    t3 = DataInterval(local(2019, 9), local(2020, 1))
    t2 = DataInterval(local(2019, 5), local(2019, 9))
    assert tt.next_dagrun_info(last_automated_data_interval=t2, restriction=restriction).data_interval == t3
    assert tt.next_dagrun_info(last_automated_data_interval=t3, restriction=restriction) is None
    assert TertialTimetable.deserialize(tt.serialize()) == tt and tt.serialize()["last_start"] == "2019-12-31"
    assert repr(tt).endswith("last_start='2019-12-31')")


def test_interval_for_a_period_is_its_tertial_in_local_time():
    tt = TertialTimetable()
    interval = tt.interval_for("2018-T2")
    assert (interval.start, interval.end) == (
        pendulum.datetime(2018, 4, 30, 22, tz="UTC"), pendulum.datetime(2018, 8, 31, 22, tz="UTC")
    )  # fmt: skip
    assert str(tt.period_of(interval)) == "2018-T2"
