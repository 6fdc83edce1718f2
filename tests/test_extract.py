"""Extraction on hand-built databases, on SQLite and PostgreSQL."""

import datetime as dt

import pandas as pd
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from etl import source, staging
from etl.extract import ExtractError, extract_table, transform_chunk
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


def test_missing_sqlite_source_is_a_source_error_and_creates_no_file(tmp_path):
    missing = tmp_path / "gone" / "source.db"
    missing.parent.mkdir()
    expected = r"^Tabellen 'staff' kunde inte läsas ur källan .*unable to open"
    with pytest.raises(ExtractError, match=expected) as err:
        extract_table(f"sqlite:///{missing}", "staff", T1, tmp_path / "run", KEY)
    assert not missing.exists()
    assert str(err.value).endswith("efter sista försöket får driften ett larm.")
    assert err.value.__cause__ is None and err.value.__suppress_context__  # no SQLAlchemy frames above


def test_source_without_any_contract_table_is_a_source_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'other.db'}"
    with sa.create_engine(url).begin() as conn:
        conn.execute(sa.text("CREATE TABLE something_else (x INTEGER)"))
    with pytest.raises(ExtractError, match="källdatabasen har ingen av källtabellerna"):
        extract_table(url, "payment", T1, tmp_path / "run", KEY)


def test_read_only_url_only_for_sqlite_files():
    assert source.read_only("sqlite:////data/källa x.db") == "sqlite:///file:/data/k%C3%A4lla%20x.db?mode=ro&uri=true"
    assert source.read_only("sqlite://") == "sqlite://"
    assert source.read_only("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_malformed_and_text_typed_filter_dates_reach_validation(empty_db_url, tmp_path):
    """The period filter runs in SQL: a value that is no ISO date ('2018/02/01', a word) or NULL
    must still be read and flagged, never cut unseen; a date column stored as text (possible on
    PostgreSQL too) must not crash the filter ("operator does not exist: text >= date")."""
    engine = sa.create_engine(empty_db_url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "CREATE TABLE payment (payment_id TEXT, household_id TEXT, application_id TEXT,"
            " benefit_month TEXT, paid_on TEXT, amount_sek NUMERIC)"
        ))  # fmt: skip
        rows = [("P1", "2018-02-01"), ("P2", "2016-01-01"), ("P3", "2018/02/01"), ("P4", None),
                ("P5", "februari"), ("P6", "2018-02-30"), ("P7", "2019-02-01")]  # fmt: skip
        for pid, month in rows:
            conn.execute(
                sa.text("INSERT INTO payment VALUES (:p, 'H1', NULL, :m, '2018-02-05', 100)"),
                {"p": pid, "m": month},
            )
    engine.dispose()
    res = extract_table(empty_db_url, "payment", T1, tmp_path, KEY)
    df = staging.read_table(tmp_path, staging.RAW, "payment").set_index("payment_id")
    # Read: P1 (in the window), P3, P5, P6 (no valid date: flagged), P4 (NULL); not P2, P7.
    assert sorted(df.index) == ["P1", "P3", "P4", "P5", "P6"] and res.rows == 5
    assert df.loc[["P3", "P5", "P6"], "_type_errors"].tolist() == ["benefit_month;"] * 3
    assert pd.isna(df.loc["P1", "_type_errors"]) and pd.isna(df.loc["P4", "_type_errors"])


def test_integers_beyond_64_bits_are_type_errors_not_wrapped_negative():
    raw = pd.DataFrame({"household_id": ["H1", "H2", "H3"], "district_code": ["OST"] * 3,
                        "household_type": ["99999999999999999999999", "-99999999999999999999", "3"],
                        "opened_on": [None] * 3, "closed_on": [None] * 3}, dtype=object)  # fmt: skip
    out = transform_chunk(raw, source.TABLES["household"], KEY)
    assert out["household_type"].isna().tolist() == [True, True, False]  # never -9223372036854775808
    assert out["_type_errors"].tolist()[:2] == ["household_type;", "household_type;"]


def test_timestamps_with_a_time_zone_become_the_units_local_dates():
    """PostgreSQL timestamptz arrives as aware datetimes: 2018-04-30 22:30 UTC is 1 May in Stockholm."""
    utc = dt.UTC
    raw = pd.DataFrame({"payment_id": ["P1", "P2"], "household_id": ["H1", "H1"],
                        "application_id": [None, None],
                        "benefit_month": [dt.datetime(2018, 4, 30, 22, 0, tzinfo=utc),
                                          dt.datetime(2018, 3, 1, 10, 0, tzinfo=utc)],
                        "paid_on": [dt.datetime(2018, 4, 30, 22, 30, tzinfo=utc), None],
                        "amount_sek": [1.0, 2.0]}, dtype=object)  # fmt: skip
    out = transform_chunk(raw, source.TABLES["payment"], KEY)
    assert out["benefit_month"].tolist() == [pd.Timestamp("2018-05-01"), pd.Timestamp("2018-03-01")]
    assert out["paid_on"].tolist()[0] == pd.Timestamp("2018-05-01") and out["_type_errors"].isna().all()


def test_hidden_characters_are_removed_ids_trimmed_and_over_long_text_refused(tmp_path):
    """NUL (shown as _x0000_ in a workbook), a right-to-left override (U+202E, turns text around)
    never reach a workbook; 'P1' and 'P1 ' are one id, so the duplicate is found by the key
    rule instead of counting one payout twice; 10 million characters are a type error."""
    url = f"sqlite:///{tmp_path / 'src.db'}"
    load_source(url, {"district": [
        {"district_code": "OST", "name": "Öster\x00malm"},
        {"district_code": "NOR", "name": "Norr\u202emalm"},
        {"district_code": "KUN ", "name": "K" * 10_000_000},
    ]})  # fmt: skip
    res = extract_table(url, "district", T1, tmp_path, KEY)
    df = staging.read_table(tmp_path, staging.RAW, "district").set_index("district_code")
    assert df.loc["OST", "name"] == "Östermalm" and df.loc["NOR", "name"] == "Norrmalm"
    assert pd.isna(df.loc["KUN", "name"]) and df.loc["KUN", "_type_errors"] == "name;"
    assert res.cleaned == {"district_code": 1, "name": 2} and res.type_errors == 1
    feb = dt.date(2018, 2, 1)
    raw = pd.DataFrame([_payment("P1", feb, 10.0), _payment("P1 ", feb, 10.0)])
    out = transform_chunk(raw.astype(object), source.TABLES["payment"], KEY)
    assert out["payment_id"].tolist() == ["P1", "P1"]  # one key twice: validation stops on it


def _in_window(n: int) -> dict:
    return _payment(f"P{n}", dt.date(2018, 2, 1), 10.0 * n)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("INSERT", "4 rader"),  # a row of the window added while the table was read
        ("DELETE", "2 rader"),  # and one removed
    ],
    ids=["row_added", "row_removed"],
)
def test_rows_read_are_checked_against_a_count_of_the_window_after_the_read(
    empty_db_url, tmp_path, monkeypatch, change, message
):
    """The source changes between two chunks of the read (a real second connection commits):
    the read's 3 rows no longer match COUNT(*) of the same window, so extraction fails as a
    source error that says what to do, and keeps no staged file."""
    import etl.extract

    load_source(empty_db_url, {"payment": [_in_window(1), _in_window(2), _in_window(3)]})
    writer = sa.create_engine(empty_db_url)
    if writer.dialect.name == "sqlite":  # WAL: a writer may commit while the read is open
        with writer.begin() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    real, calls = etl.extract.transform_chunk, []

    def change_source_once(*args, **kwargs):
        if not calls:
            with writer.begin() as conn:
                if change == "INSERT":
                    conn.execute(source.TABLES["payment"].insert(), _in_window(4))
                else:
                    conn.execute(sa.text("DELETE FROM payment WHERE payment_id = 'P3'"))
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(etl.extract, "transform_chunk", change_source_once)
    with pytest.raises(ExtractError) as failed:
        extract_table(empty_db_url, "payment", T1, tmp_path, KEY, chunk_rows=1)
    writer.dispose()
    text = str(failed.value)
    assert "Tabellen 'payment' ändrades under läsningen: 3 rader lästa" in text
    assert f"källan har nu {message} i samma urval" in text and "Gör så här:" in text
    assert not staging.table_path(tmp_path, staging.RAW, "payment").exists()
    assert not staging.meta_path(tmp_path, staging.RAW, "payment").exists()


def test_a_change_outside_the_window_does_not_fail_the_read(empty_db_url, tmp_path, monkeypatch):
    import etl.extract

    load_source(empty_db_url, {"payment": [_in_window(1), _in_window(2)]})
    writer = sa.create_engine(empty_db_url)
    if writer.dialect.name == "sqlite":
        with writer.begin() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    real, calls = etl.extract.transform_chunk, []

    def add_a_later_month(*args, **kwargs):
        calls.append(1)
        with writer.begin() as conn:  # 2019: outside every window of 2018-T1
            later = _payment(f"L{len(calls)}", dt.date(2019, 6, 1), 1.0)
            conn.execute(source.TABLES["payment"].insert(), later)
        return real(*args, **kwargs)

    monkeypatch.setattr(etl.extract, "transform_chunk", add_a_later_month)
    res = extract_table(empty_db_url, "payment", T1, tmp_path, KEY, chunk_rows=1)
    writer.dispose()
    assert res.rows == 2
