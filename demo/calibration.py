"""Published reference values per scale: districts, population and recipients, and ``SCALES``.

Reference year 2017 (Kolada N31807 recipients, population on 31 December, plan 2018 for the
programmes); the national scale's 290 synthetic municipalities are drawn with a fixed seed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from demo.parameters import (
    CITY_CASELOAD,
    MAX_AGE,
    PROGRAMMES,
    Caseload,
    GenderGap,
    Handling,
    Money,
    Programme,
    StaffPlan,
    Survey,
)


@dataclass(frozen=True)
class District:
    """A district with its reference-year calibration targets (plan 2018 for the programmes)."""

    code: str
    name: str
    population: int  # inhabitants 31 December of the reference year
    recipients: int  # persons (children included) with bistånd during the reference year
    stockholmsjobb_aspirants: int
    praktik: int
    feriejobb_places: int
    stockholmsjobb_places: int
    payout_level: float = 1.0
    """Payouts per household and month relative to the calibrated mean (rents and the like)."""


@dataclass(frozen=True)
class ProgrammeRates:
    """Programme volumes for districts the plan does not cover, as the unit's 2018 rates."""

    unit_recipients: int = 310 + 312 + 260
    unit_population: int = 77_000 + 78_000 + 86_000
    aspirants: int = 18
    praktik: int = 40
    feriejobb_places: int = 696
    stockholmsjobb_places: int = 75

    def district(self, code: str, name: str, population: int, recipients: int) -> District:
        """A district whose programme numbers scale with its recipients / population."""
        per_recipient = recipients / self.unit_recipients
        per_inhabitant = population / self.unit_population
        return District(
            code,
            name,
            population,
            recipients,
            stockholmsjobb_aspirants=round(self.aspirants * per_recipient),
            praktik=round(self.praktik * per_recipient),
            feriejobb_places=round(self.feriejobb_places * per_inhabitant),
            stockholmsjobb_places=round(self.stockholmsjobb_places * per_inhabitant),
        )


@dataclass(frozen=True)
class AgeProfile:
    """Population by age (relative density, interpolated between anchors) and female share."""

    anchor_ages: tuple[int, ...]
    anchor_weights: tuple[float, ...]
    female_ages: tuple[int, ...] = (0, 30, 70, 90, MAX_AGE)
    female_share: tuple[float, ...] = (0.487, 0.5, 0.54, 0.66, 0.8)


_PROFILE_AGES = (0, 4, 10, 17, 20, 25, 30, 35, 45, 55, 65, 75, 85, 95, MAX_AGE)
INNER_CITY = AgeProfile(
    _PROFILE_AGES, (1.45, 1.25, 1.0, 0.85, 1.0, 2.0, 2.15, 1.8, 1.35, 1.2, 1.1, 0.75, 0.35, 0.08, 0)
)
"""Children ≈18.5 %, 65+ ≈16.5 % (Kungsholmen/Norrmalm/Östermalm)."""
STOCKHOLM = AgeProfile(
    _PROFILE_AGES, (1.5, 1.35, 1.1, 0.95, 1.0, 1.7, 1.95, 1.75, 1.45, 1.2, 1.05, 0.8, 0.35, 0.08, 0)
)
"""Children ≈20 %, 65+ ≈17 %."""
SWEDEN = AgeProfile(
    _PROFILE_AGES, (1.15, 1.15, 1.2, 1.1, 1.2, 1.35, 1.35, 1.25, 1.25, 1.25, 1.2, 1.05, 0.45, 0.1, 0)
)
"""Children ≈20 %, 65+ ≈22 %."""


@dataclass(frozen=True)
class Scale:
    """Everything that makes one scale; the generator has no other numbers of substance."""

    name: str
    districts: tuple[District, ...]
    age_profile: AgeProfile
    caseload: Caseload = field(default_factory=Caseload)
    money: Money = field(default_factory=Money)
    gender_gap: GenderGap = field(default_factory=GenderGap)
    handling: Handling = field(default_factory=Handling)
    programmes: tuple[Programme, ...] = PROGRAMMES
    staff: StaffPlan = field(default_factory=StaffPlan)
    survey: Survey = field(default_factory=Survey)
    reference_year: int = 2017
    population_growth_per_year: float = 0.01
    job_place_noise: float = 0.03
    programme_count_noise: float = 0.05
    feriejobb_offer_months: tuple[int, int] = (2, 5)  # most offers in spring
    feriejobb_late_share: float = 0.1  # offered in June instead
    write_chunk_rows: int = 50_000


@dataclass(frozen=True)
class NationalLayout:
    """How the 290 synthetic municipalities are drawn (fixed seed: part of the definition)."""

    municipalities: int = 290
    total_population: int = 10_120_000
    population_sigma: float = 1.0
    min_population: int = 2_500
    total_recipients: int = 375_000  # ≈ Sweden 2020 (374,000)
    recipient_share_sigma: float = 0.35
    layout_seed: int = 290
    staff_teams: int = 357


def _national_districts(layout: NationalLayout, rates: ProgrammeRates) -> tuple[District, ...]:
    rng = np.random.default_rng(layout.layout_seed)
    raw = rng.lognormal(0.0, layout.population_sigma, layout.municipalities)
    pop = np.maximum(raw / raw.sum() * layout.total_population, layout.min_population).round().astype(int)
    share = rng.lognormal(0.0, layout.recipient_share_sigma, layout.municipalities)
    rec = (pop * share / (pop * share).sum() * layout.total_recipients).round().astype(int)
    return tuple(
        rates.district(f"K{i + 1:04d}", f"Kommun {i + 1:04d}", int(p), int(r))
        for i, (p, r) in enumerate(zip(pop, rec, strict=True))
    )


_RATES = ProgrammeRates()
OST_PAYOUT_LEVEL = 1.5
UNIT_DISTRICTS = (
    District("KUN", "Kungsholmen", 77_000, 310, 6, 20, 250, 20),
    District("NOR", "Norrmalm", 78_000, 312, 7, 15, 200, 40),
    # Östermalm's own budget line (plan 2018: ekonomiskt bistånd 15.4 mnkr for its ≈260
    # recipients, ≈1.6 × the city's cost per recipient) is met by a higher payout level: at the
    # city's mean its 2018 payouts would be ≈10.7 mnkr, ≈30 % below the budget every tertial.
    District("OST", "Östermalm", 86_000, 260, 5, 5, 246, 15, payout_level=OST_PAYOUT_LEVEL),
)
_CITY_OTHERS = (  # code, name, population, recipients: Stockholm 2017 totals 25,228 recipients
    ("RKI", "Rinkeby-Kista", 49_000, 4_700),
    ("SPT", "Spånga-Tensta", 39_000, 3_300),
    ("HVA", "Hässelby-Vällingby", 75_000, 2_700),
    ("BRO", "Bromma", 76_000, 700),
    ("SOD", "Södermalm", 132_000, 1_500),
    ("EAV", "Enskede-Årsta-Vantör", 102_000, 3_100),
    ("SKA", "Skarpnäck", 47_000, 1_200),
    ("FAR", "Farsta", 60_000, 2_300),
    ("ALV", "Älvsjö", 28_000, 600),
    ("HLI", "Hägersten-Liljeholmen", 86_000, 1_400),
    ("SKH", "Skärholmen", 37_000, 2_846),
)
CITY_DISTRICTS = UNIT_DISTRICTS + tuple(_RATES.district(*d) for d in _CITY_OTHERS)
NATIONAL = NationalLayout()

SCALES: Mapping[str, Scale] = {
    "unit": Scale("unit", UNIT_DISTRICTS, INNER_CITY),
    "city": Scale("city", CITY_DISTRICTS, STOCKHOLM, caseload=CITY_CASELOAD, staff=StaffPlan(teams=26)),
    "national": Scale(
        "national",
        _national_districts(NATIONAL, _RATES),
        SWEDEN,
        caseload=CITY_CASELOAD,
        staff=StaffPlan(teams=NATIONAL.staff_teams),
        write_chunk_rows=200_000,
    ),
}
"""The available scales by name (see the module docstring)."""
