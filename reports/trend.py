"""The verksamhetsberättelse's trend workbook: each plan indicator at T1 → T2 → helår.

Built at the T3 run from the year's published tables (and the previous year's full year where
archived). Published values only, same formats and safety as the tertial workbooks.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import xlsxwriter

from etl.settings import settings
from etl.vocabulary import ALL, SEXES
from reports.formats import Formats
from reports.layout import SAFE_OPTIONS, Line, Page, header_escape, plan_format, print_setup, safe_text
from reports.model import COMPANY, PERIODICITY, Figures

STAGES = (("T1", "T1 (jan–apr)"), ("T2", "T2 (jan–aug)"), ("T3", "Helår"))
SHEET = "Trend"
ABOUT = "Om trenden"


def trend_name(year: int) -> str:
    return f"Trend_{year}_Forsorjningsstod.xlsx"


def _check(packages: dict[str, pd.DataFrame], previous: dict[str, pd.DataFrame]) -> None:
    known = {key for key, _ in STAGES}
    for which, given in (("packages", packages), ("previous", previous)):
        unknown = sorted(set(given) - known)
        if unknown:
            raise ValueError(f"Trendarbetsboken: okända tertial {unknown} i {which}; använd T1, T2 och T3.")
    if not packages:
        raise ValueError("Trendarbetsboken behöver minst ett tertials publicerade tabell.")


def write_trend_workbook(
    year: int,
    packages: dict[str, pd.DataFrame],
    previous: dict[str, pd.DataFrame],
    out_dir: Path,
    unit_name: str,
    review_comparison: str | None = None,
) -> Path:
    """Write ``Trend_<year>_Forsorjningsstod.xlsx``: the unit's T/K/M per plan indicator over the year.

    ``packages`` maps "T1"/"T2"/"T3" to that period's published table; ``previous`` the same for
    the previous year (only its "T3", the full year, is shown). A missing package shows "–".
    """
    _check(packages, previous)
    figures = {key: Figures(df) for key, df in packages.items()}
    before = Figures(previous["T3"]) if "T3" in previous else None
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / trend_name(year)
    wb = xlsxwriter.Workbook(str(path), {**SAFE_OPTIONS})
    wb.set_properties(
        {
            "title": f"Trend {year} – {unit_name}",
            "subject": f"Indikatorer T1, T2 och helår {year} och helår {year - 1}",
            "author": unit_name,
            "company": COMPANY,
            "category": "Verksamhetsberättelse",
            "created": dt.datetime(year, 12, 31),
        }
    )
    fmts = Formats(wb)
    w = Page.add(wb, fmts, SHEET)
    ws = w.ws
    w.set_widths({0: 26, 1: 48, 2: 11, **{c: 9 for c in range(3, 3 + 3 * (len(STAGES) + 1))}})
    w.text(0, 0, f"Trend {year}: {unit_name}, hela enheten", fmts.title)

    stages = [(key, label, figures.get(key)) for key, label in STAGES]
    stages.append(("prev", f"Helår {year - 1}", before))
    w.columns(3, [(3 + 3 * i, 5 + 3 * i) for i in range(len(stages))])  # before the notes
    w.note(
        1,
        "Utfall år till och med T1, T2 och helår, och föregående års helår. "
        f"{w.suppressed_symbol} = visas inte (för få personer), {w.nothing_symbol} = "
        "inget att redovisa.",
    )
    group_row, header_row = 3, 4
    for i, (_, label, _) in enumerate(stages):
        c = 3 + 3 * i
        ws.merge_range(group_row, c, group_row, c + 2, safe_text(label), fmts.group)
    headers = ["Område (KF:s inriktningsmål)", "Indikator", "Periodicitet"]
    headers += ["Totalt", "Kvinnor", "Män"] * len(stages)
    w.headers(header_row, headers, 3)
    plan = settings().plan(year)
    goals = settings().catalogue.goals()
    for i, ind in enumerate(goals, start=header_row + 1):
        w.text(i, 0, ind.goal.kf_inriktningsmal, fmts.text)
        w.text(i, 1, ind.name, fmts.text)
        w.text(i, 2, PERIODICITY.get(ind.periodicity, ind.periodicity), fmts.text)
        sexes = ind.sexes
        for s, (_, _, fig) in enumerate(stages):
            for j, sex in enumerate(SEXES):
                col = 3 + 3 * s + j
                if sex not in sexes:
                    w.put(i, col, None)
                elif fig is None:
                    w.text(i, col, w.nothing_symbol, fmts.symbol())
                else:
                    w.put(i, col, fig.get(ind.id, ALL, sex), num_format=plan_format(ind, plan))
        w.fit_cells(i, 0, [ind.goal.kf_inriktningsmal, ind.name])
    last = header_row + len(goals)
    w.note(last + 1, "Inte individbaserade indikatorer (platser, index) redovisas bara totalt.")
    w.head(group_row, header_row, 2)
    header, footer = f"&L{header_escape(unit_name)}&C&A&RTrend {year}", f"&CSida &P av &N&RÅr {year}"
    print_setup(ws, header, footer)
    w.finish()

    wa = Page.add(wb, fmts, ABOUT)
    about = wa.ws
    wa.text(0, 0, "Om trenden", fmts.title)
    lines = [Line((label, "finns" if fig is not None else "saknas"), ()) for _, label, fig in stages]
    wa.grid(2, ["Period", "Publicerad tabell"], lines, 2)
    r = wa.note(3 + len(lines), "Värdena är de publicerade (sekretessprövade) värdena ur arkivpaketen.")
    wa.note(
        r + 1,
        f"Ärendegranskningen i jämställdhetsprojektet: den senaste jämförelsen före och efter finns i "
        f"verksamhetsberättelsens paket ({review_comparison})."
        if review_comparison
        else "Ärendegranskningen i jämställdhetsprojektet: ingen jämförelse före och efter finns ännu.",
    )
    wa.set_widths({0: 20, 1: 20})
    wa.head(2, 2)
    print_setup(about, header, footer)
    wa.finish()
    wb.close()
    return path
