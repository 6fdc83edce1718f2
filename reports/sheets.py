"""The eight sheets of the follow-up workbook, in Swedish, from published figures only.

Every writer takes the workbook, the ReportContext, the formats and the indexed published
figures. Loops run over a handful of indicators, scopes and sexes, never over persons. Text
goes through ``safe_text`` and ``write_string``; numbers through ``write_number`` with a real
number format; suppressed cells hold the suppression symbol, right aligned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import xlsxwriter
from xlsxwriter.utility import xl_range_abs
from xlsxwriter.worksheet import Worksheet

from etl import targets
from etl.vocabulary import ALL
from reports.definitions import (
    AGE_BANDS,
    DEFINITIONS,
    HOUSEHOLD_TYPES,
    MONTHS,
    SEVERITIES,
    STATUS,
    definition,
)
from reports.formats import Formats
from reports.workbook import (
    NOTHING,
    SEX_HEADERS,
    SEXES,
    SUPPRESSED,
    VALUE,
    Cell,
    Figures,
    ReportContext,
    safe_text,
)

SHEETS = (
    "Sammanfattning",
    "Ekonomiskt bistånd",
    "Jämställdhetsanalys",
    "Arbetsmarknad",
    "Personal",
    "Ekonomi",
    "Datakvalitet",
    "Om statistiken",
)
EB_IDS = (
    "eb_hushall",
    "eb_mottagare",
    "eb_andel_befolkning",
    "eb_andel_barn",
    "eb_langvarigt_vuxna",
    "eb_utbetalt_kr",
    "eb_kr_per_hushallsmanad",
)
JA_IDS = (
    "ja_avslag_andel",
    "ja_beviljat_kr_medel",
    "ja_beviljat_andel_av_ansokt",
    "ja_handlaggningstid_median",
)
JA_DIFF = "ja_beviljat_kr_justerad_skillnad"
AM_PERSON_IDS = ("ar_till_forsorjning", "am_stockholmsjobb_aspiranter", "am_praktik")
AM_PLACE_IDS = ("am_feriejobb_platser", "am_stockholmsjobb_platser")
PE_IDS = (
    "pe_anstallda",
    "pe_arsarbetare",
    "pe_sjukfranvaro",
    "pe_sjukfranvaro_dag_1_14",
    "pe_langtidssjuk_andel",
)
BUDGET_ROW = "ekonomiskt_bistand"
BUDGET_YEAR = 2018
"""The year of etl.targets.budget_2018(); another year's run shows the paid amount without a budget."""
BUDGET_SCALE = {"mnkr": 1_000_000.0, "tkr": 1_000.0, "kr": 1.0}
ICONS = {targets.UPPFYLLT: 3, targets.DELVIS: 2, targets.EJ_UPPFYLLT: 1}
"""Traffic-light value per judgement (3 green, 2 yellow, 1 red); ej mätt and no target: no icon."""
PERIODICITY = {"tertial": "Tertial", "år": "År"}
PLAN_UNITS = {"procent": "procent", "antal": "antal", "index": "index"}
SEX_COLUMNS = ["Totalt", "Kvinnor", "Män"]
CHART_DATA_COL = 40
"""First (hidden) column of chart data: numbers or blanks, so a suppressed month is a gap, not 0."""
LINE_HEIGHT = 15.0
CHARS_PER_WIDTH = 1.15
"""Characters of body text per unit of column width (Calibri 11; cautious so nothing is cut)."""
DEFAULT_WIDTH = 8.43


@dataclass(frozen=True)
class Line:
    """One table row: text labels, then figures (None = does not apply, grey and empty)."""

    labels: tuple[str, ...]
    cells: tuple[Cell | None, ...]
    bold: bool = False


@dataclass
class W:
    wb: xlsxwriter.Workbook
    ws: Worksheet
    ctx: ReportContext
    fmts: Formats
    fig: Figures
    name: str
    widths: dict[int, float] = field(default_factory=dict)


# --- small writers -------------------------------------------------------------------------


def _text(w: W, row: int, col: int, value: str, fmt=None) -> None:
    w.ws.write_string(row, col, safe_text(str(value)), fmt)


def _put(
    w: W, row: int, col: int, cell: Cell | None, bold: bool = False, num_format: str | None = None
) -> None:
    """A figure: its number with the unit's format, or the suppression / nothing symbol."""
    if cell is None:
        w.ws.write_blank(row, col, None, w.fmts.blank())
    elif cell.kind == VALUE:
        fmt = w.fmts.num_format(num_format, bold) if num_format else w.fmts.number(cell.unit or "", bold)
        w.ws.write_number(row, col, cell.value, fmt)
    else:
        symbol = w.ctx.suppressed_symbol if cell.kind == SUPPRESSED else w.ctx.nothing_symbol
        w.ws.write_string(row, col, symbol, w.fmts.symbol(bold))


def _derived(
    w: W, row: int, col: int, source: Cell, value: float | None, unit: str, bold: bool = False
) -> None:
    """A figure computed from a published one: shown only when the source may be shown."""
    _put(w, row, col, Cell(source.kind, value, unit) if source.kind == VALUE else source, bold)


def _lines(text: str, width: float) -> int:
    """Wrapped lines of ``text`` in a column ``width`` characters wide (a cautious estimate)."""
    per_line = max(width * CHARS_PER_WIDTH - 1, 1)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


def _fit_row(w: W, row: int, texts_widths: list[tuple[str, float]]) -> None:
    """Row height for wrapped text (xlsxwriter cannot measure text; estimate by characters)."""
    n = max(_lines(t, wd) for t, wd in texts_widths)
    if n > 1:
        w.ws.set_row(row, LINE_HEIGHT * n)


def _widths(w: W, widths: dict[int, float]) -> None:
    """Set column widths (characters) and remember them for row heights and notes."""
    for col, width in widths.items():
        w.ws.set_column(col, col, width)
    w.widths.update(widths)


def _fit_cells(w: W, row: int, first_col: int, texts: list[str]) -> None:
    _fit_row(w, row, [(t, w.widths.get(first_col + j, DEFAULT_WIDTH)) for j, t in enumerate(texts)])


def _header_escape(text: str) -> str:
    return text.replace("&", "&&")


def _date(day) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _period_text(ctx: ReportContext) -> str:
    return f"{_date(ctx.period.start)} – {_date(ctx.period.end)}"


def name_of(indicator_id: str) -> str:
    """Short Swedish name: the definitions' name, else the plan's, else the id."""
    d = definition(indicator_id)
    if d is not None and indicator_id in DEFINITIONS:
        return d.name
    plan = targets.indicators().get(indicator_id)
    return plan.name if plan else indicator_id


def _start(wb, ctx: ReportContext, fmts: Formats, fig: Figures, name: str, title: str) -> W:
    ws = wb.add_worksheet(name)
    w = W(wb, ws, ctx, fmts, fig, name)
    _text(w, 0, 0, title, fmts.title)
    scope = ctx.scope_label()
    beside = "" if ctx.scope == ALL else " (med hela enhetens totaler bredvid)"
    _text(
        w,
        1,
        0,
        f"{ctx.unit_name} · {scope}{beside} · {ctx.period.label} {ctx.period.year}: "
        f"{_period_text(ctx)} · uppgifter till och med {_date(ctx.through)}",
        fmts.plain,
    )
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
    ws.set_header(
        f"&L{_header_escape(ctx.unit_name)}&C&A&R{_header_escape(f'{ctx.period.label} {ctx.period.year}')}"
    )
    ws.set_footer(f"&L{_header_escape(scope)}&CSida &P av &N&RUppgifter t.o.m. {ctx.through.isoformat()}")
    return w


def _headers(w: W, row: int, headers: list[str], left: set[int] | int, col: int = 0) -> None:
    """A header row: ``left`` = text columns (an int: the first n), the rest right aligned like numbers."""
    left = set(range(left)) if isinstance(left, int) else left
    for j, h in enumerate(headers):
        _text(w, row, col + j, h, w.fmts.header if j in left else w.fmts.header_right)
    _fit_cells(w, row, col, headers)


def _grid(w: W, row: int, headers: list[str], lines: list[Line], n_labels: int, col: int = 0) -> int:
    """A header row and the lines below it; returns the first row after the table."""
    _headers(w, row, headers, n_labels, col)
    for i, line in enumerate(lines, start=row + 1):
        for j, label in enumerate(line.labels):
            _text(w, i, col + j, label, w.fmts.text_bold if line.bold else w.fmts.text)
        for j, cell in enumerate(line.cells, start=col + len(line.labels)):
            _put(w, i, j, cell, line.bold)
        _fit_cells(w, i, col, list(line.labels))
    return row + 1 + len(lines)


def _sex_lines(w: W, ids, scopes=None, sexes=SEXES) -> list[Line]:
    """Rows (indicator, scope) with Totalt / Kvinnor / Män; sexes not applying stay empty."""
    scopes = scopes or w.ctx.shown_scopes
    return [
        Line(
            (name_of(ind), w.ctx.scope_label(s)),
            tuple(w.fig.get(ind, s, x) if x in sexes else None for x in SEXES),
            bold=s == ALL,
        )
        for ind in ids
        for s in scopes
    ]


def _note(w: W, row: int, text: str) -> int:
    """A note under a table; a long one wraps across the sheet's columns (set widths first)."""
    cols = sorted(c for c in w.widths if c < CHART_DATA_COL)
    last = next((i for i, c in enumerate(cols) if i != c), len(cols)) - 1  # contiguous from A
    total = sum(w.widths[c] for c in range(last + 1))
    if last < 1 or len(text) <= w.widths.get(0, DEFAULT_WIDTH) * CHARS_PER_WIDTH:
        _text(w, row, 0, text, w.fmts.note)
    else:
        w.ws.merge_range(row, 0, row, last, safe_text(text), w.fmts.note_wrap)
        _fit_row(w, row, [(text, total)])
    return row + 1


def _subtitle(w: W, row: int, text: str) -> int:
    _text(w, row, 0, text, w.fmts.subtitle)
    return row + 1


def _chart_numbers(w: W, row: int, col: int, cells: list[Cell]) -> None:
    """Hidden chart data: shown values only; suppressed and missing figures are left blank."""
    for i, cell in enumerate(cells):
        if cell.kind == VALUE:
            w.ws.write_number(row + i, col, cell.value)


def _hide_chart_data(w: W, width: int) -> None:
    w.ws.set_column(CHART_DATA_COL, CHART_DATA_COL + width - 1, None, None, {"hidden": True})


# --- number formats of the plan's targets --------------------------------------------------


def _decimals(x: float | None) -> int:
    if x is None:
        return 0
    text = f"{x:.10g}"
    return min(2, len(text.split(".")[1])) if "." in text else 0


def plan_format(ind: targets.Indicator) -> str:
    """Number format for an indicator's targets and results: as many decimals as its targets."""
    values = [t.value for t in ind.arsmal] + [ind.kf_arsmal]
    d = max(_decimals(v) for v in values)
    frac = "." + "0" * d if d else ""
    if ind.unit == "procent":
        return f'0.{"0" * max(1, d)}" %"'
    if ind.unit == "antal":
        return f"#,##0{frac}"
    return f"0{frac}"


# --- 1. Sammanfattning ---------------------------------------------------------------------


def summary(w: W) -> None:
    ctx, ws, fmts, fig = w.ctx, w.ws, w.fmts, w.fig
    months = ctx.period.months
    district = ctx.scope != ALL
    s = ctx.suppressed_symbol
    _text(
        w,
        2,
        0,
        f"{s} = uppgiften visas inte (för få personer). {ctx.nothing_symbol} = inget att redovisa. "
        "Måluppfyllelse: grön = uppfyllt, gul = delvis uppfyllt, röd = ej uppfyllt.",
        fmts.note,
    )

    cols = ["Område (KF:s inriktningsmål)", "Indikator", f"Årsmål {ctx.scope_label()}", "KF:s årsmål"]
    cols += SEX_COLUMNS + (SEX_COLUMNS if district else [])
    cols += ["Helårsprognos", "Måluppfyllelse", "Bedömning", "Periodicitet", "Kommentar"]
    c_out, c_unit = 4, 7
    c_prog = c_unit + (3 if district else 0)
    c_icon, c_word, c_per, c_note = c_prog + 1, c_prog + 2, c_prog + 3, c_prog + 4
    widths = {0: 26, 1: 48, 2: 11, 3: 11, c_prog: 14, c_icon: 15, c_word: 15, c_per: 12, c_note: 44}
    widths.update({c: 10 for c in range(c_out, c_prog)})
    _widths(w, widths)

    group_row, header_row = 4, 5
    ws.merge_range(group_row, 2, group_row, 3, "Mål", fmts.group)
    ws.merge_range(
        group_row, c_out, group_row, c_out + 2, safe_text(f"Utfall {ctx.scope_label()}"), fmts.group
    )
    if district:
        ws.merge_range(group_row, c_unit, group_row, c_unit + 2, "Utfall hela enheten", fmts.group)
    ws.merge_range(group_row, c_prog, group_row, c_word, "Bedömning", fmts.group)
    _headers(w, header_row, cols, {0, 1, c_word, c_per, c_note})

    first = header_row + 1
    plan = list(targets.indicators().values())
    for i, ind in enumerate(plan):
        r = first + i
        num = plan_format(ind)
        _text(w, r, 0, ind.kf_inriktningsmal, fmts.text)
        _text(w, r, 1, ind.name, fmts.text)
        target = ind.target(ctx.scope)
        _put(w, r, 2, _number_cell(target, ctx), num_format=num)
        if ind.kf_arsmal is None and ind.kf_arsmal_note:
            _text(w, r, 3, ind.kf_arsmal_note, fmts.text)
        else:
            _put(w, r, 3, _number_cell(ind.kf_arsmal, ctx), num_format=num)
        sexes = SEXES if ind.individual_based else ("T",)
        for base, scope in ((c_out, ctx.scope), (c_unit, ALL)) if district else ((c_out, ctx.scope),):
            for j, sex in enumerate(SEXES):
                cell = fig.get(ind.id, scope, sex) if sex in sexes else None
                _put(w, r, base + j, cell, bold=scope == ALL and district, num_format=num)
        result = fig.get(ind.id, ctx.scope, "T")
        if ind.is_count and target is not None:
            value = result.number
            _derived(
                w, r, c_prog, result, None if value is None else targets.prognosis(value, months), "antal"
            )
        else:
            ws.write_blank(r, c_prog, None, fmts.text)
        judgement = targets.judge(ind, result.number, months, ctx.scope)
        if judgement in ICONS:
            ws.write_number(r, c_icon, ICONS[judgement], fmts.icon)
        else:
            ws.write_blank(r, c_icon, None, fmts.icon)
        _text(w, r, c_word, judgement or "ingen bedömning", fmts.text)
        _text(w, r, c_per, PERIODICITY.get(ind.periodicity, ind.periodicity), fmts.text)
        comment = _comment(ctx, fig, ind, target, result)
        _text(w, r, c_note, comment, fmts.text)
        _fit_row(w, r, [(ind.kf_inriktningsmal, widths[0]), (ind.name, widths[1]), (comment, widths[c_note])])

    last = first + len(plan) - 1
    ws.conditional_format(
        first,
        c_icon,
        last,
        c_icon,
        {
            "type": "icon_set",
            "icon_style": "3_traffic_lights",
            "icons_only": True,
            "icons": [
                {"criteria": ">=", "type": "number", "value": 3},
                {"criteria": ">=", "type": "number", "value": 2},
            ],
        },
    )
    w.wb.define_name("Sammanfattning_utfall", f"='{w.name}'!{xl_range_abs(header_row, 0, last, c_note)}")
    ws.freeze_panes(first, 2)
    ws.repeat_rows(group_row, header_row)
    _note(
        w,
        last + 2,
        "Helårsprognos: linjär (utfall × 12 / periodens månader), för antal med årsmål. "
        "Bedömningsregeln står på bladet Om statistiken.",
    )


def _number_cell(value: float | None, ctx: ReportContext) -> Cell:
    return Cell(NOTHING, None, None) if value is None else Cell(VALUE, float(value), None)


def _comment(ctx: ReportContext, fig: Figures, ind: targets.Indicator, target, result: Cell) -> str:
    notes = []
    if not ind.individual_based:
        notes.append("Inte individbaserad: redovisas inte per kön.")
    if ind.annual_only and ctx.period.months < 12:
        notes.append("Mäts för helår (periodicitet År): bedöms i verksamhetsberättelsen.")
    if target is None:
        notes.append(f"Inget årsmål för {ctx.scope_label()}: ingen bedömning.")
    elif ind.is_count:
        notes.append(f"Bedöms mot årsmålet fördelat på {ctx.period.months} månader.")
    if result.kind == SUPPRESSED:
        notes.append("Utfallet vilar på för få personer och visas inte.")
    elif not fig.has(ind.id):
        notes.append("Inget utfall för perioden.")
    return " ".join(notes)


# --- 2. Ekonomiskt bistånd -----------------------------------------------------------------


def assistance(w: W) -> None:
    ctx, ws, fig = w.ctx, w.ws, w.fig
    _widths(w, {0: 46, 1: 16, **{c: 13 for c in range(2, 8)}})
    row = _subtitle(w, 3, "Hushåll, personer och utbetalt bistånd per stadsdel och kön")
    row = _grid(w, row, ["Indikator", "Omfattning", *SEX_COLUMNS], _sex_lines(w, EB_IDS), 2)
    first_table_header = 4
    row = _note(
        w, row, "Hushåll och belopp redovisas efter registerledarens kön, personer efter sitt eget kön."
    )

    row = _subtitle(w, row + 1, "Hushåll och personer efter hushållstyp")
    headers = ["Hushållstyp", "Omfattning"] + [f"Hushåll {h.lower()}" for h in SEX_COLUMNS]
    headers += [f"Personer {h.lower()}" for h in SEX_COLUMNS]
    lines = [
        Line(
            (f"{code} {label}", ctx.scope_label(s)),
            tuple(fig.get(f"eb_{what}_typ_{code}", s, x) for what in ("hushall", "mottagare") for x in SEXES),
            bold=s == ALL,
        )
        for code, label in HOUSEHOLD_TYPES.items()
        for s in ctx.shown_scopes
    ]
    row = _grid(w, row, headers, lines, 2)
    row = _note(w, row, "Hushållstyp enligt Socialstyrelsens register (det finns ingen typ 2).")

    row = _subtitle(w, row + 1, "Utbetalt ekonomiskt bistånd per månad, i år och samma månader i fjol")
    year = ctx.period.year
    series_scopes = [ctx.scope] + ([ALL] if ctx.scope != ALL else [])
    series = [(s, y) for s in series_scopes for y in (year, year - 1)]
    headers = ["Månad"] + [f"{ctx.scope_label(s)} {y}" for s, y in series]
    months = range(1, ctx.period.months + 1)
    grid = {(s, y): [fig.get(f"eb_utbetalt_kr_manad_{y}{m:02d}", s, "T") for m in months] for s, y in series}
    lines = [Line((MONTHS[m - 1],), tuple(grid[k][i] for k in series)) for i, m in enumerate(months)]
    header = row
    row = _grid(w, row, headers, lines, 1)
    for j, key in enumerate(series[:2]):
        _chart_numbers(w, header + 1, CHART_DATA_COL + j, grid[key])
    _hide_chart_data(w, 2)
    w.wb.define_name(
        "Utbetalt_per_manad", f"='{w.name}'!{xl_range_abs(header, 0, row - 1, len(headers) - 1)}"
    )

    chart = w.wb.add_chart({"type": "column"})
    first, last = header + 1, header + len(lines)
    label = ctx.scope_label()
    chart.add_series(
        {
            "name": f"{year}",
            "categories": [w.name, first, 0, last, 0],
            "values": [w.name, first, CHART_DATA_COL, last, CHART_DATA_COL],
            "fill": {"color": "#2F5597"},
        }
    )
    line = w.wb.add_chart({"type": "line"})
    line.add_series(
        {
            "name": f"{year - 1}",
            "categories": [w.name, first, 0, last, 0],
            "values": [w.name, first, CHART_DATA_COL + 1, last, CHART_DATA_COL + 1],
            "line": {"color": "#C55A11", "width": 2.25},
            "marker": {"type": "circle"},
        }
    )
    chart.combine(line)
    chart.set_title({"name": f"Utbetalt per månad – {label}", "name_font": {"size": 11}})
    chart.set_y_axis({"num_format": "#,##0", "name": "kr", "min": 0})
    chart.set_legend({"position": "bottom"})
    chart.show_hidden_data()
    chart.show_blanks_as("gap")
    chart.set_size({"width": 620, "height": 300})
    ws.insert_chart(header, len(headers) + 1, chart)
    _note(w, row, "Månader som inte får visas (..) saknas i diagrammet.")
    ws.freeze_panes(first_table_header + 1, 0)


# --- 3. Jämställdhetsanalys ----------------------------------------------------------------


def gender(w: W) -> None:
    from etl.gender import verdict  # written alongside; imported when the sheet is drawn

    ctx, ws, fig = w.ctx, w.ws, w.fig
    _widths(w, {0: 34, 1: 16, 2: 18, 3: 18, 4: 14, 5: 56})
    row = _note(
        w, 2, "Beslut under perioden för ensamstående hushåll (hushållstyp 3–6), efter den sökandes kön."
    )
    row = _subtitle(w, row + 1, "Utfall för kvinnor och män")
    table_header = row
    row = _grid(w, row, ["Mått", "Omfattning", *SEX_COLUMNS], _sex_lines(w, JA_IDS), 2)

    row = _subtitle(w, row + 1, "Justerad skillnad i beviljat belopp (kvinnor minus män)")
    headers = [
        "Omfattning",
        "Skillnad, kr",
        "Konfidensintervall, nedre",
        "Konfidensintervall, övre",
        "Tolkning",
    ]
    _headers(w, row, headers[:4], 1)
    ws.merge_range(row, 4, row, 5, headers[4], w.fmts.header)
    for i, s in enumerate(ctx.shown_scopes, start=row + 1):
        cells = [fig.get(f"{JA_DIFF}{suffix}", s, "T") for suffix in ("", "_ki_lag", "_ki_hog")]
        _text(w, i, 0, ctx.scope_label(s), w.fmts.text_bold if s == ALL else w.fmts.text)
        for j, cell in enumerate(cells, start=1):
            _put(w, i, j, cell, bold=s == ALL, num_format='#,##0" kr"')
        reading = verdict(*(c.number for c in cells))
        ws.merge_range(i, 4, i, 5, safe_text(reading), w.fmts.wrap)
        _fit_row(w, i, [(reading, w.widths[4] + w.widths[5])])
    row += 1 + len(ctx.shown_scopes)
    row = _note(
        w, row, "Konfidensintervallet är beräknat med seedad bootstrap: samma data ger samma intervall."
    )

    # Chart: mean granted amount, women and men, per scope (hidden numbers; .. becomes a gap).
    scopes = ctx.shown_scopes
    for i, s in enumerate(scopes):
        ws.write_string(table_header + 1 + i, CHART_DATA_COL, safe_text(ctx.scope_label(s)))
    for j, sex in enumerate(("K", "M"), start=1):
        _chart_numbers(
            w, table_header + 1, CHART_DATA_COL + j, [fig.get("ja_beviljat_kr_medel", s, sex) for s in scopes]
        )
    _hide_chart_data(w, 3)
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


# --- 4. Arbetsmarknad ----------------------------------------------------------------------


def labour(w: W) -> None:
    _widths(w, {0: 52, 1: 16, 2: 12, 3: 12, 4: 12})
    row = _subtitle(w, 3, "Insatser för personer, efter kön")
    table_header = row
    row = _grid(w, row, ["Indikator", "Omfattning", *SEX_COLUMNS], _sex_lines(w, AM_PERSON_IDS), 2)
    row = _subtitle(w, row + 1, "Tillhandahållna platser")
    row = _grid(
        w, row, ["Indikator", "Omfattning", *SEX_COLUMNS], _sex_lines(w, AM_PLACE_IDS, sexes=("T",)), 2
    )
    _note(w, row, "Platser är inte individbaserade: de redovisas bara totalt, inte per kön.")
    w.ws.freeze_panes(table_header + 1, 0)


# --- 5. Personal ---------------------------------------------------------------------------


def staff(w: W) -> None:
    _widths(w, {0: 44, 1: 18, 2: 12, 3: 12, 4: 12})
    row = _note(w, 2, "Personalstatistik för hela enheten (alla stadsdelar). Ålder vid periodens slut.")
    table_header = row + 1
    lines = [
        Line(
            (name_of(base) if not suffix else "", band),
            tuple(w.fig.get(base + suffix, ALL, x) for x in SEXES),
            bold=not suffix,
        )
        for base in PE_IDS
        for suffix, band in AGE_BANDS.items()
    ]
    row = _grid(w, table_header, ["Mått", "Åldersgrupp", *SEX_COLUMNS], lines, 2)
    if w.ctx.staff_rule:
        row = _note(w, row, w.ctx.staff_rule)
    _note(
        w,
        row,
        f"Antal anställda och årsarbetare visas inte ({w.ctx.suppressed_symbol}) när de vilar på "
        "färre än fem personer.",
    )
    w.ws.freeze_panes(table_header + 1, 0)


# --- 6. Ekonomi ----------------------------------------------------------------------------


def economy(w: W) -> None:
    ctx, fig = w.ctx, w.fig
    months = ctx.period.months
    paid = fig.get("eb_utbetalt_kr", ALL, "T")
    budget = targets.budget_2018()
    brow = budget.row(BUDGET_ROW)
    scale = BUDGET_SCALE.get(budget.unit)
    if scale is None:
        raise ValueError(f"Budgetens enhet {budget.unit!r} känns inte igen (mnkr, tkr eller kr).")
    _widths(w, {0: 44, 1: 18, 2: 44})
    row = _note(
        w,
        2,
        f"Utbetalt ekonomiskt bistånd för hela enheten mot budgeten ({budget.heading}, "
        f"{brow.name}: kostnader). + i avvikelsen = lägre kostnad än budget.",
    )
    table_header = row + 1
    _headers(w, table_header, ["Post", "Belopp", "Beräkning"], {0, 2})
    r = table_header + 1
    if ctx.period.year != BUDGET_YEAR:
        _text(w, r, 0, "Utbetalt hittills i år", w.fmts.text)
        _put(w, r, 1, paid, num_format='#,##0" kr"')
        _text(w, r, 2, "eb_utbetalt_kr", w.fmts.text)
        r = _note(
            w, r + 1, f"Budget för {ctx.period.year} finns inte i config/indicators.yml (bara {BUDGET_YEAR})."
        )
    else:
        annual = brow.kostnader * scale
        pro_rata = annual * months / 12
        value = paid.number
        prognosis = None if value is None else targets.prognosis(value, months)
        rows = [
            ("Budget helår, kostnader", Cell(VALUE, annual, "kr"), f"{brow.kostnader} {budget.unit}"),
            (
                "Budget helår, netto (för jämförelse)",
                Cell(VALUE, brow.netto * scale, "kr"),
                f"{brow.netto} {budget.unit}",
            ),
            (
                f"Budget för perioden ({months} månader)",
                Cell(VALUE, pro_rata, "kr"),
                f"kostnader × {months} / 12",
            ),
            ("Utbetalt hittills i år", paid, "utbetalt bistånd, biståndsmånader i perioden"),
            (
                "Avvikelse mot periodens budget",
                _calc(paid, None if value is None else pro_rata - value, "kr"),
                "periodens budget − utbetalt",
            ),
            (
                "Avvikelse i procent av periodens budget",
                _calc(paid, None if value is None else (pro_rata - value) / pro_rata * 100, "procent"),
                "avvikelse / periodens budget × 100",
            ),
            ("Helårsprognos (linjär)", _calc(paid, prognosis, "kr"), f"utbetalt × 12 / {months}"),
            (
                "Prognostiserad avvikelse mot helårsbudget",
                _calc(paid, None if prognosis is None else annual - prognosis, "kr"),
                "budget helår − helårsprognos",
            ),
        ]
        for i, (label, cell, how) in enumerate(rows, start=r):
            _text(w, i, 0, label, w.fmts.text)
            _put(w, i, 1, cell, num_format=None if cell.unit == "procent" else '#,##0" kr"')
            _text(w, i, 2, how, w.fmts.text)
        r += len(rows)
        w.wb.define_name("Ekonomi_budget", f"='{w.name}'!{xl_range_abs(table_header, 0, r - 1, 2)}")
        _note(w, r, f"Källa för budgeten: {budget.source}.")
        r += 1
    r = _subtitle(w, r + 1, "Utbetalt per stadsdel")
    _grid(
        w,
        r,
        ["Omfattning", "Utbetalt hittills i år"],
        [
            Line((ctx.scope_label(s),), (fig.get("eb_utbetalt_kr", s, "T"),), bold=s == ALL)
            for s in [*ctx.districts, ALL]
        ],
        1,
    )
    w.ws.freeze_panes(table_header + 1, 0)


def _calc(source: Cell, value: float | None, unit: str) -> Cell:
    return Cell(VALUE, value, unit) if source.kind == VALUE else source


# --- 7. Datakvalitet -----------------------------------------------------------------------


def quality(w: W) -> None:
    ctx = w.ctx
    _widths(w, {0: 18, 1: 17, 2: 14, 3: 14, 4: 16, 5: 40, 6: 40})
    row = _note(
        w,
        2,
        "Varje källtabell valideras före statistiken. Rader som bryter mot en radregel läggs i "
        "karantän och räknas inte med.",
    )
    table_header = row + 1
    _headers(w, table_header, ["Tabell", "Rader lästa", "Godkända", "I karantän", "Status"], {0, 4})
    r = table_header + 1
    for rep in ctx.validation:
        _text(w, r, 0, rep.get("table", ""), w.fmts.text)
        for j, key in enumerate(("rows_read", "rows_accepted", "rows_quarantined"), start=1):
            w.ws.write_number(r, j, int(rep.get(key, 0)), w.fmts.number("antal"))
        _text(w, r, 4, STATUS.get(rep.get("status", ""), str(rep.get("status", ""))), w.fmts.text)
        r += 1
    r = _subtitle(w, r + 1, "Regler som inte uppfylldes")
    headers = ["Tabell", "Allvarlighetsgrad", "Nivå", "Rader", "Kolumn", "Regel", "Detalj"]
    _headers(w, r, headers, {0, 1, 2, 4, 5, 6})
    r += 1
    rules = [(rep.get("table", ""), rule) for rep in ctx.validation for rule in rep.get("rules", [])]
    if not rules:
        _text(w, r, 0, "Alla regler uppfylldes.", w.fmts.plain)
        r += 1
    for table, rule in rules:
        # Never the examples: they are (pseudonymised) keys of single rows.
        texts = [str(rule.get("rule", "")), str(rule.get("detail", ""))]
        _text(w, r, 0, table, w.fmts.text)
        _text(w, r, 1, SEVERITIES.get(rule.get("severity"), str(rule.get("severity", ""))), w.fmts.text)
        _text(w, r, 2, rule.get("level", ""), w.fmts.text)
        w.ws.write_number(r, 3, int(rule.get("rows", 0)), w.fmts.number("antal"))
        _text(w, r, 4, rule.get("column") or "", w.fmts.text)
        _text(w, r, 5, texts[0], w.fmts.text)
        _text(w, r, 6, texts[1], w.fmts.text)
        _fit_cells(w, r, 4, [str(rule.get("column") or ""), *texts])
        r += 1
    r = _note(
        w, r, "Exempel på felaktiga rader (pseudonymiserade nycklar) finns bara i valideringsrapporten."
    )
    _text(w, r + 1, 0, "Valideringsrapporten (Data Docs) är arkiverad här:", w.fmts.subtitle)
    _text(w, r + 2, 0, ctx.data_docs_location, w.fmts.plain)
    w.ws.freeze_panes(table_header + 1, 0)


# --- 8. Om statistiken ---------------------------------------------------------------------


def about(w: W) -> None:
    ctx = w.ctx
    p = ctx.period
    s, n = ctx.suppressed_symbol, ctx.nothing_symbol
    _widths(w, {0: 30, 1: 60, 2: 44, 3: 30})
    facts = [
        ("Enhet", ctx.unit_name),
        ("Stadsdelar", ", ".join(f"{name} ({code})" for code, name in ctx.district_names.items())),
        ("Omfattning", ctx.scope_label()),
        ("Period", f"{p.label} {p.year}: {_period_text(ctx)} (år till och med tertialet)"),
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
    _headers(w, table_header, ["Uppgift", "Värde"], 2)
    w.ws.merge_range(table_header, 1, table_header, 3, "Värde", w.fmts.header)
    value_width = w.widths[1] + w.widths[2] + w.widths[3]
    for i, (label, value) in enumerate(facts, start=table_header + 1):
        _text(w, i, 0, label, w.fmts.text_bold)
        w.ws.merge_range(i, 1, i, 3, safe_text(value), w.fmts.wrap)
        _fit_row(w, i, [(value, value_width)])
    r = _subtitle(w, table_header + len(facts) + 2, "Rader i källan")
    _headers(w, r, ["Tabell", "Rader"], 1)
    for i, (table, count) in enumerate(sorted(ctx.source_rows.items()), start=r + 1):
        _text(w, i, 0, table, w.fmts.text)
        w.ws.write_number(i, 1, int(count), w.fmts.number("antal"))
    r = _subtitle(w, r + len(ctx.source_rows) + 2, "Indikatorer: definition och källa")
    _headers(w, r, ["Indikator", "Definition", "Källa", "Id"], 4)
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
            _text(w, i, j, value, w.fmts.wrap)
        _fit_cells(w, i, 0, values)
    w.ws.freeze_panes(table_header + 1, 0)


WRITERS = (summary, assistance, gender, labour, staff, economy, quality, about)
TITLES = (
    None,
    "Ekonomiskt bistånd",
    "Jämställdhetsanalys: beslut om ekonomiskt bistånd för kvinnor och män",
    "Arbetsmarknad",
    "Personal",
    "Ekonomi: utbetalt bistånd mot budget",
    "Datakvalitet",
    "Om statistiken",
)


def write_all(wb: xlsxwriter.Workbook, ctx: ReportContext, fig: Figures) -> None:
    """Add the eight sheets in order."""
    fmts = Formats(wb)
    for name, title, writer in zip(SHEETS, TITLES, WRITERS, strict=True):
        heading = title or f"{ctx.period.label} {ctx.period.year} – {ctx.unit_name}"
        writer(_start(wb, ctx, fmts, fig, name, heading))
