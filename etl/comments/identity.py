"""What ties a returned workbook to its archived original: the custom document properties and
the figures hash, shared by the writer (reports/sheets/manager_input.py) and the importer.

The package version is not written into the workbook (it is decided when the run is archived,
after the workbook went out by e-mail); the importer finds the version by the run id and the
figures hash, which the archive holds.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

YEAR, TERTIAL, SCOPE = "eb_year", "eb_tertial", "eb_scope"
RUN_ID, FIGURES = "eb_run_id", "eb_figures_sha256"
WORKBOOK = "eb_workbook"
"""The file name the pipeline gave the workbook (the manager may rename the file)."""
ROW_PREFIX = "eb_comment_row_"
"""``eb_comment_row_<Excel row>`` → the indicator id of that goal row on Sammanfattning."""
IDENTITY = (YEAR, TERTIAL, SCOPE, RUN_ID, FIGURES, WORKBOOK)

SHEET = "Sammanfattning"
ANALYS, ATGARDER = "Analys", "Åtgärder"
"""The two unlocked columns' headers (the manager's own words per goal)."""
TERTIALS = (1, 2)
"""Workbooks with comment cells: T1 and T2 (the year's analysis is written in the verksamhetsberättelse)."""


def figures_hash(published: pd.DataFrame, period: str, scope: str, shown: list[str]) -> str:
    """SHA-256 over the published figures of the scopes the workbook shows: one line per
    (indicator, scope, sex) with the published text (``..`` for suppressed), sorted, so the same
    figures always give the same hash, whether read from memory or from the archived CSV."""
    rows = published[published["district_code"].astype(str).isin(shown)]
    if "published" in rows.columns:
        shown_text = rows["published"].astype("string").fillna("")
    else:  # a table without its text column: the value, suppression marked
        shown_text = rows["value"].map(lambda v: "" if v != v else f"{float(v):.10g}").astype("string")
        shown_text = shown_text.mask(rows["suppressed"].astype(str).str.lower().isin(["true", "1"]), "..")
    columns = (rows["indicator_id"], rows["district_code"], rows["sex"])
    lines = sorted(
        "\t".join(parts)
        for parts in zip(*(c.astype(str).tolist() for c in columns), shown_text.tolist(), strict=True)
    )
    h = hashlib.sha256(f"{period}\t{scope}\t{','.join(sorted(shown))}\n".encode())
    for line in lines:
        h.update(line.encode("utf-8") + b"\n")
    return h.hexdigest()


def shown_scopes(scope: str, districts: list[str], all_code: str) -> list[str]:
    """The scopes a workbook shows (as ReportContext.shown_scopes): every district and the unit,
    or the district and the unit."""
    return [*districts, all_code] if scope == all_code else [scope, all_code]
