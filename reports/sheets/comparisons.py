"""Comparison columns: the earlier tertials of the year and the same period of the previous year.

The figures come from the run's comparison table (etl.statistics.comparison: computed from the
same extract, disclosure-checked); where an indicator has none the cell says "saknas" and the
comment says why. The change is in procentenheter for shares and in per cent for other figures.
"""

from __future__ import annotations

from etl import targets
from etl.periods import Period
from etl.settings import Entry, settings
from etl.statistics import comparison
from etl.vocabulary import ALL
from reports.judgements import Judgements
from reports.layout import Page
from reports.model import NOTHING, Cell, Figures, ReportContext
from reports.swedish import format_number

MISSING = "saknas"


def columns(ctx: ReportContext) -> list[tuple[str, str]]:
    """(header, period) of each comparison column, in reading order: T1 [T2] this year, then
    the same period last year."""
    periods = comparison.comparison_periods(ctx.period)
    cols = [(f"T{t} {ctx.period.year}", str(periods[f"T{t}"])) for t in range(1, ctx.period.tertial)]
    last = periods["previous_year"]
    cols.append((f"T{last.tertial} {last.year}", str(last)))
    return cols


def cell(ctx: ReportContext, entry: Entry, period: str, scope: str = ALL) -> Cell | None:
    """The comparison figure (T), or None when the run has none for the indicator."""
    return _figure(ctx, entry.id, period, scope)


def history(ctx: ReportContext, entry: Entry, scope: str) -> targets.History:
    """Last year's same period and full year (as the judgement uses them)."""
    return Judgements.of(ctx).history(entry, scope)


def reason(ctx: ReportContext, entry: Entry) -> str:
    """Why an indicator has no comparison figures (for the comment)."""
    other = comparison.comparison_periods(ctx.period)["previous_year"]
    return f"Jämförelse {MISSING}: {comparison.reason(entry, ctx.period, other)}."


def change(entry: Entry, now: Cell, before: Cell | None, decimals: int) -> str:
    """``↑ +0,1 procentenheter`` / ``↓ −12 %`` / ``→ 0`` (now against the previous year); "" when
    either is not shown."""
    if before is None or now.number is None or before.number is None:
        return ""
    if entry.unit == "procent":
        diff = targets.shown(now.number, decimals) - targets.shown(before.number, decimals)
        text = f"{format_number(diff, decimals)} p.e."
    elif before.number == 0:
        return ""
    else:
        diff = (now.number - before.number) / abs(before.number) * 100
        diff = targets.shown(diff, 0)
        text = f"{format_number(diff, 0)} %"
    if diff > 0:
        return f"↑ +{text}"
    return f"↓ {text}" if diff < 0 else f"→ {text}"


def nothing() -> Cell:
    return Cell(NOTHING, None, None)


def period_label(period: str) -> str:
    p = Period.parse(period)
    return f"T{p.tertial} {p.year}"


CHANGE_WIDTH = 46
"""Characters of the change column: the longest reason a comparison is missing fits one line, so
the column never changes the height of a row the table has sized for its labels."""


def beside(
    w: Page, ctx: ReportContext, fig: Figures, header: int, col: int, items: list[tuple[str, str] | None]
) -> None:
    """Comparison columns right of a table: its header row is ``header``, its lines follow, one
    per ``(indicator id, scope)`` (None: a line without a comparison). The earlier tertials of
    the year and the same period last year (totals), then the change against last year, or
    "saknas" and why. Comparison figures are published ones: a suppressed figure stays ``..``."""
    cols = columns(ctx)
    last = comparison.comparison_periods(ctx.period)["previous_year"]
    heads = [h for h, _ in cols] + [f"Förändring mot {cols[-1][0]}"]
    catalogue = settings().catalogue
    w.set_widths({**{col + j: 11 for j in range(len(cols))}, col + len(cols): CHANGE_WIDTH})
    for j, text in enumerate(heads):
        w.text(header, col + j, text, w.fmts.header_right if j < len(cols) else w.fmts.header)
    for i, item in enumerate(items, start=header + 1):
        if item is None:
            continue
        indicator_id, scope = item
        entry = catalogue.entry_for(indicator_id)
        earlier = [_figure(ctx, indicator_id, period, scope) for _, period in cols]
        for j, found in enumerate(earlier):
            if found is None:
                w.text(i, col + j, MISSING, w.fmts.symbol())
            else:
                w.put(i, col + j, found, bold=scope == ALL)
        if earlier[-1] is None:
            text = f"{MISSING}: {comparison.reason(entry, ctx.period, last)}"
        else:
            now = fig.get(indicator_id, scope, "T")
            text = change(entry, now, earlier[-1], targets.shown_decimals(entry, None))
        w.text(i, col + len(cols), text, w.fmts.text)


def _figure(ctx: ReportContext, indicator_id: str, period: str, scope: str) -> Cell | None:
    figures = ctx.figures_for(period)
    if figures is None or not figures.has(indicator_id):
        return None
    return figures.get(indicator_id, scope, "T")
