"""What a workbook shows, as plain data: the run's context, the indexed published figures, the rule texts.

No xlsxwriter here: the sheets (reports/sheets/) lay these out, reports/workbook.py writes the file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
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

    @cached_property
    def figures(self) -> Figures:
        """The published figures of the unit and its districts (all a workbook can show),
        indexed once for every sheet and judgement of the context."""
        return Figures(self.published, self.suppressed_symbol, self.unit_scopes)

    @cached_property
    def comparison_figures(self) -> dict[str, Figures]:
        """The comparison figures per period (e.g. ``2017-T2``), indexed once."""
        return figures_by_period(self.comparison, self.suppressed_symbol, self.unit_scopes)

    def figures_for(self, period: str) -> Figures | None:
        """The comparison figures of one period (e.g. ``2017-T2``); None when none were computed."""
        return self.comparison_figures.get(period)

    @property
    def through(self) -> dt.date:
        return self.data_through or self.period.end

    @property
    def districts(self) -> list[str]:
        return list(self.district_names)

    @property
    def unit_scopes(self) -> tuple[str, ...]:
        """Every district of the unit and the unit itself (any workbook's scopes)."""
        return (*self.districts, ALL)

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
    """The published table indexed by (indicator, scope, sex); suppressed values never leave it.

    Indexed with column-wide operations (one dict from key to row, plain lists per column), and
    only for ``scopes`` when given: a national table has tens of thousands of rows, a workbook
    shows the unit and its districts."""

    published: pd.DataFrame
    suppressed_symbol: str = ".."
    scopes: tuple[str, ...] | None = None
    """The scopes :meth:`get` answers for (None: all); any other scope has nothing to report."""
    _rows: dict = field(init=False, repr=False)

    def __post_init__(self) -> None:
        df = self.published
        missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
        if missing:
            raise ValueError(f"Publiceringstabellen saknar kolumnerna {', '.join(missing)}.")
        self._ids = frozenset(df["indicator_id"].astype(str).unique())
        if self.scopes is not None:
            df = df[df["district_code"].astype(str).isin(self.scopes).to_numpy(dtype=bool)]
        keys = ["indicator_id", "district_code", "sex"]
        ids, scopes, sexes = (df[k].astype(str).tolist() for k in keys)
        self._rows = dict(zip(zip(ids, scopes, sexes, strict=True), range(len(df)), strict=True))
        if len(self._rows) < len(df):
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
        hidden = suppressed.to_numpy(dtype=bool)
        value = pd.to_numeric(df["value"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        value = np.where(hidden, np.nan, value)
        kind = np.where(hidden, SUPPRESSED, np.where(np.isnan(value), NOTHING, VALUE))
        self._kinds, self._values = kind.tolist(), value.tolist()
        self._units = df["unit"].astype(str).tolist()

    def get(self, indicator_id: str, scope: str = ALL, sex: str = "T") -> Cell:
        row = self._rows.get((indicator_id, scope, sex))
        if row is None:
            return Cell(NOTHING, None, None)
        kind = self._kinds[row]
        return Cell(kind, self._values[row] if kind == VALUE else None, self._units[row])

    def has(self, indicator_id: str) -> bool:
        return indicator_id in self._ids


def figures_by_period(
    frame: pd.DataFrame | None, suppressed_symbol: str, scopes: tuple[str, ...] | None = None
) -> dict[str, Figures]:
    """Figures of each period of a table with a ``period`` column (the comparison figures)."""
    if frame is None or "period" not in frame or not len(frame):
        return {}
    return {
        str(name): Figures(rows, suppressed_symbol, scopes)
        for name, rows in frame.groupby(frame["period"].astype(str), sort=False)
    }


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
