"""What the tertial sheets share: the page start (title, scope line, print setup) and labels."""

from __future__ import annotations

import xlsxwriter

from etl import targets
from etl.config import ALL
from reports.definitions import DEFINITIONS, definition
from reports.formats import Formats
from reports.layout import Line, Page, header_escape, print_setup
from reports.model import SEXES, Figures, ReportContext
from reports.swedish import date_text

SEX_COLUMNS = ["Totalt", "Kvinnor", "Män"]


def period_text(ctx: ReportContext) -> str:
    return f"{date_text(ctx.period.start)} – {date_text(ctx.period.end)}"


def name_of(indicator_id: str) -> str:
    """Short Swedish name: the definitions' name, else the plan's, else the id."""
    d = definition(indicator_id)
    if d is not None and indicator_id in DEFINITIONS:
        return d.name
    plan = targets.indicators().get(indicator_id)
    return plan.name if plan else indicator_id


def start(wb: xlsxwriter.Workbook, ctx: ReportContext, fmts: Formats, name: str, title: str) -> Page:
    """A new sheet with its title, the scope and period line, and the print setup."""
    p = Page.add(wb, fmts, name, ctx.suppressed_symbol, ctx.nothing_symbol)
    p.text(0, 0, title, fmts.title)
    scope = ctx.scope_label()
    beside = "" if ctx.scope == ALL else " (med hela enhetens totaler bredvid)"
    p.text(
        1,
        0,
        f"{ctx.unit_name} · {scope}{beside} · {ctx.period.label} {ctx.period.year}: "
        f"{period_text(ctx)} · uppgifter till och med {date_text(ctx.through)}",
        fmts.plain,
    )
    print_setup(
        p.ws,
        f"&L{header_escape(ctx.unit_name)}&C&A&R{header_escape(f'{ctx.period.label} {ctx.period.year}')}",
        f"&L{header_escape(scope)}&CSida &P av &N&RUppgifter t.o.m. {ctx.through.isoformat()}",
    )
    return p


def sex_lines(ctx: ReportContext, fig: Figures, ids, scopes=None, sexes=SEXES) -> list[Line]:
    """Rows (indicator, scope) with Totalt / Kvinnor / Män; sexes not applying stay empty."""
    scopes = scopes or ctx.shown_scopes
    return [
        Line(
            (name_of(ind), ctx.scope_label(s)),
            tuple(fig.get(ind, s, x) if x in sexes else None for x in SEXES),
            bold=s == ALL,
        )
        for ind in ids
        for s in scopes
    ]
