"""Extraction's fast path: PostgreSQL read straight into Arrow (ADBC, a binary COPY underneath)
and coerced with vectorised Arrow casts.

A cast is used only where it provably gives the same value as the exact per-value coercion in
:mod:`etl.extract` (``_coerce``): a column whose driver type already is the contract's (``date``
for a date, an integer for an integer, a plain decimal text of ``numeric`` for an amount, ``bool``,
``text``). Any other column of a chunk (text in a date column, ``timestamptz``, a value too large
for the cast to agree) goes through the exact coercion on the very Python values psycopg would
have returned, so a bad value still becomes a typed null and a ``_type_errors`` flag, never a crash.
"""

from __future__ import annotations

import datetime as dt
import decimal
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import adbc_driver_manager
import adbc_driver_postgresql.dbapi
import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa

from etl import source, source_changes
from etl.pseudonym import cached_pseudonyms, luhn_valid
from etl.text_rules import HIDDEN, HIDDEN_RE2, MAX_TEXT

_EDGE_RE2 = r"^[^!-~]|[^!-~]$"
"""A first or last character that is not printable ASCII: only such a value can change by strip()."""
_DECIMAL_BYTES = np.frombuffer(b"0123456789.-", dtype=np.uint8)
_MAX_DECIMAL_CHARS = 16
"""Up to 15 significant digits, pandas' and Arrow's text-to-float parsing both round exactly once."""
_FIRST_DAY, _LAST_DAY = dt.date(1900, 1, 1), dt.date(2262, 4, 11)
"""Dates the exact path's datetime64 parsing keeps as they are (nanosecond-safe range)."""
_EXACT_INT = 2**53
"""Integers the exact path (through a float when nulls are present) keeps exactly."""


def rechunk(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Exactly ``rows`` rows per chunk (the last one shorter): one Parquet row group each,
    as the server-side cursor of the exact path gives them, whatever size the driver reads."""
    pending: list[pa.RecordBatch] = []
    size = 0
    for batch in batches:
        while batch.num_rows:
            take = min(rows - size, batch.num_rows)
            pending.append(batch.slice(0, take))
            batch = batch.slice(take)
            size += take
            if size == rows:
                yield pa.Table.from_batches(pending)
                pending, size = [], 0
    if size:
        yield pa.Table.from_batches(pending)


def _is_numeric(arr: pa.Array) -> bool:
    """ADBC's PostgreSQL ``numeric``: an opaque extension type over its decimal text."""
    return isinstance(arr.type, pa.BaseExtensionType) and getattr(arr.type, "type_name", None) == "numeric"


def python_values(arr: pa.Array) -> pd.Series:
    """The values as psycopg returns them (``numeric`` as ``Decimal``), for the exact path."""
    if _is_numeric(arr):
        values = [None if v is None else decimal.Decimal(v) for v in arr.storage.to_pylist()]
    else:
        values = arr.to_pylist()
    return pd.Series(values, dtype=object)


def _mask(arr: pa.Array) -> np.ndarray:
    return arr.fill_null(False).to_numpy(zero_copy_only=False)


def _utf8(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A string array's bytes, each value's [start, end) in them, and its validity: numpy views
    of Arrow's buffers, for checks over every byte at once."""
    arr = arr.cast(pa.string())
    validity, offsets, data = arr.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    valid = (
        np.ones(len(arr), dtype=bool)
        if arr.null_count == 0
        else arr.is_valid().to_numpy(zero_copy_only=False)
    )
    return raw, bounds, valid


def _rows_with(raw: np.ndarray, bounds: np.ndarray, flagged: np.ndarray) -> np.ndarray:
    """Per value: does any of its bytes have ``flagged`` set. Few flagged bytes (the usual case:
    a hidden character or a stray letter here and there) are placed by a binary search; many by
    a running count over every byte."""
    hits = np.flatnonzero(flagged[bounds[0] : bounds[-1]]) + bounds[0]
    if len(hits) > len(bounds):
        counts = np.concatenate(([0], np.cumsum(flagged, dtype=np.int64)))
        return counts[bounds[1:]] > counts[bounds[:-1]]
    out = np.zeros(len(bounds) - 1, dtype=bool)
    out[np.searchsorted(bounds, hits, side="right") - 1] = True  # the value whose bytes hold it
    return out


def _fast_date(arr: pa.Array):
    if arr.type != pa.date32():
        return None
    bounds = pc.min_max(arr)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    if low is not None and (low < _FIRST_DAY or high > _LAST_DAY):
        return None
    return arr.cast(pa.timestamp("s"))


def _fast_integer(arr: pa.Array):
    if not pa.types.is_integer(arr.type):
        return None
    if pa.types.is_int64(arr.type) or pa.types.is_uint64(arr.type):
        bounds = pc.min_max(arr)
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        if low is not None and (low <= -_EXACT_INT or high >= _EXACT_INT):
            return None
    return arr.cast(pa.int64())


def _fast_numeric(arr: pa.Array):
    """PostgreSQL prints a ``numeric`` as ``-?digits[.digits]`` (or NaN, Infinity): only digits,
    '.' and '-' and at most 16 characters leave no other reading for the cast to differ on."""
    if not _is_numeric(arr):
        return None
    text = arr.storage
    raw, bounds, _valid = _utf8(text)
    used = raw[bounds[0] : bounds[-1]]
    if len(used) and (
        np.isin(used, _DECIMAL_BYTES, invert=True).any() or np.diff(bounds).max() > _MAX_DECIMAL_CHARS
    ):
        return None
    try:
        return text.cast(pa.float64())
    except pa.ArrowInvalid:  # '-', '1.' or '' cannot be a numeric's text, but never guess
        return None


def _fast_boolean(arr: pa.Array):
    return arr if arr.type == pa.bool_() else None


def _strip(arr: pa.Array, *, hidden: bool, strip: bool) -> tuple[pa.Array, int]:
    """``arr`` with hidden characters removed and/or stripped, as the exact path does it, and
    how many values that changed. Only values that can change (a control or non-ASCII byte, a
    first or last byte that is not printable ASCII) are looked at, and only those that do
    change go through Python; the rest are kept as they are."""
    raw, bounds, valid = _utf8(arr)
    maybe = np.zeros(len(arr), dtype=bool)
    if hidden:
        maybe |= _rows_with(raw, bounds, (raw < 0x20) | (raw >= 0x7F))
    if strip:
        filled = bounds[1:] > bounds[:-1]
        first = (
            raw[np.minimum(bounds[:-1], max(len(raw) - 1, 0))] if len(raw) else np.zeros(len(arr), np.uint8)
        )
        last = raw[np.maximum(bounds[1:] - 1, 0)] if len(raw) else np.zeros(len(arr), np.uint8)
        outside = lambda b: (b < 0x21) | (b > 0x7E)  # noqa: E731
        maybe |= filled & (outside(first) | outside(last))
    maybe &= valid
    if not maybe.any():
        return arr, 0
    rows = np.flatnonzero(maybe)
    patterns = ([HIDDEN_RE2] if hidden else []) + ([_EDGE_RE2] if strip else [])
    candidates = arr.take(pa.array(rows))
    rows = rows[_mask(pc.match_substring_regex(candidates, "|".join(patterns)))]
    if not len(rows):
        return arr, 0
    before = pd.Series(arr.take(pa.array(rows)).to_pylist(), dtype="string")
    text = before
    if hidden:
        text = text.str.replace(HIDDEN, "", regex=True)
    if strip:
        text = text.str.strip()
    touched = np.zeros(len(arr), dtype=bool)
    touched[rows] = True
    changed = pc.replace_with_mask(arr, pa.array(touched), pa.array(text, type=pa.string(), from_pandas=True))
    return changed, int((text != before).sum())


def _fast_text(arr: pa.Array, col: sa.Column):
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    arr = arr.cast(pa.string())
    clean, changed = _strip(arr, hidden=True, strip=bool(col.primary_key or col.name.endswith("_id")))
    _raw, bounds, _valid = _utf8(clean)
    if len(clean) and np.diff(bounds).max() > MAX_TEXT:  # bytes: at least as many as characters
        too_long = pc.greater(pc.utf8_length(clean), MAX_TEXT)
        if pc.any(too_long).as_py():
            changed -= int(pc.sum(pc.and_(too_long, pc.not_equal(clean, arr))).as_py() or 0)
            clean = pc.if_else(too_long, pa.scalar(None, pa.string()), clean)
    return clean, changed


_FAST = {sa.Date: _fast_date, sa.Integer: _fast_integer, sa.Numeric: _fast_numeric, sa.Boolean: _fast_boolean}


def fast_values(arr: pa.Array, col: sa.Column) -> tuple[pa.Array, int] | None:
    """The contract-typed values by a vectorised cast and how many text values cleaning changed,
    or None where only the exact path is sure."""
    for kind, fast in _FAST.items():
        if isinstance(col.type, kind):
            values = fast(arr)
            return None if values is None else (values, 0)
    return _fast_text(arr, col)


def _arrow_ids(arr: pa.Array) -> pa.Array | None:
    """Person ids stripped as the exact path does (no hidden-character cleaning), or None when
    the column is not text."""
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    return _strip(arr.cast(pa.string()), hidden=False, strip=True)[0]


def luhn_flags(ids: pa.Array) -> pa.Array:
    """``luhn_valid`` of the ids (12 ASCII digits, a correct check digit), False for nulls; on
    the bytes with numpy."""
    raw, bounds, valid = _utf8(ids)
    shaped = valid & (np.diff(bounds) == 12)
    shaped &= ~_rows_with(raw, bounds, (raw < 0x30) | (raw > 0x39))
    result = np.zeros(len(ids), dtype=bool)
    if shaped.any():
        starts = bounds[:-1][shaped].astype(np.int64)
        digits = raw[starts[:, None] + np.arange(12)].astype(np.int64) - ord("0")
        prod = digits[:, 2:11] * np.array([2, 1, 2, 1, 2, 1, 2, 1, 2])
        prod = np.where(prod > 9, prod - 9, prod)
        result[shaped] = (10 - prod.sum(axis=1) % 10) % 10 == digits[:, 11]
    return pa.array(result)


def pseudonymise_arrow(ids: pa.Array, key: bytes, cache: dict[str, str]) -> pa.Array:
    """``pseudonymise`` for an Arrow array: one HMAC per distinct id (cached over chunks), taken
    back by the dictionary's indices; nulls stay null."""
    encoded = pc.dictionary_encode(ids.cast(pa.string()))
    names = cached_pseudonyms(encoded.dictionary.to_pylist(), key, cache)
    return pa.array(names, type=pa.string()).take(encoded.indices)


def _type_errors(n: int, failures: list[tuple[str, np.ndarray]]) -> pa.Array:
    """``col;col;`` of the columns whose value became null, per row; null where none did."""
    failures = [(name, f) for name, f in failures if f.any()]
    if not failures:
        return pa.nulls(n, pa.string())
    text = np.full(n, "", dtype=object)
    for name, failed in failures:
        text[failed] = text[failed] + (name + ";")
    return pa.array(text, type=pa.string(), mask=text == "")


def transform_arrow(
    raw: pa.Table,
    table: sa.Table,
    key: bytes,
    schema: pa.Schema,
    exact,
    pseudonyms: dict[str, str],
    cleaned: dict[str, int] | None = None,
    *,
    fast: bool = True,
) -> pa.Table:
    """``transform_chunk`` of an Arrow chunk: the same staged values, column by column by the
    fast path or by ``exact`` (``extract._coerce``); ``fast=False`` forces the exact path."""
    n = raw.num_rows
    out: dict[str, pa.Array] = {}
    failures: list[tuple[str, np.ndarray]] = []
    person_cols = source.PERSON_ID_COLUMNS.get(table.name, ())
    staff_cols = source.STAFF_ID_COLUMNS.get(table.name, ())
    for col in table.columns:
        target = schema.field(col.name).type
        if col.name not in raw.column_names:
            values = pa.nulls(n, target)
            ids = values.cast(pa.string())
        else:
            arr = raw.column(col.name).combine_chunks()
            done = fast_values(arr, col) if fast else None
            ids = _arrow_ids(arr) if fast and col.name in person_cols else None
            series = None
            if done is None or (col.name in person_cols and ids is None):
                series = python_values(arr)
            if done is None:
                coerced = exact(series, col)
                failures.append((col.name, (series.notna() & coerced.isna()).to_numpy(dtype=bool)))
                changed = 0
                if coerced.dtype == "string":
                    changed = int((coerced.notna() & (coerced != series.astype("string"))).sum())
                values = pa.array(coerced, type=target, from_pandas=True)
            else:
                values, changed = done
                if values.null_count != arr.null_count:  # a value became null: a type error
                    failures.append((col.name, _mask(pc.and_(arr.is_valid(), values.is_null()))))
            if cleaned is not None and changed:
                cleaned[col.name] = cleaned.get(col.name, 0) + changed
            if col.name in person_cols and ids is None:
                ids = pa.array(series.astype("string").str.strip(), type=pa.string(), from_pandas=True)
        if col.name in person_cols:
            out[col.name + "_luhn_ok"] = luhn_flags(ids) if fast else _exact_luhn(ids)
            values = pseudonymise_arrow(ids, key, pseudonyms)
        elif col.name in staff_cols:
            values = pseudonymise_arrow(values, key, pseudonyms)
        out[col.name] = values.cast(target)
    out["_type_errors"] = _type_errors(n, failures)
    return pa.Table.from_arrays([out[name] for name in schema.names], schema=schema)


def _exact_luhn(ids: pa.Array) -> pa.Array:
    series = pd.Series(ids.to_pylist(), dtype="string")
    return pa.array(luhn_valid(series).mask(series.isna(), False).to_numpy(dtype=bool))


def read_ahead(chunks: Iterator[pa.Table], depth: int = 2) -> Iterator[pa.Table]:
    """``chunks``, read by a thread while the caller transforms and writes the ones before (the
    driver and Parquet release the GIL, so the two overlap on two cores); at most ``depth``
    chunks wait, so memory stays a few chunks. A read error is raised in the caller."""
    waiting: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(item) -> None:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def work() -> None:
        try:
            for chunk in chunks:
                put(chunk)
                if stop.is_set():
                    return
            put(end)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, who raises it
            put(exc)

    reader = threading.Thread(target=work, name="extract-read", daemon=True)
    reader.start()
    try:
        while (item := waiting.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()
        chunks.close()


class WriteBehind:
    """Writes each chunk in a thread while the caller transforms the next (Parquet's encoding
    releases the GIL): one write at a time, in order, so the file is the same; a write error is
    raised at the next chunk or on leaving, and leaving waits for the last write."""

    def __init__(self, writer: pq.ParquetWriter) -> None:
        self.writer = writer
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="extract-write")
        self.pending: Future | None = None

    def __call__(self, table: pa.Table) -> None:
        self._wait()
        self.pending = self.pool.submit(self.writer.write_table, table)

    def _wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._wait()
        finally:
            self.pool.shutdown(wait=True)


def read_postgres(
    engine: sa.Engine,
    stmt: sa.Select,
    chunk_rows: int,
    setup: list[str],
    snapshot: source_changes.ReadSnapshot | None = None,
) -> Iterator[pa.Table]:
    """``stmt`` read through the ADBC PostgreSQL driver (a binary COPY), ``chunk_rows`` at a time,
    after the session ``setup`` statements, in one ``REPEATABLE READ`` transaction: after the last
    row, ``snapshot`` gets the fingerprint of its tables as the rows were read
    (etl/source_changes.py)."""
    compiled = stmt.compile(dialect=engine.dialect)
    with engine.connect() as conn:  # COPY takes no bound parameters: psycopg inlines them
        query = psycopg.ClientCursor(conn.connection.driver_connection).mogrify(
            str(compiled), compiled.params
        )
    uri = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with adbc_driver_postgresql.dbapi.connect(uri, autocommit=True) as adbc, adbc.cursor() as cur:
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")  # the snapshot: at the COPY
        for statement in setup:
            cur.execute(statement)
        cur.execute(query)
        yield from rechunk(iter(cur.fetch_record_batch()), chunk_rows)
        if snapshot is not None:
            try:
                cur.execute(source_changes.fingerprint_sql(snapshot.tables, engine.dialect))
                snapshot.taken = source_changes.as_fingerprint(cur.fetchall())
            except adbc_driver_manager.Error:
                pass  # no xmin (a view, a foreign table): the window is counted instead
        cur.execute("COMMIT")  # after a failed fingerprint: a rollback of the read-only transaction
