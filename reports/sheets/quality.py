"""Sheet 7, Datakvalitet: the run's validation per source table (never example rows)."""

from __future__ import annotations

from reports.labels import MEANING, SEVERITIES, STATUS, table_label
from reports.layout import Page, header_escape
from reports.model import Figures, ReportContext


def write(w: Page, ctx: ReportContext, fig: Figures) -> None:
    w.set_widths({0: 34, 1: 17, 2: 14, 3: 14, 4: 12, 5: 60})
    row = w.note(
        2,
        "Varje källtabell valideras före statistiken. Rader som bryter mot en radregel läggs i "
        "karantän och räknas inte med.",
    )
    table_header = row + 1
    headers = ["Uppgifter", "Rader lästa", "Godkända", "I karantän", "Status", "Vad det betyder"]
    w.headers(table_header, headers, {0, 4, 5})
    r = table_header + 1
    for rep in ctx.validation:
        status = str(rep.get("status", ""))
        meaning = MEANING.get(status, "")
        w.text(r, 0, table_label(rep.get("table", "")), w.fmts.text)
        for j, key in enumerate(("rows_read", "rows_accepted", "rows_quarantined"), start=1):
            w.ws.write_number(r, j, int(rep.get(key, 0)), w.fmts.number("antal"))
        w.text(r, 4, STATUS.get(status, status), w.fmts.text)
        w.text(r, 5, meaning, w.fmts.wrap)
        w.fit_cells(r, 5, [meaning])
        r += 1
    r = w.subtitle(r + 1, "Kontroller som inte uppfylldes")
    w.headers(r, ["Uppgifter", "Allvarlighetsgrad", "Nivå", "Rader", "", "Kontroll"], {0, 1, 2, 5})
    r += 1
    rules = [(rep.get("table", ""), rule) for rep in ctx.validation for rule in rep.get("rules", [])]
    if not rules:
        w.text(r, 0, "Alla kontroller uppfylldes.", w.fmts.plain)
        r += 1
    for table, rule in rules:
        # The check in words only: never example keys (single rows) or the technical detail.
        text = str(rule.get("rule", ""))
        w.text(r, 0, table_label(table), w.fmts.text)
        w.text(r, 1, SEVERITIES.get(rule.get("severity"), str(rule.get("severity", ""))), w.fmts.text)
        w.text(r, 2, rule.get("level", ""), w.fmts.text)
        w.ws.write_number(r, 3, int(rule.get("rows", 0)), w.fmts.number("antal"))
        w.text(r, 5, text, w.fmts.wrap)
        w.fit_cells(r, 5, [text])
        r += 1
    w.note(
        r,
        "Den tekniska valideringsrapporten, med exempel på felaktiga rader (pseudonymiserade), "
        "finns i arkivpaketet hos förvaltningens systemförvaltare.",
    )
    w.head(table_header, table_header)
    # For the systemförvaltare: where the run's report is, in the printed footer only.
    w.ws.set_footer(
        f"&L{header_escape(f'{ctx.scope_label()} · {ctx.period.label} {ctx.period.year}')}&CSida &P av &N"
        f"&R{header_escape(f'Körning {ctx.run_id} · {ctx.data_docs_location}')}"
    )
