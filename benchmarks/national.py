"""National-scale benchmark: extraction, validation and statistics on ≈5.8 M synthetic rows.

    python -m benchmarks.national [--db URL] [--keep] [--years 2019] [--period 2019-T3]
                                  [--json out.json] [--profile DIR] [--no-data-docs]

1. Creates a fresh PostgreSQL database ``eb_bench_<hex>`` next to the test database
   ($EB_BENCH_POSTGRES_URL, else $EB_TEST_POSTGRES_URL, else
   ``postgresql+psycopg://postgres@127.0.0.1:5432/test`` as the admin connection) and fills it
   with the ``national`` demo data (:func:`demo.generate`), timed. With ``--db`` that
   database is used instead: generated into if its source tables are empty, else reused as is.
2. Runs each stage in its own freshly *spawned* process, so every stage's peak memory (the
   process's RSS high-water mark, ``VmHWM``) is its own: generation, one process per table
   for extraction (as the DAG runs one task per table), validation (``validate_run``), and
   statistics (``build_statistics`` + ``publish``). Clocks start after the imports; the
   Great Expectations import is timed separately.
3. Prints a table (stage, seconds, CPU seconds, rows, rows/s, peak MB) and the project's
   requirement: validation time ≤ extraction time. ``--json`` writes every number.
4. Drops the database it created and removes its staging folder, unless ``--keep``.

A ``ValidationStop`` on the national data is reported with its message; the statistics are
still timed on the rows validation accepted (``validated/`` is written before the stop is
raised), which the real pipeline would not do. The pseudonymisation key is $EB_PSEUDONYM_KEY
(or $EB_PSEUDONYM_KEY_FILE) if set, else a fixed benchmark key: the data is synthetic.
This is a benchmark, not a test: pytest never collects it (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from etl import source
from etl.periods import Period

ADMIN_URL = os.environ.get(
    "EB_BENCH_POSTGRES_URL",
    os.environ.get("EB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
BENCH_KEY = b"eb-benchmark-key-synthetic-data-only-0123456789"
"""Fixed HMAC key for the synthetic data when no key is configured (≥ 32 bytes)."""
SCALE = "national"
SEED = 2018
REPO = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------------
# Measuring inside a child process


def _status_kb(field: str) -> int | None:
    """A ``/proc/self/status`` field in kB (Linux), else None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _peak_mb() -> float:
    """RSS high-water mark of this process. ``VmHWM`` is the current address space's own peak
    (``ru_maxrss`` may carry the parent's size over the fork before exec)."""
    kb = _status_kb("VmHWM")
    if kb is None:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    return kb / 1024


def _rss_mb() -> float:
    kb = _status_kb("VmRSS")
    return (kb or 0) / 1024


def _cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


class _Timers:
    """Wall time of named parts of a stage, by wrapping module functions (best effort)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, attr: str, label: Callable[..., str]) -> None:
        original = getattr(owner, attr, None)
        if original is None:  # a private helper was renamed: no breakdown, the total still holds
            return

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                key = label(*args, **kwargs)
                self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - t0

        setattr(owner, attr, timed)
        self._undo.append(lambda: setattr(owner, attr, original))

    def restore(self) -> None:
        for undo in reversed(self._undo):
            undo()


def _stage_generate(args: dict) -> dict:
    import demo

    t0, c0 = time.perf_counter(), _cpu_s()
    counts = demo.generate(args["url"], scale=args["scale"], seed=SEED, years=tuple(args["years"]))
    return {
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": _cpu_s() - c0,
        "rows": sum(counts.values()),
        "detail": {"rows_per_table": counts},
    }


def _stage_extract(args: dict) -> dict:
    from etl.extract import extract_table
    from etl.settings import settings

    period, run = Period.parse(args["period"]), Path(args["run"])
    key = args["key"]
    chunk_rows = settings().pipeline.extract.chunk_rows
    t0, c0 = time.perf_counter(), _cpu_s()
    result = extract_table(args["url"], args["table"], period, run, key, chunk_rows=chunk_rows)
    return {
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": _cpu_s() - c0,
        "rows": result.rows,
        "detail": {"type_errors": result.type_errors, "chunk_rows": chunk_rows},
    }


def _stage_validate(args: dict) -> dict:
    import dataclasses

    from etl import staging
    from etl.settings import settings
    from etl.validation import gx_runner
    from etl.validation import run as validation_run
    from etl.validation.report import ValidationStop

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    t_imp = time.perf_counter()
    import great_expectations  # noqa: F401 - imported here so its fixed cost is timed apart

    gx_import = time.perf_counter() - t_imp
    run = Path(args["run"])
    cfg = settings().validation
    if args["no_data_docs"]:
        cfg = cfg.model_copy(update={"data_docs": False})

    timers = _Timers()  # where the time goes; private helpers, so only if they still exist
    timers.wrap(validation_run, "_read_staged", lambda run, name: "read staging")
    timers.wrap(validation_run, "_validate_table", lambda staged, *a, **k: f"table {staged.name}")
    timers.wrap(validation_run, "validation_frame", lambda name, *a, **k: f"  frame+derived {name}")
    timers.wrap(
        getattr(validation_run, "_Outcome", None), "write", lambda out, run: "write validated/quarantine"
    )
    timers.wrap(getattr(gx_runner, "GxRun", None), "build_data_docs", lambda gx_run: "data docs")

    detail: dict[str, Any] = {"gx_import_seconds": gx_import, "data_docs": cfg.data_docs}
    t0, c0 = time.perf_counter(), _cpu_s()
    try:
        reports = validation_run.validate_run(run, period=args["period"], cfg=cfg)
        detail["status"] = "ok"
        saved = [dataclasses.asdict(r) for r in reports]
    except ValidationStop as exc:
        detail["status"] = "stopp"
        detail["message"] = str(exc)
        saved = staging.read_json(run / validation_run.REPORT)
    seconds, cpu = time.perf_counter() - t0, _cpu_s() - c0
    timers.restore()
    detail["breakdown_seconds"] = dict(sorted(timers.seconds.items(), key=lambda kv: -kv[1]))
    detail["tables"] = {
        r["table"]: {
            "rows_read": r["rows_read"],
            "rows_quarantined": r["rows_quarantined"],
            "status": r["status"],
            "critical": r["critical"],
            "warnings": r["warnings"],
        }
        for r in saved
    }
    detail["rows_accepted"] = sum(r["rows_accepted"] for r in saved)
    detail["rows_quarantined"] = sum(r["rows_quarantined"] for r in saved)
    rows = sum(r["rows_read"] for r in saved)
    return {"seconds": seconds, "cpu_seconds": cpu, "rows": rows, "detail": detail}


def _stage_statistics(args: dict) -> dict:
    import pyarrow.parquet as pq

    from etl import disclosure, source, staging
    from etl.statistics import build

    run, period = Path(args["run"]), Period.parse(args["period"])
    read = tuple(source.TABLES)  # build_statistics reads every validated table once
    rows = sum(pq.read_metadata(staging.table_path(run, staging.VALIDATED, t)).num_rows for t in read)
    t0, c0 = time.perf_counter(), _cpu_s()
    stats = build.build_statistics(run, period)
    t1 = time.perf_counter()
    published = disclosure.publish(stats, disclosure.DisclosureConfig.from_settings())
    t2 = time.perf_counter()
    return {
        "seconds": t2 - t0,
        "cpu_seconds": _cpu_s() - c0,
        "rows": rows,
        "detail": {
            "build_statistics_seconds": t1 - t0,
            "publish_seconds": t2 - t1,
            "statistics_rows": len(stats),
            "suppressed_cells": int(published["suppressed"].sum()),
            "input_tables": list(read),
        },
    }


STAGES: dict[str, Callable[[dict], dict]] = {
    "generate": _stage_generate,
    "extract": _stage_extract,
    "validate": _stage_validate,
    "statistics": _stage_statistics,
}


def _child(conn, kind: str, args: dict, profile: str | None) -> None:
    """Entry point of a spawned stage process: run the stage, send back the numbers."""
    import pandas  # noqa: F401 - the common imports, so the baseline below includes them
    import pyarrow  # noqa: F401

    out: dict[str, Any] = {"baseline_mb": _rss_mb()}
    profiler = None
    try:
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        out.update(STAGES[kind](args))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which decides
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["traceback"] = traceback.format_exc()
    finally:
        if profiler is not None:
            profiler.disable()
            _write_profile(profiler, Path(profile))
    out["peak_mb"] = _peak_mb()
    conn.send(out)
    conn.close()


def _write_profile(profiler, path: Path) -> None:
    import io
    import pstats

    path.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(str(path))
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    for order in ("tottime", "cumulative"):
        text.write(f"==== top 40 by {order}\n")
        stats.sort_stats(order).print_stats(40)
    path.with_suffix(".txt").write_text(text.getvalue(), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# The parent: orchestration only (kept small: pandas and friends are imported in the children)


def run_stage(kind: str, args: dict, label: str, profile_dir: Path | None = None) -> dict:
    """Run one stage in a new spawned process; its numbers, or ``error`` if it failed."""
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    profile = str(profile_dir / f"{label.replace(' ', '_')}.prof") if profile_dir else None
    proc = ctx.Process(target=_child, args=(send, kind, args, profile), name=f"bench-{label}")
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc.start()
    send.close()
    try:
        result = receive.recv()
    except EOFError:
        result = {"error": "the stage process died without a result (killed, out of memory?)"}
    proc.join()
    result["process_seconds"] = time.perf_counter() - t0  # incl. interpreter start and imports
    result["exitcode"] = proc.exitcode
    result["loadavg_1min"] = [load_before, os.getloadavg()[0]]
    result["stage"] = label
    if "seconds" in result and result.get("rows") is not None:
        result["rows_per_second"] = result["rows"] / result["seconds"] if result["seconds"] else None
    return result


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _benchmark_key() -> tuple[bytes, str]:
    from etl import pseudonym

    try:
        return pseudonym.load_key(), "environment"
    except pseudonym.PseudonymKeyError:
        return BENCH_KEY, "fixed benchmark key"


def create_database() -> tuple[str, str]:
    name = f"eb_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False), name


def drop_database(name: str) -> None:
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def source_has_data(url: str) -> bool:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            for name, table in source.TABLES.items():
                if not inspector.has_table(name):
                    continue
                if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
                    return True
        return False
    finally:
        engine.dispose()


def _server_version(url: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("select version()")).scalar()
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def machine_info() -> dict:
    mem_kb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = None
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1) if mem_kb else None,
        "git_commit": commit,
    }


# --------------------------------------------------------------------------------------------
# Report


def _fmt_row(stage: str, r: dict) -> str:
    if "error" in r and "seconds" not in r:
        return f"{stage:<28}{'FAILED':>10}  {r['error'][:60]}"
    rate = r.get("rows_per_second")
    return (
        f"{stage:<28}{r['seconds']:>10.2f}{r.get('cpu_seconds', 0):>9.2f}{r['rows']:>12,}"
        f"{(f'{rate:,.0f}' if rate else '-'):>12}{r['peak_mb']:>10.0f}"
    )


def render(results: dict) -> str:
    head = f"{'stage':<28}{'seconds':>10}{'cpu s':>9}{'rows':>12}{'rows/s':>12}{'peak MB':>10}"
    lines = [head, "-" * len(head)]
    if "generate" in results["stages"]:
        lines.append(_fmt_row("generate (demo data)", results["stages"]["generate"]))
    for table, r in results["stages"].get("extract", {}).items():
        lines.append(_fmt_row(f"  extract {table}", r))
    if results.get("extraction_total"):
        lines.append(_fmt_row("extraction (all tables)", results["extraction_total"]))
    for name in ("validate", "statistics"):
        if name in results["stages"]:
            label = "validation" if name == "validate" else "statistics + publish"
            lines.append(_fmt_row(label, results["stages"][name]))
    lines.append("-" * len(head))
    lines.append(results["verdict"])
    return "\n".join(lines)


def _extraction_total(per_table: dict[str, dict]) -> dict | None:
    done = [r for r in per_table.values() if "seconds" in r]
    if not done:
        return None
    seconds = sum(r["seconds"] for r in done)
    rows = sum(r["rows"] for r in done)
    return {
        "seconds": seconds,
        "cpu_seconds": sum(r["cpu_seconds"] for r in done),
        "rows": rows,
        "rows_per_second": rows / seconds if seconds else None,
        "peak_mb": max(r["peak_mb"] for r in done),
        "process_seconds": sum(r["process_seconds"] for r in per_table.values()),
        "tables_failed": [t for t, r in per_table.items() if "error" in r],
    }


def verdict(results: dict) -> str:
    ext, val = results.get("extraction_total"), results["stages"].get("validate", {})
    if not ext or "seconds" not in val:
        return "validation time ≤ extraction time? UNKNOWN (a stage failed, see above)"
    ratio = val["seconds"] / ext["seconds"]
    ok = val["seconds"] <= ext["seconds"]
    results["comparison"] = {
        "validation_seconds": val["seconds"],
        "extraction_seconds": ext["seconds"],
        "ratio": ratio,
        "validation_le_extraction": ok,
    }
    return (
        f"validation time ≤ extraction time? {'YES' if ok else 'NO'}: validation {val['seconds']:.1f} s "
        f"vs extraction {ext['seconds']:.1f} s (ratio {ratio:.2f})"
    )


# --------------------------------------------------------------------------------------------
# Main


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.national", description=__doc__.split("\n\n")[0].strip()
    )
    p.add_argument("--db", help="source database URL to use instead of a fresh eb_bench_* database")
    p.add_argument("--keep", action="store_true", help="keep the database and the staging folder")
    p.add_argument("--years", type=int, nargs="+", default=[2019], help="years to generate (default 2019)")
    p.add_argument("--period", default="2019-T3", help="period to extract and validate (default 2019-T3)")
    p.add_argument("--json", type=Path, help="write every number to this JSON file")
    p.add_argument(
        "--scale",
        default=SCALE,
        choices=["unit", "city", "national"],
        help="demo data scale (default national; unit is a quick smoke run)",
    )
    p.add_argument("--work", type=Path, help="staging folder (default: a new temporary folder)")
    p.add_argument("--profile", type=Path, help="cProfile each stage into DIR/<stage>.prof and .txt")
    p.add_argument("--no-data-docs", action="store_true", help="validate without rendering GX Data Docs")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    period = Period.parse(args.period)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    key, key_origin = _benchmark_key()
    work = args.work or Path(tempfile.mkdtemp(prefix="eb_bench_"))
    run = work / "staging" / f"bench__{period}"
    if run.exists():
        shutil.rmtree(run)
    results: dict[str, Any] = {
        "benchmark": "national",
        "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine_info(),
        "loadavg_at_start": list(os.getloadavg()),
        "args": {"db": bool(args.db), "years": args.years, "period": str(period), "scale": args.scale},
        "key": key_origin,
        "stages": {},
    }
    created = None
    code = 0
    try:
        if args.db:
            url = args.db
        else:
            url, created = create_database()
            _say(f"created database {created}")
        results["postgres"] = _server_version(url)
        stages = results["stages"]

        if args.db and source_has_data(url):
            _say("--db holds source data already: reusing it, no generation")
            results["generation"] = "reused existing data"
        else:
            _say(f"generating {args.scale} demo data for {args.years} ...")
            stages["generate"] = r = run_stage(
                "generate", {"url": url, "years": args.years, "scale": args.scale}, "generate", args.profile
            )
            if "error" in r:
                raise SystemExit(f"generation failed: {r['error']}\n{r.get('traceback', '')}")
            _say(f"  {r['rows']:,} rows in {r['seconds']:.1f} s, peak {r['peak_mb']:.0f} MB")

        stages["extract"] = per_table = {}
        common = {"url": url, "period": str(period), "run": str(run), "key": key}
        for table in source.TABLES:
            r = run_stage("extract", {**common, "table": table}, f"extract {table}", args.profile)
            per_table[table] = r
            if "error" in r:
                _say(f"  extract {table}: FAILED {r['error']}")
            else:
                _say(f"  extract {table}: {r['rows']:,} rows in {r['seconds']:.2f} s")
        results["extraction_total"] = _extraction_total(per_table)
        if any("error" in r for r in per_table.values()):
            raise SystemExit("extraction failed; validation and statistics need every table")

        _say("validating ...")
        stages["validate"] = r = run_stage(
            "validate",
            {"run": str(run), "period": str(period), "no_data_docs": args.no_data_docs},
            "validate",
            args.profile,
        )
        stopped = r.get("detail", {}).get("status") == "stopp"
        validated = all(
            (run / "validated" / f"{t}.parquet").exists()
            for t in ("district", "payment", "household", "person")
        )
        if "error" in r:
            _say(f"validation FAILED: {r['error']}\n{r.get('traceback', '')}")
        elif stopped:
            _say(
                "VALIDATION STOPPED THE RUN (ValidationStop) on the national data:\n  "
                + r["detail"]["message"]
            )
        if "error" in r and not validated:
            raise SystemExit("validation failed before writing validated/; statistics cannot run")
        if stopped or "error" in r:
            _say("timing the statistics anyway, on the rows validation accepted (validated/)")
            results["statistics_note"] = "computed on validated/ after a validation stop or error"

        _say("statistics ...")
        stages["statistics"] = r = run_stage(
            "statistics", {"run": str(run), "period": str(period)}, "statistics", args.profile
        )
        if "error" in r:
            _say(f"statistics FAILED: {r['error']}\n{r.get('traceback', '')}")
            code = 1
    except SystemExit as exc:
        _say(f"STOPPED: {exc}")
        results["stopped"] = str(exc)
        code = 1
    finally:
        results["finished"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        results["loadavg_at_end"] = list(os.getloadavg())
        if args.keep:
            results["kept"] = {"database": created or "(given with --db)", "staging": str(run)}
            _say(f"kept: database {created or args.db}, staging {run}")
        else:
            if created:
                drop_database(created)
                _say(f"dropped database {created}")
            shutil.rmtree(run if args.work else work, ignore_errors=True)

    results["verdict"] = verdict(results)
    validation = results["stages"].get("validate", {}).get("detail", {})
    print(render(results))
    if validation.get("status") == "stopp":
        print(f"NOTE: validation raised ValidationStop: {validation['message']}")
    if validation.get("breakdown_seconds"):
        print(
            "validation breakdown (s): "
            + ", ".join(
                f"{k.strip()} {v:.1f}" for k, v in validation["breakdown_seconds"].items() if v >= 0.5
            )
        )
    m = results["machine"]
    print(
        f"{results['started']} on {m['hostname']}: {m['cpus']} CPUs ({m['cpu']}), {m['memory_gb']} GB, "
        f"Python {m['python']}; load average {results['loadavg_at_start'][0]:.2f} → "
        f"{results['loadavg_at_end'][0]:.2f}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n", "utf-8")
        print(f"wrote {args.json}")
    return code


if __name__ == "__main__":
    sys.exit(main())
