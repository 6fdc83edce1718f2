"""Statistics: sex-disaggregated indicators per district and for the unit.

Walking skeleton: the household and recipient counts. Issue 4 adds every indicator of the
plan. Every indicator yields one row per scope (district code or ``ALL``) × sex (T, K, M),
including zero rows, so a missing figure is never confused with a zero.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from etl import staging
from etl.config import ALL
from etl.periods import Period

SEXES = ("T", "K", "M")
COLUMNS = ["indicator_id", "period", "district_code", "sex", "numerator", "denominator", "value", "unit"]
BASIS = "basis_persons"
"""Internal column: how many persons a figure rests on (disclosure control needs it)."""


def count_distinct_by_scope(df: pd.DataFrame, key: str, districts: list[str]) -> pd.DataFrame:
    """Distinct ``key`` per district × sex, with T and ALL margins; zero where nothing.

    ``df`` has columns ``district_code``, ``sex`` (K/M) and ``key``.
    """
    both = pd.concat([df, df.assign(sex="T")])
    both = pd.concat([both, both.assign(district_code=ALL)])
    counts = both.groupby(["district_code", "sex"])[key].nunique()
    grid = pd.MultiIndex.from_product([[*districts, ALL], list(SEXES)], names=["district_code", "sex"])
    return counts.reindex(grid, fill_value=0).rename("value").reset_index()


def _in_period(months: pd.Series, period: Period) -> pd.Series:
    return (months >= pd.Timestamp(period.start)) & (months < pd.Timestamp(period.end_exclusive))


def build_statistics(run: Path, period: Period) -> pd.DataFrame:
    """Compute the statistics from validated staging; write ``statistics.parquet``."""
    read = lambda name: staging.read_table(run, staging.VALIDATED, name)  # noqa: E731
    districts = sorted(read("district")["district_code"].dropna().unique().tolist())
    payment, household, person = read("payment"), read("household"), read("person")
    paid = payment.loc[_in_period(payment["benefit_month"], period), ["household_id"]].drop_duplicates()
    hh = paid.merge(household[["household_id", "district_code"]], on="household_id")
    leaders = person.loc[person["role"] == "registerledare", ["household_id", "sex"]]
    members = person[["person_id", "household_id", "sex"]]

    rows = []
    households = count_distinct_by_scope(hh.merge(leaders, on="household_id"), "household_id", districts)
    rows.append(households.assign(indicator_id="eb_hushall", unit="antal"))
    recipients = count_distinct_by_scope(hh.merge(members, on="household_id"), "person_id", districts)
    rows.append(recipients.assign(indicator_id="eb_mottagare", unit="antal"))

    stats = pd.concat(rows, ignore_index=True)
    stats[BASIS] = stats["value"]
    stats["numerator"] = stats["value"].astype("Float64")
    stats["denominator"] = pd.Series(pd.NA, index=stats.index, dtype="Float64")
    stats["value"] = stats["value"].astype("float64")
    stats["period"] = str(period)
    stats = stats[[*COLUMNS, BASIS]].sort_values(["indicator_id", "district_code", "sex"], ignore_index=True)
    stats.to_parquet(Path(run) / "statistics.parquet", index=False)
    return stats


def write_statistics_csv(stats: pd.DataFrame, path: Path) -> Path:
    """The internal, unsuppressed statistics.csv (archive only, never emailed)."""
    stats[COLUMNS].to_csv(path, index=False, float_format="%.10g", lineterminator="\n")
    return path
