"""The pipeline's steps as plain functions: each Airflow task calls one, and so does the CLI.

Data flows one way: source → staging/raw → staging/validated → statistics → published →
workbooks → archive. Steps share a small ``RunPlan`` (period and folders, XCom-safe) and hand
each other files in the run's staging folder, never data.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa

from etl import archive, config, disclosure, indicators, source, staging, validate
from etl.extract import extract_table
from etl.periods import Period
from reports import workbook

log = logging.getLogger(__name__)

OUTPUT = "output"
PUBLISHED = "published.csv"
STATISTICS = "statistics.csv"
SQLALCHEMY_DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "sqlite": "sqlite",
}


@dataclass(frozen=True)
class RunPlan:
    """What one run covers and where its files go. Plain strings, so it travels as XCom."""

    run_id: str
    period_name: str
    run_dir: str
    archive_root: str

    @property
    def period(self) -> Period:
        return Period.parse(self.period_name)

    @property
    def run(self) -> Path:
        return Path(self.run_dir)

    @property
    def output(self) -> Path:
        return self.run / OUTPUT

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def of(cls, plan: RunPlan | dict) -> RunPlan:
        return plan if isinstance(plan, RunPlan) else cls(**plan)


@dataclass(frozen=True)
class RunResult:
    package: Path
    workbooks: list[Path]
    archive_created: bool


@cache
def code_version() -> str:
    """$EB_CODE_VERSION (set in the Docker image), else the git commit, else 'okänd'.

    Recorded in manifests, never in figures.
    """
    if os.environ.get("EB_CODE_VERSION"):
        return os.environ["EB_CODE_VERSION"]
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


def plan_run(
    run_id: str,
    *,
    period: str | None = None,
    interval_end: dt.datetime | None = None,
    run_after: dt.datetime | None = None,
    data_dir: Path | None = None,
) -> RunPlan:
    """Decide the period and folders of a run.

    The period is, in order: the operator's override, the tertial ending at the data
    interval's end (local time), or the last tertial completed when the run was due.
    """
    tz = ZoneInfo(config.pipeline().timezone)
    if period:
        chosen = Period.parse(period)
    elif interval_end is not None:
        chosen = Period.ending_at(interval_end.astimezone(tz).date())
    elif run_after is not None:
        chosen = Period.last_completed(run_after.astimezone(tz).date())
    else:
        raise ValueError("Körningen saknar både period, dataintervall och run_after.")
    root = Path(data_dir) if data_dir is not None else config.data_dir()
    return RunPlan(
        run_id=run_id,
        period_name=str(chosen),
        run_dir=str(staging.run_dir(root / "staging", run_id)),
        archive_root=str(root / "archive"),
    )


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


def extract_step(plan: RunPlan | dict, table: str, source_url: str, key: bytes) -> dict:
    """Extract one table; returns its (small, personal-data-free) meta for XCom and logs."""
    plan = RunPlan.of(plan)
    result = extract_table(
        source_url, table, plan.period, plan.run, key, chunk_rows=config.pipeline().chunk_rows
    )
    log.info("Extraherade %s: %d rader", table, result.rows)
    return result.to_dict()


def validate_step(plan: RunPlan | dict) -> list[dict]:
    """Validate all staged tables; log the compact table; raise ValidationStop on critical failures."""
    plan = RunPlan.of(plan)
    run = plan.run
    try:
        reports = validate.validate_run(run, period=plan.period)
    except validate.ValidationStop:
        saved = staging.read_json(run / "validation.json")
        log.error("Validering:\n%s", validate.summary_table([validate.TableReport(**r) for r in saved]))
        raise
    log.info("Validering:\n%s", validate.summary_table(reports))
    return [
        {"table": r.table, "rows_read": r.rows_read, "rows_quarantined": r.rows_quarantined} for r in reports
    ]


def statistics_step(plan: RunPlan | dict) -> dict:
    """Build statistics, the internal CSV and the published (suppressed) table."""
    plan = RunPlan.of(plan)
    plan.output.mkdir(parents=True, exist_ok=True)
    stats = indicators.build_statistics(plan.run, plan.period)
    indicators.write_statistics_csv(stats, plan.output / STATISTICS)
    published = disclosure.publish(stats, config.pipeline().disclosure)
    published.to_csv(plan.output / PUBLISHED, index=False, lineterminator="\n")
    return {"statistics": str(plan.output / STATISTICS), "published": str(plan.output / PUBLISHED)}


def workbook_step(plan: RunPlan | dict, scope: str) -> str:
    """Write the workbook for one scope from the published table."""
    plan = RunPlan.of(plan)
    published = pd.read_csv(plan.output / PUBLISHED, dtype={"published": "string"}, keep_default_na=False)
    published["value"] = pd.to_numeric(published["value"], errors="coerce")
    path = workbook.write_workbook(
        published, plan.period, scope, plan.output / "workbooks", config.pipeline().unit_name
    )
    return str(path)


def archive_step(plan: RunPlan | dict) -> dict:
    """Archive the run's outputs as a new (or the identical existing) package version."""
    plan = RunPlan.of(plan)
    files = {
        STATISTICS: plan.output / STATISTICS,
        PUBLISHED: plan.output / PUBLISHED,
        "validation.json": plan.run / "validation.json",
    }
    # GX results and Data Docs, where validation wrote them (Data Docs can be switched off).
    optional = {"validation/gx": plan.run / "gx", "validation/data_docs": plan.run / "data_docs"}
    files.update({name: path for name, path in optional.items() if path.exists()})
    files.update({f"workbooks/{p.name}": p for p in sorted((plan.output / "workbooks").glob("*.xlsx"))})
    row_counts = {
        name: staging.read_json(staging.meta_path(plan.run, staging.RAW, name))["rows"]
        for name in source.TABLES
    }
    period = plan.period
    metadata = {
        "run_id": plan.run_id,
        "data_interval": {"start": period.tertial_start.isoformat(), "end": period.end_exclusive.isoformat()},
        "code_version": code_version(),
        "source_rows": row_counts,
    }
    result = archive.archive_package(Path(plan.archive_root), period, files, metadata)
    verb = "Arkiverade" if result.created else "Oförändrat innehåll, befintligt paket"
    log.info("%s: %s", verb, result.path)
    return {"path": str(result.path), "version": result.version, "created": result.created}


def run_period(
    source_url: str, period: Period, out: Path, key: bytes, run_id: str | None = None
) -> RunResult:
    """Run every step for ``period`` without Airflow (the CLI's ``run``)."""
    plan = plan_run(run_id or f"cli__{period}", period=str(period), data_dir=out)
    for table in source.TABLES:
        extract_step(plan, table, source_url, key)
    validate_step(plan)
    statistics_step(plan)
    for scope in config.scopes():
        workbook_step(plan, scope)
    archived = archive_step(plan)
    package = Path(archived["path"])
    return RunResult(package, sorted((package / "workbooks").glob("*.xlsx")), archived["created"])
