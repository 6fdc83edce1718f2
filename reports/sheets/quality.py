"""Sheet 7, Datakvalitet: the run's validation per source table (never example rows)."""

from __future__ import annotations

from reports.labels import SEVERITIES, STATUS
from reports.layout import Page
from reports.model import Figures, ReportContext


def write(w: Page, ctx: ReportContext, fig: Figures) -> None:
    w.set_widths({0: 18, 1: 17, 2: 14, 3: 14, 4: 16, 5: 40, 6: 40})
    row = w.note(
        2,
        "Varje källtabell valideras före statistiken. Rader som bryter mot en radregel läggs i "
        "karantän och räknas inte med.",
    )
    table_header = row + 1
    w.headers(table_header, ["Tabell", "Rader lästa", "Godkända", "I karantän", "Status"], {0, 4})
    r = table_header + 1
    for rep in ctx.validation:
        w.text(r, 0, rep.get("table", ""), w.fmts.text)
        for j, key in enumerate(("rows_read", "rows_accepted", "rows_quarantined"), start=1):
            w.ws.write_number(r, j, int(rep.get(key, 0)), w.fmts.number("antal"))
        w.text(r, 4, STATUS.get(rep.get("status", ""), str(rep.get("status", ""))), w.fmts.text)
        r += 1
    r = w.subtitle(r + 1, "Regler som inte uppfylldes")
    headers = ["Tabell", "Allvarlighetsgrad", "Nivå", "Rader", "Kolumn", "Regel", "Detalj"]
    w.headers(r, headers, {0, 1, 2, 4, 5, 6})
    r += 1
    rules = [(rep.get("table", ""), rule) for rep in ctx.validation for rule in rep.get("rules", [])]
    if not rules:
        w.text(r, 0, "Alla regler uppfylldes.", w.fmts.plain)
        r += 1
    for table, rule in rules:
        # Never the examples: they are (pseudonymised) keys of single rows.
        texts = [str(rule.get("rule", "")), str(rule.get("detail", ""))]
        w.text(r, 0, table, w.fmts.text)
        w.text(r, 1, SEVERITIES.get(rule.get("severity"), str(rule.get("severity", ""))), w.fmts.text)
        w.text(r, 2, rule.get("level", ""), w.fmts.text)
        w.ws.write_number(r, 3, int(rule.get("rows", 0)), w.fmts.number("antal"))
        w.text(r, 4, rule.get("column") or "", w.fmts.text)
        w.text(r, 5, texts[0], w.fmts.text)
        w.text(r, 6, texts[1], w.fmts.text)
        w.fit_cells(r, 4, [str(rule.get("column") or ""), *texts])
        r += 1
    r = w.note(r, "Exempel på felaktiga rader (pseudonymiserade nycklar) finns bara i valideringsrapporten.")
    w.text(r + 1, 0, "Valideringsrapporten (Data Docs) är arkiverad här:", w.fmts.subtitle)
    w.text(r + 2, 0, ctx.data_docs_location, w.fmts.plain)
    w.ws.freeze_panes(table_header + 1, 0)
