"""Extraction windows (etl/windows.py): statistics from a windowed extract equal statistics from
the whole source, hand-computed boundary cases, and the documented windows."""

import contextlib
import datetime as dt
import math
import shutil
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
import sqlalchemy as sa

from etl import source, staging, windows
from etl.extract import extract_table
from etl.periods import Period
from etl.pseudonym import luhn_check_digit
from etl.settings import Validation, settings
from etl.statistics import build
from etl.validation import run as run_validation
from tests.support.db import REPO, load_source, new_postgres_database, require_postgres

KEY = b"windows-test-key" * 2
T2 = Period(2018, 2)
DEMO_PERIODS = [Period(y, t) for y in (2017, 2018, 2019) for t in (1, 2, 3)]


def generate_demo(url: str) -> None:
    """The demo source (one line to change when the generator moves to ``demo/``)."""
    from demo import generate

    generate(url, scale="unit", seed=2018)


def _cfg(stop: bool = True) -> Validation:
    cfg = settings().validation
    quarantine = cfg.quarantine.model_copy(update={"stop_enabled": stop})
    return cfg.model_copy(update={"data_docs": False, "quarantine": quarantine})


def _extract(url: str, run: Path, period: Period, whole: bool = False) -> dict[str, int]:
    """Every table into ``run``/raw; ``whole`` reads the source tables without any window."""
    with mock.patch.object(windows, "clause", lambda *a, **k: None) if whole else contextlib.nullcontext():
        return {name: extract_table(url, name, period, run, KEY).rows for name in source.TABLES}


def _statistics(run: Path, period: Period, cfg: Validation) -> pd.DataFrame:
    run_validation.validate_run(run, period=period, cfg=cfg)
    return build.build_statistics(run, period)


def _full_statistics(full_raw: Path, run: Path, period: Period) -> pd.DataFrame:
    """Statistics from a copy of the whole-source extract, validated against ``period``.

    The whole source holds rows years after P; the date rules anchored at P's end (received_on,
    paid_on, offered_on at most 62 days after it) rightly quarantine them, far more than the 1 %
    that stops a run. Those rows are outside every definition, so the comparison is made on the
    statistics after validation, with the quarantine stop off for the whole extract only.
    """
    shutil.copytree(full_raw, run / staging.RAW)
    return _statistics(run, period, _cfg(stop=False))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo source on SQLite and one whole-source extract of it, shared by all periods."""
    root = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{root / 'source.db'}"
    generate_demo(url)
    _extract(url, root / "full", DEMO_PERIODS[0], whole=True)  # the period does not cut anything
    return url, root


@pytest.mark.slow
@pytest.mark.parametrize("period", DEMO_PERIODS, ids=str)
def test_windowed_statistics_equal_whole_source_statistics(demo, period, tmp_path):
    """The guard for every definition: whatever a definition or rule reads must be in the window.

    Statistics (after validation, as published before disclosure) from the windowed extract are
    identical to those from an extract of the whole source tables with the same pseudonym key.
    The windowed run uses the production validation settings (its quarantine stop included);
    see ``_full_statistics`` for the whole extract. Fails on the old benefit-month cut of
    ``application`` for 2018-T2 (decisions in August for September's benefit month).
    """
    url, root = demo
    full = _full_statistics(root / "full" / staging.RAW, tmp_path / "full", period)
    _extract(url, tmp_path / "windowed", period)
    windowed = _statistics(tmp_path / "windowed", period, _cfg())
    pd.testing.assert_frame_equal(windowed, full)


@pytest.mark.slow
@pytest.mark.postgres
def test_windowed_statistics_on_postgres_equal_whole_source_statistics(demo, tmp_path):
    """The same windows in PostgreSQL's SQL (date literals, IN subqueries) for every demo period."""
    require_postgres()
    url, root = demo
    pg_url, drop = new_postgres_database()
    try:
        generate_demo(pg_url)
        for period in DEMO_PERIODS:
            run = tmp_path / str(period)
            full = _full_statistics(root / "full" / staging.RAW, run / "full", period)
            _extract(pg_url, run / "windowed", period)
            pd.testing.assert_frame_equal(_statistics(run / "windowed", period, _cfg()), full)
    finally:
        drop()


# --------------------------------------------------------------------------- boundary cases


def _pnr(n: int, female: bool, born: str) -> str:
    body = born[2:] + f"{n:02d}" + ("2" if female else "3")
    return born + f"{n:02d}" + ("2" if female else "3") + str(luhn_check_digit(body))


W, M, W3 = _pnr(1, True, "19800101"), _pnr(2, False, "19750505"), _pnr(3, True, "19850303")
CHILD = _pnr(4, False, "20000901")  # turns 18 on 1 September 2018, the day after T2 ends


def _app(aid, hh, who, received, decided, month, applied, granted, decision) -> dict:
    return {
        "application_id": aid,
        "household_id": hh,
        "applicant_id": who,
        "received_on": received,
        "decided_on": decided,
        "benefit_month": month,
        "applied_sek": applied,
        "granted_sek": granted,
        "decision": decision,
        "handler_id": "A1",
    }


def _pay(pid, hh, month, paid_on, amount) -> dict:
    return {
        "payment_id": pid,
        "household_id": hh,
        "application_id": None,
        "benefit_month": month,
        "paid_on": paid_on,
        "amount_sek": amount,
    }


def _boundary_source(url: str) -> None:
    """KUN: H1 single woman W, H2 single man M, H3 single mother W3 with a son born 1 Sep 2000."""
    d = dt.date
    person = [
        (W, "H1", "registerledare", "K", d(1980, 1, 1)),
        (M, "H2", "registerledare", "M", d(1975, 5, 5)),
        (W3, "H3", "registerledare", "K", d(1985, 3, 3)),
        (CHILD, "H3", "barn", "M", d(2000, 9, 1)),
    ]
    load_source(
        url,
        {
            "district": [{"district_code": c, "name": c} for c in ("KUN", "NOR", "OST")],
            "household": [
                {
                    "household_id": h,
                    "district_code": "KUN",
                    "household_type": t,
                    "opened_on": d(2015, 1, 1),
                    "closed_on": None,
                }
                for h, t in (("H1", 5), ("H2", 3), ("H3", 6))
            ],
            "person": [
                dict(
                    zip(("person_id", "household_id", "role", "sex", "birth_date"), p, strict=True),
                    born_abroad=False,
                )
                for p in person
            ],
            "application": [
                # decided in T2 for September: in T2's ja_ figures, not T3's
                _app("A1", "H1", W, d(2018, 8, 20), d(2018, 8, 28), d(2018, 9, 1), 10000, 8000, "bifall"),
                _app("A2", "H2", M, d(2018, 3, 1), d(2018, 3, 5), d(2018, 3, 1), 5000, 0, "avslag"),
            ],
            "payment": [
                _pay("PA", "H1", d(2018, 8, 1), d(2018, 9, 5), 7000),  # paid after P for August: in P
                _pay("PB", "H2", d(2018, 9, 1), d(2018, 8, 28), 3000),  # paid in P for September: not
                _pay("PC", "H3", d(2018, 2, 1), d(2018, 2, 1), 5000),
            ],
            "intervention": [  # started before any extraction window, ended in P: counts
                {
                    "intervention_id": "I1",
                    "person_id": W,
                    "kind": "ar_rehab",
                    "started_on": d(2015, 3, 1),
                    "ended_on": d(2018, 6, 30),
                    "outcome": "egen_forsorjning",
                },
                {
                    "intervention_id": "I2",
                    "person_id": M,
                    "kind": "ar_rehab",
                    "started_on": d(2016, 1, 1),
                    "ended_on": d(2018, 12, 1),
                    "outcome": "avbrott",
                },  # ended after P: not in T2
            ],
        },
    )


def _cell(stats: pd.DataFrame, indicator_id: str, sex: str = "T", column: str = "value") -> float:
    row = stats[
        (stats["indicator_id"] == indicator_id) & (stats["district_code"] == "ALL") & (stats["sex"] == sex)
    ]
    return float(row[column].iloc[0])


@pytest.fixture
def boundary(empty_db_url, tmp_path):
    _boundary_source(empty_db_url)
    _extract(empty_db_url, tmp_path / "windowed", T2)
    stats = _statistics(tmp_path / "windowed", T2, _cfg())
    return empty_db_url, tmp_path, stats


def test_boundary_cases_by_hand(boundary):
    _, _, stats = boundary
    # A1 (W, decided 28 Aug for September) and A2 (M, avslag in March) are T2's decisions.
    assert _cell(stats, "ja_avslag_andel") == 50.0
    assert _cell(stats, "ja_avslag_andel", "K") == 0.0 and _cell(stats, "ja_avslag_andel", "M") == 100.0
    assert _cell(stats, "ja_beviljat_kr_medel", "K") == 8000.0
    assert math.isnan(_cell(stats, "ja_beviljat_kr_medel", "M"))
    assert _cell(stats, "ja_beviljat_andel_av_ansokt") == pytest.approx(8000 / 15000 * 100)
    assert _cell(stats, "ja_handlaggningstid_median", "K") == 8.0
    # Payments: PA (August, paid 5 September) and PC count; PB (September, paid in August) does not.
    assert _cell(stats, "eb_utbetalt_kr") == 12000.0 and _cell(stats, "eb_utbetalt_kr", "M") == 0.0
    assert _cell(stats, "eb_hushall") == 2.0 and _cell(stats, "eb_hushall", "M") == 0.0
    # W, W3 and the son, who is 17 on 31 August 2018: a child in T2.
    assert _cell(stats, "eb_mottagare") == 3.0
    assert _cell(stats, "eb_andel_barn", column="numerator") == 1.0
    # I1 started in 2015 and ended in June 2018 with egen försörjning; I2 ends after T2.
    assert _cell(stats, "ar_till_forsorjning", column="numerator") == 1.0
    assert _cell(stats, "ar_till_forsorjning", column="denominator") == 1.0


def test_boundary_cases_windowed_equal_whole_source(boundary):
    url, tmp_path, windowed = boundary
    _extract(url, tmp_path / "whole", T2, whole=True)
    pd.testing.assert_frame_equal(windowed, _statistics(tmp_path / "whole", T2, _cfg(stop=False)))


def test_the_next_period_does_not_count_a_decision_of_the_previous(boundary, tmp_path):
    url, _, _ = boundary
    t3 = Period(2018, 3)
    _extract(url, tmp_path / "t3", t3)
    stats = _statistics(tmp_path / "t3", t3, _cfg())
    assert _cell(stats, "ja_avslag_andel", "K") == 0.0  # A1 is in T3's year to date, once
    assert _cell(stats, "eb_hushall") == 3.0  # PB (September) is in T3


# --------------------------------------------------------------------------- the SQL filter


def test_null_filter_columns_are_read_unless_null_means_outside(empty_db_url, tmp_path):
    """started_on NULL is read (validation quarantines it); ended_on NULL (running) is not."""
    d = dt.date
    rows = [
        ("I1", d(2010, 1, 1), None),
        ("I2", None, None),
        ("I3", d(2010, 1, 1), d(2018, 2, 1)),
        ("I4", d(2018, 5, 1), None),
        ("I5", d(2010, 1, 1), d(2017, 6, 1)),  # ended last year: read for the comparisons
        ("I6", d(2010, 1, 1), d(2016, 6, 1)),
    ]
    load_source(
        empty_db_url,
        {
            "intervention": [
                {
                    "intervention_id": i,
                    "person_id": W,
                    "kind": "praktik",
                    "started_on": s,
                    "ended_on": e,
                    "outcome": None,
                }
                for i, s, e in rows
            ]
        },
    )
    extract_table(empty_db_url, "intervention", T2, tmp_path, KEY)
    got = staging.read_table(tmp_path, staging.RAW, "intervention")["intervention_id"]
    assert sorted(got) == ["I2", "I3", "I4", "I5"]


def test_a_missing_followed_table_refers_to_nothing(empty_db_url, tmp_path):
    engine = sa.create_engine(empty_db_url)
    source.TABLES["support_obstacle"].create(engine)
    engine.dispose()
    res = extract_table(empty_db_url, "support_obstacle", T2, tmp_path, KEY)
    assert res.rows == 0 and not res.table_missing


def test_every_window_names_a_known_table_column_and_definition():
    for r in windows.all_reads():
        assert r.column in source.TABLES[r.table].c and r.needed_by
        if isinstance(r.window, windows.Follow):
            assert r.window.column in source.TABLES[r.window.table].c
        else:
            assert r.window in windows.SPANS
    assert set(windows.WHOLE) | {r.table for r in windows.all_reads()} == set(source.TABLES)


def test_source_contract_shows_the_windows():
    text = (REPO / "docs" / "source-contract.md").read_text(encoding="utf-8")
    assert windows.markdown() in text, (
        "docs/source-contract.md: paste etl.windows.markdown() between the markers"
    )
