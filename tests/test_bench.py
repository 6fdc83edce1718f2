"""`make bench` (benchmarks/bench.py): its baselines are right, and it runs at unit scale.

Timings are never asserted: they depend on the machine and its load.
"""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from openpyxl.cell.cell import MergedCell

from benchmarks import duck, report
from benchmarks.baselines import XlsxRecorder, replay
from etl import source, staging
from etl.periods import Period
from tests.support.bench import write_validated
from tests.support.db import new_postgres_database, require_postgres

# Counted by hand from tests/support/bench.py for 2019-T3 (the whole of 2019). A cell DuckDB has
# no row for is left out (no entity in it).
GOLDEN = {
    ("eb_hushall", "A", "K"): 2, ("eb_hushall", "A", "M"): 1, ("eb_hushall", "A", "T"): 3,
    ("eb_hushall", "B", "M"): 1, ("eb_hushall", "B", "T"): 1,
    ("eb_hushall", "ALL", "K"): 2, ("eb_hushall", "ALL", "M"): 2, ("eb_hushall", "ALL", "T"): 4,
    ("eb_utbetalt_kr", "A", "K"): 400.75, ("eb_utbetalt_kr", "A", "M"): 50.0,
    ("eb_utbetalt_kr", "A", "T"): 450.75, ("eb_utbetalt_kr", "B", "M"): 110.0,
    ("eb_utbetalt_kr", "B", "T"): 110.0, ("eb_utbetalt_kr", "ALL", "K"): 400.75,
    ("eb_utbetalt_kr", "ALL", "M"): 160.0, ("eb_utbetalt_kr", "ALL", "T"): 560.75,
    ("eb_mottagare", "A", "K"): 2, ("eb_mottagare", "A", "M"): 2, ("eb_mottagare", "A", "T"): 5,
    ("eb_mottagare", "B", "K"): 2, ("eb_mottagare", "B", "M"): 2, ("eb_mottagare", "B", "T"): 5,
    ("eb_mottagare", "ALL", "K"): 4, ("eb_mottagare", "ALL", "M"): 4, ("eb_mottagare", "ALL", "T"): 10,
    # Långvarigt bistånd, adults: H5's leader, the woman who turns 18 on 31 Dec, the adult of unknown sex.
    ("eb_langvarigt_vuxna", "B", "K"): 1, ("eb_langvarigt_vuxna", "B", "M"): 1,
    ("eb_langvarigt_vuxna", "B", "T"): 3, ("eb_langvarigt_vuxna", "ALL", "K"): 1,
    ("eb_langvarigt_vuxna", "ALL", "M"): 1, ("eb_langvarigt_vuxna", "ALL", "T"): 3,
    # Mean granted: K (1000 + 500.50) / 2; M (800 + 0) / 2; B only P5's 300 (unknown sex: T only).
    ("ja_beviljat_kr_medel", "A", "K"): 750.25, ("ja_beviljat_kr_medel", "A", "M"): 400.0,
    ("ja_beviljat_kr_medel", "A", "T"): 575.125, ("ja_beviljat_kr_medel", "B", "T"): 300.0,
    ("ja_beviljat_kr_medel", "ALL", "K"): 750.25, ("ja_beviljat_kr_medel", "ALL", "M"): 400.0,
    ("ja_beviljat_kr_medel", "ALL", "T"): 520.1,
}  # fmt: skip
ROWS = {"household": 6, "person": 13, "payment": 29, "application": 12}


def _figures(frame: pd.DataFrame) -> dict:
    return {(r.indicator_id, r.district_code, r.sex): r.value for r in frame.itertuples()}


def test_duckdb_core_figures_by_hand(tmp_path):
    write_validated(tmp_path)
    figures = _figures(duck.core_statistics(tmp_path, Period.parse("2019-T3")))
    assert figures.keys() == GOLDEN.keys()
    assert figures == pytest.approx(GOLDEN, rel=1e-12)


def _project_run(tmp_path, change: dict | None = None) -> None:
    """statistics.parquet as the project would write it (zero cells included, a mean without
    decisions missing; the compared column per duck.CORE), validation.json."""
    rows = write_validated(tmp_path)
    empty = {(i, d, s): float("nan") if kind == "mean" else 0.0
             for i, (_, kind) in duck.CORE.items() for d in ("A", "B", "ALL") for s in "KMT"}  # fmt: skip
    cells = {**empty, **GOLDEN, **(change or {})}
    stats = pd.DataFrame([{"indicator_id": i, "district_code": d, "sex": s, "value": float(v)}
                          for (i, d, s), v in cells.items()])  # fmt: skip
    # The share's numerator is compared, not its value.
    share = stats["indicator_id"].eq("eb_langvarigt_vuxna")
    stats["numerator"] = stats["value"]
    stats.loc[share, "value"] = stats.loc[share, "value"] / 1000 * 100
    stats.to_parquet(tmp_path / "statistics.parquet", index=False)
    staging.write_json(
        tmp_path / "validation.json", [{"table": t, "rows_accepted": n} for t, n in rows.items()]
    )


def _check(tmp_path, rows: dict | None = None) -> dict:
    figures = duck.core_statistics(tmp_path, Period.parse("2019-T3"))
    return duck.cross_check(tmp_path, figures, rows or ROWS)


def test_cross_check_agrees_on_equal_figures(tmp_path):
    _project_run(tmp_path)
    check = _check(tmp_path)
    assert check["agree"] is True, check
    assert check["cells_compared"] == len(duck.CORE) * 9
    assert check["indicators"] == list(duck.CORE)


def test_cross_check_finds_one_wrong_figure_and_a_wrong_count(tmp_path):
    _project_run(tmp_path, {("eb_mottagare", "B", "T"): 1.0})
    check = _check(tmp_path, {**ROWS, "person": 12})
    assert check["agree"] is False
    assert check["cells_differing"] == 1
    assert check["examples"][0]["indicator_id"] == "eb_mottagare"
    assert check["row_counts_differing"] == {"person": [13, 12]}


def test_cross_check_kronor_to_the_ore(tmp_path):
    _project_run(tmp_path, {("eb_utbetalt_kr", "A", "T"): 450.7500000001})  # float sum noise: equal
    assert _check(tmp_path)["agree"]
    _project_run(tmp_path, {("eb_utbetalt_kr", "A", "T"): 450.76})  # one öre off: different
    assert not _check(tmp_path)["agree"]


def test_cross_check_a_half_ore_mean_summed_in_another_order_agrees(tmp_path):
    # A T is (1000 + 500.50 + 800 + 0) / 4 = 575.125 exactly; summed in another order it may come
    # out a hair above, which rounds to 575.13 where 575.125 rounds to 575.12 (seen nationally).
    _project_run(tmp_path, {("ja_beviljat_kr_medel", "A", "T"): 575.1250000000005})
    assert _check(tmp_path)["agree"]
    _project_run(tmp_path, {("ja_beviljat_kr_medel", "A", "T"): 575.135})  # an öre off: different
    assert not _check(tmp_path)["agree"]


@pytest.mark.parametrize(
    "change",
    [
        {("eb_langvarigt_vuxna", "A", "T"): 1.0},  # a numerator where DuckDB counts nobody
        {("eb_langvarigt_vuxna", "B", "T"): 2.0},
        {("ja_beviljat_kr_medel", "A", "K"): 750.26},
        {("ja_beviljat_kr_medel", "B", "K"): 0.0},  # a mean where there are no decisions
        {("ja_beviljat_kr_medel", "B", "T"): float("nan")},
    ],
)
def test_cross_check_finds_a_wrong_long_term_count_or_mean(tmp_path, change):
    _project_run(tmp_path, change)
    check = _check(tmp_path)
    assert check["agree"] is False and check["cells_differing"] == 1, check


def _look(cell) -> tuple:
    return (cell.value, cell.number_format, cell.font.b, cell.fill.fgColor.rgb, cell.border.left.style,
            cell.alignment.horizontal)  # fmt: skip


def test_bare_xlsxwriter_replay_writes_the_same_cells_and_formats(tmp_path):
    with XlsxRecorder() as rec:
        wb = xlsxwriter.Workbook(str(tmp_path / "project.xlsx"))
        ws = wb.add_worksheet("Blad")
        bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        money = wb.add_format({"num_format": "# ##0", "align": "right"})
        ws.set_column(0, 0, 30)
        ws.write(0, 0, "Hushåll", bold)
        ws.write_number(1, 1, 1234.5, money)
        ws.write_string(2, 0, "=inte en formel")
        ws.write_blank(3, 3, None, bold)
        ws.merge_range(5, 0, 5, 2, "Sammanslagen", bold)  # the cell is replayed, the merge counted
        wb.add_worksheet("Tomt").write(0, 0, 7)
        wb.close()
    assert rec.cells == 8  # 5 writes, the merged range's first cell and its 2 blanks
    assert rec.not_replayed == {"merge_range": 1}
    replay(rec, tmp_path / "bare.xlsx")
    a = openpyxl.load_workbook(tmp_path / "project.xlsx")
    b = openpyxl.load_workbook(tmp_path / "bare.xlsx")
    assert a.sheetnames == b.sheetnames == ["Blad", "Tomt"]
    for sa_, sb in zip(a.worksheets, b.worksheets, strict=True):
        for ra, rb in zip(sa_.iter_rows(), sb.iter_rows(), strict=True):
            for ca, cb in zip(ra, rb, strict=True):
                if not isinstance(ca, MergedCell):  # merges are counted, not replayed
                    assert _look(ca) == _look(cb), ca.coordinate
    assert b["Blad"]["A1"].value == "Hushåll" and b["Blad"]["A1"].font.b
    assert b["Blad"]["B2"].number_format == "# ##0"
    assert b["Blad"]["A6"].value == "Sammanslagen"
    assert b["Blad"].column_dimensions["A"].width == a["Blad"].column_dimensions["A"].width


def test_write_docs_replaces_only_the_generated_section(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nText.\n", "utf-8")
    report.write_docs(doc, "| first |")
    report.write_docs(doc, "| second |")
    text = doc.read_text("utf-8")
    assert text.startswith("# Benchmarks\n\nText.\n")
    assert "| second |" in text and "| first |" not in text
    assert text.count(report.BEGIN) == 1 and text.count(report.END) == 1


def test_repeats_give_min_and_median_of_each_side_and_both_ratios():
    from benchmarks import bench

    def side(*secs):
        runs = [{"seconds": s, "cpu_seconds": s / 2, "peak_mb": 100 + s, "rows": 7, "detail": {"n": 1}}
                for s in secs]  # fmt: skip
        return bench.summarise(runs)

    ours, base = side(3.0, 1.0, 2.0), side(0.5, 2.0, 1.0)
    summary = (ours["seconds_min"], ours["seconds"], ours["cpu_seconds"], ours["peak_mb"])
    assert summary == (1.0, 2.0, 1.0, 103)
    assert ours["repeats"] == 3 and [r["seconds"] for r in ours["runs"]] == [3.0, 1.0, 2.0]
    assert ours["rows"] == 7 and ours["detail"] == {"n": 1}
    r = bench._ratio(ours, base, 2.0)
    assert (r["ratio"], r["ratio_min"], r["ok"]) == (2.0, 2.0, True)
    r = bench._ratio(side(5.0), side(2.0), 2.0)
    assert (r["ratio"], r["ratio_min"], r["ok"]) == (2.5, 2.5, False)


def test_the_table_shows_min_and_median_and_the_whole_run_against_its_own_memory_target():
    from benchmarks import bench

    side = lambda peak, *secs: bench.summarise(  # noqa: E731
        [{"seconds": s, "cpu_seconds": s, "peak_mb": peak, "rows": 1, "detail": {}} for s in secs]
    )
    whole_ours, whole_base = side(1400, 40.0, 30.0, 35.0), side(50, 6.0, 5.0, 7.0)
    whole = {"project": whole_ours, "baseline": whole_base, **bench._ratio(whole_ours, whole_base, 6.0),
             "peak_mb_target": 1536}  # fmt: skip
    line = next(x for x in report.period_table({**_minimal_run(side), "whole": whole}, 1024) if "whole" in x)
    assert "| 30.00 / 35.00 |" in line and "| 5.00 / 6.00 |" in line and "| 6.00 / 5.83 |" in line
    assert "1400 |" in line and "GB**" not in line and line.endswith("| ≤ 6.0 | ja |")


def _minimal_run(side) -> dict:
    ours, base = side(300, 1.0, 2.0), side(100, 0.5, 1.0)
    stage = {"project": ours, "baseline": base, "ratio": 2.0, "ratio_min": 2.0, "target": 2.0, "ok": True}
    workbook = {**stage, "project": {**ours, "detail": {}}, "baseline": {**base, "detail": {"cells": 1}}}
    extraction = {"seconds": 2.0, "seconds_min": 1.0, "cpu_seconds": 2.0, "peak_mb": 300, "repeats": 3,
                  "copy_seconds": 1.0, "ratio_to_copy": 2.0}  # fmt: skip
    return {
        "period": "2019-T3", "source_rows": 10, "tables": {"payment": stage}, "extraction": extraction,
        "stages": {"validation": stage, "workbook": workbook},
        "cross_check": {"agree": True, "cells_compared": 1, "indicators": ["eb_hushall"],
                        "tables_compared": 1},
    }  # fmt: skip


@pytest.mark.slow
@pytest.mark.postgres
def test_bench_runs_at_unit_scale_and_duckdb_agrees(tmp_path):
    """One unit-scale run: every stage beside its baseline, and the cross-check agrees."""
    from benchmarks import bench

    require_postgres()
    url, drop = new_postgres_database()
    try:
        out = tmp_path / "unit.json"
        argv = ["--scale", "unit", "--periods", "2019-T3", "--db", url, "--json", str(out), "--no-docs"]
        results = bench.main(argv)
    finally:
        drop()
    assert json.loads(out.read_text("utf-8"))["periods"] == ["2019-T3"]
    assert "| stage | s | cpu s | peak MB |" in out.with_suffix(".md").read_text("utf-8")
    (run,) = results["runs"]
    assert run["cross_check"]["agree"] is True, run["cross_check"]
    assert run["cross_check"]["cells_compared"] > 0
    assert run["cross_check"]["tables_compared"] == len(source.TABLES)
    assert set(run["tables"]) == set(source.TABLES)
    for table, t in run["tables"].items():
        assert t["project"]["rows"] >= 0 and t["baseline"]["detail"]["bytes"] > 0, table
        assert t["target"] == (2.0 if table in bench.BIG_TABLES else None)
    assert set(run["stages"]) == {"validation", "statistics", "workbook"}
    for stage, v in run["stages"].items():
        assert v["target"] == bench.TARGETS[stage]
        assert v["project"]["seconds"] > 0 and v["baseline"]["seconds"] > 0 and v["ratio"] > 0
        assert v["project"]["peak_mb"] > 0
    assert run["stages"]["workbook"]["baseline"]["detail"]["cells"] > 0
    assert set(run["us_per_row"]) == {"extraction", "validation", "statistics", "workbook"}
    whole = run["whole"]  # the CLI as a user runs it, beside the COPY of every table
    assert whole["project"]["detail"]["exit_code"] == 0 and whole["project"]["peak_mb"] > 0
    assert whole["baseline"]["detail"]["tables"] == len(source.TABLES) and whole["ratio"] > 0
    assert (whole["target"], whole["peak_mb_target"]) == (bench.TARGETS["whole"], 1536)
