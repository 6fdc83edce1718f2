"""Extraction windows: per source table, the dates each definition and validation rule reads.

Each indicator's catalogue entry (config/catalogue.yml, ``reads``) says which rows of which
table it needs for a period; ``RULE_READS`` says the same for validation rules
(expectations/*.json). Extraction reads the union of a table's reads (``clause``); a table
without reads is read whole.
A table is never cut by one convenient column: a statistic computed from the windowed extract
must equal the one computed from the whole source (tests/test_windows.py guards this), so an
application decided in P for a benefit month after P is read, and so is an intervention that
started years ago and ended in P.

Windows are either a date span relative to the period (``SPANS``) or ``Follow``: the values of a
column in another table's (or this table's) rows, so a row referred to by a row that is read,
or in the same validation group, is read too. A NULL in a filter column is read (validation
quarantines it, nothing is dropped silently) unless the entry says NULL has a meaning outside
the window (a pending decision is not decided in P; a running intervention has not ended).
Dates are compared as ISO text, and a value that is no ISO date is read too (a type error for
validation), so a text-typed date column or a malformed value never crashes or vanishes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from etl.periods import Period
from etl.settings import settings


def _months_before(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` before ``day``'s month (``day`` is a first of month)."""
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


SPANS: dict[str, tuple[str, Callable[[Period], tuple[dt.date, dt.date] | tuple[int, int]]]] = {
    "P": ("P (1 January to the end of P)", lambda p: (p.start, p.end_exclusive)),
    "P_last_month": (
        "P's last month",
        lambda p: (_months_before(p.end_exclusive, 1), p.end_exclusive),
    ),
    "P_previous_year": (
        "the same months of the year before P",
        lambda p: (p.start.replace(year=p.year - 1), _months_before(p.end_exclusive, 12)),
    ),
    "12_months_to_P_end": (
        "the 12 months ending with P's last month",
        lambda p: (_months_before(p.end_exclusive, 12), p.end_exclusive),
    ),
    "previous_year": (
        "the whole year before P (comparisons: last year's same period and full year)",
        lambda p: (dt.date(p.year - 1, 1, 1), dt.date(p.year, 1, 1)),
    ),
    "24_months_to_P_end": (
        "the 24 months ending with P's last month (rolling figures a year earlier)",
        lambda p: (_months_before(p.end_exclusive, 24), p.end_exclusive),
    ),
    "year_P": ("P's year", lambda p: (p.year, p.year)),
    "year_before_P": ("the year before P", lambda p: (p.year - 1, p.year - 1)),
    "two_years_before_P": ("the two years before P", lambda p: (p.year - 2, p.year - 1)),
    "year_P_and_before": ("P's year and the year before", lambda p: (p.year - 1, p.year)),
}
"""Window name -> (description, period -> [start, end_exclusive) dates or (first, last) years)."""
YEAR_SPANS = ("year_P", "year_before_P", "two_years_before_P", "year_P_and_before")


@dataclass(frozen=True)
class Follow:
    """The values of ``table.column`` in the rows where ``where`` = (column, span) holds; without
    ``where``, in the rows that ``table``'s own extract reads (for this table: the other entries)."""

    table: str
    column: str
    where: tuple[str, str] | None = None

    def describe(self) -> str:
        rows = f"whose `{self.where[0]}` is in {SPANS[self.where[1]][0]}" if self.where else "read"
        return f"values of `{self.table}.{self.column}` in the rows {rows}"


@dataclass(frozen=True)
class Read:
    """``table.column`` within ``window`` is needed by ``needed_by`` (indicator ids or rules)."""

    table: str
    column: str
    window: str | Follow
    needed_by: tuple[str, ...]
    null_read: bool = True
    """False where NULL means the row is outside the window (pending, still running)."""

    def describe(self) -> str:
        return self.window.describe() if isinstance(self.window, Follow) else SPANS[self.window][0]


RULE_READS: tuple[Read, ...] = (
    Read("application", "application_id", Follow("payment", "application_id"),
         ("rule payment: ansökan finns inte",)),
    Read("application", "benefit_month", Follow("application", "benefit_month"),
         ("rule application: flera ansökningar för samma hushåll och månad",
          "rule application: sökande i flera hushåll samma månad")),
)  # fmt: skip
"""What validation rules read beyond the indicators' windows. Group rules need no entry of their
own where the group's key contains the window column (support_obstacle, staff_month, population,
indicator_input are cut by month/year)."""


def _window(spec) -> str | Follow:
    if isinstance(spec, str):
        if spec not in SPANS:
            raise ValueError(f"config/catalogue.yml: okänt fönster {spec!r}; välj bland {sorted(SPANS)}.")
        return spec
    if spec.where and spec.where[1] not in SPANS:
        raise ValueError(
            f"config/catalogue.yml: okänt fönster {spec.where[1]!r} ({spec.table}.{spec.column})."
        )
    return Follow(spec.table, spec.column, spec.where)


def all_reads() -> tuple[Read, ...]:
    """Every windowed read: the catalogue entries' ``reads`` (one Read per distinct table,
    column, window; needed by the entries that declare it) and the validation rules'."""
    needed: dict[tuple, list[str]] = {}
    for entry in settings().catalogue:
        label = f"{entry.id}*" if entry.family else entry.id
        for spec in entry.reads:
            key = (spec.table, spec.column, _window(spec.window), spec.null_read)
            needed.setdefault(key, []).append(label)
    from_catalogue = tuple(
        sorted(
            (Read(table, column, window, tuple(ids), null_read) for (table, column, window, null_read), ids
             in needed.items()),
            key=lambda r: (r.table, r.column),
        )
    )  # fmt: skip
    return from_catalogue + RULE_READS


WHOLE: dict[str, str] = {
    "district": "the districts of the grid",
    "household": "district, type and registerledare of every household a payment or decision names",
    "person": "sex and age on P's last day (birth dates), members of households paid in P",
    "staff": "employment on P's last day, sex and age band; staff_month's employment rule",
}
"""Dimension tables, read whole, and why."""


def reads(table: str) -> list[Read]:
    return [r for r in all_reads() if r.table == table]


def _ranges(entries: list[Read], period: Period) -> list[tuple]:
    """The entries' spans, sorted, overlapping or adjacent ones merged (one range in SQL each)."""
    spans = sorted(SPANS[r.window][1](period) for r in entries)
    merged: list[list] = []
    for start, end in spans:
        adjacent = 1 if isinstance(start, int) else dt.timedelta(0)  # years are inclusive
        if merged and start <= merged[-1][1] + adjacent:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [tuple(m) for m in merged]


def _date_between(c, start: dt.date, end: dt.date):
    """``start`` <= c < ``end``, compared as ISO text: the same on a date column and on a text
    column holding dates (PostgreSQL cannot compare text with a date; SQLite stores text)."""
    text = sa.cast(c, sa.String)
    return sa.and_(text >= start.isoformat(), text < end.isoformat())


def _not_a_date(c):
    """Values that are not ISO dates at all ('2018/02/01', a number): read, so that extraction
    flags them as type errors and validation quarantines them; nothing is cut unseen."""
    return sa.not_(sa.cast(c, sa.String).like("____-__-__%"))


Columns = Callable[[str], "set[str] | None"]
"""Columns of a source table as present in the source; None when the table is missing."""


def clause(name: str, period: Period, columns: Columns, tbl=None, _skip: frozenset = frozenset()):
    """The SQL condition selecting ``name``'s rows for ``period``: an OR of the entries' windows.

    None means read the whole table (no entries, or a filter column missing from the source:
    schema drift for validation to report, never a silent cut). ``tbl`` is the statement's table.
    """
    entries = [r for r in reads(name) if r not in _skip]
    present = columns(name) or set()
    if not entries:
        return None
    if any(r.column not in present for r in entries):
        return None
    if tbl is None:
        tbl = sa.table(name, *[sa.column(c) for c in sorted(present)])
    parts = []
    by_column: dict[str, list[Read]] = {}
    for r in entries:
        if isinstance(r.window, Follow):
            sub = _follow(r, period, columns, _skip | {r})
            if sub is not None:
                parts.append(tbl.c[r.column].in_(sub))
        else:
            by_column.setdefault(r.column, []).append(r)
    for column, group in by_column.items():
        c = tbl.c[column]
        year = group[0].window in YEAR_SPANS
        for start, end in _ranges(group, period):
            parts.append(sa.and_(c >= start, c <= end) if year else _date_between(c, start, end))
        if not year:
            parts.append(_not_a_date(c))
    for column in dict.fromkeys(r.column for r in entries if r.null_read):
        parts.append(tbl.c[column].is_(None))
    return sa.or_(*parts) if parts else sa.false()


def _follow(r: Read, period: Period, columns: Columns, skip: frozenset):
    """SELECT the followed column (None: the followed table or its columns are not in the source,
    so it refers to nothing)."""
    f = r.window
    present = columns(f.table)
    needed = {f.column, *([f.where[0]] if f.where else [])}
    if present is None or not needed <= present:
        return None
    # An alias per level, never correlated: the subquery reads its own table, also for this table.
    other = sa.table(f.table, *[sa.column(c) for c in sorted(present)]).alias(f"w{len(skip)}_{f.table}")
    stmt = sa.select(other.c[f.column]).where(other.c[f.column].is_not(None)).correlate(None)
    if f.where:
        start, end = SPANS[f.where[1]][1](period)
        return stmt.where(_date_between(other.c[f.where[0]], start, end))
    inner = clause(f.table, period, columns, other, skip)
    return stmt.where(inner) if inner is not None else stmt


# --------------------------------------------------------------------------- documentation

DOC_BEGIN = "<!-- windows:begin (generated from config/catalogue.yml by python -m etl docs) -->"
DOC_END = "<!-- windows:end -->"


def markdown() -> str:
    """The per-table windows as docs/source-contract.md shows them."""
    lines = [DOC_BEGIN, "", "| table | column | window | needed by |", "|---|---|---|---|"]
    for r in all_reads():
        null = "" if r.null_read else " (NULL: not in the window)"
        lines.append(f"| `{r.table}` | `{r.column}` | {r.describe()}{null} | {', '.join(r.needed_by)} |")
    for table, why in WHOLE.items():
        lines.append(f"| `{table}` | – | whole table | {why} |")
    lines += ["", DOC_END]
    return "\n".join(lines)
