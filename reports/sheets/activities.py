"""The plan's dated activities on Sammanfattning, with a status the manager fills in.

The activities (config/plans/<year>.yml, ``activities``) have no measure in the data: the
workbook lists them with their goal and dates and leaves Status (a list to choose from) and
Kommentar for the manager, as the verksamhetsberättelse asks for them.
"""

from __future__ import annotations

from reports.layout import Page

STATUSES = ["Ej påbörjad", "Pågår", "Genomförd", "Försenad", "Avbruten"]
STATUS_COLS = (4, 6)
COMMENT_COLS = (7, 10)


def write(w: Page, plan, top: int) -> int:
    """The activities from row ``top``; returns the first row after them (``top`` if none)."""
    activities = plan.activities if plan else ()
    if not activities:
        return top
    ws, fmts = w.ws, w.fmts
    w.text(top, 0, "Planens aktiviteter", fmts.subtitle)
    header = top + 1
    w.keep(header)
    for col, label in ((0, "Mål"), (1, "Aktivitet"), (2, "Start"), (3, "Slut")):
        w.text(header, col, label, fmts.header)
    for (first, last), label in ((STATUS_COLS, "Status"), (COMMENT_COLS, "Kommentar")):
        ws.merge_range(header, first, header, last, f"{label} (fylls i av chefen)", fmts.header)
    r = header + 1
    for activity in activities:
        w.text(r, 0, activity.goal or "", fmts.text)
        w.text(r, 1, " ".join(activity.text.split()), fmts.text)
        w.text(r, 2, activity.start.isoformat() if activity.start else "", fmts.text)
        w.text(r, 3, activity.end.isoformat() if activity.end else "", fmts.text)
        ws.merge_range(r, STATUS_COLS[0], r, STATUS_COLS[1], "", fmts.text)
        ws.merge_range(r, COMMENT_COLS[0], r, COMMENT_COLS[1], "", fmts.text)
        w.fit_row(r, [(activity.text, w.widths.get(1, 48)), (activity.goal or "", w.widths.get(0, 26))])
        r += 1
    ws.data_validation(
        header + 1, STATUS_COLS[0], r - 1, STATUS_COLS[0],
        {"validate": "list", "source": STATUSES, "ignore_blank": True},
    )  # fmt: skip
    return r + 1
