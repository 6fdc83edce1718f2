"""Writing the demo tables: refuse non-empty source tables, then one transaction per database.

PostgreSQL gets COPY (Arrow's CSV writer, fast at national scale); other dialects executemany.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import sqlalchemy as sa

from demo.calibration import SCALES
from demo.tables import build
from etl import source


def _nonempty_tables(conn: sa.Connection) -> list[str]:
    inspector = sa.inspect(conn)
    return [
        name
        for name, table in source.TABLES.items()
        if inspector.has_table(name)
        and conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first()
    ]


def _python_column(series: pd.Series, column: sa.Column) -> np.ndarray:
    """Values the DBAPI accepts for ``column``: dates, floats, ints, bools, str; None for missing."""
    if isinstance(column.type, sa.Date):
        return series.to_numpy(dtype="datetime64[D]").astype(object)
    missing = series.isna().to_numpy()
    if isinstance(column.type, sa.Numeric):
        values = series.to_numpy(dtype=float).round(4).astype(object)
    elif isinstance(column.type, sa.Integer):
        values = series.fillna(0).to_numpy(dtype=np.int64).astype(object)
    elif isinstance(column.type, sa.Boolean):
        values = series.fillna(False).to_numpy(dtype=bool).astype(object)
    else:
        values = series.to_numpy(dtype=object).copy()
    values[missing] = None
    return values


def _write_executemany(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame, chunk: int) -> None:
    cols = [c.name for c in table.columns]
    arrays = [_python_column(frame[c], table.c[c]) for c in cols]
    for lo in range(0, len(frame), chunk):
        rows = zip(*(a[lo : lo + chunk] for a in arrays), strict=True)
        records = [dict(zip(cols, row, strict=True)) for row in rows]
        conn.execute(table.insert(), records)


def _arrow_table(frame: pd.DataFrame, table: sa.Table) -> pa.Table:
    """The frame as Arrow, dates as date32, so Arrow's C++ CSV writer can format it quickly."""
    columns = {}
    for column in table.columns:
        values = frame[column.name]
        if isinstance(column.type, sa.Date):
            columns[column.name] = pa.array(
                values.to_numpy(dtype="datetime64[D]"), pa.date32(), from_pandas=True
            )
        else:
            columns[column.name] = pa.array(values, from_pandas=True)
    return pa.table(columns)


def _write_copy(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame, chunk: int) -> None:
    """PostgreSQL COPY FROM STDIN in CSV (an empty unquoted field is NULL), chunk by chunk."""
    quote = conn.dialect.identifier_preparer.quote
    cols = ", ".join(quote(c.name) for c in table.columns)
    arrow = _arrow_table(frame, table)
    options = pa_csv.WriteOptions(include_header=False)
    dbapi = conn.connection.driver_connection
    with (
        dbapi.cursor() as cur,
        cur.copy(f"COPY {quote(table.name)} ({cols}) FROM STDIN (FORMAT csv)") as copy,
    ):
        for lo in range(0, len(frame), chunk):
            buf = io.BytesIO()
            pa_csv.write_csv(arrow.slice(lo, chunk), buf, options)
            copy.write(buf.getvalue())


def generate(
    url: str, *, scale: str = "unit", seed: int = 2018, years: tuple[int, ...] = (2017, 2018, 2019)
) -> dict[str, int]:
    """Create the source tables at ``url`` and fill them with seeded demo data; rows per table.

    Refuses (ValueError) when any source table already holds rows, so data is never duplicated.
    Everything is written in one transaction.
    """
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            filled = _nonempty_tables(conn)
        if filled:
            raise ValueError(
                "Databasen innehåller redan data i " + ", ".join(filled) + ": demodata skrivs bara "
                "till tomma källtabeller (töm dem eller välj en ny databas)."
            )
        tables = build(scale, seed=seed, years=years)
        chunk = SCALES[scale].write_chunk_rows
        with engine.begin() as conn:
            source.metadata.create_all(conn)
            if _nonempty_tables(conn):
                raise ValueError("Källtabellerna fick data under genereringen; inget skrevs.")
            writer = _write_copy if conn.dialect.name == "postgresql" else _write_executemany
            for name, frame in tables.items():
                writer(conn, source.TABLES[name], frame, chunk)
    finally:
        engine.dispose()
    return {name: len(frame) for name, frame in tables.items()}

