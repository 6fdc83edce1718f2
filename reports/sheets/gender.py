"""Sheet 3, Jämställdhetsanalys: n, outcomes and intervals for women and men, the differences
(unadjusted, adjusted with its interval, the regression beside it), their reading in plain
Swedish, and a chart that shows the same adjusted difference and interval as the verdict."""

from __future__ import annotations

from etl.vocabulary import ALL
from reports import gender_text, printing
from reports.layout import CHART_DATA_COL, Page, safe_text
from reports.model import Figures, ReportContext
from reports.sheets import comparisons
from reports.sheets.common import SEX_COLUMNS, repeat_title, sex_lines

SHEET = "Jämställdhetsanalys"
JA_DIFF = "ja_beviljat_kr_justerad_skillnad"
JA_RAW = "ja_beviljat_kr_skillnad"
JA_REG = "ja_beviljat_kr_regression_skillnad"
LOW, HIGH = "_ki_lag", "_ki_hog"
KR = '#,##0" kr"'
SHARE_DIFFS = (
    ("ja_avslag_andel_skillnad", "Andel avslag"),
    ("ja_beviljat_andel_av_ansokt_skillnad", "Beviljat i procent av ansökt"),
)


def _adjusted_table(w: Page, ctx: ReportContext, fig: Figures, row: int) -> int:
    headers = ["Omfattning", "Justerad skillnad", "Konfidensintervall, nedre", "Konfidensintervall, övre",
               "Ojusterad skillnad", "Regression", "Regression, nedre", "Regression, övre"]  # fmt: skip
    w.headers(row, headers, 1)
    for i, s in enumerate(ctx.shown_scopes, start=row + 1):
        w.text(i, 0, ctx.scope_label(s), w.fmts.text_bold if s == ALL else w.fmts.text)
        ids = [JA_DIFF, f"{JA_DIFF}{LOW}", f"{JA_DIFF}{HIGH}", JA_RAW]
        for j, indicator_id in enumerate([*ids, JA_REG, f"{JA_REG}{LOW}", f"{JA_REG}{HIGH}"], start=1):
            w.put(i, j, fig.get(indicator_id, s, "T"), bold=s == ALL, num_format=KR)
    return row + 1 + len(ctx.shown_scopes)


def _share_table(w: Page, ctx: ReportContext, fig: Figures, row: int) -> int:
    w.headers(row, ["Omfattning", "Mått", "Skillnad, procentenheter", "Konfidensintervall, nedre",
                    "Konfidensintervall, övre"], 2)  # fmt: skip
    i = row + 1
    for s in ctx.shown_scopes:
        for base, label in SHARE_DIFFS:
            fmt = w.fmts.text_bold if s == ALL else w.fmts.text
            w.text(i, 0, ctx.scope_label(s), fmt)
            w.text(i, 1, label, fmt)
            for j, suffix in enumerate(("", LOW, HIGH), start=2):
                w.put(i, j, fig.get(f"{base}{suffix}", s, "T"), bold=s == ALL, num_format='0.0" pe"')
            i += 1
    return i


def reading(ctx: ReportContext, fig: Figures, scope: str) -> str:
    """The plain-Swedish reading of one scope: verdict, sign flip, robustness, peer, limits."""
    diff, low, high = (fig.get(f"{JA_DIFF}{x}", scope, "T").number for x in ("", LOW, HIGH))
    parts = [gender_text.verdict(diff, low, high)]
    if diff is not None and low is not None and high is not None:
        parts += [
            gender_text.sign_flip(fig.get(JA_RAW, scope, "T").number, diff),
            gender_text.robustness(
                *(fig.get(i, scope, "T").number for i in
                  ("ja_justerad_fa_hushall", "ja_justerad_flera_toppar", "ja_justerad_utesluten_andel"))
            ),  # fmt: skip
            gender_text.peer(*(fig.get(f"{JA_REG}{x}", scope, "T").number for x in ("", LOW, HIGH))),
            gender_text.limits(low, high),
        ]
    return " ".join(p for p in parts if p)


def _chart(w: Page, ctx: ReportContext, fig: Figures, first: int, row: int) -> None:
    """Adjusted difference with its interval (error bars) and the unadjusted beside it, per scope."""
    scopes = ctx.shown_scopes
    ws = w.ws
    for i, s in enumerate(scopes):
        ws.write_string(first + i, CHART_DATA_COL, safe_text(ctx.scope_label(s)))
        cells = [fig.get(f"{JA_DIFF}{x}", s, "T") for x in ("", LOW, HIGH)]
        diff, low, high = (c.number for c in cells)
        if None not in (diff, low, high):
            ws.write_number(first + i, CHART_DATA_COL + 1, diff)
            ws.write_number(first + i, CHART_DATA_COL + 3, high - diff)
            ws.write_number(first + i, CHART_DATA_COL + 4, diff - low)
    w.chart_numbers(first, CHART_DATA_COL + 2, [fig.get(JA_RAW, s, "T") for s in scopes])
    w.hide_chart_data(5)
    last = first + len(scopes) - 1
    col = CHART_DATA_COL
    chart = w.wb.add_chart({"type": "column"})
    categories = [w.name, first, col, last, col]
    chart.add_series(
        {
            "name": "Justerad skillnad (med konfidensintervall)",
            "categories": categories,
            "values": [w.name, first, col + 1, last, col + 1],
            "fill": {"color": "#7030A0"},
            "y_error_bars": w.error_bars(first, last, col + 3, col + 4),
        }
    )
    chart.add_series(
        {
            "name": "Ojusterad skillnad",
            "categories": categories,
            "values": [w.name, first, col + 2, last, col + 2],
            "fill": {"color": "#BFBFBF"},
        }
    )
    printing.chart_fonts(chart, "Skillnad i beviljat belopp, kvinnor minus män (kr)")
    chart.set_x_axis(printing.axis({}))
    chart.set_y_axis(printing.axis({"num_format": "#,##0"}))
    chart.show_hidden_data()
    chart.show_blanks_as("gap")
    # On a page of its own: after the long wrapped verdicts the estimated row heights drift from
    # what a printer makes of them, and a chart cut across two pages cannot be read.
    w.breaks.append(row)
    w.chart(chart, row, 0, 620, 320)


def write(w: Page, ctx: ReportContext, fig: Figures) -> None:
    w.set_widths({0: 30, 1: 26, 2: 16, 3: 16, 4: 16, 5: 14, 6: 14, 7: 14})
    row = w.note(
        2, "Beslut under perioden för ensamstående hushåll (hushållstyp 3–6), efter den sökandes kön."
    )
    row = w.subtitle(row + 1, "Underlag och utfall för kvinnor och män")
    table_header = row
    lines = sex_lines(ctx, fig, SHEET, "underlag") + sex_lines(ctx, fig, SHEET, "utfall")
    row = w.grid(row, ["Mått", "Omfattning", *SEX_COLUMNS], lines, 2)
    row = w.note(row, f"Jämförelse med tidigare perioder {comparisons.MISSING}: jämställdhetsanalysen "
                 "beräknas bara för perioden.")  # fmt: skip
    row = w.subtitle(row + 1, "Konfidensintervall för andelarna")
    row = w.grid(row, ["Mått", "Omfattning", *SEX_COLUMNS], sex_lines(ctx, fig, SHEET, "intervall"), 2)
    row = w.note(
        row,
        "Intervallen tar hänsyn till att ett hushåll får beslut nästan varje månad (besluten är inte "
        "oberoende): andel avslag med Wilsons metod på det effektiva antalet beslut, beviljat i procent "
        "av ansökt med en normalapproximation med hushållen som enheter.",
    )

    row = w.subtitle(row + 1, "Skillnad i andelar (kvinnor minus män)")
    row = _share_table(w, ctx, fig, row)

    row = w.subtitle(row + 1, "Skillnad i beviljat belopp per beviljat beslut (kvinnor minus män), kr")
    adjusted_first = row + 1
    row = _adjusted_table(w, ctx, fig, row)
    row = w.note(row, "Vad den justerade skillnaden jämför och justerar för: " + gender_text.definition())
    row = w.note(
        row,
        "Ojusterad skillnad: kvinnors minus mäns medelbelopp utan hänsyn till hushållssituation eller "
        "försörjningshinder. Regression: samma grupper, men grupperna vägs efter hur säkert de jämför "
        "kvinnor och män i stället för efter antalet beslut; standardfelen tar hänsyn till att ett "
        "hushåll har flera beslut.",
    )

    row = w.subtitle(row + 1, "Tolkning")
    for s in ctx.shown_scopes:
        w.text(row, 0, ctx.scope_label(s), w.fmts.text_bold)
        row = w.note(row + 1, reading(ctx, fig, s))
    _chart(w, ctx, fig, adjusted_first, row + 1)
    repeat_title(w, table_header)
