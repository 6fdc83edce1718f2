"""The pipeline's steps as plain functions: each Airflow task calls one, and so does the CLI.

Data flows one way: source → staging/raw → staging/validated → statistics → published →
workbooks → archive. Steps share a small ``RunPlan`` (period and folders, XCom-safe) and hand
each other files in the run's staging folder, never data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from etl import archive, disclosure, disclosure_gate, housekeeping, sex_history, source, staging, storage
from etl.arrow_memory import system_pool
from etl.child_step import run as in_child
from etl.child_step import run_all
from etl.extract import extract_table
from etl.mail.ledger import DeliveryUncertain
from etl.periods import Period
from etl.published import PUBLISHED, read_published
from etl.review.steps import latest_comparison
from etl.run_period import choose_period, describe
from etl.settings import env, settings
from etl.statistics import build, case, comparison, inputs
from etl.validation.report import TableReport, ValidationStop, summary_table
from etl.validation.run import REPORT, validate_run
from etl.vocabulary import ALL
from reports import model, workbook

log = logging.getLogger(__name__)

OUTPUT = "output"
STATISTICS = "statistics.csv"
EMAIL_LEDGER = "email_ledger.json"
WORKBOOKS = "workbooks"
REFERENCE = "reference"
SQLALCHEMY_DRIVERS = dict(postgres="postgresql+psycopg", postgresql="postgresql+psycopg", sqlite="sqlite")


@dataclass(frozen=True)
class RunPlan:
    """What one run covers and where its files go. Plain strings, so it travels as XCom."""

    run_id: str
    period_name: str
    run_dir: str
    """The run's staging folder: a local path, or a URL on object storage (etl.storage)."""
    archive_root: str

    @property
    def period(self) -> Period:
        return Period.parse(self.period_name)

    @contextlib.contextmanager
    def local(self) -> Iterator[Path]:
        """The run's staged files in a local folder for the duration of one step."""
        with storage.local_run(self.run_dir) as run:
            yield run

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
    if env().code_version:
        return env().code_version
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
    interval_start: dt.datetime | None = None,
) -> RunPlan:
    """Decide the period and folders of a run (the rule: :func:`etl.run_period.choose_period`)."""
    chosen = choose_period(
        period,
        tz=settings().timezone,
        interval_start=interval_start,
        interval_end=interval_end,
        run_after=run_after,
    )
    root = Path(data_dir) if data_dir is not None else env().data_dir
    staging_root = storage.staging_root(root)
    if storage.is_local(staging_root):
        run_dir = str(staging.run_dir(storage.local_path(staging_root), run_id))
    else:
        run_dir = str(storage.remote(staging_root) / staging.run_dir(Path(), run_id).name)
    return RunPlan(
        run_id=run_id, period_name=str(chosen), run_dir=run_dir, archive_root=str(root / "archive")
    )


def announce(plan: RunPlan | dict) -> str:
    """Log the run's period first thing in every task, so each log says what it is about."""
    plan = RunPlan.of(plan)
    line = f"Period {describe(plan.period)} – körning {plan.run_id}"
    log.info(line)
    return line


def source_url_from_connection(conn) -> str:
    """SQLAlchemy URL for an Airflow connection (postgres: host/login/schema; sqlite: host = file)."""
    driver = SQLALCHEMY_DRIVERS.get(conn.conn_type)
    if driver is None:
        raise ValueError(f"Anslutningstypen {conn.conn_type!r} stöds inte för källdatabasen.")
    if driver == "sqlite":
        return source.sqlite_read_only_url(conn.host)
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
    log.info("Extraherar %s", table)  # a task extracting several tables names each as it starts
    with plan.local() as run:
        result = extract_table(
            source_url, table, plan.period, run, key, chunk_rows=settings().pipeline.extract.chunk_rows
        )
    log.info("Extraherade %s: %d rader", table, result.rows)
    return result.to_dict()


@system_pool()
def validate_step(plan: RunPlan | dict) -> list[dict]:
    """Validate all staged tables against the sex-code history before this period; log the
    compact table; raise ValidationStop on critical failures, else update the history."""
    plan = RunPlan.of(plan)
    history = Path(plan.archive_root).parent / REFERENCE  # kept between runs, beside the archive
    cfg = settings().validation
    with plan.local() as run:
        try:
            reports = validate_run(
                run, period=plan.period, cfg=cfg, sex_before=sex_history.previous(history, plan.period)
            )
        except ValidationStop:
            saved = staging.read_json(run / REPORT)
            log.error("Validering:\n%s", summary_table([TableReport(**r) for r in saved]))
            raise
        person = pd.read_parquet(staging.table_path(run, staging.RAW, "person"), columns=sex_history.COLUMNS)
    sex_history.record(history, plan.period, person)
    sex_history.prune(history, cfg.sex_history_years)
    log.info("Validering:\n%s", summary_table(reports))
    return [
        {"table": r.table, "rows_read": r.rows_read, "rows_quarantined": r.rows_quarantined} for r in reports
    ]


@system_pool()
def statistics_step(plan: RunPlan | dict) -> dict:
    """Build statistics, the internal CSV and the published (suppressed) table."""
    plan = RunPlan.of(plan)
    with plan.local() as run:
        output = run / OUTPUT
        output.mkdir(parents=True, exist_ok=True)
        tables = inputs.read_tables(run, settings().catalogue)  # read once, for both builds
        stats = build.build_statistics(run, plan.period, tables)
        with staging.atomic_path(output / STATISTICS) as tmp:
            build.write_statistics_csv(stats, tmp)
        cfg = disclosure.DisclosureConfig.from_settings()
        published, checked = disclosure.protect(stats, cfg)
        with staging.atomic_path(output / PUBLISHED) as tmp:
            published.to_csv(tmp, index=False, lineterminator="\n")
        suppressed = int(published[disclosure.SUPPRESSED].sum())
        # The same indicators for the periods the report is compared with, disclosure-checked;
        # archived with the package (the workbooks' comparison columns and judgements use them).
        earlier = comparison.build_comparison(run, plan.period, tables)
        del tables
        others = []
        if len(earlier):
            earlier_published, earlier_checked = disclosure.protect(earlier, cfg)
            with staging.atomic_path(output / comparison.PUBLISHED_COMPARISON) as tmp:
                earlier_published.to_csv(tmp, index=False, lineterminator="\n")
            others.append(earlier_checked)
        summary = disclosure_gate.summarize(checked, str(plan.period), *others)
        disclosure_gate.write_summary(output, summary)
        # The pattern's own last audits are the gate's check when clean; otherwise audit the files.
        clean = all(t.attrs.get(disclosure.AUDIT_LEFT) == 0 for t in (checked, *others))
        result = None if clean else disclosure_gate.check(output)
    log.info(
        "Statistik: %d rader, varav %d undertryckta (..): %d enligt grundregeln, %d för att skydda dem",
        len(stats), suppressed, summary["primary"], summary["secondary"],
    )  # fmt: skip
    if result is not None and not result.ok:  # workbooks are still made; the gate stops sending
        log.error("%s", result.summary())
    return {"rows": len(stats), "suppressed": suppressed, "primary": summary["primary"],
            "secondary": summary["secondary"], "audit_ok": result is None or result.ok}  # fmt: skip


def _source_rows(run: Path) -> dict[str, int]:
    return {t: staging.read_json(staging.meta_path(run, staging.RAW, t))["rows"] for t in source.TABLES}


def report_context(plan: RunPlan, run: Path, scope: str) -> model.ReportContext:
    """What a workbook of ``scope`` shows, from the run's staged files (published figures only)."""
    cfg = settings()
    districts = staging.read_table(run, staging.VALIDATED, "district")
    names = dict(zip(districts["district_code"], districts["name"], strict=True))
    earlier = run / OUTPUT / comparison.PUBLISHED_COMPARISON
    return model.ReportContext(
        published=read_published(run / OUTPUT / PUBLISHED),
        comparison=read_published(earlier) if earlier.exists() else None,
        period=plan.period,
        scope=scope,
        unit_name=cfg.unit_name,
        district_names={code: names.get(code, code) for code in cfg.districts},
        validation=staging.read_json(run / "validation.json"),
        run_id=plan.run_id,
        code_version=code_version(),
        source_rows=_source_rows(run),
        data_docs_location=f"validation/data_docs/index.html i arkivpaketet för {plan.period}",
        population_year=case.population_year(plan.period),
        **model.rule_texts(disclosure.DisclosureConfig.from_settings(cfg)),
        suppression_note=disclosure_gate.note(disclosure_gate.read_summary(run / OUTPUT)),
    )


def workbook_step(plan: RunPlan | dict, scope: str) -> str:
    """Write the workbook for one scope from the published table (suppressed figures only)."""
    plan = RunPlan.of(plan)
    with plan.local() as run:
        path = workbook.write_workbook(report_context(plan, run, scope), run / OUTPUT / WORKBOOKS)
    log.info("Arbetsbok för %s: %s", scope, path.name)
    return path.name


def email_step(plan: RunPlan | dict, recipient: str, *, resend: bool = False) -> dict:
    """Send one recipient their workbook once (the ledger in the archive remembers)."""
    from etl.mail import sending

    plan = RunPlan.of(plan)
    with plan.local() as run:
        output = run / OUTPUT
        disclosure_gate.require_clean(output, "skickas")
        result = sending.deliver(
            recipient,
            period=plan.period,
            published=output / PUBLISHED,
            comparison=output / comparison.PUBLISHED_COMPARISON,
            workbooks=output / WORKBOOKS,
            archive_root=Path(plan.archive_root),
            outbox_dir=outbox_dir(plan),
            resend=resend,
            content_sha256=archive.sha256(output / PUBLISHED),
        )
    verb = {"sent": "Skickat", "already_sent": "Redan skickat tidigare, inget nytt"}[result["status"]]
    log.info("%s: %s (%s)", verb, result["to"], result["mode"])
    return result


def outbox_dir(plan: RunPlan) -> Path:
    """Where outbox mode writes .eml files: beside the archive, one folder per period."""
    return Path(plan.archive_root).parent / "outbox" / plan.period_name


def archive_step(plan: RunPlan | dict) -> dict:
    """Archive the run's outputs as a new (or the identical existing) package version."""
    from etl.mail import ledger as mail_ledger

    plan = RunPlan.of(plan)
    period = plan.period
    with plan.local() as run:
        output = run / OUTPUT
        ledger = mail_ledger.ledger_entries(
            mail_ledger.ledger_dir(Path(plan.archive_root), period), [archive.sha256(output / PUBLISHED)]
        )
        staging.write_json(output / EMAIL_LEDGER, ledger)
        files = {
            STATISTICS: output / STATISTICS,
            PUBLISHED: output / PUBLISHED,
            EMAIL_LEDGER: output / EMAIL_LEDGER,
            "validation.json": run / "validation.json",
            disclosure_gate.SUMMARY: output / disclosure_gate.SUMMARY,
        }
        # The comparison figures (none when no comparison period could be computed), GX results
        # and Data Docs, where validation wrote them (Data Docs can be switched off).
        optional = {
            comparison.PUBLISHED_COMPARISON: output / comparison.PUBLISHED_COMPARISON,
            "validation/gx": run / "gx",
            "validation/data_docs": run / "data_docs",
        }
        files.update({name: path for name, path in optional.items() if path.exists()})
        books = sorted((output / WORKBOOKS).glob("*.xlsx"))
        broken = [p.name for p in books if not zipfile.is_zipfile(p)]  # cut off: no central directory
        if broken:
            raise archive.ArchiveError(f"Ofullständiga arbetsböcker arkiveras inte: {', '.join(broken)}.")
        disclosure_gate.require_clean(output, "arkiveras")
        files.update({f"{WORKBOOKS}/{p.name}": p for p in books})
        metadata = {
            "run_id": plan.run_id,
            "period": str(period),
            "data_interval": {
                "start": period.tertial_start.isoformat(),
                "end": period.end_exclusive.isoformat(),
            },
            "code_version": code_version(),
            "source_rows": _source_rows(run),
        }
        result = archive.archive_package(Path(plan.archive_root), period, files, metadata)
    verb = "Arkiverade" if result.created else "Oförändrat innehåll, befintligt paket"
    log.info("%s: %s", verb, result.path)
    return {"path": str(result.path), "version": result.version, "created": result.created}


def vb_step(plan: RunPlan | dict, *, send_emails: bool = False, resend: bool = False) -> dict | None:
    """T3 only: the VB workbook, archived as ``<year>/VB/v<N>/`` with the year's packages
    referenced by hash, then (``send_emails``) e-mailed once to its recipients. None for T1/T2."""
    from etl import vb

    plan = RunPlan.of(plan)
    period = plan.period
    if period.tertial != 3:
        return None
    root = Path(plan.archive_root)
    with plan.local() as run:
        ctx = report_context(plan, run, ALL)
        comments = vb.year_comments(root, period.year)  # the managers' T1/T2 analyses
        built = vb.build_vb(root, ctx, run / OUTPUT / "vb", comments, latest_comparison(root.parent))
    result = built.archived
    verb = "Verksamhetsberättelsen sammanställd" if result.created else "Oförändrad verksamhetsberättelse"
    log.info("%s: %s", verb, result.path)
    sent = []
    if send_emails:
        outbox = Path(plan.archive_root).parent / "outbox" / f"{period.year}-VB"
        sent = vb.send_vb(
            root, result.path, ctx.published, outbox, content_sha256=built.content_sha256, resend=resend
        )
    return {"path": str(result.path), "version": result.version, "created": result.created,
            "sent": [r["status"] for r in sent]}  # fmt: skip


def purge_step(plan: RunPlan | dict) -> list[str]:
    """Housekeeping at the start of a run (etl/housekeeping.py): never this run's own folder."""
    plan = RunPlan.of(plan)
    return housekeeping.purge(Path(plan.archive_root).parent, keep=Path(plan.run_dir))


def run_period(
    source_url: str,
    period: Period,
    out: Path,
    key: bytes,
    run_id: str | None = None,
    *,
    send_emails: bool = False,
    resend: bool = False,
) -> RunResult:
    """Run every step for ``period`` without Airflow (the CLI's ``run``), holding the run
    folder's lock: a second run of the same period and folder is refused (staging.RunLocked)."""
    plan = plan_run(run_id or f"cli__{period}", period=str(period), data_dir=out)
    lock = staging.run_lock(Path(plan.run_dir), plan.run_id) if storage.is_local(plan.run_dir) else None
    with lock or contextlib.nullcontext():
        return _run_steps(plan, source_url, key, send_emails=send_emails, resend=resend)


def _extract_all(plan: RunPlan, source_url: str, key: bytes) -> None:
    """The DAG's extraction tasks, each in a child process, ``extract.workers`` at a time."""

    def task(tables: tuple[str, ...]) -> None:
        for table in tables:
            extract_step(plan, table, source_url, key)

    jobs = [(f"extract-{name}", task, (source.EXTRACT_TASKS[name],)) for name in source.LONGEST_FIRST]
    run_all(jobs, workers=settings().pipeline.extract.workers)


def _workbooks(plan: RunPlan) -> None:
    for scope in settings().scopes:
        workbook_step(plan, scope)


def _run_steps(plan: RunPlan, source_url: str, key: bytes, *, send_emails: bool, resend: bool) -> RunResult:
    """The DAG's steps in order. The heavy ones each run in a child process (etl.child_step), as
    each is a task of its own in Airflow: a stage's memory is returned before the next starts."""
    purge_step(plan)
    _extract_all(plan, source_url, key)
    in_child("validate", validate_step, plan)
    in_child("statistics", statistics_step, plan)
    in_child("workbook", _workbooks, plan)
    uncertain = []
    if send_emails:
        from etl.mail import ledger, recipients

        for address in recipients.recipient_addresses():
            try:
                email_step(plan, address, resend=resend)
            except ledger.DeliveryUncertain as exc:  # not sent again; the others still get theirs
                log.error("%s", exc)
                uncertain.append(str(exc))
    archived = archive_step(plan)
    try:
        in_child("verksamhetsberattelse", vb_step, plan, send_emails=send_emails, resend=resend)
    except archive.ArchiveError as exc:  # the DAG task fails on this; a CLI run just says so
        log.warning("%s", exc)
    except DeliveryUncertain as exc:
        uncertain.append(str(exc))
    if uncertain:  # archived, but the run is not done until an operator has decided
        raise DeliveryUncertain(" | ".join(uncertain))
    package = Path(archived["path"])
    return RunResult(package, sorted((package / WORKBOOKS).glob("*.xlsx")), archived["created"])
