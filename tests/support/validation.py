"""Tiny staging folders for the validation tests, written the way extraction writes them.

``transform_chunk`` + the staging schema, so ids are pseudonymised and ``_luhn_ok``/``_type_errors``
are set exactly as in a real run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from etl import source, staging
from etl.extract import staging_schema, transform_chunk
from etl.pseudonym import luhn_check_digit
from etl.settings import Validation, settings
from etl.validation.report import TableReport
from etl.validation.run import validate_run

KEY = b"unit-test-pseudonym-key-0123456789"
D = dt.date
FEB = D(2018, 2, 1)


def cfg(*, quarantine_stop: bool = True) -> Validation:
    """The configured validation settings without Data Docs (and, if asked, without the share stop)."""
    base = settings().validation
    quarantine = base.quarantine.model_copy(update={"stop_enabled": quarantine_stop})
    return base.model_copy(update={"data_docs": False, "quarantine": quarantine})


def pnr(serial: int, female: bool = True) -> str:
    body = "850505" + f"{serial:02d}" + ("2" if female else "1")
    return "19" + body + str(luhn_check_digit(body))


def stage(run: Path, name: str, rows: list[dict], *, drop: tuple[str, ...] = (), extra: tuple[str, ...] = ()):
    """Write ``rows`` as extraction would: contract types, pseudonyms, flags, meta file."""
    contract = source.TABLES[name]
    cols = [c.name for c in contract.columns if c.name not in drop]
    raw = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols, dtype=object)
    chunk = transform_chunk(raw, contract, KEY)
    path = staging.table_path(run, staging.RAW, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(chunk, schema=staging_schema(contract), preserve_index=False), path)
    meta = {"table": name, "rows": len(rows), "path": str(path), "table_missing": False,
            "columns_missing": sorted(drop), "columns_extra": sorted(extra), "type_errors": 0}  # fmt: skip
    staging.write_json(staging.meta_path(run, staging.RAW, name), meta)


def stage_missing(run: Path, name: str) -> None:
    path = staging.table_path(run, staging.RAW, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(staging_schema(source.TABLES[name]).empty_table(), path)
    staging.write_json(
        staging.meta_path(run, staging.RAW, name), {"table": name, "rows": 0, "table_missing": True}
    )


def households(*ids: str) -> list[dict]:
    return [
        {"household_id": h, "district_code": "KUN", "household_type": 3, "opened_on": D(2017, 1, 1)}
        for h in ids
    ]


def payment(pid, household="H1", month=FEB, amount=1000.0, application=None, paid=None) -> dict:
    return {"payment_id": pid, "household_id": household, "application_id": application,
            "benefit_month": month, "paid_on": paid or month, "amount_sek": amount}  # fmt: skip


def report_of(run: Path, table: str, config: Validation | None = None, period=None) -> TableReport:
    reports = validate_run(run, [table], cfg=config or cfg(), period=period)
    return next(r for r in reports if r.table == table)


def quarantine(run: Path, table: str) -> pd.DataFrame:
    return pd.read_parquet(staging.table_path(run, staging.QUARANTINE, table))


def validated(run: Path, table: str) -> pd.DataFrame:
    return pd.read_parquet(staging.table_path(run, staging.VALIDATED, table))
