"""Sheets 4 and 6 of the VB workbook: the gender analysis over the years, and where every
figure comes from.

The project's before/after question (2017 → 2018 → 2019): the adjusted difference in granted
amounts between women and men, with its interval, for every year with a full-year package up
to the report's year. Published figures only: a suppressed year shows the symbol.
"""

from __future__ import annotations

import math

from etl.vocabulary import ALL
from reports import gender_text, printing
from reports.layout import CHART_DATA_COL, Line, Page
from reports.model import VALUE, Figures
from reports.vb.model import PREVIOUS, STAGES, VbInputs

DIFF = gender_text.DIFF_ID
LOW, HIGH = f"{DIFF}_ki_lag", f"{DIFF}_ki_hog"
KR = '#,##0" kr"'
AXIS_STEP = 100
"""Kronor: the chart's axis ends at the nearest hundred outside every interval."""


def conclusion(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "kan inte visas"
    return "inte statistiskt säkerställd" if low <= 0 <= high else "statistiskt säkerställd"


def write_gender(w: Page, inputs: VbInputs) -> None:
    fmts, year = w.fmts, inputs.year
    w.set_widths({0: 10, 1: 16, 2: 16, 3: 16, 4: 30})
    w.note(
        2,
        "Justerad skillnad i beviljat belopp per beslut, kvinnor − män (hela enheten), med "
        "konfidensintervall: jämställdhetsprojektets fråga före och efter. Helår per år; T1 (januari–"
        "april) och T2 (januari–augusti) där tertialets paket finns i arkivet.",
    )  # wraps within the table's columns (set above)
    header = 4
    w.headers(header, ["År", "Justerad skillnad", "Konfidensintervall, nedre", "Konfidensintervall, övre",
                       "Slutsats"], {0, 4})  # fmt: skip
    r = header + 1
    rows = inputs.gender_rows()
    for label, fig, own in rows:
        cells = [fig.get(i, ALL, "T") for i in (DIFF, LOW, HIGH)]
        w.text(r, 0, label, fmts.text_bold if own else fmts.text)
        for j, cell in enumerate(cells, start=1):
            w.put(r, j, cell, bold=own, num_format=KR)
        low, high = (c.number if c.kind == VALUE else None for c in cells[1:])
        w.text(r, 4, conclusion(low, high), fmts.text)
        r += 1
    if not rows:
        w.text(r, 0, "Inga helårsuppgifter finns i arkivet.", fmts.text)
        r += 1
    current = inputs.gender_years.get(year)
    if current is not None:
        diff, low, high = (current.get(i, ALL, "T").number for i in (DIFF, LOW, HIGH))
        r = w.subtitle(r + 1, f"Helår {year}")
        r = w.note(r, gender_text.verdict(diff, low, high))
    end = w.note(
        r + 1,
        "År som saknas i tabellen har inget helårspaket i arkivet (helårskörningen för året har inte "
        "gjorts). Definitionen står på bladet Jämställdhetsanalys i helårets tertialarbetsbok.",
    )
    if rows:
        _chart(w, rows, header, end + 1)
    w.head(header, header)


def _chart(w: Page, rows: list[tuple[str, Figures, bool]], top: int, at: int) -> None:
    """The adjusted difference per period with its interval as error bars, below the notes from
    row ``at`` (beside the table it would fall outside the printed columns).
    Hidden data: only periods whose difference and both limits are shown (else a gap)."""
    c = CHART_DATA_COL
    limits = [0.0]
    for i, (label, fig, _) in enumerate(rows, start=top + 1):
        w.ws.write_string(i, c, label)
        diff, low, high = (fig.get(k, ALL, "T") for k in (DIFF, LOW, HIGH))
        if VALUE == diff.kind == low.kind == high.kind:
            w.ws.write_number(i, c + 1, diff.value)
            w.ws.write_number(i, c + 2, high.value - diff.value)
            w.ws.write_number(i, c + 3, diff.value - low.value)
            limits += [low.value, high.value]
    first, last = top + 1, top + len(rows)
    chart = w.wb.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": "Justerad skillnad, kvinnor − män",
            "categories": [w.name, first, c, last, c],
            "values": [w.name, first, c + 1, last, c + 1],
            "fill": {"color": "#7030A0"},
            "y_error_bars": w.error_bars(first, last, c + 2, c + 3),
        }
    )
    # The axis spans the intervals (LibreOffice scales to the bars alone and cuts the error bars).
    bottom = math.floor(min(limits) / AXIS_STEP) * AXIS_STEP
    ceiling = math.ceil(max(limits) / AXIS_STEP) * AXIS_STEP
    printing.chart_fonts(chart, "Justerad skillnad per period med konfidensintervall (kr)")
    chart.set_y_axis(printing.axis({"num_format": "#,##0", "min": bottom, "max": ceiling}))
    chart.set_x_axis(printing.axis({"label_position": "low"}))
    chart.set_legend({"none": True})
    chart.show_hidden_data()
    w.chart(chart, at, 0, 480, 280)
    w.hide_chart_data(4)


def write_about(w: Page, inputs: VbInputs) -> None:
    year = inputs.year
    w.set_widths({0: 22, 1: 70})
    labels = {"T1": f"T1 {year}", "T2": f"T2 {year}", "T3": f"Helår {year}"}
    labels |= {
        f"{PREVIOUS}_{s}": f"{t} {year - 1}" for s, t in zip(STAGES, ("T1", "T2", "Helår"), strict=True)
    }
    lines = [Line((label, inputs.stage(key).source), ()) for key, label in labels.items()]
    r = w.grid(2, ["Period", "Varifrån uppgifterna kommer"], lines, 2)
    w.head(2, 2)
    periods = [label for label, _, _ in inputs.gender_rows()]
    texts = [
        "Arkivpaket: de värden som redovisades i den perioden (publicerade, sekretessprövade). Beräknat "
        "ur källuttaget: perioden har inget arkivpaket, så helårskörningen har räknat fram värdet ur "
        "samma källuttag och prövat det med samma sekretessregler.",
        inputs.ctx.disclosure_rule,
        "Jämställdhetsanalysen över åren: "
        + (", ".join(periods) if periods else "inga perioder")
        + " (paket i arkivet; ett år utan tertial är helåret).",
        "Analys T1 och T2 är chefernas egna texter från tertialuppföljningarna. Årets analys skrivs i de "
        "gröna cellerna på bladet Analys; resten av bladet är skyddat (utan lösenord).",
        "Budgetuppföljningen (bladet Ekonomi) är densamma som i helårets tertialarbetsbok.",
        f"Ärendegranskningen i jämställdhetsprojektet: den senaste jämförelsen före och efter finns i "
        f"verksamhetsberättelsens paket ({inputs.review})."
        if inputs.review
        else "Ärendegranskningen i jämställdhetsprojektet: ingen jämförelse före och efter finns ännu.",
    ]
    for text in texts:
        r = w.note(r + 1, text)
