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
from collections.abc import Iterator

import adbc_driver_postgresql.dbapi
import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from etl import source
from etl.pseudonym import cached_pseudonyms, luhn_valid

_HIDDEN_RE2 = r"[\x00-\x1f\x7f\x{200e}\x{200f}\x{202a}-\x{202e}\x{2066}-\x{2069}]"
"""extract._HIDDEN in RE2's syntax (Arrow's regular expressions)."""
_EDGE_RE2 = r"^[^!-~]|[^!-~]$"
"""A first or last character that is not printable ASCII: only such a value can change by strip()."""
_PLAIN_DECIMAL = r"^-?[0-9]+(\.[0-9]+)?$"
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
    if not _is_numeric(arr):
        return None
    text = arr.storage
    plain = pc.and_(
        pc.match_substring_regex(text, _PLAIN_DECIMAL),
        pc.less_equal(pc.utf8_length(text), _MAX_DECIMAL_CHARS),
    )
    if pc.all(plain).as_py() not in (True, None):
        return None
    return text.cast(pa.float64())


def _fast_boolean(arr: pa.Array):
    return arr if arr.type == pa.bool_() else None


def _strip(arr: pa.Array, *, hidden: bool, strip: bool) -> pa.Array:
    """``arr`` with hidden characters removed and/or stripped, as the exact path does it; only
    the values that can change (a hidden character, a non-ASCII or blank first/last character)
    go through Python, the rest are kept as they are."""
    patterns = ([_HIDDEN_RE2] if hidden else []) + ([_EDGE_RE2] if strip else [])
    if not patterns:
        return arr
    touched = _mask(pc.match_substring_regex(arr, "|".join(patterns)))
    if not touched.any():
        return arr
    rows = np.flatnonzero(touched)
    from etl.extract import _HIDDEN

    text = pd.Series(arr.take(pa.array(rows)).to_pylist(), dtype="string")
    if hidden:
        text = text.str.replace(_HIDDEN, "", regex=True)
    if strip:
        text = text.str.strip()
    return pc.replace_with_mask(arr, pa.array(touched), pa.array(text, type=pa.string(), from_pandas=True))


def _fast_text(arr: pa.Array, col: sa.Column):
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    from etl.extract import MAX_TEXT

    arr = arr.cast(pa.string())
    clean = _strip(arr, hidden=True, strip=bool(col.primary_key or col.name.endswith("_id")))
    too_long = pc.greater(pc.utf8_length(clean), MAX_TEXT)
    if pc.any(too_long).as_py():
        clean = pc.if_else(too_long, pa.scalar(None, pa.string()), clean)
    return clean


_FAST = {sa.Date: _fast_date, sa.Integer: _fast_integer, sa.Numeric: _fast_numeric, sa.Boolean: _fast_boolean}


def fast_values(arr: pa.Array, col: sa.Column) -> pa.Array | None:
    """The contract-typed values by a vectorised cast, or None where only the exact path is sure."""
    for kind, fast in _FAST.items():
        if isinstance(col.type, kind):
            return fast(arr)
    return _fast_text(arr, col)


def _arrow_ids(arr: pa.Array) -> pa.Array | None:
    """Person ids stripped as the exact path does (no hidden-character cleaning), or None when
    the column is not text."""
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    return _strip(arr.cast(pa.string()), hidden=False, strip=True)


def luhn_flags(ids: pa.Array) -> pa.Array:
    """``luhn_valid`` of the ids, False for nulls; numpy on the ASCII digits when all are ASCII."""
    if pc.all(pc.string_is_ascii(ids)).as_py() not in (True, None):
        series = pd.Series(ids.to_pylist(), dtype="string")
        return pa.array(luhn_valid(series).mask(series.isna(), False).to_numpy(dtype=bool))
    shaped = _mask(pc.match_substring_regex(ids, r"^[0-9]{12}$"))
    result = np.zeros(len(ids), dtype=bool)
    if shaped.any():
        good = ids.filter(pa.array(shaped))  # 12 ASCII bytes each, one after the other
        start = int(np.frombuffer(good.buffers()[1], dtype=np.int32)[good.offset])
        data = np.frombuffer(good.buffers()[2], dtype=np.uint8)[start : start + 12 * len(good)]
        digits = data.reshape(-1, 12).astype(np.int64) - ord("0")
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
            values = fast_values(arr, col) if fast else None
            ids = _arrow_ids(arr) if fast and col.name in person_cols else None
            series = None
            if values is None or (col.name in person_cols and ids is None):
                series = python_values(arr)
            if values is None:
                coerced = exact(series, col)
                failures.append((col.name, (series.notna() & coerced.isna()).to_numpy(dtype=bool)))
                changed = 0
                if coerced.dtype == "string":
                    changed = int((coerced.notna() & (coerced != series.astype("string"))).sum())
                values = pa.array(coerced, type=target, from_pandas=True)
            else:
                failures.append((col.name, _mask(pc.and_(arr.is_valid(), values.is_null()))))
                changed = 0
                if pa.types.is_string(values.type):
                    changed = int(pc.sum(pc.not_equal(values, arr.cast(pa.string()))).as_py() or 0)
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


def read_postgres(
    engine: sa.Engine, stmt: sa.Select, chunk_rows: int, setup: list[str]
) -> Iterator[pa.Table]:
    """``stmt`` read through the ADBC PostgreSQL driver (a binary COPY), ``chunk_rows`` at a time,
    after the session ``setup`` statements."""
    compiled = stmt.compile(dialect=engine.dialect)
    with engine.connect() as conn:  # COPY takes no bound parameters: psycopg inlines them
        query = psycopg.ClientCursor(conn.connection.driver_connection).mogrify(
            str(compiled), compiled.params
        )
    uri = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with adbc_driver_postgresql.dbapi.connect(uri) as adbc, adbc.cursor() as cur:
        for statement in setup:
            cur.execute(statement)
        cur.execute(query)
        yield from rechunk(iter(cur.fetch_record_batch()), chunk_rows)
