"""What one measured process does: a project stage (as the pipeline runs it) or its baseline.

Each function runs inside a freshly spawned process (:func:`measure`), so its peak RSS
(``VmHWM``) is its own. The clock starts after the imports. Every function returns seconds,
cpu_seconds, rows and a detail dict.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import resource
import time
import traceback
from pathlib import Path
from typing import Any

from benchmarks.environment import SEED
from etl.periods import Period
from etl.vocabulary import ALL


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
    return (_status_kb("VmRSS") or 0) / 1024


def _cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _plan(args: dict):
    from etl.pipeline import RunPlan

    return RunPlan(
        run_id=f"bench_{args['period']}",
        period_name=args["period"],
        run_dir=args["run"],
        archive_root=args["archive"],
    )


def _timed(fn, *a, **k) -> tuple[Any, float, float]:
    t0, c0 = time.perf_counter(), _cpu_s()
    out = fn(*a, **k)
    return out, time.perf_counter() - t0, _cpu_s() - c0


def generate(args: dict) -> dict:
    import demo

    counts, s, c = _timed(
        demo.generate, args["url"], scale=args["scale"], seed=SEED, years=tuple(args["years"])
    )
    return {
        "seconds": s,
        "cpu_seconds": c,
        "rows": sum(counts.values()),
        "detail": {"rows_per_table": counts},
    }


def extract(args: dict) -> dict:
    from etl import pipeline

    out, s, c = _timed(pipeline.extract_step, _plan(args), args["table"], args["url"], args["key"])
    return {
        "seconds": s,
        "cpu_seconds": c,
        "rows": out["rows"],
        "detail": {"type_errors": out["type_errors"]},
    }


def copy(args: dict) -> dict:
    from benchmarks.baselines import copy_binary, copy_query

    conninfo, statement = copy_query(args["url"], args["table"], Period.parse(args["period"]))
    out, s, c = _timed(copy_binary, conninfo, statement)
    return {"seconds": s, "cpu_seconds": c, "rows": None, "detail": out}


def copy_all(args: dict) -> dict:
    """COPY binary of every source table, one after the other: the whole run's baseline."""
    from benchmarks.baselines import copy_binary, copy_query
    from etl import source

    period = Period.parse(args["period"])
    statements = [copy_query(args["url"], table, period) for table in source.TABLES]  # untimed
    t0, c0 = time.perf_counter(), _cpu_s()
    copied = [copy_binary(conninfo, statement) for conninfo, statement in statements]
    seconds, cpu = time.perf_counter() - t0, _cpu_s() - c0
    detail = {"bytes": sum(c["bytes"] for c in copied), "tables": len(copied)}
    return {"seconds": seconds, "cpu_seconds": cpu, "rows": None, "detail": detail}


def validate(args: dict) -> dict:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations  # noqa: F401 - a fixed cost, kept out of the clock

    from etl import pipeline

    out, s, c = _timed(pipeline.validate_step, _plan(args))
    rows = sum(r["rows_read"] for r in out)
    quarantined = sum(r["rows_quarantined"] for r in out)
    return {"seconds": s, "cpu_seconds": c, "rows": rows, "detail": {"rows_quarantined": quarantined}}


def statistics(args: dict) -> dict:
    from etl import pipeline

    out, s, c = _timed(pipeline.statistics_step, _plan(args))
    return {"seconds": s, "cpu_seconds": c, "rows": out["rows"], "detail": {"suppressed": out["suppressed"]}}


def duckdb_core(args: dict) -> dict:
    import duckdb

    from benchmarks import duck

    run, period = Path(args["run"]), Period.parse(args["period"])
    con = duckdb.connect()
    con.execute(f"SET threads = {os.cpu_count() or 1}")
    figures, s, c = _timed(duck.core_statistics, run, period, con)
    check = duck.cross_check(run, figures, duck.table_rows(run, con))  # untimed
    return {"seconds": s, "cpu_seconds": c, "rows": len(figures), "detail": {"cross_check": check}}


def workbook(args: dict) -> dict:
    """As ``pipeline.workbook_step``: the report context from the run's files, then the workbook."""
    from etl import pipeline
    from reports import workbook as wbk

    plan = _plan(args)
    t0, c0 = time.perf_counter(), _cpu_s()
    with plan.local() as run:
        ctx, context_s, _ = _timed(pipeline.report_context, plan, run, ALL)
        path, write_s, _ = _timed(wbk.write_workbook, ctx, run / pipeline.OUTPUT / pipeline.WORKBOOKS)
    detail = {"workbook": path.name, "context_seconds": context_s, "write_seconds": write_s}
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": _cpu_s() - c0, "rows": None, "detail": detail}


def xlsxwriter_bare(args: dict) -> dict:
    """Record the ALL workbook's cells (untimed, into a scratch folder), then time the replay."""
    from benchmarks.baselines import XlsxRecorder, replay
    from etl import pipeline
    from reports import workbook as wbk

    plan = _plan(args)
    scratch = Path(args["scratch"])
    with plan.local() as run, XlsxRecorder() as rec:
        wbk.write_workbook(pipeline.report_context(plan, run, ALL), scratch / "project")
    (scratch / "bare").mkdir(parents=True, exist_ok=True)
    gc.collect()  # the recording's garbage is not the replay's cost (each side starts collected)
    cells, s, c = _timed(replay, rec, scratch / "bare" / "bare.xlsx")
    return {
        "seconds": s,
        "cpu_seconds": c,
        "rows": cells,
        "detail": {"cells": cells, "calls": len(rec.calls), "not_replayed": rec.not_replayed},
    }


FUNCTIONS = {
    f.__name__: f
    for f in (generate, extract, copy, copy_all, validate, statistics, duckdb_core, workbook, xlsxwriter_bare)
}


def _write_profile(profiler, path: Path) -> None:
    """``<path>`` (pstats) and ``<path>.txt``: the top 40 by own and by cumulative time."""
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


def _child(conn, kind: str, args: dict, profile: str | None) -> None:
    import pandas  # noqa: F401 - the common imports, outside every clock
    import pyarrow  # noqa: F401

    gc.collect()  # the imports' garbage, outside every clock: no stage pays for another's
    out: dict[str, Any] = {"baseline_mb": _rss_mb()}
    profiler = None
    try:
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        out.update(FUNCTIONS[kind](args))
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


def measure(kind: str, args: dict, profile: Path | None = None) -> dict:
    """Run ``kind`` in a new spawned process; its numbers (``error`` if it failed). With
    ``profile`` (a .prof path) under cProfile: times are then inflated, compare only profiles."""
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    child_args = (send, kind, args, str(profile) if profile else None)
    proc = ctx.Process(target=_child, args=child_args, name=f"bench-{kind}")
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc.start()
    send.close()
    try:
        result = receive.recv()
    except EOFError:
        result = {"error": "the process died without a result (killed, out of memory?)"}
    proc.join()
    result.update(
        process_seconds=time.perf_counter() - t0,
        exitcode=proc.exitcode,
        loadavg_1min=[load, os.getloadavg()[0]],
    )
    return result
