"""What the tertial sheets share: the page start (title, scope line, print setup) and labels."""

from __future__ import annotations

import xlsxwriter

from etl.settings import settings
from etl.vocabulary import ALL, SEXES
from reports.formats import Formats
from reports.layout import Line, Page, header_escape, print_setup
from reports.model import Figures, ReportContext
from reports.swedish import date_text

SEX_COLUMNS = ["Totalt", "Kvinnor", "Män"]


def period_text(ctx: ReportContext) -> str:
    return f"{date_text(ctx.period.start)} – {date_text(ctx.period.end)}"


def name_of(indicator_id: str) -> str:
    """The indicator's one Swedish name (config/catalogue.yml), else its id."""
    entry = settings().catalogue.entry_for(indicator_id)
    return entry.name if entry else indicator_id


def ids(sheet: str, group: str) -> list[str]:
    """The catalogue's ids for one row group of a sheet, in catalogue order."""
    return [e.id for e in settings().catalogue.select(sheet, group)]


def start(wb: xlsxwriter.Workbook, ctx: ReportContext, fmts: Formats, name: str, title: str) -> Page:
    """A new sheet with its title, the scope and period line, and the print setup."""
    p = Page.add(wb, fmts, name, ctx.suppressed_symbol, ctx.nothing_symbol)
    p.text(0, 0, title, fmts.title)
    scope = ctx.scope_label()
    beside = "" if ctx.scope == ALL else " (med hela enhetens totaler bredvid)"
    p.span(
        1,
        f"{ctx.unit_name} · {scope}{beside} · {ctx.period.label} {ctx.period.year}: "
        f"{period_text(ctx)} · uppgifter till och med {date_text(ctx.through)}",
    )
    period = header_escape(f"{ctx.period.label} {ctx.period.year}")
    print_setup(
        p.ws,
        f"&L{header_escape(ctx.unit_name)}&C&A&R{period}",
        f"&L{header_escape(scope)} · {period}&CSida &P av &N&RUppgifter t.o.m. {ctx.through.isoformat()}",
    )
    return p


def sex_items(ctx: ReportContext, sheet: str, group: str) -> list[tuple[str, str]]:
    """(indicator id, scope) of each line of :func:`sex_lines`, in the same order."""
    return [(entry.id, s) for entry in settings().catalogue.select(sheet, group) for s in ctx.shown_scopes]


def repeat_title(w: Page, table_header: int) -> None:
    """A sheet of several tables: frozen at its first table's header on screen; on paper each
    page repeats the title and scope line (each table keeps its own header with its rows)."""
    w.ws.freeze_panes(table_header + 1, 0)
    w.repeat = (0, 1)


def sex_lines(ctx: ReportContext, fig: Figures, sheet: str, group: str) -> list[Line]:
    """Rows (indicator, scope) of a catalogue row group with Totalt / Kvinnor / Män; sexes the
    catalogue does not split an indicator by stay empty."""
    catalogue = settings().catalogue
    return [
        Line(
            (catalogue.get(i).name, ctx.scope_label(s)),
            tuple(fig.get(i, s, x) if x in catalogue.get(i).sexes else None for x in SEXES),
            bold=s == ALL,
        )
        for i, s in sex_items(ctx, sheet, group)
    ]
