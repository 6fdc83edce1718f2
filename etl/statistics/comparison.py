"""Comparison figures: the period's indicators for the periods a follow-up is read beside.

A tertial report is compared with the same period of the previous year and, in T2/T3, with the
earlier tertials of the year; annual shares and seasonal counts are judged with the previous
year's full year (etl.targets). These figures are computed from the run's own validated extract
(never from an earlier run), and only for entries whose extraction windows (catalogue ``reads``)
cover the comparison period: a figure computed from rows the extract did not read would be wrong
without anyone noticing. Other entries have no comparison (the workbook says why).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pandas as pd

from etl.periods import Period
from etl.settings import Catalogue, Entry, settings
from etl.statistics import case, economy, inputs, staff
from etl.statistics.frames import sort_rows
from etl.vocabulary import INTERNAL
from etl.windows import SPANS

log = logging.getLogger(__name__)
PUBLISHED_COMPARISON = "published_comparison.csv"
NOT_COVERED = "källuttaget omfattar inte perioden"
"""Why an entry has no comparison figure (its windows do not reach the period)."""
NOT_COMPUTED = "jämförelse beräknas inte för indikatorn"
NO_DATA = "källan har inga uppgifter för hela perioden"
HISTORY = frozenset({"previous_year", "24_months_to_P_end", "two_years_before_P", "year_P_and_before"})
"""Windows read only for the comparisons: a computation for a period never needs them itself."""


def comparison_periods(period: Period) -> dict[str, Period]:
    """Role → period: the earlier tertials of the year (``T1``, ``T2``), the same period of the
    previous year (``previous_year``) and the previous year's full year (``previous_full_year``)."""
    periods = {f"T{t}": Period(period.year, t) for t in range(1, period.tertial)}
    periods["previous_year"] = Period(period.year - 1, period.tertial)
    periods["previous_full_year"] = Period(period.year - 1, 3)
    return periods


def _within(span: tuple, spans: list[tuple], years: bool) -> bool:
    """``span`` lies inside the union of ``spans`` (dates half-open, years inclusive)."""
    merged: list[list] = []
    for start, end in sorted(spans):
        if merged and start <= (merged[-1][1] + 1 if years else merged[-1][1]):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return any(s <= span[0] and span[1] <= e for s, e in merged)


def covers(entry: Entry, period: Period, other: Period) -> bool:
    """True when the rows ``entry`` needs for ``other`` are within what it reads for ``period``."""
    by_column: dict[tuple[str, str], list[str]] = {}
    for spec in entry.reads:
        if not isinstance(spec.window, str):
            return False  # rows followed from another table: not checked, not compared
        by_column.setdefault((spec.table, spec.column), []).append(spec.window)
    for windows in by_column.values():
        have = [SPANS[w][1](period) for w in windows]
        years = isinstance(have[0][0], int)
        for w in windows:
            if w not in HISTORY and not _within(SPANS[w][1](other), have, years):
                return False
    return True


def comparable(catalogue: Catalogue, period: Period, other: Period) -> tuple[Entry, ...]:
    """The case and staff entries whose comparison figure for ``other`` can be computed."""
    return tuple(
        e
        for e in catalogue
        if e.computed_by in ("case", "staff", "input", "economy") and covers(e, period, other)
    )


def reason(entry: Entry, period: Period, other: Period) -> str:
    """Why ``entry`` has no comparison figure for ``other`` (for the workbook's "saknas")."""
    if entry.computed_by == "gender":
        return NOT_COMPUTED
    return NOT_COVERED if not covers(entry, period, other) else NO_DATA


def _earliest(tables: Mapping[str, pd.DataFrame], catalogue: Catalogue) -> dict[str, object]:
    """Per table, the earliest value of any column a catalogue window reads (None: no rows)."""
    columns: dict[str, set[str]] = {}
    for e in catalogue:
        for spec in e.reads:
            if isinstance(spec.window, str):
                columns.setdefault(spec.table, set()).add(spec.column)
    earliest: dict[str, object] = {}
    for table, cols in columns.items():
        frame = tables.get(table)
        values = [] if frame is None else [frame[c].dropna().min() for c in cols if c in frame]
        values = [v for v in values if not pd.isna(v)]
        earliest[table] = min(values) if values else None
    return earliest


def in_source(entry: Entry, other: Period, earliest: Mapping[str, object]) -> bool:
    """The source has rows from the start of each window ``entry`` reads for ``other`` (its first
    month, for dates: events need not fall on the 1st). A rolling figure a year back needs the
    12 months before it; where the source starts later the figure would be silently too low."""
    for spec in entry.reads:
        if not isinstance(spec.window, str) or spec.window in HISTORY:
            continue
        start = SPANS[spec.window][1](other)[0]
        first = earliest.get(spec.table)
        if first is None:
            return False
        if isinstance(start, int):
            if int(first) > start:
                return False
        elif pd.Timestamp(first) >= pd.Timestamp(start) + pd.DateOffset(months=1):
            return False
    return True


def comparison_statistics(
    tables: Mapping[str, pd.DataFrame], period: Period, districts: list[str], catalogue: Catalogue
) -> pd.DataFrame:
    """The comparable entries' statistics for every comparison period, ``period`` column set."""
    parts = []
    earliest = _earliest(tables, catalogue)
    for other in dict.fromkeys(comparison_periods(period).values()):
        ids = {e.id for e in comparable(catalogue, period, other) if in_source(e, other, earliest)}
        if not ids:
            continue
        try:
            frame = pd.concat(
                [
                    case.case_statistics(tables, other, districts, catalogue),
                    staff.staff_statistics(tables, other),
                    economy.economy_statistics(tables, other, districts),
                ],
                ignore_index=True,
            )
        except ValueError as err:
            # The earlier period's data cannot be computed (e.g. a reported value of an unknown
            # indicator that year): the period's own report stands; its comparison is missing.
            log.warning("Jämförelse med %s beräknas inte: %s", other, err)
            continue
        frame = frame[frame["indicator_id"].isin(ids)].copy()
        frame["period"] = str(other)
        parts.append(frame)
    if not parts:
        return pd.DataFrame(columns=INTERNAL)
    return sort_rows(pd.concat(parts, ignore_index=True)[INTERNAL])


def build_comparison(run, period: Period, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Comparison statistics from the run's validated staging (as build.build_statistics)."""
    catalogue = settings().catalogue
    tables = inputs.read_tables(run, catalogue) if tables is None else tables
    return comparison_statistics(tables, period, inputs.districts(tables), catalogue)
