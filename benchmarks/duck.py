"""The statistics baseline: the core figures of issue 17 in DuckDB SQL over validated Parquet.

Same definitions as etl/statistics/case.py and etl/statistics/gender.py (config/catalogue.yml): a
household's sex is its last registerledare's (row order of validated person), households without
a known sex are left out, payments count when ``benefit_month`` is in the period, persons count
in their household's district with their own sex, and T / ALL are margins over every row (a
missing sex counts in T only). Långvarigt bistånd: adults (completed years at the end of P) in
households paid for at least 10 distinct benefit months of the 12 ending with P. The gender
analysis' mean: granted kronor per granted decision (bifall, delvis bifall) decided in P, for
single-adult households (types 3–6), by the applicant's sex. :func:`cross_check` proves the two
agree, so the timing compares like with like. Covered: eb_hushall, eb_utbetalt_kr,
eb_mottagare, the numerator of eb_langvarigt_vuxna and ja_beviljat_kr_medel per district × sex,
and the row count of every validated table against validation.json.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from etl import source, staging
from etl.periods import Period

CORE = {
    "eb_hushall": ("value", "count"),
    "eb_utbetalt_kr": ("value", "kr"),
    "eb_mottagare": ("value", "count"),
    "eb_langvarigt_vuxna": ("numerator", "count"),
    "ja_beviljat_kr_medel": ("value", "mean"),
}
"""Indicator → (the statistics.parquet column DuckDB's figure is compared with, its kind): a
count or kronor sum is 0 in a cell DuckDB has no row for (nobody in it), a mean is missing."""
KR_TOLERANCE = 0.005
"""Kronor are compared to the öre (within half an öre): both sum float64, in their own order
(pandas compensated), so a mean of exactly 7918.115 may round to .12 on one side, .11 on the other."""
ADULT_AGE = 18
LONG_TERM_WINDOW_MONTHS = 12
LONG_TERM_MIN_MONTHS = 10
SINGLE_ADULT_TYPES = (3, 4, 5, 6)
GRANTED_DECISIONS = ("bifall", "delvis_bifall")


def _margins(rel: str, measures: str) -> str:
    """district × sex cells with the T and ALL margins of ``rel`` (columns district_code, sex)."""
    return f"""
        SELECT district_code, sex, {measures} FROM {rel} WHERE sex IS NOT NULL GROUP BY ALL
        UNION ALL SELECT district_code, 'T' AS sex, {measures} FROM {rel} GROUP BY ALL
        UNION ALL SELECT 'ALL' AS district_code, sex, {measures} FROM {rel} WHERE sex IS NOT NULL GROUP BY ALL
        UNION ALL SELECT 'ALL' AS district_code, 'T' AS sex, {measures} FROM {rel}"""


_MEAN_GRANTED = "sum(granted_kr) FILTER (granted) / count(*) FILTER (granted) AS kr"


def _quoted(values) -> str:
    return ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values)


def core_statistics(run: Path, period: Period, con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """indicator_id, district_code, sex, value for :data:`CORE` (only cells with data)."""
    con = con or duckdb.connect()

    def path(name: str) -> str:
        return str(staging.table_path(run, staging.VALIDATED, name)).replace("'", "''")

    for name in ("household", "payment", "application"):
        con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{path(name)}')")
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
        long_term AS (
            SELECT p.household_id FROM payment p SEMI JOIN known k USING (household_id)
            WHERE p.benefit_month >= $window_start AND p.benefit_month < $end
            GROUP BY p.household_id HAVING count(DISTINCT p.benefit_month) >= {LONG_TERM_MIN_MONTHS}
        ),
        long_term_adults AS (
            SELECT h.district_code, p.sex
            FROM person p JOIN household h USING (household_id) SEMI JOIN long_term l USING (household_id)
            WHERE year($last_day) - year(p.birth_date) - CASE WHEN month(p.birth_date) > month($last_day)
                  OR (month(p.birth_date) = month($last_day) AND day(p.birth_date) > day($last_day))
                  THEN 1 ELSE 0 END >= {ADULT_AGE}
        ),
        decisions AS (
            SELECT h.district_code, p.sex, a.decision IN ({_quoted(GRANTED_DECISIONS)}) AS granted,
                   coalesce(a.granted_sek, 0) AS granted_kr
            FROM application a JOIN household h USING (household_id)
                 JOIN person p ON p.person_id = a.applicant_id
            WHERE a.decided_on >= $start AND a.decided_on <= $last_day AND a.decision IS NOT NULL
              AND h.household_type IN ({_quoted(SINGLE_ADULT_TYPES)})
        ),
        hh AS ({_margins("paid", "count(*) AS n, sum(kr) AS kr")}),
        rec AS ({_margins("recipients", "count(*) AS n")}),
        adults AS ({_margins("long_term_adults", "count(*) AS n")}),
        mean AS ({_margins("decisions", _MEAN_GRANTED)})
        SELECT 'eb_hushall' AS indicator_id, district_code, sex, n::DOUBLE AS value FROM hh
        UNION ALL SELECT 'eb_utbetalt_kr', district_code, sex, kr::DOUBLE FROM hh
        UNION ALL SELECT 'eb_mottagare', district_code, sex, n::DOUBLE FROM rec
        UNION ALL SELECT 'eb_langvarigt_vuxna', district_code, sex, n::DOUBLE FROM adults
        UNION ALL SELECT 'ja_beviljat_kr_medel', district_code, sex, kr::DOUBLE FROM mean
    """
    window_start = pd.Timestamp(period.end_exclusive) - pd.DateOffset(months=LONG_TERM_WINDOW_MONTHS)
    params = {
        "start": period.start,
        "end": period.end_exclusive,
        "last_day": period.end,
        "window_start": window_start.date(),
    }
    return con.execute(sql, params).df()


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

    Every project cell of a core indicator must equal DuckDB's (:data:`CORE` says which column and
    what a cell DuckDB has no row for means); counts exactly, kronor to the öre, a missing mean on
    both sides agrees. ``agree`` is the verdict.
    """
    stats = pd.read_parquet(Path(run) / "statistics.parquet")
    stats = stats[stats["indicator_id"].isin(list(CORE))]
    column = stats["indicator_id"].map({i: c for i, (c, _) in CORE.items()})
    ours = stats[["indicator_id", "district_code", "sex"]].assign(
        value=[stats.at[i, c] for i, c in column.items()]
    )
    both = ours.merge(duck, on=["indicator_id", "district_code", "sex"], how="left", suffixes=("", "_duckdb"))
    kind = both["indicator_id"].map({i: k for i, (_, k) in CORE.items()})
    a = pd.to_numeric(both["value"], errors="coerce").astype("float64")
    b = both["value_duckdb"].astype("float64").where(kind.eq("mean") | both["value_duckdb"].notna(), 0.0)
    # Kronor agree to the öre: within half an öre, not by rounding each side (a mean of exactly
    # 7918.115 summed in two orders rounds to .12 on one side and .11 on the other).
    kr = kind.isin(["kr", "mean"]).to_numpy()
    apart = np.where(kr, (a - b).abs() >= KR_TOLERANCE, a != b)
    both_missing = a.isna() & b.isna() & kind.eq("mean")
    differ = both[(apart | a.isna() | b.isna()) & ~both_missing]
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
