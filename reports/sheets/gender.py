"""Sheet 3, Jämställdhetsanalys: decisions for women and men and the adjusted difference."""

from __future__ import annotations

from etl.vocabulary import ALL
from reports import gender_text
from reports.layout import CHART_DATA_COL, Page, safe_text
from reports.model import SEX_HEADERS, Figures, ReportContext
from reports.sheets.common import SEX_COLUMNS, sex_lines

SHEET = "Jämställdhetsanalys"
JA_DIFF = "ja_beviljat_kr_justerad_skillnad"


def write(w: Page, ctx: ReportContext, fig: Figures) -> None:
    ws = w.ws
    w.set_widths({0: 34, 1: 16, 2: 18, 3: 18, 4: 14, 5: 56})
    row = w.note(
        2, "Beslut under perioden för ensamstående hushåll (hushållstyp 3–6), efter den sökandes kön."
    )
    row = w.subtitle(row + 1, "Utfall för kvinnor och män")
    table_header = row
    row = w.grid(row, ["Mått", "Omfattning", *SEX_COLUMNS], sex_lines(ctx, fig, SHEET, "utfall"), 2)

    row = w.subtitle(row + 1, "Justerad skillnad i beviljat belopp (kvinnor minus män)")
    headers = [
        "Omfattning",
        "Skillnad, kr",
        "Konfidensintervall, nedre",
        "Konfidensintervall, övre",
        "Tolkning",
    ]
    w.headers(row, headers[:4], 1)
    ws.merge_range(row, 4, row, 5, headers[4], w.fmts.header)
    for i, s in enumerate(ctx.shown_scopes, start=row + 1):
        cells = [fig.get(f"{JA_DIFF}{suffix}", s, "T") for suffix in ("", "_ki_lag", "_ki_hog")]
        w.text(i, 0, ctx.scope_label(s), w.fmts.text_bold if s == ALL else w.fmts.text)
        for j, cell in enumerate(cells, start=1):
            w.put(i, j, cell, bold=s == ALL, num_format='#,##0" kr"')
        reading = gender_text.verdict(*(c.number for c in cells))
        ws.merge_range(i, 4, i, 5, safe_text(reading), w.fmts.wrap)
        w.fit_row(i, [(reading, w.widths[4] + w.widths[5])])
    row += 1 + len(ctx.shown_scopes)
    row = w.note(
        row, "Konfidensintervallet är beräknat med seedad bootstrap: samma data ger samma intervall."
    )

    # Chart: mean granted amount, women and men, per scope (hidden numbers; .. becomes a gap).
    scopes = ctx.shown_scopes
    for i, s in enumerate(scopes):
        ws.write_string(table_header + 1 + i, CHART_DATA_COL, safe_text(ctx.scope_label(s)))
    for j, sex in enumerate(("K", "M"), start=1):
        w.chart_numbers(
            table_header + 1, CHART_DATA_COL + j, [fig.get("ja_beviljat_kr_medel", s, sex) for s in scopes]
        )
    w.hide_chart_data(3)
    chart = w.wb.add_chart({"type": "column"})
    first, last = table_header + 1, table_header + len(scopes)
    for j, (sex, color) in enumerate((("K", "#7030A0"), ("M", "#2F5597")), start=1):
        chart.add_series(
            {
                "name": SEX_HEADERS[sex],
                "categories": [w.name, first, CHART_DATA_COL, last, CHART_DATA_COL],
                "values": [w.name, first, CHART_DATA_COL + j, last, CHART_DATA_COL + j],
                "fill": {"color": color},
            }
        )
    chart.set_title({"name": "Beviljat belopp i medel, kvinnor och män", "name_font": {"size": 11}})
    chart.set_y_axis({"num_format": "#,##0", "name": "kr", "min": 0})
    chart.set_legend({"position": "bottom"})
    chart.show_hidden_data()
    chart.show_blanks_as("gap")
    chart.set_size({"width": 560, "height": 300})
    ws.insert_chart(row + 1, 0, chart)
    ws.freeze_panes(table_header + 1, 0)
