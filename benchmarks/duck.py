"""The statistics baseline: the core ekonomiskt bistånd figures in DuckDB SQL over validated Parquet.

Same definitions as etl/statistics/case.py (config/catalogue.yml): a household's sex is its
last registerledare's (row order of validated person), households without a known sex are left
out, payments count when ``benefit_month`` is in the period, persons count in their household's
district with their own sex, and T / ALL are margins over every row (a missing sex counts in T
only). :func:`cross_check` proves the two agree, so the timing compares like with like.
Covered: eb_hushall, eb_utbetalt_kr, eb_mottagare per district × sex, and the row count of every
validated table against validation.json.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from etl import source, staging
from etl.periods import Period

CORE = ("eb_hushall", "eb_utbetalt_kr", "eb_mottagare")
KR_DECIMALS = 2
"""Kronor are compared to the öre: the project sums float64, DuckDB sums DECIMAL(12,2) exactly."""


def _margins(rel: str, measures: str) -> str:
    """district × sex cells with the T and ALL margins of ``rel`` (columns district_code, sex)."""
    return f"""
        SELECT district_code, sex, {measures} FROM {rel} WHERE sex IS NOT NULL GROUP BY ALL
        UNION ALL SELECT district_code, 'T' AS sex, {measures} FROM {rel} GROUP BY ALL
        UNION ALL SELECT 'ALL' AS district_code, sex, {measures} FROM {rel} WHERE sex IS NOT NULL GROUP BY ALL
        UNION ALL SELECT 'ALL' AS district_code, 'T' AS sex, {measures} FROM {rel}"""


def core_statistics(run: Path, period: Period, con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """indicator_id, district_code, sex, value for :data:`CORE` (only cells with data)."""
    con = con or duckdb.connect()

    def path(name: str) -> str:
        return str(staging.table_path(run, staging.VALIDATED, name)).replace("'", "''")

    con.execute(f"CREATE OR REPLACE VIEW household AS SELECT * FROM read_parquet('{path('household')}')")
    con.execute(f"CREATE OR REPLACE VIEW payment AS SELECT * FROM read_parquet('{path('payment')}')")
    person = f"read_parquet('{path('person')}', file_row_number=true)"  # the row order decides ties
    con.execute(f"CREATE OR REPLACE VIEW person AS SELECT * FROM {person}")
    sql = f"""
        WITH leaders AS (
            SELECT p.household_id, p.sex FROM person p SEMI JOIN household h USING (household_id)
            WHERE p.role = 'registerledare'
            QUALIFY row_number() OVER (PARTITION BY p.household_id ORDER BY p.file_row_number DESC) = 1
        ),
        known AS (
            SELECT h.household_id, h.district_code, l.sex
            FROM household h JOIN leaders l USING (household_id) WHERE l.sex IS NOT NULL
        ),
        paid AS (
            SELECT k.household_id, any_value(k.district_code) AS district_code, any_value(k.sex) AS sex,
                   coalesce(sum(p.amount_sek), 0) AS kr
            FROM payment p JOIN known k USING (household_id)
            WHERE p.benefit_month >= $start AND p.benefit_month < $end
            GROUP BY k.household_id
        ),
        recipients AS (
            SELECT d.district_code, p.sex FROM person p JOIN paid d USING (household_id)
        ),
        hh AS ({_margins("paid", "count(*) AS n, sum(kr) AS kr")}),
        rec AS ({_margins("recipients", "count(*) AS n")})
        SELECT 'eb_hushall' AS indicator_id, district_code, sex, n::DOUBLE AS value FROM hh
        UNION ALL SELECT 'eb_utbetalt_kr', district_code, sex, kr::DOUBLE FROM hh
        UNION ALL SELECT 'eb_mottagare', district_code, sex, n::DOUBLE FROM rec
    """
    return con.execute(sql, {"start": period.start, "end": period.end_exclusive}).df()


def table_rows(run: Path, con: duckdb.DuckDBPyConnection | None = None) -> dict[str, int]:
    """Rows of every validated table, counted by DuckDB."""
    con = con or duckdb.connect()
    out = {}
    for name in source.TABLES:
        path = str(staging.table_path(run, staging.VALIDATED, name)).replace("'", "''")
        out[name] = con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0]
    return out


def cross_check(run: Path, duck: pd.DataFrame, duck_rows: dict[str, int]) -> dict:
    """Compare DuckDB's figures with the project's statistics.parquet and validation.json.

    Every project cell of a core indicator must equal DuckDB's (a cell DuckDB has no row for is
    0: no entity in it); counts exactly, kronor to the öre. ``agree`` is the verdict.
    """
    stats = pd.read_parquet(Path(run) / "statistics.parquet")
    ours = stats[stats["indicator_id"].isin(CORE)][["indicator_id", "district_code", "sex", "value"]]
    both = ours.merge(duck, on=["indicator_id", "district_code", "sex"], how="left", suffixes=("", "_duckdb"))
    both["value_duckdb"] = both["value_duckdb"].fillna(0.0)
    kr = both["indicator_id"].eq("eb_utbetalt_kr")
    a = both["value"].astype("float64").where(~kr, both["value"].astype("float64").round(KR_DECIMALS))
    b = both["value_duckdb"].where(~kr, both["value_duckdb"].round(KR_DECIMALS))
    differ = both[(a != b) | a.isna()]
    accepted = {r["table"]: r["rows_accepted"] for r in staging.read_json(Path(run) / "validation.json")}
    rows_differ = {t: [accepted.get(t), n] for t, n in duck_rows.items() if accepted.get(t) != n}
    missing = sorted(set(CORE) - set(ours["indicator_id"]))
    return {
        "agree": differ.empty and not rows_differ and not missing,
        "cells_compared": len(both),
        "indicators": list(CORE),
        "indicators_missing_in_project": missing,
        "cells_differing": len(differ),
        "examples": differ.head(10).astype(str).to_dict("records"),
        "tables_compared": len(duck_rows),
        "row_counts_differing": rows_differ,
    }
