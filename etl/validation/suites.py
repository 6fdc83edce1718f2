"""The rules: Great Expectations suites in ``expectations/<table>.json`` and their parameters.

Each expectation's ``meta`` carries ``severity`` (critical/warning) and a short Swedish ``rule``;
a ``Rule`` is one expectation with what the report needs to say about it. Limits from
``config/validation.yml`` reach the suites as ``$PARAMETER``s (``expectation_parameters``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from etl import source
from etl.periods import Period
from etl.settings import Validation

EXPECTATIONS_DIR = Path(__file__).resolve().parent.parent.parent / "expectations"

CRITICAL, WARNING = "critical", "warning"
ROW, TABLE = "rad", "tabell"

ROW_LEVEL_TYPES = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_unique",
        "expect_column_values_to_match_regex",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_equal",
        "expect_compound_columns_to_be_unique",
        "expect_multicolumn_sum_to_equal",
        "expect_select_column_values_to_be_unique_within_record",
    }
)
"""Column map expectations: GX returns the failing rows, which are quarantined."""

# pandas cannot hold datetime64[ns] outside these bounds; GX compares dates vectorised only
# in [ns] (other units go through a per-row Python map), so the validation frame clips to them.
# Every bound in the suites lies inside, so a clipped date compares exactly like the original.
NS_MIN, NS_MAX = pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31")


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite, with what the report needs to say about it."""

    index: int
    type: str
    kwargs: dict
    severity: str
    rule: str
    column: str
    level: str

    @property
    def label(self) -> str:
        return f"{self.column}: {self.rule}" if self.column else self.rule

    @property
    def columns(self) -> list[str]:
        """Frame columns the expectation reads (to skip it when the source lacks one)."""
        kw = self.kwargs
        cols = [kw[k] for k in ("column", "column_A", "column_B") if k in kw]
        return cols + list(kw.get("column_list", ()))


def rule_column(expectation: dict) -> str:
    """The column(s) a rule is reported under: ``meta.column``, else the expectation's own."""
    meta, kw = expectation.get("meta", {}), expectation["kwargs"]
    if "column" in meta:
        return meta["column"]
    if "column" in kw:
        return kw["column"]
    if "column_list" in kw:
        return ", ".join(kw["column_list"])
    return ", ".join(kw[k] for k in ("column_A", "column_B") if k in kw)


@cache
def _suite_file(path: str, mtime_ns: int) -> dict:
    del mtime_ns  # cache key only: an edited file is read again
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_suite(table: str, directory: Path | None = None) -> dict:
    """The suite JSON of ``table``, checked: every expectation has a severity and a unique rule."""
    path = Path(directory or EXPECTATIONS_DIR) / f"{table}.json"
    suite = _suite_file(str(path), path.stat().st_mtime_ns)
    seen: set[str] = set()
    for i, exp in enumerate(suite["expectations"]):
        rule = suite_rule(i, exp)
        if rule.severity not in (CRITICAL, WARNING):
            raise ValueError(f"{path}: regel {i} saknar severity critical/warning")
        if rule.label in seen:
            raise ValueError(f"{path}: regeln {rule.label!r} förekommer två gånger")
        seen.add(rule.label)
    return suite


def suite_rule(index: int, expectation: dict) -> Rule:
    meta = expectation.get("meta", {})
    return Rule(
        index=index,
        type=expectation["type"],
        kwargs=expectation["kwargs"],
        severity=meta.get("severity", ""),
        rule=meta.get("rule", expectation["type"]),
        column=rule_column(expectation),
        level=ROW if expectation["type"] in ROW_LEVEL_TYPES else TABLE,
    )


def suite_rules(table: str, directory: Path | None = None) -> list[Rule]:
    return [suite_rule(i, e) for i, e in enumerate(load_suite(table, directory)["expectations"])]


def python_rule(index: int, rule: str, severity: str) -> Rule:
    """A table-level rule checked in Python (not a GX expectation), reported the same way."""
    return Rule(index, "python", {}, severity, rule, "", TABLE)


def table_key(table: str, directory: Path | None = None) -> list[str]:
    """Columns that identify a row in messages: the primary key, else the suite's natural key."""
    pk = [c.name for c in source.TABLES[table].primary_key.columns]
    return pk or list(load_suite(table, directory)["meta"].get("key", []))


def _iso(day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time()).isoformat()


def expectation_parameters(period: Period | None, cfg: Validation) -> dict[str, Any]:
    """Values for the suites' ``$PARAMETER``s."""
    if period is None:  # nothing to anchor dates to: only the contract's outer bounds apply
        end, year = NS_MAX.date(), None
        max_fact = max_any = end
    else:
        end, year = period.end, period.year
        max_fact = end + dt.timedelta(days=cfg.dates.fact_days_after_period_end)
        max_any = dt.date(end.year + cfg.dates.max_years_after_period_end, end.month, end.day)
    young, old = cfg.staff_age
    return {
        "earliest_date": _iso(cfg.dates.earliest),
        "max_fact_date": _iso(max_fact),
        "max_any_date": _iso(max_any),
        "period_end_date": _iso(end),  # a person born after P cannot be in P
        "max_payment_sek": cfg.amounts.max_payment_sek,
        "min_birth_year": (year - old) if year else 1800,
        "max_birth_year": (year - young) if year else 2262,
    }
