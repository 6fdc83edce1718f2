"""Extraction on hand-built databases, on SQLite and PostgreSQL."""

import datetime as dt

import pandas as pd
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from etl import source, staging
from etl.extract import extract_table
from etl.periods import Period
from etl.pseudonym import pseudonymise
from tests.support.db import load_source

KEY = b"test-key-" * 4
T1 = Period.parse("2018-T1")
GOOD_ID = "198112189876"  # valid Luhn (see test_pseudonym)
BAD_ID = "198112189875"


def _payment(pid: str, month: dt.date, amount: float) -> dict:
    return {
        "payment_id": pid,
        "household_id": "H1",
        "application_id": None,
        "benefit_month": month,
        "paid_on": month,
        "amount_sek": amount,
    }


def test_period_window_and_types(empty_db_url, tmp_path):
    load_source(
        empty_db_url,
        {
            "payment": [
                # Before the windows: the 24 months to T1's end (rolling comparisons) start May 2016.
                _payment("P0", dt.date(2016, 4, 1), 1.0),
                _payment("P1", dt.date(2017, 1, 1), 100.5),
                _payment("P2", dt.date(2018, 4, 1), 200.25),
                _payment("P3", dt.date(2018, 5, 1), 300.0),  # after T1
            ]
        },
    )
    res = extract_table(empty_db_url, "payment", T1, tmp_path, KEY)
    df = staging.read_table(tmp_path, staging.RAW, "payment")
    assert res.rows == 2 and df["payment_id"].tolist() == ["P1", "P2"]
    assert df["amount_sek"].tolist() == [100.5, 200.25]
    assert df["benefit_month"].tolist() == [pd.Timestamp("2017-01-01"), pd.Timestamp("2018-04-01")]
    assert df["_type_errors"].isna().all()
    assert res.columns_missing == [] and res.columns_extra == []


def test_person_ids_are_pseudonymised_with_luhn_flag(empty_db_url, tmp_path):
    people = [
        {
            "person_id": pid,
            "household_id": "H1",
            "role": role,
            "sex": "K",
            "birth_date": dt.date(1981, 12, 18),
        }
        for pid, role in [(GOOD_ID, "registerledare"), (BAD_ID, "barn")]
    ]
    load_source(empty_db_url, {"person": people})
    extract_table(empty_db_url, "person", T1, tmp_path, KEY)
    df = staging.read_table(tmp_path, staging.RAW, "person").sort_values("role")
    expected = pseudonymise(pd.Series([BAD_ID, GOOD_ID]), KEY).tolist()  # barn, registerledare
    assert df["person_id"].tolist() == expected
    assert df["person_id_luhn_ok"].tolist() == [False, True]
    raw = (tmp_path / "raw" / "person.parquet").read_bytes()
    assert GOOD_ID.encode() not in raw and BAD_ID.encode() not in raw


def test_small_chunks_stream_into_row_groups_with_the_same_result(empty_db_url, tmp_path):
    load_source(
        empty_db_url, {"payment": [_payment(f"P{i:02d}", dt.date(2018, 1 + i % 4, 1), i) for i in range(7)]}
    )
    extract_table(empty_db_url, "payment", T1, tmp_path / "a", KEY, chunk_rows=2)
    extract_table(empty_db_url, "payment", T1, tmp_path / "b", KEY, chunk_rows=1000)
    a = staging.read_table(tmp_path / "a", staging.RAW, "payment")
    b = staging.read_table(tmp_path / "b", staging.RAW, "payment")
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 7
    assert pq.ParquetFile(tmp_path / "a" / "raw" / "payment.parquet").num_row_groups == 4  # 2+2+2+1


def test_missing_table_is_recorded_not_crashed(empty_db_url, tmp_path):
    load_source(empty_db_url, {})
    with sa.create_engine(empty_db_url).begin() as conn:
        conn.execute(sa.text("DROP TABLE job_place"))
    res = extract_table(empty_db_url, "job_place", T1, tmp_path, KEY)
    assert res.table_missing and res.rows == 0
    assert staging.read_json(staging.meta_path(tmp_path, staging.RAW, "job_place"))["table_missing"] is True


def test_schema_drift_and_bad_values_are_flagged_not_lost(tmp_path):
    """SQLite stores any value in any column, like a careless export would."""
    url = f"sqlite:///{tmp_path / 'drift.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE payment (payment_id TEXT, household_id TEXT, benefit_month DATE,"
                " paid_on DATE, amount_sek NUMERIC, note TEXT)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO payment VALUES ('P1','H1','2018-02-01','2018-02-03','tusen','x'),"
                " ('P2','H1','2018-02-01','not a date', 50, 'y')"
            )
        )
    res = extract_table(url, "payment", T1, tmp_path, KEY)
    df = staging.read_table(tmp_path, staging.RAW, "payment").set_index("payment_id")
    assert res.rows == 2 and res.type_errors == 2
    assert res.columns_missing == ["application_id"] and res.columns_extra == ["note"]
    assert df.loc["P1", "_type_errors"] == "amount_sek;" and pd.isna(df.loc["P1", "amount_sek"])
    assert df.loc["P2", "_type_errors"] == "paid_on;" and df.loc["P2", "amount_sek"] == 50


@pytest.mark.parametrize("table", sorted(source.TABLES))
def test_every_contract_table_extracts_empty(table, tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    load_source(url, {})
    res = extract_table(url, table, T1, tmp_path, KEY)
    assert res.rows == 0 and not res.table_missing
