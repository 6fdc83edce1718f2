"""`make bench`: every stage beside its baseline measured in the same run, on the same data.

    python -m benchmarks.bench [--scale unit|city|national] [--periods 2019-T3[,…]] [--db URL]
                               [--json FILE] [--no-docs] [--keep]

Generates the demo data into a fresh PostgreSQL database (or reuses ``--db``), then for each
period runs, each in its own spawned process: extraction of every table, each followed by the
COPY binary of the same query; validation; statistics, then DuckDB's core figures (cross-checked
against the project's: they must agree exactly); the ALL workbook, then the same cells and
formats with bare xlsxwriter. Writes JSON to var/bench/ and the Markdown table into
docs/benchmarks.md between the generated-section markers. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.national import (
    REPO,
    _benchmark_key,
    _server_version,
    create_database,
    drop_database,
    machine_info,
    source_has_data,
)
from benchmarks.stages import measure
from etl import source
from etl.periods import Period

BIG_TABLES = ("household", "person", "application", "payment", "support_obstacle")
"""The tables the extraction target applies to (the issue's five big tables); small tables are
dominated by a fixed per-process cost and are reported without a target."""
TARGETS = {"extraction": 2.0, "statistics": 2.0, "workbook": 1.5, "validation": 1.0}
"""Ratio targets of issue 17: project time / baseline time."""
PEAK_MB_TARGET = 1024


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _fail(label: str, r: dict) -> None:
    if "error" in r:
        raise SystemExit(f"{label} failed: {r['error']}\n{r.get('traceback', '')}")


def _ratio(project: dict, baseline: dict, target: float | None) -> dict:
    ratio = project["seconds"] / baseline["seconds"] if baseline["seconds"] else None
    return {
        "ratio": ratio,
        "target": target,
        "ok": None if target is None or ratio is None else ratio <= target,
    }


def run_period(url: str, period: str, work: Path, key: bytes) -> dict:
    """Every stage and baseline for one period; raises SystemExit when a stage fails."""
    common = {
        "url": url,
        "period": period,
        "key": key,
        "run": str(work / "staging" / f"bench_{period}"),
        "archive": str(work / "archive"),
        "scratch": str(work / "scratch" / period),
    }
    tables: dict[str, dict] = {}
    for table in source.TABLES:
        ours = measure("extract", {**common, "table": table})
        _fail(f"extract {table}", ours)
        base = measure("copy", {**common, "table": table})
        _fail(f"COPY {table}", base)
        target = TARGETS["extraction"] if table in BIG_TABLES else None
        tables[table] = {"project": ours, "baseline": base, **_ratio(ours, base, target)}
        _say(
            f"  {period} extract {table}: {ours['rows']:,} rows {ours['seconds']:.2f} s, "
            f"COPY {base['seconds']:.2f} s"
        )
    done = [t["project"] for t in tables.values()]
    extraction = {
        "seconds": sum(r["seconds"] for r in done),
        "cpu_seconds": sum(r["cpu_seconds"] for r in done),
        "rows": sum(r["rows"] for r in done),
        "peak_mb": max(r["peak_mb"] for r in done),
    }
    copy_s = sum(t["baseline"]["seconds"] for t in tables.values())
    stages: dict[str, dict] = {}
    for stage, kind, base_kind in (
        ("validation", "validate", None),
        ("statistics", "statistics", "duckdb_core"),
        ("workbook", "workbook", "xlsxwriter_bare"),
    ):
        ours = measure(kind, common)
        _fail(stage, ours)
        base = extraction if base_kind is None else measure(base_kind, common)
        _fail(f"{stage} baseline", base)
        stages[stage] = {"project": ours, "baseline": base, **_ratio(ours, base, TARGETS[stage])}
        _say(f"  {period} {stage}: {ours['seconds']:.2f} s, baseline {base['seconds']:.2f} s")
    check = stages["statistics"]["baseline"]["detail"]["cross_check"]
    rows = extraction["rows"]
    per_row = {"extraction": extraction["seconds"] / rows * 1e6 if rows else None}
    per_row.update({s: v["project"]["seconds"] / rows * 1e6 if rows else None for s, v in stages.items()})
    return {
        "period": period,
        "source_rows": rows,
        "tables": tables,
        "stages": stages,
        "extraction": {**extraction, "copy_seconds": copy_s, "ratio_to_copy": extraction["seconds"] / copy_s},
        "cross_check": check,
        "us_per_row": per_row,
        "peak_mb_max": max([extraction["peak_mb"], *(v["project"]["peak_mb"] for v in stages.values())]),
    }


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", default="national", choices=["unit", "city", "national"])
    p.add_argument(
        "--periods", default="2019-T3", help="comma-separated periods, e.g. 2019-T1,2019-T2,2019-T3"
    )
    p.add_argument("--db", help="source database URL to use (generated into if empty, never dropped)")
    p.add_argument("--json", type=Path, help="JSON file (default var/bench/<scale>_<periods>.json)")
    p.add_argument(
        "--docs", type=Path, default=REPO / "docs" / "benchmarks.md", help="Markdown file to update"
    )
    p.add_argument("--no-docs", action="store_true", help="do not write the table into the docs")
    p.add_argument("--keep", action="store_true", help="keep the database and the work folder")
    return p


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; the results (also written as JSON)."""
    args = _parser().parse_args(argv)
    periods = [str(Period.parse(p.strip())) for p in args.periods.split(",") if p.strip()]
    years = sorted({Period.parse(p).year for p in periods} | {Period.parse(p).year - 1 for p in periods})
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    key, key_origin = _benchmark_key()
    work = Path(tempfile.mkdtemp(prefix="eb_bench_"))
    results: dict[str, Any] = {
        "benchmark": "bench",
        "scale": args.scale,
        "periods": periods,
        "years_generated": years,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "loadavg_at_start": list(os.getloadavg()),
        "key": key_origin,
        "targets": {**TARGETS, "peak_mb": PEAK_MB_TARGET},
        "big_tables": list(BIG_TABLES),
        "runs": [],
    }
    created = None
    try:
        url = args.db
        if not url:
            url, created = create_database()
        results["postgres"] = _server_version(url)
        if args.db and source_has_data(url):
            results["generate"] = "reused the data in --db"
        else:
            _say(f"generating {args.scale} demo data for {years} ...")
            gen = measure("generate", {"url": url, "scale": args.scale, "years": years})
            _fail("generation", gen)
            results["generate"] = gen
        for period in periods:
            results["runs"].append(run_period(url, period, work, key))
    finally:
        results["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        results["loadavg_at_end"] = list(os.getloadavg())
        if args.keep:
            _say(f"kept: database {created or args.db}, work folder {work}")
        else:
            if created:
                drop_database(created)
            shutil.rmtree(work, ignore_errors=True)
    markdown = report.markdown(results)
    out = args.json or REPO / "var" / "bench" / f"{args.scale}_{'_'.join(periods)}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n", "utf-8")
    out.with_suffix(".md").write_text(markdown, "utf-8")
    if not args.no_docs:
        report.write_docs(args.docs, markdown)
    print(markdown)
    _say(f"wrote {out} and {out.with_suffix('.md')}" + ("" if args.no_docs else f"; updated {args.docs}"))
    return results


if __name__ == "__main__":
    res = main()
    sys.exit(0 if all(r["cross_check"]["agree"] for r in res["runs"]) else 1)
