"""Extraction's fast path (PostgreSQL into Arrow, vectorised casts), its exact fallback and the
row-by-row path give byte-identical staging, equal to the frozen pre-Arrow implementation
(tests/support/extract_reference.py), for sources full of bad values on SQLite and PostgreSQL."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from etl import staging
from etl.extract import extract_table
from etl.periods import Period
from tests.support.extract_reference import reference_extract

KEY = b"test-key-" * 4
T1 = Period.parse("2018-T1")
GOOD_ID = "198112189876"  # valid Luhn (see test_pseudonym)
LONG = "x" * 1001  # beyond MAX_TEXT: a type error

# Column types per backend: the contract's where a source keeps it, drifted ones elsewhere
# (text in date and amount columns, timestamptz, floats, 64-bit integers), no primary keys.
DDL = {
    "payment": {"payment_id": "text", "household_id": "text", "application_id": "text",
                "benefit_month": "date", "paid_on": "date", "amount_sek": "numeric(14,2)"},
    "application": {"application_id": "text", "household_id": "text", "applicant_id": "text",
                    "received_on": "text", "decided_on": "timestamptz", "benefit_month": "date",
                    "applied_sek": "text", "granted_sek": "float8", "decision": "text", "handler_id": "text"},
    "person": {"person_id": "text", "household_id": "text", "role": "text", "sex": "text",
               "birth_date": "date", "born_abroad": "bool"},
    "household": {"household_id": "text", "district_code": "text", "household_type": "int8",
                  "opened_on": "date", "closed_on": "date"},
    "support_obstacle": {"person_id": "text", "benefit_month": "date", "code": "text"},
}  # fmt: skip
SQLITE_TYPES = {"text": "TEXT", "date": "DATE", "numeric(14,2)": "NUMERIC", "timestamptz": "TIMESTAMP",
                "float8": "REAL", "int8": "INTEGER", "bool": "BOOLEAN"}  # fmt: skip

M1, M2, M3 = "2018-01-01", "2018-02-01", "2018-03-01"
ROWS = {
    "payment": [
        ("P1", "H1", "A1", M1, "2018-01-25", "100.50"),
        ("P1", "H1", "A1", M1, "2018-01-25", "99.50"),  # a duplicate key
        (" P2 ", "H2", None, M2, "2018-02-25", None),  # blanks around an id
        ("P\u202e3", "H\x013", "A3", M2, None, "NaN"),  # RLO and a control character
        ("P4", LONG, "A4", M3, "2018-03-25", "123456789012.34"),
        ("P5", "\xa0H5\u3000", "A5", M3, "2018-03-26", "-0.00"),
        ("Å6", "H6", "A6", M1, "2018-01-02", "1e3"),
    ],
    "application": [
        ("A1", "H1", GOOD_ID, "2018-01-15", "2018-04-30 22:30:00+00", M1, "12.5", 1e300, "beviljad", "S1"),
        ("A1", "H1", "198112189875", "2018-02-30", None, M1, "abc", 0.1, "avslag", " S1"),
        ("A3", "H3", f" {GOOD_ID} ", "15/1/2018", "2018-01-31 23:30:00+00", M2, None, None, None, "S\u200e2"),
        ("A4", "H4", "19811218987", None, "2018-03-01 12:00:00+00", M2, "1.0", 2.5, LONG, None),
        ("A5", "H5", None, "2018-03-01", None, M3, "-7", -3.0, "beviljad", "S3"),
        ("A6", "H6", "1981121898x6", "2018-03-02", None, M3, "", 1.0, "beviljad", "S3"),
    ],
    "person": [
        ("198112189876", "H1", "registerledare", "K", "1981-12-18", True),
        (" 198112189876", "H1", "barn", "M", "2012-02-02", False),
        ("198112189875", "H2", "registerledare", None, None, None),
        ("Ö\u202e", "H3", "barn", "K", "1900-01-01", True),
        (None, "H4", "barn", "X", "2262-04-12", False),
    ],
    "household": [
        ("H1", "D1", 1, "2017-06-01", None),
        ("H1", "D1", 2, "2017-06-01", "2018-02-01"),  # a duplicate key
        ("H2", "D2", 2**60, "1850-01-01", None),  # beyond 2**53 and before 1900: the exact path
        ("H3", None, None, "2018-01-05", None),
        ("H4\x7f", "D\u20661", -5, "2018-01-05", "2018-01-06"),
    ],
    "support_obstacle": [
        (GOOD_ID, M1, "A"),
        (GOOD_ID, M1, "A"),  # a duplicate row
        (" " + GOOD_ID, M2, "B\x1f"),
        (None, M2, "C"),
        ("19811218987\u0660", M3, None),
    ],
}


def _load(url: str) -> None:
    engine = sa.create_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as conn:
        for table, columns in DDL.items():
            types = {c: SQLITE_TYPES[t] if sqlite else t for c, t in columns.items()}
            conn.exec_driver_sql(f"CREATE TABLE {table} ({', '.join(f'{c} {t}' for c, t in types.items())})")
            names = list(columns)
            insert = sa.text(f"INSERT INTO {table} VALUES ({', '.join(':' + c for c in names)})")
            for row in ROWS[table]:
                values = dict(zip(names, row, strict=True))
                if sqlite and table == "household" and row[0] == "H3":
                    values["household_type"] = "tre"  # SQLite keeps text in an INTEGER column
                conn.execute(insert, values)
        if not sqlite:  # numeric NaN and a timestamptz the driver returns aware
            conn.exec_driver_sql(
                "UPDATE application SET applied_sek = 'x' || applied_sek WHERE application_id = 'A6'"
            )
    engine.dispose()


def _meta(run, table) -> dict:
    meta = staging.read_json(staging.meta_path(run, staging.RAW, table))
    meta.pop("path")
    return meta


@pytest.mark.parametrize("table", list(DDL))
def test_every_path_stages_the_same_bytes_as_the_reference(empty_db_url, tmp_path, table):
    _load(empty_db_url)
    runs = {}
    for path in ("fast", "arrow-exact", "rows"):
        run = tmp_path / path
        extract_table(empty_db_url, table, T1, run, KEY, chunk_rows=2, path=path)
        runs[path] = run
    reference = tmp_path / "reference.parquet"
    counts = reference_extract(empty_db_url, table, T1, reference, KEY, chunk_rows=2)
    expected = reference.read_bytes()
    assert pq.ParquetFile(reference).metadata.num_rows == counts["rows"] > 0
    for path, run in runs.items():
        assert staging.table_path(run, staging.RAW, table).read_bytes() == expected, path
        meta = _meta(run, table)
        assert {k: meta[k] for k in counts} == counts, path
        assert meta == _meta(runs["rows"], table), path
    if table in ("application", "payment"):
        assert counts["type_errors"] > 0  # the bad values are there, flagged


def test_a_driver_error_in_the_fast_read_is_a_source_error(empty_db_url, tmp_path, monkeypatch):
    """The ADBC driver's errors are ExtractError (retried, with what to do) like SQLAlchemy's."""
    import adbc_driver_manager

    import etl.extract_arrow
    from etl.extract import ExtractError

    if not empty_db_url.startswith("postgresql"):
        pytest.skip("the fast path reads PostgreSQL only")
    _load(empty_db_url)

    def broken(*_args, **_kwargs):
        raise adbc_driver_manager.OperationalError(
            "IO: [libpq] server closed the connection\nmore",
            status_code=adbc_driver_manager.AdbcStatusCode.IO,
        )
        yield

    monkeypatch.setattr(etl.extract_arrow, "read_postgres", broken)
    with pytest.raises(ExtractError, match="server closed the connection. Gör så här"):
        extract_table(empty_db_url, "payment", T1, tmp_path, KEY)
    assert not staging.table_path(tmp_path, staging.RAW, "payment").exists()


def test_read_ahead_keeps_order_raises_read_errors_and_closes_the_read():
    import pyarrow as pa

    from etl.extract_arrow import read_ahead

    closed = []

    def chunks(n, fail_at=None):
        try:
            for i in range(n):
                if i == fail_at:
                    raise OSError("the source went away")
                yield pa.table({"i": [i]})
        finally:
            closed.append(n)

    assert [t["i"][0].as_py() for t in read_ahead(chunks(5))] == [0, 1, 2, 3, 4]
    with pytest.raises(OSError, match="went away"):
        list(read_ahead(chunks(6, fail_at=3)))
    early = read_ahead(chunks(100), depth=1)
    next(early)
    early.close()  # the caller stops (a transform failed): the read ends too
    assert closed == [5, 6, 100]


@pytest.mark.parametrize("flag", ["few", "many"])
def test_rows_with_a_flagged_byte_by_search_or_by_count(flag):
    # Values sliced out of a longer array (its bytes before and after are not theirs), empty
    # values and nulls: each value is flagged exactly when one of its own bytes is.
    import pyarrow as pa

    from etl.extract_arrow import _rows_with, _utf8

    texts = ["ab", "", None, "a\x01", "\x01", "", "x\x01y", "abcdefghij", "\x01\x01", "z"]
    whole = pa.array(["\x01pre", *texts, "post\x01"])
    arr = whole.slice(1, len(texts))
    raw, bounds, _valid = _utf8(arr)
    flagged = raw == 1 if flag == "few" else raw != 1  # 5 flagged bytes, or 16 (more than values)
    expected = [t is not None and any((c == "\x01") == (flag == "few") for c in t) for t in texts]
    assert _rows_with(raw, bounds, flagged).tolist() == expected


def test_write_behind_keeps_order_and_raises_a_failed_write():
    import pyarrow as pa

    from etl.extract_arrow import WriteBehind

    class Writer:
        def __init__(self, fail_at=None):
            self.written, self.fail_at = [], fail_at

        def write_table(self, table):
            if table["n"][0].as_py() == self.fail_at:
                raise OSError("disk full")
            self.written.append(table["n"][0].as_py())

    chunks = [pa.table({"n": [i]}) for i in range(20)]
    ok = Writer()
    with WriteBehind(ok) as write:
        for chunk in chunks:
            write(chunk)
    assert ok.written == list(range(20))  # every chunk, in order, before leaving

    for fail_at in (5, 19):  # raised at the next chunk, or on leaving after the last
        broken = Writer(fail_at)
        with pytest.raises(OSError, match="disk full"), WriteBehind(broken) as write:
            for chunk in chunks:
                write(chunk)
        assert broken.written == list(range(fail_at))
