"""The validation frame read from a staged file (etl.validation.frames): what GX sees of a table,
whole or a few columns at a time, and its fingerprint taken a slice of rows at a time."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from etl.extract import TYPE_ERRORS
from etl.validation import frames as frames_module
from etl.validation.derived import derived_checks
from etl.validation.frames import TableFrames, read_pandas

STAGED = pa.schema([
    ("payment_id", pa.string()), ("household_id", pa.string()), ("application_id", pa.string()),
    ("benefit_month", pa.timestamp("s")), ("paid_on", pa.timestamp("s")), ("amount_sek", pa.float64()),
    ("n", pa.int64()), ("flag", pa.bool_()), (TYPE_ERRORS, pa.string()),
])  # fmt: skip


def _staged(tmp_path, rows: int = 2):
    """A staged payment file of ``rows`` rows (the first two with a far-future date and a null)."""
    table = pa.table(
        {
            "payment_id": [f"P{i}" for i in range(rows)],
            "household_id": ["H1", None] + [f"H{i % 3}" for i in range(2, rows)],
            "application_id": [None] * rows,
            "benefit_month": [pd.Timestamp("2018-02-01"), pd.Timestamp("9999-01-15")]
            + [pd.Timestamp(2018, 1 + i % 12, 1 + i % 2) for i in range(2, rows)],
            "paid_on": [pd.Timestamp("2018-02-01")] * rows,
            "amount_sek": [float(i) for i in range(rows)],
            "n": [i if i % 3 else None for i in range(rows)],
            "flag": [bool(i % 2) if i % 5 else None for i in range(rows)],
            TYPE_ERRORS: [None] * rows,
        },
        schema=STAGED,
    )
    path = tmp_path / "payment.parquet"
    pq.write_table(table, path)
    return path


def _frames(path, missing=()):
    parents = {"household": pd.DataFrame({"household_id": ["H1"]})}
    derived, skipped = derived_checks("payment", lambda cols: read_pandas(path, cols), parents)
    return TableFrames(path, missing, derived), skipped


def test_frame_clips_dates_to_datetime_ns_and_adds_checks(tmp_path):
    frames, skipped = _frames(_staged(tmp_path))
    frame = frames.frame()
    assert list(frame.columns) == [*STAGED.names, "_ok_first_of_month", "_ok_household_exists",
                                   "_ok_application_exists"]  # fmt: skip
    assert str(frame["benefit_month"].dtype) == "datetime64[ns]"
    assert frame["benefit_month"].iloc[1] == pd.Timestamp("2261-12-31")
    assert frame["_ok_first_of_month"].tolist() == [True, False]  # computed on the original dates
    assert frame["_ok_household_exists"].tolist() == [True, True]
    assert {str(frame[c].dtype) for c in ("payment_id", "n", "flag")} == {"string", "Int64", "boolean"}
    assert frame.index.equals(pd.RangeIndex(2))
    assert skipped == ["_ok_application_exists (tabellen application finns inte i staging)"]


def test_columns_missing_in_the_source_are_not_in_the_frame(tmp_path):
    frames, _ = _frames(_staged(tmp_path), missing=["paid_on"])
    assert "paid_on" not in frames.columns and "paid_on" not in frames.frame().columns
    assert "paid_on" not in frames.empty().columns


def test_some_columns_and_no_rows_are_those_of_the_whole_frame(tmp_path):
    frames, _ = _frames(_staged(tmp_path, rows=7))
    whole = frames.frame()
    some = frames.frame(["_ok_first_of_month", "amount_sek", "benefit_month"])
    assert list(some.columns) == ["benefit_month", "amount_sek", "_ok_first_of_month"]  # the frame's order
    pd.testing.assert_frame_equal(some, whole[list(some.columns)])
    pd.testing.assert_frame_equal(frames.frame([]), whole[[]], check_column_type=False)
    assert frames.rows == 7 and len(frames.frame([])) == 7
    pd.testing.assert_frame_equal(frames.empty(), whole.iloc[:0], check_index_type=False)


def test_fingerprint_read_in_slices_is_gxs_over_the_whole_frame(tmp_path, monkeypatch):
    """md5 of ``hash_pandas_object(frame, index=True)`` over the whole frame, as GX takes it,
    also when the rows are read a few at a time and a slice ends mid-way."""
    frames, _ = _frames(_staged(tmp_path, rows=11))
    whole = hashlib.md5(pd.util.hash_pandas_object(frames.frame(), index=True).values).hexdigest()
    for rows in (3, 4, 11, 50):
        monkeypatch.setattr(frames_module, "SLICE_ROWS", rows)
        assert frames.fingerprint() == whole
    changed = TableFrames(frames.path, [], {**frames.derived, "_ok_first_of_month": np.ones(11, dtype=bool)})
    assert changed.fingerprint() != whole


def test_fingerprint_of_a_frame_in_memory_is_gxs(monkeypatch):
    """The batch fingerprint hashed in slices of rows (``fingerprint_in_memory``) is
    GX's: md5 of ``hash_pandas_object`` over the whole frame, for every staged type and nulls."""
    n = 11
    frame = pd.DataFrame(
        {
            "s": pd.array([f"id{i % 4}" if i % 5 else None for i in range(n)], dtype="string"),
            "i": pd.array([i if i % 3 else None for i in range(n)], dtype="Int64"),
            "b": pd.array([bool(i % 2) if i % 4 else None for i in range(n)], dtype="boolean"),
            "d": pd.to_datetime(["2018-01-01", None, "2019-05-31"] * 3 + ["2018-02-01", None]),
            "f": [1.5, np.nan, -2.0, 0.0, 3.25, np.nan, 7.0, 8.0, 9.5, 1e9, -0.5],
        }
    )
    monkeypatch.setattr(frames_module, "SLICE_ROWS", 3)
    whole = hashlib.md5(pd.util.hash_pandas_object(frame, index=True).values).hexdigest()
    assert frames_module.fingerprint_in_memory(frame, None) == whole
    assert frames_module.fingerprint_in_memory(frame.iloc[:0], None) == hashlib.md5(b"").hexdigest()
