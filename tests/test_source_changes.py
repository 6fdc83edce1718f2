"""The cheap 'did the source change?' answer (etl/source_changes.py): a fingerprint of every table a
read's window reads, taken in the read's snapshot, that any committed change alters; extraction
counts the window again only when it does."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from etl import extract, source, source_changes
from etl.periods import Period
from tests.support.db import load_source

KEY = b"test-key-" * 4
T1 = Period.parse("2018-T1")


def _payment(pid: str, month: dt.date, application_id: str | None = None) -> dict:
    return {
        "payment_id": pid,
        "household_id": "H1",
        "application_id": application_id,
        "benefit_month": month,
        "paid_on": month,
        "amount_sek": 100.0,
    }


postgres_only = pytest.mark.parametrize("empty_db_url", ["postgres"], indirect=True)
"""xmin is PostgreSQL's: these run on conftest's PostgreSQL database only."""


def test_the_tables_read_include_the_windows_subqueries(tmp_path):
    """An application is read when a payment in the window refers to it: a new payment changes
    application's window, so payment is fingerprinted with it."""
    url = f"sqlite:///{tmp_path / 'source.db'}"
    load_source(url, {})
    stmt, _ = extract.read_statement(sa.inspect(sa.create_engine(url)), "application", T1)
    assert source_changes.tables_read(stmt) == ("application", "payment")


@postgres_only
def test_every_committed_change_alters_the_fingerprint(empty_db_url):
    """Insert, update (same row count), delete + insert (same count) each give another fingerprint;
    VACUUM FREEZE, which rewrites nothing a reader sees, gives the same."""
    load_source(
        empty_db_url, {"payment": [_payment("P1", dt.date(2018, 2, 1)), _payment("P2", dt.date(2018, 3, 1))]}
    )
    engine = sa.create_engine(empty_db_url)
    tables = ("payment",)

    def now():
        with engine.connect() as conn:
            return source_changes.fingerprint(conn, tables)

    seen = [now()]
    assert seen[0][0][:2] == ("payment", 2)
    changes = [
        "INSERT INTO payment (payment_id, household_id, amount_sek) VALUES ('P3', 'H1', 1)",
        "UPDATE payment SET amount_sek = 5 WHERE payment_id = 'P1'",
        "DELETE FROM payment WHERE payment_id = 'P2'; "
        "INSERT INTO payment (payment_id, household_id, amount_sek) VALUES ('P4', 'H1', 1)",
    ]
    for change in changes:
        with engine.begin() as conn:
            conn.exec_driver_sql(change)
        seen.append(now())
    assert len(set(seen)) == len(seen), seen
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM FREEZE payment")
    assert now() == seen[-1]
    engine.dispose()


def _statements(run) -> list[str]:
    """The SQL every engine executed while ``run`` ran (a listener on all engines)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    return seen


@postgres_only
def test_an_unchanged_source_is_not_counted_again(empty_db_url, tmp_path):
    """Nothing changed since the read: the fingerprint says so and the window's COUNT(*) (as costly
    as the read itself) is not run; the rows are the ones in the window."""
    rows = [_payment("P1", dt.date(2018, 2, 1)), _payment("P2", dt.date(2018, 3, 1))]
    load_source(empty_db_url, {"payment": [*rows, _payment("L1", dt.date(2019, 6, 1))]})
    results = []
    statements = _statements(
        lambda: results.append(extract.extract_table(empty_db_url, "payment", T1, tmp_path, KEY))
    )
    assert results[0].rows == 2
    assert any("xmin" in s for s in statements)
    assert not any(s.lower().startswith("select count(*)") for s in statements), statements


@postgres_only
def test_a_change_in_a_followed_table_is_counted(empty_db_url, tmp_path, monkeypatch):
    """A payment committed while application is read pulls one more application into the window:
    application's own rows did not change, but its fingerprint (payment's part) did, so the window
    is counted and the read fails as a changed source. (The two applications are of other months,
    or the first would bring in the second as an application of the same month.)"""
    apps = [
        {
            "application_id": f"A{n}",
            "household_id": "H1",
            "applicant_id": None,
            "received_on": None,
            "decided_on": dt.date(2016, n, 1),
            "benefit_month": dt.date(2016, n, 1),
            "applied_sek": 1.0,
            "granted_sek": 1.0,
            "decision": "beviljad",
            "handler_id": None,
        }
        for n in (1, 2)
    ]
    load_source(empty_db_url, {"application": apps, "payment": [_payment("P1", dt.date(2018, 2, 1), "A1")]})
    writer = sa.create_engine(empty_db_url)
    real, calls = extract.transform_chunk, []

    def pay_the_other_application(*args, **kwargs):
        if not calls:
            with writer.begin() as conn:
                conn.execute(source.TABLES["payment"].insert(), _payment("P2", dt.date(2018, 2, 1), "A2"))
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(extract, "transform_chunk", pay_the_other_application)
    with pytest.raises(extract.ExtractError, match="'application' ändrades under läsningen: 1 rader lästa"):
        extract.extract_table(empty_db_url, "application", T1, tmp_path, KEY, chunk_rows=1)
    writer.dispose()


@postgres_only
def test_a_view_without_xmin_is_counted_instead(empty_db_url, tmp_path):
    """A source table that is a view has no ``xmin``: the fingerprint cannot be taken, the read is
    kept and the window is counted as before."""
    load_source(
        empty_db_url, {"payment": [_payment("P1", dt.date(2018, 2, 1)), _payment("P2", dt.date(2018, 3, 1))]}
    )
    engine = sa.create_engine(empty_db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE payment RENAME TO payment_rows")
        conn.exec_driver_sql("CREATE VIEW payment AS SELECT * FROM payment_rows")
    engine.dispose()
    results = []
    statements = _statements(
        lambda: results.append(extract.extract_table(empty_db_url, "payment", T1, tmp_path, KEY))
    )
    assert results[0].rows == 2
    assert any(s.lower().startswith("select count(*)") for s in statements), statements
