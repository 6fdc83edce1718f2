"""Sheet 8, Om statistiken: the run's facts, source rows and every indicator's definition."""

from __future__ import annotations

from etl import targets
from reports.definitions import DEFINITIONS, definition
from reports.layout import Page, safe_text
from reports.model import Figures, ReportContext
from reports.sheets.common import period_text

PLAN_UNITS = {"procent": "procent", "antal": "antal", "index": "index"}


def write(w: Page, ctx: ReportContext, fig: Figures) -> None:
    p = ctx.period
    s, n = ctx.suppressed_symbol, ctx.nothing_symbol
    w.set_widths({0: 30, 1: 60, 2: 44, 3: 30})
    facts = [
        ("Enhet", ctx.unit_name),
        ("Stadsdelar", ", ".join(f"{name} ({code})" for code, name in ctx.district_names.items())),
        ("Omfattning", ctx.scope_label()),
        ("Period", f"{p.label} {p.year}: {period_text(ctx)} (år till och med tertialet)"),
        ("Körningens dataintervall", f"{p.tertial_start.isoformat()} – {p.end.isoformat()}"),
        ("Uppgifter till och med", ctx.through.isoformat()),
        ("Befolkningsår", str(ctx.population_year)),
        ("Sekretess", ctx.disclosure_rule),
        ("Personalstatistik", ctx.staff_rule),
        (
            "Symboler",
            f"{s} = uppgiften visas inte (för få personer eller för osäker). {n} = inget att "
            "redovisa (ingen nämnare eller inget utfall). 0 = noll.",
        ),
        ("Kön", "Totalt, kvinnor och män (juridiskt kön). Hushåll efter registerledarens kön."),
        ("Måluppfyllelse", targets.judgement_rule().rule),
        ("Helårsprognos", "Linjär: utfall × 12 / periodens månader (antal med årsmål)."),
        ("Körnings-id", ctx.run_id),
        ("Kodversion", ctx.code_version),
        ("Valideringsrapport", ctx.data_docs_location),
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
    for i, (table, count) in enumerate(sorted(ctx.source_rows.items()), start=r + 1):
        w.text(i, 0, table, w.fmts.text)
        w.ws.write_number(i, 1, int(count), w.fmts.number("antal"))
    r = w.subtitle(r + len(ctx.source_rows) + 2, "Indikatorer: definition och källa")
    w.headers(r, ["Indikator", "Definition", "Källa", "Id"], 4)
    plan = targets.indicators()
    ids = [*plan, *(i for i in DEFINITIONS if i not in plan)]
    for i, ind_id in enumerate(ids, start=r + 1):
        d = definition(ind_id)
        name = plan[ind_id].name if ind_id in plan else d.name
        text = d.definition if d else f"Indikator i verksamhetsplanen 2018 ({PLAN_UNITS[plan[ind_id].unit]})."
        src = d.source if d else "Inrapporterat värde (indicator_input)"
        if ind_id in plan:
            src += ". Mål: verksamhetsplan 2018"
        values = [name, text, src, ind_id]
        for j, value in enumerate(values):
            w.text(i, j, value, w.fmts.wrap)
        w.fit_cells(i, 0, values)
    w.ws.freeze_panes(table_header + 1, 0)
