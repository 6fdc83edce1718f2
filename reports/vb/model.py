"""What the verksamhetsberättelse shows, as plain data: the year's figures stage by stage.

Every figure is a published (disclosure-checked) one: the archived packages' ``published.csv``
or, where no package exists, the T3 run's ``published_comparison.csv`` (computed from the run's
own extract, etl.statistics.comparison, and suppressed by the same rules). ``Figures`` masks a
suppressed value, so it can never reach a cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from etl.settings import Entry
from etl.vocabulary import ALL
from reports.model import Cell, Figures, ReportContext

COMMENT_COLUMNS = ("year", "tertial", "scope", "indicator", "analys", "atgarder")
"""The managers' comments (etl/comments/store.py: comments_for_year) as the workbook reads them."""
STAGES = ("T1", "T2", "T3")
PREVIOUS = "prev"
"""Key of the previous year's stages: ``prev_T1``, ``prev_T2``, ``prev_T3``."""
MISSING = "saknas"


def empty_comments() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in COMMENT_COLUMNS})


@dataclass(frozen=True, eq=False)
class Stage:
    """One period's published figures and where they come from (said on the Om sheet)."""

    label: str
    """E.g. ``T1 2018`` or ``Helår 2017``."""
    figures: Figures | None
    source: str
    """E.g. ``arkivpaket 2018/T1/v2`` or ``beräknat ur helårskörningens källuttag``; None: saknas."""

    def cell(self, entry: Entry, scope: str = ALL, sex: str = "T") -> Cell | None:
        """The published figure, or None when the stage has none for the indicator (saknas)."""
        if self.figures is None or not self.figures.has(entry.id):
            return None
        return self.figures.get(entry.id, scope, sex)


@dataclass(frozen=True, eq=False)
class VbInputs:
    """Everything the VB workbook shows (built by etl.vb from the archive and the T3 run)."""

    ctx: ReportContext
    """The T3 run's context, scope ALL: its published table is the full year."""
    stages: dict[str, Stage]
    """``T1``, ``T2``, ``T3`` of the year and ``prev_T1``, ``prev_T2``, ``prev_T3`` of the previous."""
    gender_years: dict[int, Figures] = field(default_factory=dict)
    """Year → that year's full-year published figures (the adjusted gender difference), up to the year."""
    gender_tertials: dict[tuple[int, int], Figures] = field(default_factory=dict)
    """(year, 1 or 2) → that tertial's archived published figures (year to date): the trend within years."""
    comments: pd.DataFrame = field(default_factory=empty_comments)
    review: str | None = None
    """The case review's before/after comparison in the VB package (its name), when there is one."""

    def __post_init__(self) -> None:
        missing = [c for c in COMMENT_COLUMNS if c not in self.comments.columns]
        if missing:
            raise ValueError(f"Chefernas kommentarer saknar kolumnerna {', '.join(missing)}.")
        unknown = sorted(set(self.stages) - {*STAGES, *(f"{PREVIOUS}_{s}" for s in STAGES)})
        if unknown:
            raise ValueError(
                f"Verksamhetsberättelsen: okända perioder {unknown}; använd T1, T2, T3, prev_T1 …."
            )
        if self.ctx.period.tertial != 3:
            raise ValueError(f"Verksamhetsberättelsen byggs av helårskörningen (T3), inte {self.ctx.period}.")

    @property
    def year(self) -> int:
        return self.ctx.period.year

    def stage(self, key: str) -> Stage:
        return self.stages.get(key) or Stage(key, None, MISSING)

    def comment(self, entry: Entry, tertial: int, scope: str = ALL) -> str:
        """The manager's analysis and planned actions for the goal at T1/T2 ("" when none)."""
        c = self.comments
        if c.empty:
            return ""
        tertials = c["tertial"].astype(str).str.upper().str.removeprefix("T")
        rows = c[
            (pd.to_numeric(c["year"], errors="coerce") == self.year)
            & (tertials == str(tertial))
            & (c["scope"].astype(str) == scope)
            & (c["indicator"].astype(str) == entry.id)
        ]
        parts = []
        for analys, atgarder in zip(rows["analys"], rows["atgarder"], strict=True):
            if isinstance(analys, str) and analys.strip():
                parts.append(analys.strip())
            if isinstance(atgarder, str) and atgarder.strip():
                parts.append(f"Åtgärder: {atgarder.strip()}")
        return "\n".join(parts)

    def gender_rows(self) -> list[tuple[str, Figures, bool]]:
        """(label, figures, the report's own full year) in time order: T1, T2 (year to date, when
        archived) and the full year of every year up to the report's."""
        years = sorted({y for y in self.gender_years if y <= self.year}
                       | {y for y, _ in self.gender_tertials if y <= self.year})  # fmt: skip
        rows = []
        for y in years:
            rows += [(f"{y} T{t}", self.gender_tertials[(y, t)], False) for t in (1, 2)
                     if (y, t) in self.gender_tertials]  # fmt: skip
            if y in self.gender_years:
                rows.append((str(y), self.gender_years[y], y == self.year))
        return rows
