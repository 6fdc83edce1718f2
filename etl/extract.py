"""Extraction: stream one source table for a period into staging, pseudonymising person ids.

PostgreSQL is read straight into Arrow through the ADBC driver (a binary COPY underneath) and
coerced with vectorised casts where they provably agree with the exact coercion here
(etl/extract_arrow.py); other databases are read with SQLAlchemy Core through a server-side
cursor. Either way the rows come in chunks, each written straight to a Parquet row group (on the
fast path by a thread, while the next chunk is read and coerced), so memory stays at a few
chunks whatever the table's size, and the staged bytes are the same.
Values are coerced to the contract's types here: a value that does not fit (text in a numeric
column, an impossible date) becomes null and the row is flagged in ``_type_errors`` for
validation; no row is dropped at this stage. Columns missing from or added to the source are
recorded in the table's meta file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import adbc_driver_manager
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from etl import extract_arrow, source, source_changes, staging, windows
from etl.periods import Period
from etl.pseudonym import luhn_valid, pseudonymise
from etl.text_rules import HIDDEN, MAX_TEXT

log = logging.getLogger(__name__)

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
    cleaned: dict[str, int] = field(default_factory=dict)
    """Per column: values changed by cleaning (hidden characters removed, ids trimmed)."""

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


def _local_days(raw: pd.Series) -> pd.Series:
    """Timestamps with a time zone (PostgreSQL ``timestamptz``) as the unit's local dates: the
    UTC text of 2018-05-01 00:30 in Stockholm is 2018-04-30, a day (and a period) too early."""
    first = raw.dropna().head(1)
    if first.empty or not (isinstance(first.iloc[0], dt.datetime) and first.iloc[0].tzinfo is not None):
        return raw
    from etl.settings import settings

    tz = ZoneInfo(settings().timezone)
    return raw.map(lambda v: v.astimezone(tz).date() if isinstance(v, dt.datetime) and v.tzinfo else v)


def _coerce(raw: pd.Series, col: sa.Column) -> pd.Series:
    """Convert raw driver values to the contract type; unconvertible values become null."""
    t = col.type
    if isinstance(t, sa.Date):
        raw = _local_days(raw)
        text = raw.astype("string").str.slice(0, 10)
        return pd.to_datetime(text, errors="coerce", format="%Y-%m-%d").astype("datetime64[s]")
    if isinstance(t, sa.Integer):
        num = pd.to_numeric(raw.astype("string"), errors="coerce")
        # Not whole, or beyond 64 bits (it would wrap to -9223372036854775808): a type error.
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
        text = text.str.strip()  # 'P1' and 'P1 ' are one id: a duplicate key, not two payments
    return text.mask(text.str.len() > MAX_TEXT)


def transform_chunk(
    raw: pd.DataFrame | pa.Table,
    table: sa.Table,
    key: bytes,
    pseudonyms: dict[str, str] | None = None,
    cleaned: dict[str, int] | None = None,
    *,
    fast: bool = True,
) -> pd.DataFrame | pa.Table:
    """Coerce types, flag failures, pseudonymise ids. Returns the staged columns in order.

    ``pseudonyms`` carries already computed pseudonyms from chunk to chunk (ids repeat);
    ``cleaned`` (column -> count) collects the text values that cleaning changed. An Arrow chunk
    (the PostgreSQL read) gives an Arrow table of the same values (etl/extract_arrow.py), coerced
    by vectorised casts where they provably agree with this exact path (``fast=False``: never).
    """
    if isinstance(raw, pa.Table):
        schema = staging_schema(table)
        return extract_arrow.transform_arrow(
            raw, table, key, schema, _coerce, pseudonyms or {}, cleaned, fast=fast
        )
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
            if cleaned is not None and values.dtype == "string":
                changed = int((values.notna() & (values != raw[col.name].astype("string"))).sum())
                if changed:
                    cleaned[col.name] = cleaned.get(col.name, 0) + changed
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


def session_setup(dialect: str) -> list[str]:
    """Statements run first in every read session on the source (benchmarks/ runs them before
    its COPY too): PostgreSQL's ``work_mem`` large enough for the windows' hashed subqueries."""
    if dialect != "postgresql":
        return []
    from etl.settings import settings

    return [f"SET work_mem = '{settings().pipeline.extract.source_work_mem_mb}MB'"]


def _source_engine(url: str) -> sa.Engine:
    """The source's engine (a missing SQLite file is an error), each connection set up."""
    engine = sa.create_engine(source.read_only(url))
    setup = session_setup(engine.dialect.name)
    if setup:

        @sa.event.listens_for(engine, "connect")
        def _setup(dbapi_connection, _record) -> None:
            with dbapi_connection.cursor() as cur:
                for statement in setup:
                    cur.execute(statement)
            dbapi_connection.commit()

    return engine


def _arrow_readable(engine: sa.Engine) -> bool:
    """PostgreSQL through psycopg: the source the ADBC fast path reads (others: row by row)."""
    return engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"


_DRIVER_ERRORS = (adbc_driver_manager.Error, psycopg.Error)
"""The ADBC driver's and psycopg's errors: source errors like SQLAlchemy's own."""


def _reconcile(
    engine: sa.Engine,
    name: str,
    stmt: sa.Select,
    rows: int,
    snapshot: source_changes.ReadSnapshot | None = None,
) -> None:
    """Rows read must equal a ``COUNT(*)`` of the same window, counted after the read in its
    own transaction: a difference means the source changed while it was read (a load running
    into the night), and a half-old, half-new extract must not become a report. When the
    ``snapshot`` fingerprint shows the tables unchanged since the read, the count is the rows
    read and is not run again (etl/source_changes.py)."""
    counted = sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    with engine.connect() as conn:
        if snapshot is not None and snapshot.unchanged(conn):
            return
        if engine.dialect.name == "postgresql":
            # Serial: each parallel worker would hash the windows' IN-subqueries again (the count
            # of application took 18.6 s in parallel, 12.4 s serial at national scale).
            conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
        expected = conn.execute(counted).scalar_one()
    if expected != rows:
        raise ExtractError(
            f"Tabellen {name!r} ändrades under läsningen: {rows} rader lästa, men källan har nu "
            f"{expected} rader i samma urval. Inget är sparat. Gör så här: vänta tills källans "
            "laddning eller rättning är klar och kör om extraheringen (Airflow försöker igen av sig "
            "själv; i kommandoraden: kör om run). Upprepas det, kontrollera vad som skriver i "
            "källdatabasen under körningen."
        )


def read_statement(inspector, name: str, period: Period) -> tuple[sa.Select, list[str]]:
    """The SELECT extraction runs for ``name`` and the table's columns (benchmarks/ times a COPY
    of the very same statement as the baseline)."""
    present = [c["name"] for c in inspector.get_columns(name)]

    def columns(table: str) -> set[str] | None:
        if table == name:
            return set(present)
        return {c["name"] for c in inspector.get_columns(table)} if inspector.has_table(table) else None

    wanted = [c.name for c in source.TABLES[name].columns]
    # Untyped columns: the driver's raw values, so a bad value cannot crash the read.
    tbl = sa.table(name, *[sa.column(c) for c in present])
    stmt = sa.select(*[tbl.c[c] for c in present])
    clause = windows.clause(name, period, columns, tbl)  # the definitions' windows (etl/windows.py)
    if clause is not None:
        stmt = stmt.where(clause)
    order = [c for c in wanted if c in present]
    return stmt.order_by(*[tbl.c[c] for c in order]), present


def extract_table(
    source_url: str,
    name: str,
    period: Period,
    run: Path,
    key: bytes,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    path: str = "fast",
) -> ExtractResult:
    """Stream ``name`` for ``period`` from the source into ``run``/raw, pseudonymised.

    PostgreSQL (psycopg) is read into Arrow through ADBC and coerced vectorised (``path="fast"``,
    or ``"arrow-exact"``: every column value by value); other databases, or ``path="rows"``, are
    read row by row through SQLAlchemy. All give the same bytes (tests/test_extract_paths.py).
    """
    contract = source.TABLES[name]
    out_path = staging.table_path(run, staging.RAW, name)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    engine = _source_engine(source_url)
    try:
        inspector = sa.inspect(engine)
        if not set(inspector.get_table_names()) & set(source.TABLES):
            raise ExtractError(
                f"Tabellen {name!r} kunde inte läsas: källdatabasen har ingen av källtabellerna "
                f"({engine.url.render_as_string()}) – fel databas, schema eller en tom fil. {SOURCE_ACTION}"
            )
        if not inspector.has_table(name):
            result = ExtractResult(name, 0, str(out_path), table_missing=True)
            with staging.atomic_path(out_path) as tmp:
                pq.write_table(staging_schema(contract).empty_table(), tmp)
            staging.write_json(staging.meta_path(run, staging.RAW, name), result.to_dict())
            return result
        stmt, present = read_statement(inspector, name, period)
        wanted = [c.name for c in contract.columns]
        rows = type_errors = 0
        schema = staging_schema(contract)
        pseudonyms: dict[str, str] = {}
        cleaned: dict[str, int] = {}
        snapshot = None
        with (
            staging.atomic_path(out_path) as tmp,  # a killed or failed read leaves no partial file
            engine.connect() as conn,
            pq.ParquetWriter(tmp, schema) as writer,
        ):
            if path != "rows" and _arrow_readable(engine):
                snapshot = source_changes.ReadSnapshot(source_changes.tables_read(stmt))
                read = extract_arrow.read_postgres(
                    engine, stmt, chunk_rows, session_setup(engine.dialect.name), snapshot
                )
                with (
                    contextlib.closing(extract_arrow.read_ahead(read)) as chunks,  # the reader ends here
                    extract_arrow.WriteBehind(writer) as write,
                ):
                    for raw in chunks:
                        staged = transform_chunk(raw, contract, key, pseudonyms, cleaned, fast=path == "fast")
                        type_errors += staged.num_rows - staged.column(TYPE_ERRORS).null_count
                        rows += staged.num_rows
                        write(staged)
            else:
                result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(stmt)
                for part in result.partitions():
                    # Plain tuples: pandas probes each SQLAlchemy Row for a dtype, which costs ~10x
                    # the whole construction (docs/benchmarks.md).
                    raw = pd.DataFrame([tuple(row) for row in part], columns=present, dtype=object)
                    chunk = transform_chunk(raw, contract, key, pseudonyms, cleaned)
                    type_errors += int(chunk[TYPE_ERRORS].notna().sum())
                    rows += len(chunk)
                    writer.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False))
            _reconcile(engine, name, stmt, rows, snapshot)  # inside the block: a mismatch keeps no file
    except (sa.exc.SQLAlchemyError, *_DRIVER_ERRORS) as exc:
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
        cleaned=cleaned,
    )
    for column, n in sorted(cleaned.items()):
        log.warning("%s.%s: %d värden rensade (dolda tecken borttagna, id utan blanksteg)", name, column, n)
    staging.write_json(staging.meta_path(run, staging.RAW, name), res.to_dict())
    return res
