"""config/catalogue.yml: what every indicator is, in one place.

An entry says an indicator's id, its one Swedish name, definition, source, unit, whether it is
individual-based (split by sex), the tables it reads, periodicity, direction, where the workbook
shows it (sheet and row group), its disclosure rule and the figures linked to it. The statistics
compute what the catalogue lists (a test holds them to it); the workbook, the e-mail summary and
docs/indicators.md take names and definitions from here.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from etl.settings.base import Frozen, refuse_twice
from etl.vocabulary import DISCLOSURE_RULES, SEXES

UNITS = ("antal", "procent", "kr", "dagar", "index", "årsarbetare")
SHEETS = (
    "Sammanfattning", "Ekonomiskt bistånd", "Jämställdhetsanalys", "Arbetsmarknad", "Personal", "Ekonomi"
)
HOUSEHOLD_TYPES = (1, 3, 4, 5, 6, 7, 8, 9)
"""Socialstyrelsen's hushållstyp codes (there is no code 2)."""
AGE_BANDS = ("_alder_29", "_alder_30_49", "_alder_50")
"""Staff age bands as id suffixes (≤29, 30–49, ≥50 at the end of the period)."""
FAMILIES = {
    # family → the pattern of its computed ids after the entry's id
    "household_type": r"_(?:" + "|".join(str(c) for c in HOUSEHOLD_TYPES) + r")",
    "month": r"_\d{6}",
    "age_band": r"(?:" + "|".join(AGE_BANDS) + r")?",
}
"""An entry with a family stands for several computed ids: one per household type, per benefit
month (YYYYMM) or per age band (the entry's own id is all ages)."""


class FollowSpec(Frozen):
    """The values of ``table.column`` in the rows where ``where`` = (column, window) holds;
    without ``where``, in the rows that ``table``'s own extract reads."""

    table: str
    column: str
    where: tuple[str, str] | None = None


class ReadSpec(Frozen):
    """A source column the indicator reads and the window of the period it needs
    (etl.windows names the windows: P, P_previous_year, 12_months_to_P_end, ...)."""

    table: str
    column: str
    window: str | FollowSpec
    null_read: bool = True
    """False where NULL means the row is outside the window (a pending decision, a running
    intervention)."""


class Goal(Frozen):
    kf_inriktningsmal: str
    kf_omrade: str
    namndmal: str | None = None

    @property
    def order(self) -> tuple[int, ...]:
        """The KF goal's number (e.g. 3.3), for listing goals in the city's order."""
        found = re.match(r"\s*(\d+)\.(\d+)", self.kf_omrade)
        return (int(found[1]), int(found[2])) if found else (99, 99)


class Entry(Frozen):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    definition: str = Field(min_length=1)
    source: str = Field(min_length=1)
    tables: tuple[str, ...] = Field(min_length=1)
    unit: Literal["antal", "procent", "kr", "dagar", "index", "årsarbetare"]
    individual_based: bool
    sexes: tuple[Literal["T", "K", "M"], ...] | None = None
    """Sexes shown; default T, K, M for individual-based figures, else T."""
    periodicity: Literal["tertial", "år"]
    direction: Literal["lower_is_better", "higher_is_better"] | None = None
    judgement: Literal["level", "count", "annual_share", "seasonal_count", "trend"] | None = None
    """How a result is judged before the year's end (etl.targets): ``level`` the value against
    the årsmål; ``count`` a count against the årsmål pro-rated by months; ``annual_share`` a
    share that grows over the year, by a prognosis from last year's full-year/year-to-date
    ratio; ``seasonal_count`` a count against last year's monthly profile; ``trend`` a
    "minskar/ökar" goal, against the same period of the previous year. Default: ``count`` for
    ``antal``, else ``level``."""
    sheet: Literal[
        "Sammanfattning", "Ekonomiskt bistånd", "Jämställdhetsanalys", "Arbetsmarknad", "Personal", "Ekonomi"
    ]
    group: str
    computed_by: Literal["case", "staff", "gender", "input", "economy"]
    """Which statistics module computes it (``input``: reported in the source's indicator_input)."""
    disclosure: Literal["persons", "staff_group", "none"]
    linked: tuple[str, ...] = ()
    """Entries computable from this one (hidden together at the same scope and sex)."""
    part_of: str | None = None
    """An entry whose figure this entry's family adds up to (a hidden part must not be recoverable)."""
    family: Literal["household_type", "month", "age_band"] | None = None
    email_summary: bool = False
    reads: tuple[ReadSpec, ...] = ()
    """Date-windowed columns it reads; extraction reads the union of every entry's windows."""
    goal: Goal | None = None
    """The city's goal the indicator follows up: it is then a plan indicator (Sammanfattning)."""
    note: str | None = None

    @model_validator(mode="after")
    def _defaults(self) -> Entry:
        for key in ("name", "definition", "source"):
            object.__setattr__(self, key, " ".join(getattr(self, key).split()))
        if self.sexes is None:
            object.__setattr__(self, "sexes", SEXES if self.individual_based else ("T",))
        if self.disclosure not in DISCLOSURE_RULES:
            raise ValueError(f"disclosure {self.disclosure!r} är okänd")
        if self.judgement is None:
            object.__setattr__(self, "judgement", "count" if self.unit == "antal" else "level")
        if self.judgement in ("count", "seasonal_count") and self.unit != "antal":
            raise ValueError(f"judgement {self.judgement} gäller antal, inte {self.unit}")
        if self.judgement == "annual_share" and self.unit != "procent":
            raise ValueError(f"judgement annual_share gäller andelar (procent), inte {self.unit}")
        if self.judgement == "trend" and self.direction is None:
            raise ValueError("judgement trend (minskar/ökar) kräver direction")
        return self

    @property
    def is_count(self) -> bool:
        return self.unit == "antal"

    @property
    def trend_word(self) -> str | None:
        """The goal's word for a ``trend`` entry: minskar (lower is better) or ökar."""
        if self.judgement != "trend":
            return None
        return "minskar" if self.direction == "lower_is_better" else "ökar"

    @property
    def annual_only(self) -> bool:
        return self.periodicity == "år"

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(re.escape(self.id) + (FAMILIES[self.family] if self.family else "") + "$")


class Catalogue(Frozen):
    indicators: tuple[Entry, ...]

    @model_validator(mode="after")
    def _references(self) -> Catalogue:
        ids = [e.id for e in self.indicators]
        refuse_twice(ids)
        for e in self.indicators:
            unknown = [i for i in (*e.linked, *([e.part_of] if e.part_of else [])) if i not in ids]
            if unknown:
                raise ValueError(f"{e.id}: hänvisar till okända indikatorer {unknown}")
        return self

    def __iter__(self):
        return iter(self.indicators)

    def __contains__(self, indicator_id: str) -> bool:
        return indicator_id in self.ids

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(e.id for e in self.indicators)

    def get(self, indicator_id: str) -> Entry:
        """The entry of an entry id; KeyError naming it otherwise."""
        for e in self.indicators:
            if e.id == indicator_id:
                return e
        raise KeyError(f"Indikatorn {indicator_id} finns inte i config/catalogue.yml.")

    def entry_for(self, computed_id: str) -> Entry | None:
        """The entry a computed id belongs to (``eb_hushall_typ_3`` → ``eb_hushall_typ``)."""
        exact = next((e for e in self.indicators if e.id == computed_id), None)
        return exact or next((e for e in self.indicators if e.pattern.match(computed_id)), None)

    def select(self, sheet: str, group: str | None = None) -> tuple[Entry, ...]:
        return tuple(e for e in self.indicators if e.sheet == sheet and (group is None or e.group == group))

    def goals(self) -> tuple[Entry, ...]:
        """Plan indicators (with a city goal), in the city's goal order."""
        return tuple(sorted((e for e in self.indicators if e.goal), key=lambda e: e.goal.order))

    def email_summary(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.indicators if e.email_summary)

    def linked_families(self) -> tuple[tuple[str, ...], ...]:
        """Id patterns hidden together (``*`` links members whose ``*`` parts are equal)."""
        return tuple(
            tuple(self._star(i) for i in (e.id, *e.linked)) for e in self.indicators if e.linked
        )

    def sum_groups(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(total, parts) patterns: age bands add up to all ages; families to their ``part_of``."""
        groups: list[tuple[str, tuple[str, ...]]] = []
        if any(e.family == "age_band" for e in self.indicators):
            groups.append(("*", tuple(f"*{band}" for band in AGE_BANDS)))
        for e in self.indicators:
            if e.part_of:
                part = f"{e.id}_{{year}}*" if e.family == "month" else self._star(e.id)
                groups.append((e.part_of, (part,)))
        return tuple(groups)

    def _star(self, indicator_id: str) -> str:
        family = self.get(indicator_id).family
        return f"{indicator_id}_*" if family in ("household_type", "month") else indicator_id


DOC_BEGIN = "<!-- catalogue:begin (generated from config/catalogue.yml by python -m etl docs) -->"
DOC_END = "<!-- catalogue:end -->"
_DISCLOSURE_SV = {
    "persons": "1–4 personer döljs",
    "staff_group": "grupper ≤ 10 anställda döljs",
    "none": "visas alltid",
}


def markdown(catalogue: Catalogue) -> str:
    """The catalogue as the Markdown table in docs/indicators.md (between the markers)."""
    lines = [
        DOC_BEGIN,
        "",
        "| id | namn | enhet | kön | periodicitet | bättre | blad (grupp) | röjandekontroll | tabeller |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    better = {"lower_is_better": "lägre", "higher_is_better": "högre", None: "–"}
    for e in catalogue:
        family = f" (+ {e.family})" if e.family else ""
        linked = f"; med {', '.join(e.linked)}" if e.linked else ""
        lines.append(
            f"| `{e.id}`{family} | {e.name} | {e.unit} | {'/'.join(e.sexes)} | {e.periodicity} "
            f"| {better[e.direction]} | {e.sheet} ({e.group}) | {_DISCLOSURE_SV[e.disclosure]}{linked} "
            f"| {', '.join(e.tables)} |"
        )
    return "\n".join([*lines, "", DOC_END])
