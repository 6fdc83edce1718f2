"""The extraction as it was before the Arrow fast path (issue 17), kept frozen as the reference
its output must equal byte for byte: rows read through SQLAlchemy, coerced value by value with
pandas, pseudonymised with ``hmac.new`` and ``base64.b32encode``. Not used by the project."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from etl import source
from etl.extract import read_statement, staging_schema
from etl.periods import Period
from etl.pseudonym import luhn_valid

MAX_TEXT = 1_000
HIDDEN = r"[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]"
TIMEZONE = "Europe/Stockholm"


def pseudonymise(ids: pd.Series, key: bytes, cache: dict[str, str]) -> pd.Series:
    s = ids.astype("string")
    for u in s.dropna().unique():
        if u not in cache:
            digest = hmac.new(key, u.encode("utf-8"), hashlib.sha256).digest()
            cache[u] = "p" + base64.b32encode(digest).decode("ascii")[:26].lower()
    return s.map(cache).astype("string")


def _local_days(raw: pd.Series) -> pd.Series:
    first = raw.dropna().head(1)
    if first.empty or not (isinstance(first.iloc[0], dt.datetime) and first.iloc[0].tzinfo is not None):
        return raw
    tz = ZoneInfo(TIMEZONE)
    return raw.map(lambda v: v.astimezone(tz).date() if isinstance(v, dt.datetime) and v.tzinfo else v)


def _coerce(raw: pd.Series, col: sa.Column) -> pd.Series:
    t = col.type
    if isinstance(t, sa.Date):
        text = _local_days(raw).astype("string").str.slice(0, 10)
        return pd.to_datetime(text, errors="coerce", format="%Y-%m-%d").astype("datetime64[s]")
    if isinstance(t, sa.Integer):
        num = pd.to_numeric(raw.astype("string"), errors="coerce")
        whole = num.where(num.isna() | ((num == num.round()) & (num.abs() < 2**63)))
        return whole.astype("Int64")
    if isinstance(t, sa.Numeric):
        return pd.to_numeric(raw.astype("string"), errors="coerce").astype("float64")
    if isinstance(t, sa.Boolean):
        text = raw.astype("string").str.strip().str.lower()
        mapped = text.map({"1": True, "true": True, "t": True, "0": False, "false": False, "f": False})
        return mapped.astype("boolean")
    text = raw.astype("string").str.replace(HIDDEN, "", regex=True)
    if col.primary_key or col.name.endswith("_id"):
        text = text.str.strip()
    return text.mask(text.str.len() > MAX_TEXT)


def transform_chunk(raw: pd.DataFrame, table: sa.Table, key: bytes, pseudonyms: dict, cleaned: dict):
    out = pd.DataFrame(index=raw.index)
    errors = pd.Series("", index=raw.index, dtype="string")
    person_cols = source.PERSON_ID_COLUMNS.get(table.name, ())
    staff_cols = source.STAFF_ID_COLUMNS.get(table.name, ())
    for col in table.columns:
        if col.name not in raw.columns:
            out[col.name] = pd.Series(pd.NA, index=raw.index)
            values = out[col.name]
        else:
            values = _coerce(raw[col.name], col)
            failed = raw[col.name].notna() & values.isna()
            errors = errors.mask(failed, errors + col.name + ";")
            if values.dtype == "string":
                changed = int((values.notna() & (values != raw[col.name].astype("string"))).sum())
                if changed:
                    cleaned[col.name] = cleaned.get(col.name, 0) + changed
        if col.name in person_cols:
            ids = raw[col.name].astype("string").str.strip() if col.name in raw.columns else values
            out[col.name + "_luhn_ok"] = luhn_valid(ids).mask(ids.isna(), False)
            values = pseudonymise(ids, key, pseudonyms)
        elif col.name in staff_cols:
            values = pseudonymise(values, key, pseudonyms)
        out[col.name] = values
    out["_type_errors"] = errors.mask(errors == "", pd.NA)
    return out[staging_schema(table).names]


def reference_extract(url: str, name: str, period: Period, path: Path, key: bytes, chunk_rows: int) -> dict:
    """Write ``name``'s staged Parquet to ``path`` the old way; the counts the meta file holds."""
    contract = source.TABLES[name]
    schema = staging_schema(contract)
    engine = sa.create_engine(url)
    pseudonyms: dict[str, str] = {}
    cleaned: dict[str, int] = {}
    rows = type_errors = 0
    try:
        stmt, present = read_statement(sa.inspect(engine), name, period)
        with engine.connect() as conn, pq.ParquetWriter(path, schema) as writer:
            result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(stmt)
            for part in result.partitions():
                raw = pd.DataFrame([tuple(row) for row in part], columns=present, dtype=object)
                chunk = transform_chunk(raw, contract, key, pseudonyms, cleaned)
                type_errors += int(chunk["_type_errors"].notna().sum())
                rows += len(chunk)
                writer.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False))
    finally:
        engine.dispose()
    return {"rows": rows, "type_errors": type_errors, "cleaned": cleaned}
