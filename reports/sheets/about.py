"""Sheet 8, Om statistiken: the run's facts, source rows and every indicator's definition."""

from __future__ import annotations

from etl.settings import settings
from etl.targets import no_plan_text
from reports.labels import table_label
from reports.layout import Page, safe_text
from reports.model import Figures, ReportContext
from reports.sheets.common import period_text, repeat_title


def write(w: Page, ctx: ReportContext, fig: Figures) -> None:
    p = ctx.period
    plan = settings().plan(p.year)
    s, n = ctx.suppressed_symbol, ctx.nothing_symbol
    w.set_widths({0: 30, 1: 60, 2: 44, 3: 30})  # the facts' values span B:D
    facts = [
        ("Enhet", ctx.unit_name),
        ("Stadsdelar", ", ".join(f"{name} ({code})" for code, name in ctx.district_names.items())),
        ("Omfattning", ctx.scope_label()),
        ("Period", f"{p.label} {p.year}: {period_text(ctx)} (år till och med tertialet)"),
        ("Körningens dataintervall", f"{p.tertial_start.isoformat()} – {p.end.isoformat()}"),
        ("Uppgifter till och med", ctx.through.isoformat()),
        ("Befolkningsår", str(ctx.population_year)),
        ("Sekretess", " ".join(t for t in (ctx.disclosure_rule, ctx.suppression_note) if t)),
        ("Personalstatistik", ctx.staff_rule),
        (
            "Symboler",
            f"{s} = uppgiften visas inte (för få personer eller för osäker). {n} = inget att "
            "redovisa (ingen nämnare eller inget utfall). 0 = noll.",
        ),
        ("Kön", "Totalt, kvinnor och män (juridiskt kön). Hushåll efter registerledarens kön."),
        ("Måluppfyllelse", settings().pipeline.judgement.rule),
        ("Mål och budget", plan.title if plan else f"{no_plan_text(p.year)}: ingen bedömning."),
        ("Helårsprognos", "Linjär: utfall × 12 / periodens månader (antal med årsmål)."),
        (
            "Datakvalitet",
            "Uppgifterna kontrolleras innan statistiken tas fram; bladet Datakvalitet visar resultatet.",
        ),
    ]
    table_header = 3
    w.headers(table_header, ["Uppgift", "Värde"], 2)
    w.ws.merge_range(table_header, 1, table_header, 3, "Värde", w.fmts.header)
    value_width = w.widths[1] + w.widths[2] + w.widths[3]
    for i, (label, value) in enumerate(facts, start=table_header + 1):
        w.text(i, 0, label, w.fmts.text_bold)
        w.ws.merge_range(i, 1, i, 3, safe_text(value), w.fmts.wrap)
        w.fit_row(i, [(value, value_width)])
    r = w.subtitle(table_header + len(facts) + 2, "Rader i källan")
    w.headers(r, ["Tabell", "Rader"], 1)
    rows = sorted((table_label(table), count) for table, count in ctx.source_rows.items())
    for i, (label, count) in enumerate(rows, start=r + 1):
        w.text(i, 0, label, w.fmts.text)
        w.ws.write_number(i, 1, int(count), w.fmts.number("antal"))
    r = w.subtitle(r + len(ctx.source_rows) + 2, "Indikatorer: definition och källa")
    w.headers(r, ["Indikator", "Definition", "Källa"], 3)
    for i, entry in enumerate(settings().catalogue, start=r + 1):
        src = entry.source
        if plan is not None and plan.indicator(entry.id) is not None:
            src += f". Mål: {plan.title}"
        values = [entry.name, entry.definition, src]
        for j, value in enumerate(values):
            w.text(i, j, value, w.fmts.wrap)
        w.fit_cells(i, 0, values)
    repeat_title(w, table_header)
