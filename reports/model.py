"""What a workbook shows, as plain data: the run's context, the indexed published figures, the rule texts.

No xlsxwriter here: the sheets (reports/sheets/) lay these out, reports/workbook.py writes the file.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import pandas as pd

from etl.disclosure import DisclosureConfig
from etl.periods import Period
from etl.vocabulary import ALL

SEX_HEADERS = {"T": "Totalt", "K": "Kvinnor", "M": "Män"}
UNIT_LABEL = "Hela enheten"
COMPANY = "Stockholms stad"
PERIODICITY = {"tertial": "Tertial", "år": "År"}
"""The plan's periodicity (config/indicators.yml) as the summary and trend sheets print it."""
REQUIRED_COLUMNS = ("indicator_id", "district_code", "sex", "value", "unit", "suppressed")

VALUE, SUPPRESSED, NOTHING = "value", "suppressed", "nothing"


def rule_texts(cfg: DisclosureConfig) -> dict[str, str]:
    """The Swedish rule texts and symbols of ReportContext, from config/pipeline.yml's disclosure."""
    return {
        "disclosure_rule": (
            f"Uppgifter som vilar på 1–{cfg.min_persons - 1} personer visas inte ({cfg.suppressed_symbol}). "
            "Så många celler till döljs att ingen dold uppgift kan räknas fram ur totaler "
            "(kvinnor + män = totalt, stadsdelarna = hela enheten) eller ringas in på ±2 personer "
            "eller ±1 procentenhet. Noll visas som 0, utom när nollan skulle avslöja vilka som finns "
            "i en dold grupp."
        ),
        "staff_rule": (
            f"Sjukfrånvaro redovisas inte för grupper med {cfg.min_staff_group - 1} eller färre anställda "
            f"({cfg.suppressed_symbol}), enligt lagen om kommunal bokföring och redovisning, och inte "
            "heller för en större grupp när en liten grupps sjukfrånvaro då skulle gå att räkna fram "
            "(till exempel kvinnornas när männen är få: totalen och kvinnornas siffra ger männens). "
            "Därför kan uppdelningen på kön eller ålder saknas fast enhetens total visas. Antal "
            "anställda och årsarbetare är inte känsliga och visas alltid."
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
    """The run's validation.json: etl.validation.report.TableReport fields per table."""
    run_id: str
    code_version: str
    source_rows: dict[str, int]
    data_docs_location: str
    population_year: int
    disclosure_rule: str
    staff_rule: str = ""
    suppression_note: str = ""
    """How many cells the primary rule hid and how many more (etl.disclosure_gate.note)."""
    suppressed_symbol: str = ".."
    nothing_symbol: str = "–"
    data_through: dt.date | None = None
    """Latest date the data covers; defaults to the period's last day."""
    comparison: pd.DataFrame | None = None
    """Published figures of the comparison periods (etl.statistics.comparison), ``period`` set."""

    def figures_for(self, period: str) -> Figures | None:
        """The comparison figures of one period (e.g. ``2017-T2``); None when none were computed."""
        if self.comparison is None or "period" not in self.comparison:
            return None
        rows = self.comparison[self.comparison["period"].astype(str) == period]
        return Figures(rows, self.suppressed_symbol) if len(rows) else None

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
