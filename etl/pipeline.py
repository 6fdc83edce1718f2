"""The pipeline's steps as plain functions: each Airflow task calls one, and so does the CLI.

Data flows one way: source → staging/raw → staging/validated → statistics → published →
workbooks → archive. Steps hand each other paths in the run's staging folder, never data.
"""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from etl import archive, config, disclosure, indicators, source, staging, validate
from etl.extract import extract_table
from etl.indicators import ALL
from etl.periods import Period
from reports import workbook

log = logging.getLogger(__name__)

OUTPUT = "output"
PUBLISHED = "published.csv"
STATISTICS = "statistics.csv"


@dataclass(frozen=True)
class RunResult:
    package: Path
    workbooks: list[Path]
    archive_created: bool


@cache
def code_version() -> str:
    """The git commit of the code (or 'okänd'); recorded in manifests, not in figures."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "okänd"


def extract_step(source_url: str, table: str, period: Period, run: Path, key: bytes) -> dict:
    """Extract one table; returns its (small, personal-data-free) meta for XCom and logs."""
    cfg = config.pipeline()
    result = extract_table(source_url, table, period, run, key, chunk_rows=cfg.chunk_rows)
    log.info("Extraherade %s: %d rader till %s", table, result.rows, result.path)
    return result.to_dict()


def validate_step(run: Path) -> list[dict]:
    """Validate all staged tables; logs the compact table; raises ValidationStop on critical failures."""
    try:
        reports = validate.validate_run(run)
    except validate.ValidationStop:
        log.error("Validering:\n%s", validate.summary_table(_reports_from_json(run)))
        raise
    log.info("Validering:\n%s", validate.summary_table(reports))
    return [
        {"table": r.table, "rows_read": r.rows_read, "rows_quarantined": r.rows_quarantined} for r in reports
    ]


def _reports_from_json(run: Path) -> list[validate.TableReport]:
    return [validate.TableReport(**r) for r in staging.read_json(Path(run) / "validation.json")]


def statistics_step(run: Path, period: Period) -> dict:
    """Build statistics, the internal CSV and the published (suppressed) table."""
    cfg = config.pipeline()
    out = Path(run) / OUTPUT
    out.mkdir(parents=True, exist_ok=True)
    stats = indicators.build_statistics(run, period)
    indicators.write_statistics_csv(stats, out / STATISTICS)
    published = disclosure.publish(stats, cfg.disclosure)
    published.to_csv(out / PUBLISHED, index=False, lineterminator="\n")
    return {"statistics": str(out / STATISTICS), "published": str(out / PUBLISHED)}


def scopes() -> list[str]:
    """Recipient scopes: the whole unit and each district."""
    return [ALL, *config.pipeline().districts]


def workbook_step(run: Path, period: Period, scope: str) -> str:
    """Write the workbook for one scope from the published table."""
    published = pd.read_csv(
        Path(run) / OUTPUT / PUBLISHED, dtype={"published": "string"}, keep_default_na=False
    )
    published["value"] = pd.to_numeric(published["value"], errors="coerce")
    path = workbook.write_workbook(
        published, period, scope, Path(run) / OUTPUT / "workbooks", config.pipeline().unit_name
    )
    return str(path)


def archive_step(run: Path, period: Period, archive_root: Path, run_id: str) -> dict:
    """Archive the run's outputs as a new (or the identical existing) package version."""
    out = Path(run) / OUTPUT
    files = {
        STATISTICS: out / STATISTICS,
        PUBLISHED: out / PUBLISHED,
        "validation.json": Path(run) / "validation.json",
    }
    files.update({f"workbooks/{p.name}": p for p in sorted((out / "workbooks").glob("*.xlsx"))})
    row_counts = {
        name: staging.read_json(staging.meta_path(run, staging.RAW, name))["rows"] for name in source.TABLES
    }
    metadata = {
        "run_id": run_id,
        "data_interval": {"start": period.tertial_start.isoformat(), "end": period.end_exclusive.isoformat()},
        "code_version": code_version(),
        "source_rows": row_counts,
    }
    result = archive.archive_package(archive_root, period, files, metadata)
    verb = "Arkiverade" if result.created else "Oförändrat innehåll, befintligt paket"
    log.info("%s: %s", verb, result.path)
    return {"path": str(result.path), "version": result.version, "created": result.created}


def run_period(
    source_url: str, period: Period, out: Path, key: bytes, run_id: str | None = None
) -> RunResult:
    """Run every step for ``period`` without Airflow (the CLI's ``run``)."""
    run_id = run_id or f"cli__{period}"
    run = staging.run_dir(Path(out) / "staging", run_id)
    for table in source.TABLES:
        extract_step(source_url, table, period, run, key)
    validate_step(run)
    statistics_step(run, period)
    for scope in scopes():
        workbook_step(run, period, scope)
    result = archive_step(run, period, Path(out) / "archive", run_id)
    package = Path(result["path"])
    return RunResult(package, sorted((package / "workbooks").glob("*.xlsx")), result["created"])


SQLALCHEMY_DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "sqlite": "sqlite",
}


def source_url_from_connection(conn) -> str:
    """SQLAlchemy URL for an Airflow connection (postgres: host/login/schema; sqlite: host = file)."""
    driver = SQLALCHEMY_DRIVERS.get(conn.conn_type)
    if driver is None:
        raise ValueError(f"Anslutningstypen {conn.conn_type!r} stöds inte för källdatabasen.")
    if driver == "sqlite":
        return f"sqlite:///{conn.host}"
    url = sa.URL.create(
        driver,
        username=conn.login or None,
        password=conn.password or None,
        host=conn.host or None,
        port=conn.port or None,
        database=conn.schema or None,
    )
    return url.render_as_string(hide_password=False)
