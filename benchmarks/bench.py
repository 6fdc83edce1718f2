"""`make bench`: every stage beside its baseline measured in the same run, on the same data.

    python -m benchmarks.bench [--scale unit|city|national] [--periods 2019-T3[,…]] [--db URL]
                               [--repeat N] [--json FILE] [--no-docs] [--keep] [--profile DIR]
                               [--no-whole]

Generates the demo data into a fresh PostgreSQL database (or reuses ``--db``), then for each
period runs, each in its own spawned process: extraction of every table, each followed by the
COPY binary of the same query; validation; statistics, then DuckDB's core figures (cross-checked
against the project's: they must agree exactly); the ALL workbook, then the same cells and
formats with bare xlsxwriter; last the COPY of every source table, then the whole CLI run as a
user runs it (``python -m etl run … --no-email``). With ``--repeat N`` each ratio's two sides are
measured back to back N times (min / median). Writes JSON to var/bench/ and the Markdown table
into docs/benchmarks.md between the generated-section markers. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.environment import (
    REPO,
    benchmark_key,
    create_database,
    drop_database,
    machine_info,
    server_version,
    source_has_data,
)
from benchmarks.stages import measure
from benchmarks.whole import run_cli
from etl import source
from etl.periods import Period
from etl.source import BIG_TABLES  # the extraction target applies to these; small ones are shown

TARGETS = {"extraction": 2.0, "statistics": 2.0, "workbook": 1.5, "validation": 1.0, "whole": 6.0}
"""Ratio targets of issue 17: project time / baseline time."""
PEAK_MB_TARGET = 1024
WHOLE_PEAK_MB_TARGET = 1536
"""The whole CLI run's process tree (issue 17: ≤ 1.5 GB); each stage alone: ≤ 1 GB."""


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _fail(label: str, r: dict) -> None:
    if "error" in r:
        raise SystemExit(f"{label} failed: {r['error']}\n{r.get('traceback', '')}")


def summarise(runs: list[dict]) -> dict:
    """One side of a ratio over its repeats: seconds and cpu seconds as the median (also
    ``seconds_min``), peak MB the largest; rows and detail of the first run; every run kept."""
    seconds = [r["seconds"] for r in runs]
    return {
        **{k: v for k, v in runs[0].items() if k not in ("seconds", "cpu_seconds", "peak_mb")},
        "seconds": statistics.median(seconds),
        "seconds_min": min(seconds),
        "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
        "peak_mb": max(r["peak_mb"] for r in runs),
        "repeats": len(runs),
        "runs": [{k: r.get(k) for k in ("seconds", "cpu_seconds", "peak_mb")} for r in runs],
    }


def _ratio(project: dict, baseline: dict, target: float | None) -> dict:
    """Median over median (judged against the target) and min over min."""

    def div(a: float, b: float) -> float | None:
        return a / b if b else None

    ratio = div(project["seconds"], baseline["seconds"])
    return {
        "ratio": ratio,
        "ratio_min": div(
            project.get("seconds_min", project["seconds"]), baseline.get("seconds_min", baseline["seconds"])
        ),
        "target": target,
        "ok": None if target is None or ratio is None else ratio <= target,
    }


class _Bench:
    """Measures one period's sides, each ``repeat`` times, the two sides of a ratio back to back."""

    def __init__(self, common: dict, repeat: int, profile: Path | None):
        self.common, self.repeat, self.profile = common, repeat, profile

    def one(self, kind: str, label: str, extra: dict | None = None, i: int = 0) -> dict:
        prof = (
            self.profile / f"{self.common['period']}_{label.replace(' ', '_')}_{i}.prof"
            if self.profile
            else None
        )
        r = measure(kind, {**self.common, **(extra or {})}, prof)
        _fail(label, r)
        return r

    def pair(
        self, ours: tuple[str, str, dict | None], base: tuple[str, str, dict | None]
    ) -> tuple[dict, dict]:
        mine, theirs = [], []
        for i in range(self.repeat):
            mine.append(self.one(*ours, i=i))
            theirs.append(self.one(*base, i=i))
        return summarise(mine), summarise(theirs)


def _whole(url: str, period: str, work: Path, key: bytes, bench: _Bench, keep: bool) -> dict:
    """COPY binary of every source table, then the whole CLI run, back to back, ``repeat`` times."""
    copies, runs = [], []
    for i in range(bench.repeat):
        copies.append(bench.one("copy_all", "COPY all", i=i))
        out = work / "cli" / f"{period}_{i}"
        r = run_cli(url, period, out, key, work / "cli" / f"{period}_{i}.log")
        _fail("whole CLI run", r)
        runs.append(r)
        if not keep:
            shutil.rmtree(out, ignore_errors=True)
    ours, base = summarise(runs), summarise(copies)
    peak_ok = ours["peak_mb"] <= WHOLE_PEAK_MB_TARGET
    return {"project": ours, "baseline": base, **_ratio(ours, base, TARGETS["whole"]),
            "peak_mb_target": WHOLE_PEAK_MB_TARGET, "peak_ok": peak_ok}  # fmt: skip


def run_period(
    url: str, period: str, work: Path, key: bytes, *, repeat: int = 1, profile: Path | None = None,
    whole: bool = True, keep: bool = False,
) -> dict:  # fmt: skip
    """Every stage and baseline for one period; raises SystemExit when a stage fails."""
    common = {
        "url": url,
        "period": period,
        "key": key,
        "run": str(work / "staging" / f"bench_{period}"),
        "archive": str(work / "archive"),
        "scratch": str(work / "scratch" / period),
    }
    bench = _Bench(common, repeat, profile)
    tables: dict[str, dict] = {}
    for table in source.TABLES:
        extra = {"table": table}
        ours, base = bench.pair(("extract", f"extract {table}", extra), ("copy", f"COPY {table}", extra))
        target = TARGETS["extraction"] if table in BIG_TABLES else None
        tables[table] = {"project": ours, "baseline": base, **_ratio(ours, base, target)}
        _say(
            f"  {period} extract {table}: {ours['rows']:,} rows {ours['seconds']:.2f} s, "
            f"COPY {base['seconds']:.2f} s"
        )
    by_run = [[t["project"]["runs"][i] for t in tables.values()] for i in range(repeat)]
    sums = [sum(r["seconds"] for r in done) for done in by_run]
    extraction = {
        "seconds": statistics.median(sums),
        "seconds_min": min(sums),
        "cpu_seconds": statistics.median(sum(r["cpu_seconds"] for r in done) for done in by_run),
        "rows": sum(t["project"]["rows"] for t in tables.values()),
        "peak_mb": max(t["project"]["peak_mb"] for t in tables.values()),
    }
    copy_s = sum(t["baseline"]["seconds"] for t in tables.values())
    stages: dict[str, dict] = {}
    for stage, kind, base_kind in (
        ("validation", "validate", None),
        ("statistics", "statistics", "duckdb_core"),
        ("workbook", "workbook", "xlsxwriter_bare"),
    ):
        if base_kind is None:
            ours, base = summarise([bench.one(kind, stage, i=i) for i in range(repeat)]), extraction
        else:
            ours, base = bench.pair((kind, stage, None), (base_kind, f"{stage} baseline", None))
        stages[stage] = {"project": ours, "baseline": base, **_ratio(ours, base, TARGETS[stage])}
        _say(f"  {period} {stage}: {ours['seconds']:.2f} s, baseline {base['seconds']:.2f} s")
    check = stages["statistics"]["baseline"]["detail"]["cross_check"]
    rows = extraction["rows"]
    per_row = {"extraction": extraction["seconds"] / rows * 1e6 if rows else None}
    per_row.update({s: v["project"]["seconds"] / rows * 1e6 if rows else None for s, v in stages.items()})
    result = {
        "period": period,
        "source_rows": rows,
        "tables": tables,
        "stages": stages,
        "extraction": {**extraction, "copy_seconds": copy_s, "ratio_to_copy": extraction["seconds"] / copy_s},
        "cross_check": check,
        "us_per_row": per_row,
        "peak_mb_max": max([extraction["peak_mb"], *(v["project"]["peak_mb"] for v in stages.values())]),
    }
    if whole:
        result["whole"] = w = _whole(url, period, work, key, bench, keep)
        ours, base = w["project"], w["baseline"]
        _say(
            f"  {period} whole CLI run: {ours['seconds']:.1f} s, peak {ours['peak_mb']:.0f} MB; "
            f"COPY of every table {base['seconds']:.2f} s"
        )
    return result


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
    p.add_argument(
        "--repeat", type=int, default=1, help="measure each ratio's two sides N times back to back"
    )
    p.add_argument("--profile", type=Path, help="cProfile every measured process into DIR/*.prof and .txt")
    p.add_argument("--no-whole", action="store_true", help="skip the whole CLI run and its COPY baseline")
    return p


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; the results (also written as JSON)."""
    args = _parser().parse_args(argv)
    periods = [str(Period.parse(p.strip())) for p in args.periods.split(",") if p.strip()]
    years = sorted({Period.parse(p).year for p in periods} | {Period.parse(p).year - 1 for p in periods})
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    if args.repeat < 1:
        raise SystemExit("--repeat must be at least 1")
    key, key_origin = benchmark_key()
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
        "repeat": args.repeat,
        "targets": {**TARGETS, "peak_mb": PEAK_MB_TARGET, "whole_peak_mb": WHOLE_PEAK_MB_TARGET},
        "big_tables": list(BIG_TABLES),
        "runs": [],
    }
    created = None
    try:
        url = args.db
        if not url:
            url, created = create_database()
        results["postgres"] = server_version(url)
        if args.db and source_has_data(url):
            results["generate"] = "reused the data in --db"
        else:
            _say(f"generating {args.scale} demo data for {years} ...")
            gen = measure("generate", {"url": url, "scale": args.scale, "years": years})
            _fail("generation", gen)
            results["generate"] = gen
        for period in periods:
            results["runs"].append(
                run_period(
                    url,
                    period,
                    work,
                    key,
                    repeat=args.repeat,
                    profile=args.profile,
                    whole=not args.no_whole,
                    keep=args.keep,
                )  # fmt: skip
            )
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
