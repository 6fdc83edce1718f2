"""Extraction: stream one source table for a period into staging, pseudonymising person ids.

The source is read with SQLAlchemy Core through a server-side cursor (``stream_results``) in
chunks, each chunk written straight to a Parquet row group, so memory stays at one chunk
whatever the table's size. Values are read untyped and coerced to the contract's types here:
a value that does not fit (text in a numeric column, an impossible date) becomes null and the
row is flagged in ``_type_errors`` for validation; no row is dropped at this stage. Columns
missing from or added to the source are recorded in the table's meta file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from etl import source, staging, windows
from etl.periods import Period
from etl.pseudonym import luhn_valid, pseudonymise

DEFAULT_CHUNK_ROWS = 50_000
TYPE_ERRORS = "_type_errors"
LUHN_SUFFIX = "_luhn_ok"

SOURCE_ACTION = (
    "Gör så här: kontrollera anslutningen eb_source (Admin → Connections) och att källdatabasen är "
    "igång och nåbar; Airflow försöker igen av sig själv, och efter sista försöket får driften ett larm."
)


class ExtractError(RuntimeError):
    """The source could not be read at all (a source error, retried; not bad data)."""


@dataclass
class ExtractResult:
    table: str
    rows: int
    path: str
    columns_missing: list[str] = field(default_factory=list)
    columns_extra: list[str] = field(default_factory=list)
    type_errors: int = 0
    table_missing: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def _arrow_type(col: sa.Column) -> pa.DataType:
    t = col.type
    if isinstance(t, sa.Integer):
        return pa.int64()
    if isinstance(t, sa.Numeric):
        return pa.float64()
    if isinstance(t, sa.Date):
        return pa.timestamp("s")
    if isinstance(t, sa.Boolean):
        return pa.bool_()
    return pa.string()


def staging_schema(table: sa.Table) -> pa.Schema:
    """The staged form of a contract table: contract types, ids pseudonymised, flags added."""
    fields = []
    person_cols = source.PERSON_ID_COLUMNS.get(table.name, ())
    for col in table.columns:
        fields.append(pa.field(col.name, _arrow_type(col)))
        if col.name in person_cols:
            fields.append(pa.field(col.name + LUHN_SUFFIX, pa.bool_()))
    fields.append(pa.field(TYPE_ERRORS, pa.string()))
    return pa.schema(fields)


def _coerce(raw: pd.Series, col: sa.Column) -> pd.Series:
    """Convert raw driver values to the contract type; unconvertible values become null."""
    t = col.type
    if isinstance(t, sa.Date):
        text = raw.astype("string").str.slice(0, 10)
        return pd.to_datetime(text, errors="coerce", format="%Y-%m-%d").astype("datetime64[s]")
    if isinstance(t, sa.Integer):
        num = pd.to_numeric(raw.astype("string"), errors="coerce")
        whole = num.where(num.isna() | (num == num.round()))
        return whole.astype("Int64")
    if isinstance(t, sa.Numeric):
        return pd.to_numeric(raw.astype("string"), errors="coerce").astype("float64")
    if isinstance(t, sa.Boolean):
        text = raw.astype("string").str.strip().str.lower()
        mapped = text.map({"1": True, "true": True, "t": True, "0": False, "false": False, "f": False})
        return mapped.astype("boolean")
    return raw.astype("string")


def transform_chunk(
    raw: pd.DataFrame, table: sa.Table, key: bytes, pseudonyms: dict[str, str] | None = None
) -> pd.DataFrame:
    """Coerce types, flag failures, pseudonymise ids. Returns the staged columns in order.

    ``pseudonyms`` carries already computed pseudonyms from chunk to chunk (ids repeat).
    """
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
        if col.name in person_cols:
            ids = raw[col.name].astype("string").str.strip() if col.name in raw.columns else values
            out[col.name + LUHN_SUFFIX] = luhn_valid(ids).mask(ids.isna(), False)
            values = pseudonymise(ids, key, pseudonyms)
        elif col.name in staff_cols:
            values = pseudonymise(values, key, pseudonyms)
        out[col.name] = values
    out[TYPE_ERRORS] = errors.mask(errors == "", pd.NA)
    schema = staging_schema(table)
    return out[schema.names]


def extract_table(
    source_url: str,
    name: str,
    period: Period,
    run: Path,
    key: bytes,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> ExtractResult:
    """Stream ``name`` for ``period`` from the source into ``run``/raw, pseudonymised."""
    contract = source.TABLES[name]
    out_path = staging.table_path(run, staging.RAW, name)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(source.read_only(source_url))  # a missing SQLite file is an error
    try:
        inspector = sa.inspect(engine)
        if not set(inspector.get_table_names()) & set(source.TABLES):
            raise ExtractError(
                f"Tabellen {name!r} kunde inte läsas: källdatabasen har ingen av källtabellerna "
                f"({engine.url.render_as_string()}) – fel databas, schema eller en tom fil. {SOURCE_ACTION}"
            )
        if not inspector.has_table(name):
            result = ExtractResult(name, 0, str(out_path), table_missing=True)
            pq.write_table(staging_schema(contract).empty_table(), out_path)
            staging.write_json(staging.meta_path(run, staging.RAW, name), result.to_dict())
            return result
        present = [c["name"] for c in inspector.get_columns(name)]

        def columns(table: str) -> set[str] | None:
            if table == name:
                return set(present)
            return {c["name"] for c in inspector.get_columns(table)} if inspector.has_table(table) else None

        wanted = [c.name for c in contract.columns]
        # Untyped columns: the driver's raw values, so a bad value cannot crash the read.
        tbl = sa.table(name, *[sa.column(c) for c in present])
        stmt = sa.select(*[tbl.c[c] for c in present])
        clause = windows.clause(name, period, columns, tbl)  # the definitions' windows (etl/windows.py)
        if clause is not None:
            stmt = stmt.where(clause)
        order = [c for c in wanted if c in present]
        stmt = stmt.order_by(*[tbl.c[c] for c in order])
        rows = type_errors = 0
        schema = staging_schema(contract)
        pseudonyms: dict[str, str] = {}
        with engine.connect() as conn, pq.ParquetWriter(out_path, schema) as writer:
            result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(stmt)
            for part in result.partitions():
                # Plain tuples: pandas probes each SQLAlchemy Row for a dtype, which costs ~10x
                # the whole construction (docs/benchmarks.md).
                raw = pd.DataFrame([tuple(row) for row in part], columns=present, dtype=object)
                chunk = transform_chunk(raw, contract, key, pseudonyms)
                type_errors += int(chunk[TYPE_ERRORS].notna().sum())
                rows += len(chunk)
                writer.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False))
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        # from None: the log's error is then this line, not ~40 frames of SQLAlchemy above it.
        where = engine.url.render_as_string()  # the password hidden
        message = f"Tabellen {name!r} kunde inte läsas ur källan {where}: {reason}. {SOURCE_ACTION}"
        raise ExtractError(message) from None
    finally:
        engine.dispose()
    res = ExtractResult(
        table=name,
        rows=rows,
        path=str(out_path),
        columns_missing=sorted(set(wanted) - set(present)),
        columns_extra=sorted(set(present) - set(wanted)),
        type_errors=type_errors,
    )
    staging.write_json(staging.meta_path(run, staging.RAW, name), res.to_dict())
    return res
