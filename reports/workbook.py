"""Excel workbooks for managers, written with xlsxwriter from published (suppressed) figures only.

One workbook per recipient scope: the whole unit (``ALL``) or one district with the unit's
totals beside it. Eight Swedish sheets (reports/sheets.py). Output is deterministic: document
properties come from the period, never from the clock, xlsxwriter stamps every zip member
with 1980-01-01, and text is never turned into formulas or links.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import xlsxwriter

from etl.disclosure import DisclosureConfig
from etl.vocabulary import ALL
from etl.periods import Period

SAFE_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n")

SEX_HEADERS = {"T": "Totalt", "K": "Kvinnor", "M": "Män"}
SEXES = ("T", "K", "M")
UNIT_LABEL = "Hela enheten"
COMPANY = "Stockholms stad"
REQUIRED_COLUMNS = ("indicator_id", "district_code", "sex", "value", "unit", "suppressed")

VALUE, SUPPRESSED, NOTHING = "value", "suppressed", "nothing"


def safe_text(value: str) -> str:
    """Neutralise text Excel would read as a formula (OWASP CSV/formula injection)."""
    return "'" + value if value.startswith(_FORMULA_LEADS) else value


def workbook_name(period: Period, scope: str) -> str:
    stem = "Verksamhetsberattelse" if period.tertial == 3 else "Tertialuppfoljning"
    tertial = "Helar" if period.tertial == 3 else f"T{period.tertial}"
    return f"{stem}_{period.year}_{tertial}_Forsorjningsstod_{scope}.xlsx"


def rule_texts(cfg: DisclosureConfig) -> dict[str, str]:
    """The Swedish rule texts and symbols of ReportContext, from config/pipeline.yml's disclosure."""
    return {
        "disclosure_rule": (
            f"Uppgifter som vilar på 1–{cfg.min_persons - 1} personer visas inte ({cfg.suppressed_symbol}). "
            "Så många celler till döljs att ingen dold uppgift kan räknas fram ur totaler "
            "(kvinnor + män = totalt, stadsdelarna = hela enheten). Noll visas som 0."
        ),
        "staff_rule": (
            f"Sjukfrånvaro redovisas inte för grupper med {cfg.min_staff_group - 1} eller färre anställda "
            f"({cfg.suppressed_symbol}), enligt lagen om kommunal bokföring och redovisning."
        ),
        "suppressed_symbol": cfg.suppressed_symbol,
        "nothing_symbol": cfg.nothing_symbol,
    }


@dataclass(frozen=True, eq=False)
class ReportContext:
    """Everything a workbook shows, as plain data (built by the pipeline from the run's files)."""

    published: pd.DataFrame
    """The published table (etl.disclosure.publish): indicator_id, period, district_code, sex,
    value, unit, suppressed, published."""
    period: Period
    scope: str
    """``ALL`` or a district code."""
    unit_name: str
    district_names: dict[str, str]
    """District code → name, in report order (e.g. KUN → Kungsholmen)."""
    validation: list[dict]
    """The run's validation.json: etl.validate.TableReport fields per table."""
    run_id: str
    code_version: str
    source_rows: dict[str, int]
    data_docs_location: str
    population_year: int
    disclosure_rule: str
    staff_rule: str = ""
    suppressed_symbol: str = ".."
    nothing_symbol: str = "–"
    data_through: dt.date | None = None
    """Latest date the data covers; defaults to the period's last day."""

    @property
    def through(self) -> dt.date:
        return self.data_through or self.period.end

    @property
    def districts(self) -> list[str]:
        return list(self.district_names)

    @property
    def shown_scopes(self) -> list[str]:
        """Scopes a sheet lists: every district then the unit, or the district and the unit."""
        return [*self.districts, ALL] if self.scope == ALL else [self.scope, ALL]

    def scope_label(self, scope: str | None = None) -> str:
        scope = self.scope if scope is None else scope
        return UNIT_LABEL if scope == ALL else self.district_names.get(scope, scope)


@dataclass(frozen=True)
class Cell:
    """One published figure: a value, suppressed (``..``) or nothing to report (``–``)."""

    kind: str
    value: float | None
    unit: str | None

    @property
    def number(self) -> float | None:
        """The value when it may be shown and used in a calculation, else None."""
        return self.value if self.kind == VALUE else None


@dataclass
class Figures:
    """The published table indexed by (indicator, scope, sex); suppressed values never leave it."""

    published: pd.DataFrame
    suppressed_symbol: str = ".."
    _cells: dict = field(init=False, repr=False)

    def __post_init__(self) -> None:
        df = self.published
        missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
        if missing:
            raise ValueError(f"Publiceringstabellen saknar kolumnerna {', '.join(missing)}.")
        keys = ["indicator_id", "district_code", "sex"]
        dupes = df.duplicated(keys)
        if dupes.any():
            first = df.loc[dupes, keys].iloc[0].tolist()
            raise ValueError(f"Publiceringstabellen har dubbla rader för {'/'.join(map(str, first))}.")
        suppressed = _as_bool(df["suppressed"])
        if "published" in df.columns:
            suppressed = suppressed | (df["published"].astype("string") == self.suppressed_symbol).fillna(
                False
            )
        # Masked here as well as upstream: a suppressed figure can never reach a cell.
        value = pd.to_numeric(df["value"], errors="coerce").astype("float64").mask(suppressed)
        kind = pd.Series(VALUE, index=df.index).mask(value.isna(), NOTHING).mask(suppressed, SUPPRESSED)
        index = pd.MultiIndex.from_frame(df[keys].astype(str))
        self._cells = dict(
            zip(index, zip(kind, value.where(kind == VALUE, None), df["unit"].astype(str), strict=True),
                strict=True)
        )  # fmt: skip
        self._ids = frozenset(df["indicator_id"].astype(str))

    def get(self, indicator_id: str, scope: str = ALL, sex: str = "T") -> Cell:
        hit = self._cells.get((indicator_id, scope, sex))
        if hit is None:
            return Cell(NOTHING, None, None)
        kind, value, unit = hit
        return Cell(kind, None if value is None or math.isnan(value) else float(value), unit)

    def has(self, indicator_id: str) -> bool:
        return indicator_id in self._ids


def _as_bool(col: pd.Series) -> pd.Series:
    if col.dtype == bool or str(col.dtype) == "boolean":
        return col.fillna(False).astype(bool)
    return col.astype("string").str.strip().str.lower().isin(["true", "1", "ja"]).fillna(False).astype(bool)


def created_at(period: Period) -> dt.datetime:
    """Document creation time: the period's last day at midnight (never the wall clock)."""
    return dt.datetime.combine(period.end, dt.time(0, 0))


def check_context(ctx: ReportContext) -> None:
    if ctx.scope != ALL and ctx.scope not in ctx.district_names:
        known = ", ".join([ALL, *ctx.district_names])
        raise ValueError(f"Okänd omfattning {ctx.scope!r} för arbetsboken: välj en av {known}.")
    if not ctx.district_names:
        raise ValueError("Arbetsboken behöver minst en stadsdel (district_names är tom).")


def write_workbook(ctx: ReportContext, out_dir: Path) -> Path:
    """Write the workbook for ``ctx.scope`` (``ALL`` or a district code) and return its path."""
    from reports import sheets  # the sheet writers import this module's helpers

    check_context(ctx)
    figures = Figures(ctx.published, ctx.suppressed_symbol)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / workbook_name(ctx.period, ctx.scope)
    wb = xlsxwriter.Workbook(str(path), {**SAFE_OPTIONS})
    scope_text = "" if ctx.scope == ALL else f" ({ctx.scope_label()})"
    wb.set_properties(
        {
            "title": f"{ctx.period.label} {ctx.period.year} – {ctx.unit_name}{scope_text}",
            "subject": f"Uppföljning {ctx.period}: ekonomiskt bistånd, arbetsmarknad, personal och ekonomi",
            "author": ctx.unit_name,
            "manager": ctx.unit_name,
            "company": COMPANY,
            "category": "Tertialuppföljning",
            "keywords": f"{ctx.period}, {ctx.scope}",
            "comments": f"Körning {ctx.run_id}, kodversion {ctx.code_version}",
            "created": created_at(ctx.period),
        }
    )
    sheets.write_all(wb, ctx, figures)
    wb.close()
    return path
