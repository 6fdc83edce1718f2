"""Seeded synthetic source data: the whole source contract, filled so the reports show known figures.

Nothing here is real. Every table in :mod:`etl.source` is written with realistic, fully
deterministic content: ``numpy.random.default_rng(seed)`` spawns one independent stream per part
(population, staff, caseload, programmes, places, survey), so the same arguments give identical
rows on SQLite and PostgreSQL. ``generate(url, scale=..., seed=..., years=...)`` refuses to write
into a database whose source tables already hold data; ``build(...)`` returns the DataFrames.

Scales (``SCALES``, frozen dataclasses; every calibration number lives there)
------------------------------------------------------------------------------
- ``unit``: Försörjningsstödsenheten, districts KUN Kungsholmen, NOR Norrmalm, OST Östermalm.
- ``city``: Stockholm's 14 stadsdelsområden (≈14,000 households, ≈25,000 recipients a year).
- ``national``: 290 synthetic municipalities K0001 … K0290 ("Kommun 0001" …), ≈200,000
  households and ≈1.5 million payments a year; for benchmarks, not for tests.

Calibration (reference year 2017; what the unit scale reproduces)
------------------------------------------------------------------
- Recipients (persons incl. children in households with a payment for a benefit month in the
  year): KUN 310, NOR 312, OST 260 = 0.4 / 0.4 / 0.3 % of the population (Kolada N31807:
  inhabitants on 31 December of the same year; ``population.year`` is that 31 December, rows
  exist from the year before the first year). Households are simulated with 25 % oversupply and
  thinned at random until the reference year's persons reach the target, so 2017 lands within a
  few persons; later years follow a −3 %/year inflow trend. Population KUN 77,000, NOR 78,000,
  OST 86,000 in 2017, +1 %/year, children ≈18 %.
- Household types (Socialstyrelsen 1, 3–9): ≈68 % single adults without children (3, 5), single
  parents (4 rare, 6 common), couples (7, 8), a few 1 (all members under 18, so the
  registerledare is 16–17 years old) and 9 (unknown). Spells last ≈22 months on average (half
  are long-term: ≥10 months, mean 40), so many households carry over between years;
  ≈7 assistance months per household and year. Need is rescaled so the reference year's mean
  granted per household and month is exactly 9,135 SEK (Stockholm 2017), +2 %/year after.
- Applications: one per household and month applied for (4 % of spell months skipped);
  received 14 days before to 20 days after the first of the benefit month, decided ≈7 days later
  (median); still pending (decision, decided_on, granted_sek NULL) when the decision would fall
  after the last day of data. ≈10 % avslag (granted 0), 15 % delvis_bifall, else bifall.
  Payments: one per granted application, 12 % split in two, 1 % manual (application_id NULL);
  payments dated after the last day of data are not yet in the extract.
- Försörjningshinder (``support_obstacle.code``, ``OBSTACLES``), one per adult (registerledare,
  medsökande) and benefit month, Socialstyrelsen's main groups: ``arbetslos_utan_ersattning``
  (arbetslös utan, med otillräcklig eller i väntan på ersättning), ``arbetslos_etablering``
  (arbetslös med etableringsersättning), ``sjukskriven``, ``sociala_skal``, ``foraldraledig``,
  ``otillracklig_inkomst`` (arbetar med otillräcklig inkomst), ``studerande``, ``ovrigt``.
  ``sjukskriven`` and ``sociala_skal`` dominate ("socialmedicinska arbetshinder").
- Programmes (``intervention``) per year: Stockholmsjobb aspirants 18 (KUN 6, NOR 7, OST 5),
  praktik 40 (20/15/5), AR-rehab for ≈10 % of active households with ≈28 % of ended spells
  going to egen/annan försörjning (target ≥25 %), a few OSA, feriejobb for 16–17-year-olds.
  ``job_place``: feriejobb 696 (250/200/246, offered February–May, 10 % in June) and
  Stockholmsjobb 75 (20/40/15), ±3 %. Other scales scale these with recipients/population.
- Staff: 32 employed on 31 December of the middle year (4 men, 28 women; managers ≥35), all
  three age bands, a few joining and leaving. Sick leave ≈7 % of scheduled hours (spells
  are stratified per year, so even 32 staff stay within ≈5.5–9 %), day 1–14 ≈1.8 %, and long
  spells reaching day 60+ (≈25 % of sick hours).
  Survey indices ≈83/80/84/78 per year (T, K, M consistent by headcount) and e-purchasing
  ≈65 % per tertial (plan 2018 targets).
- Ids: person_id is a synthetic personnummer YYYYMMDDNNNC (11th digit odd for men, Luhn check
  digit; ≈3 % samordningsnummer with day + 60); household H0000001, application AP000000001,
  payment P000000001, intervention I0000001, job place J0000001, staff A0001.

PLANTED GENDER DIFFERENCE (``GenderGap``; what analysts should find)
--------------------------------------------------------------------
For single-adult households (types 3 and 4 = men, 5 and 6 = women), within the same stratum
(with/without children × the registerledare's försörjningshinder that month × year):

- granted amounts for women are ``women_granted_factor`` = 0.965 × those for men (−3.5 %);
- the avslag probability is ``men_avslag_share`` = 9.0 % for men and 9.0 + ``women_extra_avslag``
  (2.0) = 11.0 % for women (+2 percentage points).

Children, rent level (household factor), obstacle mix, delvis share and handling time are drawn
from the same distributions for both sexes. Compare within strata: a naive comparison across
types 3–6 is confounded, because women are far more often single parents (type 6 ≫ 4), whose
need is higher. Couples (7, 8) and types 1 and 9 carry no planted difference. At unit scale the
ratio is estimated only to about ±2 %, at city scale to about ±1 %.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import sqlalchemy as sa

from etl import source
from etl.pseudonym import luhn_check_digit

MONTHS_PER_YEAR = 12
DAYS_PER_YEAR = 365.25
MAX_AGE = 100
ADULT_AGE = 18
OBSTACLES = (
    "arbetslos_utan_ersattning",
    "arbetslos_etablering",
    "sjukskriven",
    "sociala_skal",
    "foraldraledig",
    "otillracklig_inkomst",
    "studerande",
    "ovrigt",
)
"""Försörjningshinder codes (Socialstyrelsen's main groups), see the module docstring."""

TYPES_WITH_CHILDREN = (4, 6, 8)
COUPLE_TYPES = (7, 8)
MINOR_TYPE = 1


# --------------------------------------------------------------------------- calibration


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
class Caseload:
    """Who the households are and how long they stay."""

    household_type_shares: tuple[tuple[int, float], ...] = (
        (1, 0.01),
        (3, 0.42),
        (4, 0.02),
        (5, 0.26),
        (6, 0.11),
        (7, 0.06),
        (8, 0.09),
        (9, 0.03),
    )
    extra_children_mean: float = 0.8  # children = 1 + Poisson(mean), capped
    max_children: int = 6
    ovrig_share: float = 0.03  # childless households with one more adult (övrig)
    couple_registerledare_male_share: float = 0.6
    same_sex_couple_share: float = 0.02
    adult_age: tuple[float, float, float, float] = (40.0, 12.0, 18.0, 80.0)  # mean, sd, min, max
    parent_age: tuple[float, float, float, float] = (37.0, 8.0, 19.0, 60.0)
    ovrig_age: tuple[float, float] = (18.0, 30.0)
    minor_applicant_age: tuple[float, float] = (16.0, 17.4)
    partner_age_sd: float = 4.0
    born_abroad_adult_share: float = 0.5
    born_abroad_child_share: float = 0.2
    samordningsnummer_share_of_born_abroad: float = 0.06  # ≈3 % of all persons
    long_term_share: float = 0.5
    long_term_min_months: int = 10
    long_term_mean_months: float = 40.0
    short_term_mean_months: float = 4.0
    minor_max_months: int = 6
    month_gap_share: float = 0.04  # months inside a spell without an application
    yearly_trend: float = -0.03  # fewer new households each year (Stockholm 2015–2019)
    burn_in_months: int = 144  # simulated before the first year so long-term cases exist
    oversupply: float = 1.25  # simulated households per needed one, thinned to the recipients target
    obstacle_weights: tuple[float, ...] = (0.22, 0.05, 0.28, 0.30, 0.0, 0.06, 0.03, 0.06)
    obstacle_weights_with_children: tuple[float, ...] = (0.22, 0.08, 0.20, 0.20, 0.14, 0.10, 0.02, 0.04)
    obstacle_change_share: float = 0.1  # a month whose code differs from the person's main one

    def type_shares(self) -> tuple[np.ndarray, np.ndarray]:
        types = np.array([t for t, _ in self.household_type_shares])
        shares = np.array([s for _, s in self.household_type_shares])
        return types, shares / shares.sum()

    def mean_household_size(self) -> float:
        """Expected persons per household, used to turn recipient targets into households."""
        types, shares = self.type_shares()
        adults = np.where(np.isin(types, COUPLE_TYPES), 2.0, 1.0)
        children = np.where(np.isin(types, TYPES_WITH_CHILDREN), 1 + self.extra_children_mean, 0.0)
        ovrig = np.where(np.isin(types, TYPES_WITH_CHILDREN) | (types == MINOR_TYPE), 0.0, self.ovrig_share)
        return float((shares * (adults + children + ovrig)).sum())

    def mean_duration_months(self) -> float:
        return (
            self.long_term_share * self.long_term_mean_months
            + (1 - self.long_term_share) * self.short_term_mean_months
        )


CITY_CASELOAD = Caseload(
    household_type_shares=(
        (1, 0.02),
        (3, 0.36),
        (4, 0.03),
        (5, 0.22),
        (6, 0.15),
        (7, 0.06),
        (8, 0.13),
        (9, 0.03),
    ),
    born_abroad_adult_share=0.6,
    born_abroad_child_share=0.25,
    samordningsnummer_share_of_born_abroad=0.05,
)


@dataclass(frozen=True)
class Money:
    """Need per household and month; relative units rescaled so the mean paid hits the target."""

    mean_paid_per_household_month: float = 9135.0  # Stockholm 2017, SEK
    yearly_increase: float = 0.02  # riksnorm and rents
    need_single: float = 1.0
    need_couple: float = 1.55
    need_minor: float = 0.7
    need_per_child: float = 0.38
    need_per_ovrig: float = 0.5
    household_sigma: float = 0.12  # lognormal: rent and other persistent household costs
    month_sigma: float = 0.08
    obstacle_factors: tuple[float, ...] = (1.0, 0.45, 1.0, 1.0, 0.7, 0.55, 0.8, 1.0)  # per OBSTACLES
    avslag_share: float = 0.09
    delvis_share: float = 0.15
    delvis_granted_range: tuple[float, float] = (0.6, 0.95)  # granted / applied
    avslag_applied_range: tuple[float, float] = (0.8, 1.3)  # applied / need
    split_payment_share: float = 0.12
    split_first_range: tuple[float, float] = (0.5, 0.8)
    split_second_lag_days: tuple[int, int] = (5, 21)
    manual_payment_share: float = 0.01
    pay_lag_days: tuple[int, int] = (0, 4)


@dataclass(frozen=True)
class GenderGap:
    """The planted difference between women and men in comparable single-adult households."""

    male_types: tuple[int, ...] = (3, 4)
    female_types: tuple[int, ...] = (5, 6)
    women_granted_factor: float = 0.965  # women get 3.5 % less in the same stratum
    men_avslag_share: float = 0.09
    women_extra_avslag: float = 0.02  # +2 percentage points for women


@dataclass(frozen=True)
class Handling:
    """Dates around an application."""

    received_offset_days: tuple[int, int] = (-14, 21)  # vs. the first of the benefit month
    handling_min_days: int = 1
    handling_gamma: tuple[float, float] = (2.0, 3.5)  # shape, scale: median ≈ 7 days
    close_delay_days: tuple[int, int] = (14, 61)  # after the last spell month ends


@dataclass(frozen=True)
class Programme:
    """One kind of intervention: who is eligible, how many a year, how long, how it ends."""

    kind: str
    duration_days: tuple[int, int]
    outcomes: tuple[tuple[str, float], ...]
    ages: tuple[float, float] = (ADULT_AGE, 65)
    roles: tuple[str, ...] = ("registerledare", "medsokande")
    eligible_obstacles: tuple[str, ...] = ()  # empty: any
    district_target: str | None = None  # District field with the yearly count
    per_active_household: float = 0.0  # used when district_target is None
    start_months: tuple[int, int] = (1, 12)


PROGRAMMES = (
    Programme(
        "ar_rehab",
        (90, 366),
        (("egen_forsorjning", 0.10), ("annan_forsorjning", 0.18), ("studier", 0.07), ("avbrott", 0.65)),
        eligible_obstacles=("sjukskriven", "sociala_skal"),
        per_active_household=0.10,
    ),
    Programme(
        "stockholmsjobb",
        (180, 366),
        (("egen_forsorjning", 0.35), ("annan_forsorjning", 0.25), ("studier", 0.10), ("avbrott", 0.30)),
        eligible_obstacles=("arbetslos_utan_ersattning", "arbetslos_etablering", "sociala_skal"),
        district_target="stockholmsjobb_aspirants",
    ),
    Programme(
        "praktik",
        (30, 91),
        (("egen_forsorjning", 0.15), ("annan_forsorjning", 0.15), ("studier", 0.10), ("avbrott", 0.60)),
        eligible_obstacles=(
            "arbetslos_utan_ersattning",
            "arbetslos_etablering",
            "sociala_skal",
            "sjukskriven",
        ),
        district_target="praktik",
    ),
    Programme(
        "osa",
        (180, 731),
        (("egen_forsorjning", 0.25), ("annan_forsorjning", 0.20), ("studier", 0.05), ("avbrott", 0.50)),
        eligible_obstacles=("sjukskriven", "sociala_skal"),
        per_active_household=0.01,
    ),
    Programme(
        "feriejobb",
        (21, 29),
        (("studier", 0.9), ("avbrott", 0.1)),
        ages=(16, ADULT_AGE),
        roles=("barn",),
        per_active_household=0.03,
        start_months=(6, 8),
    ),
)


@dataclass(frozen=True)
class StaffPlan:
    """Staff of one unit (plan 2018), repeated ``teams`` times at larger scales."""

    roles: tuple[tuple[str, int], ...] = (
        ("enhetschef", 1),
        ("bitradande_enhetschef", 2),
        ("socialsekreterare", 16),
        ("bidragshandlaggare", 5),
        ("arbetskonsulent", 4),
        ("administrator", 3),
        ("metodutvecklare", 1),
    )
    teams: int = 1
    male_share: float = 4 / 32
    age_bands: tuple[tuple[int, int, float], ...] = ((23, 29, 0.15), (30, 49, 0.55), (50, 64, 0.30))
    full_time_roles: tuple[str, ...] = ("enhetschef", "bitradande_enhetschef")  # managers
    manager_min_age: int = 35
    fte_levels: tuple[tuple[float, float], ...] = ((1.0, 0.8), (0.75, 0.1), (0.5, 0.1))
    handler_roles: tuple[str, ...] = ("socialsekreterare", "bidragshandlaggare")
    full_time_hours_per_month: float = 165.0
    hours_per_sick_day: float = 8.0
    min_hiring_age: int = 22
    max_tenure_years: float = 20.0
    turnover_per_year: float = 0.08
    replacement_gap_days: tuple[int, int] = (1, 46)
    short_sick_month_share: float = 0.05
    short_sick_extra_days_mean: float = 0.5
    long_spell_share_per_year: float = 0.5
    long_spell_mean_months: float = 2.2
    long_spell_levels: tuple[tuple[float, float], ...] = ((1.0, 0.5), (0.75, 0.15), (0.5, 0.25), (0.25, 0.1))
    first_spell_month_day_1_14_share: float = 14 / 30  # days 1–14 of a spell's first month


@dataclass(frozen=True)
class Survey:
    """Staff survey indices (yearly, T/K/M) and tertial indicators (plan 2018 targets)."""

    yearly: tuple[tuple[str, float], ...] = (
        ("aktivt_medskapandeindex", 83.0),
        ("ledarskapsindex", 80.0),
        ("styrningsindex", 84.0),
        ("rekommendera_arbetsplats_andel", 78.0),
    )
    yearly_sd: float = 2.0
    sex_sd: float = 3.0
    tertial: tuple[tuple[str, float], ...] = (("elektroniska_inkop_andel", 65.0),)
    tertial_sd: float = 3.0
    tertials: int = 3


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
UNIT_DISTRICTS = (
    District("KUN", "Kungsholmen", 77_000, 310, 6, 20, 250, 20),
    District("NOR", "Norrmalm", 78_000, 312, 7, 15, 200, 40),
    District("OST", "Östermalm", 86_000, 260, 5, 5, 246, 15),
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


# --------------------------------------------------------------------------- small helpers


def _month_start(m: np.ndarray | int) -> np.ndarray:
    """First day of month index ``m`` (months since 1970-01)."""
    return np.asarray(m, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]")


def _month_index(year: int, month: int = 1) -> int:
    return (year - 1970) * MONTHS_PER_YEAR + month - 1


def _month_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[M]").astype(np.int64)


def _days(n: np.ndarray) -> np.ndarray:
    return np.asarray(n, dtype=np.int64).astype("timedelta64[D]")


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row index repeated ``counts`` times and the 0-based position inside each repetition."""
    counts = np.asarray(counts, dtype=np.int64)
    idx = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return idx, np.arange(counts.sum()) - np.repeat(starts, counts)


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    return (prefix + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(width)).to_numpy(dtype=object)


def _apportion(total: int, shares: np.ndarray) -> np.ndarray:
    """Integer counts summing to ``total`` in proportion to ``shares`` (largest remainder)."""
    exact = total * np.asarray(shares) / np.sum(shares)
    counts = np.floor(exact).astype(int)
    counts[np.argsort(-(exact - counts), kind="stable")[: total - counts.sum()]] += 1
    return counts


def _pick(rng: np.random.Generator, options: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    """``n`` labels in the given proportions (stratified, so small batches keep the shares)."""
    names = np.array([o for o, _ in options], dtype=object)
    counts = _apportion(n, [w for _, w in options])
    return rng.permutation(np.repeat(names, counts))


def _uniform_days(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A random day in [lo, hi] for each pair (hi ≥ lo)."""
    span = (hi - lo).astype(np.int64)
    return lo + _days(np.floor(rng.random(len(span)) * (span + 1)))


SERIALS_PER_SEX = 500
SERIAL_STRIDE = 7  # coprime with SERIALS_PER_SEX, so stepped serials never repeat within a date


def personnummer(
    birth: np.ndarray, male: np.ndarray, samordning: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Unique 12-digit ids YYYYMMDDNNNC: 11th digit odd for men, Luhn check digit last.

    Samordningsnummer add 60 to the day. Serials are unique within (date, sex). The Luhn sum is
    additive over positions, so :func:`luhn_check_digit` is evaluated once per distinct date and
    once per serial and combined vectorised.
    """
    n = len(birth)
    idx = pd.DatetimeIndex(birth)
    ymd = idx.year.to_numpy() * 10_000 + idx.month.to_numpy() * 100 + idx.day.to_numpy() + 60 * samordning
    key = ymd.astype(np.int64) * 2 + male
    order = np.lexsort((rng.random(n), key))
    sorted_key = key[order]
    first = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
    group = np.cumsum(first) - 1
    rank = np.arange(n) - np.flatnonzero(first)[group]
    if n and rank.max() >= SERIALS_PER_SEX:
        raise ValueError("För många personer med samma födelsedatum för unika personnummer.")
    offset = rng.integers(0, SERIALS_PER_SEX, size=int(first.sum()))[group]
    serial = np.empty(n, dtype=np.int64)
    serial[order] = (offset + rank * SERIAL_STRIDE) % SERIALS_PER_SEX
    nnn = 2 * serial + male.astype(np.int64)
    dates, inv = np.unique(ymd % 1_000_000, return_inverse=True)
    date_sum = np.array([(10 - luhn_check_digit(f"{d:06d}000")) % 10 for d in dates], dtype=np.int64)
    serial_sum = np.array([(10 - luhn_check_digit(f"000000{s:03d}")) % 10 for s in range(1000)])
    check = (10 - (date_sum[inv] + serial_sum[nnn]) % 10) % 10
    return pd.Series(ymd * 10_000 + nnn * 10 + check).astype(str).to_numpy(dtype=object)


# --------------------------------------------------------------------------- generators


@dataclass(frozen=True)
class _Window:
    years: tuple[int, ...]

    @property
    def first_month(self) -> int:
        return _month_index(self.years[0])

    @property
    def last_month(self) -> int:
        return _month_index(self.years[-1], MONTHS_PER_YEAR)

    @property
    def start(self) -> np.datetime64:
        return np.datetime64(f"{self.years[0]}-01-01", "D")

    @property
    def end(self) -> np.datetime64:
        return np.datetime64(f"{self.years[-1]}-12-31", "D")


def _districts(spec: Scale) -> pd.DataFrame:
    return pd.DataFrame(
        {"district_code": [d.code for d in spec.districts], "name": [d.name for d in spec.districts]}
    )


def _population(spec: Scale, win: _Window, rng: np.random.Generator) -> pd.DataFrame:
    """Year × district × sex × age; ``year`` is the count on 31 December of that year."""
    prof = spec.age_profile
    ages = np.arange(MAX_AGE + 1)
    density = np.interp(ages, prof.anchor_ages, prof.anchor_weights)
    female = np.interp(ages, prof.female_ages, prof.female_share)
    p = np.concatenate([density * female, density * (1 - female)])
    years = np.arange(win.years[0] - 1, win.years[-1] + 1)
    base = np.array([d.population for d in spec.districts], dtype=float)
    growth = (1 + spec.population_growth_per_year) ** (years - spec.reference_year)
    totals = np.round(growth[:, None] * base[None, :]).astype(np.int64).ravel()
    counts = rng.multinomial(totals, p / p.sum())
    n_cells, n_d = len(p), len(base)
    return pd.DataFrame(
        {
            "year": np.repeat(years, n_d * n_cells),
            "district_code": np.tile(np.repeat([d.code for d in spec.districts], n_cells), len(years)),
            "sex": np.tile(np.repeat(["K", "M"], len(ages)), len(totals)),
            "age": np.tile(np.tile(ages, 2), len(totals)),
            "count": counts.ravel(),
        }
    )


def _staff(spec: Scale, win: _Window, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Staff on the reference day (31 December of the middle year), predecessors and successors."""
    sp = spec.staff
    ref = np.datetime64(f"{win.years[len(win.years) // 2]}-12-31", "D")
    names = np.array([r for r, _ in sp.roles], dtype=object)
    role = np.tile(np.repeat(names, [c for _, c in sp.roles]), sp.teams)
    n = len(role)
    male = np.zeros(n, dtype=bool)
    male[rng.permutation(n)[: round(n * sp.male_share)]] = True
    band_lo = np.array([b[0] for b in sp.age_bands])
    band_hi = np.array([b[1] for b in sp.age_bands])
    band = rng.permutation(
        np.repeat(np.arange(len(sp.age_bands)), _apportion(n, [b[2] for b in sp.age_bands]))
    )
    manager = np.isin(role, sp.full_time_roles)
    young_managers = np.flatnonzero(manager & (band == 0))
    swap = rng.choice(np.flatnonzero(~manager & (band > 0)), size=len(young_managers), replace=False)
    band[young_managers], band[swap] = band[swap], band[young_managers]
    age = rng.integers(band_lo[band], band_hi[band] + 1)
    age = np.where(manager, np.maximum(age, sp.manager_min_age), age)
    before_days = int((ref - win.start).astype(int))
    after_days = int((win.end - ref).astype(int))
    joined = rng.random(n) < 1 - (1 - sp.turnover_per_year) ** (before_days / DAYS_PER_YEAR)
    max_pre = np.minimum(sp.max_tenure_years, age - sp.min_hiring_age) * DAYS_PER_YEAR - before_days
    joined |= max_pre < MONTHS_PER_YEAR
    pre = np.floor(rng.random(n) * np.maximum(max_pre, 1)).astype(np.int64) + 1
    in_window = rng.integers(0, before_days + 1, n)
    employed_from = np.where(joined, win.start + _days(in_window), win.start - _days(pre))
    leaves = (rng.random(n) < 1 - (1 - sp.turnover_per_year) ** (after_days / DAYS_PER_YEAR)) & (
        after_days > 0
    )
    employed_to = np.where(
        leaves, ref + _days(rng.integers(1, max(after_days, 1) + 1, n)), np.datetime64("NaT")
    )

    def others(src: np.ndarray) -> dict[str, np.ndarray]:
        k = len(src)
        other_band = rng.choice(len(sp.age_bands), size=k, p=[b[2] for b in sp.age_bands])
        drawn = rng.integers(band_lo[other_band], band_hi[other_band] + 1)
        return {
            "role": role[src],
            "male": rng.random(k) < sp.male_share,
            "age": np.where(manager[src], np.maximum(drawn, sp.manager_min_age), drawn),
        }

    gap = sp.replacement_gap_days
    pred_src = np.flatnonzero(joined & (employed_from > win.start))
    pred = others(pred_src)
    pred_to = employed_from[pred_src] - _days(rng.integers(*gap, len(pred_src)))
    age_at_leaving = pred["age"] - (ref - pred_to).astype(np.int64) / DAYS_PER_YEAR
    pred_tenure = np.clip(np.minimum(sp.max_tenure_years, age_at_leaving - sp.min_hiring_age), 0.1, None)
    pred_from = pred_to - _days(np.ceil(rng.random(len(pred_src)) * pred_tenure * DAYS_PER_YEAR))
    keep = pred_to >= win.start
    succ_src = np.flatnonzero(leaves)
    succ = others(succ_src)
    succ_from = employed_to[succ_src] + _days(rng.integers(*gap, len(succ_src)))
    keep_s = succ_from <= win.end
    frame = pd.DataFrame(
        {
            "sex": np.where(np.concatenate([male, pred["male"][keep], succ["male"][keep_s]]), "M", "K"),
            "role": np.concatenate([role, pred["role"][keep], succ["role"][keep_s]]),
            "birth_year": ref.astype("datetime64[Y]").astype(int)
            + 1970
            - np.concatenate([age, pred["age"][keep], succ["age"][keep_s]]),
            "employed_from": np.concatenate([employed_from, pred_from[keep], succ_from[keep_s]]),
            "employed_to": np.concatenate(
                [
                    employed_to,
                    pred_to[keep],
                    np.full(int(keep_s.sum()), np.datetime64("NaT"), "datetime64[D]"),
                ]
            ),
            "_tiebreak": rng.random(n + int(keep.sum()) + int(keep_s.sum())),
        }
    )
    frame = frame.sort_values(["employed_from", "_tiebreak"], kind="stable").drop(columns="_tiebreak")
    frame.insert(0, "staff_id", _ids("A", len(frame), max(4, len(str(len(frame))))))
    frame = frame.reset_index(drop=True)
    return frame, _staff_months(spec, win, frame, rng)


def _staff_months(spec: Scale, win: _Window, staff: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One row per staff member and month employed, with scheduled and sick hours (centi-hours)."""
    sp = spec.staff
    start = staff["employed_from"].to_numpy().astype("datetime64[D]")
    end = staff["employed_to"].to_numpy().astype("datetime64[D]")
    end = np.where(np.isnat(end) | (end > win.end), win.end, end)
    start = np.maximum(start, win.start)
    first_m, last_m = _month_of(start), _month_of(end)
    who, pos = _expand(np.maximum(last_m - first_m + 1, 0))
    month = first_m[who] + pos
    m_start, m_next = _month_start(month), _month_start(month + 1)
    lo = np.maximum(m_start, start[who])
    hi = np.minimum(m_next, end[who] + _days(1))
    fraction = (hi - lo).astype(np.int64) / (m_next - m_start).astype(np.int64)
    levels = np.array([f for f, _ in sp.fte_levels])
    fte_person = levels[rng.choice(len(levels), size=len(staff), p=[w for _, w in sp.fte_levels])]
    fte_person = np.where(staff["role"].isin(sp.full_time_roles), 1.0, fte_person)
    fte = fte_person[who]
    sched = np.round(sp.full_time_hours_per_month * fte * fraction * 100).astype(np.int64)

    short_days = (rng.random(len(who)) < sp.short_sick_month_share) * (
        1 + rng.poisson(sp.short_sick_extra_days_mean, len(who))
    )
    short = np.minimum(np.round(short_days * sp.hours_per_sick_day * fte * 100).astype(np.int64), sched)

    # Long spells, drawn per year from the year before the window (so spells already run in
    # January). Stratified, not independent: the number of spells is the expected one and
    # lengths and levels are spread over their distributions, so even 32 staff give a stable
    # yearly sick-leave share.
    emp_first = _month_of(staff["employed_from"].to_numpy().astype("datetime64[D]"))
    end_raw = staff["employed_to"].to_numpy().astype("datetime64[D]")
    emp_last = np.where(np.isnat(end_raw), win.last_month, _month_of(end_raw))
    lv = np.array([v for v, _ in sp.long_spell_levels])
    spells = []
    for y_first in win.first_month + MONTHS_PER_YEAR * np.arange(-1, len(win.years)):
        cand = np.flatnonzero((emp_first <= y_first + MONTHS_PER_YEAR - 1) & (emp_last >= y_first))
        k_sp = round(sp.long_spell_share_per_year * len(cand))
        quantile = (rng.permutation(k_sp) + 0.5) / max(k_sp, 1)
        length = np.ceil(np.log1p(-quantile) / np.log1p(-1 / sp.long_spell_mean_months)).astype(np.int64)
        level_counts = _apportion(k_sp, [w for _, w in sp.long_spell_levels])
        level = lv[rng.permutation(np.repeat(np.arange(len(lv)), level_counts))]
        spells.append(
            (
                rng.choice(cand, size=k_sp, replace=False),
                y_first + rng.integers(0, MONTHS_PER_YEAR, k_sp),
                np.maximum(length, 1),
                level,
            )
        )
    s_who, s_start, s_len, s_level = (np.concatenate(part) for part in zip(*spells, strict=True))
    sp_idx, k = _expand(s_len)
    key_rows = who.astype(np.int64) * 100_000 + month
    key_spell = s_who[sp_idx].astype(np.int64) * 100_000 + s_start[sp_idx] + k
    row = np.searchsorted(key_rows, key_spell)
    hit = (row < len(key_rows)) & (key_rows[np.minimum(row, len(key_rows) - 1)] == key_spell)
    level = np.zeros(len(who))
    first_level = np.zeros(len(who))
    late_level = np.zeros(len(who))
    np.add.at(level, row[hit], s_level[sp_idx][hit])
    np.add.at(first_level, row[hit], np.where(k[hit] == 0, s_level[sp_idx][hit], 0.0))
    np.add.at(late_level, row[hit], np.where(k[hit] >= 2, s_level[sp_idx][hit], 0.0))
    long = np.floor(np.minimum(level, 1.0) * sched).astype(np.int64)
    sick = np.minimum(sched, short + long)
    d60 = np.minimum(np.floor(np.minimum(late_level, 1.0) * sched).astype(np.int64), sick)
    d114_long = np.floor(np.minimum(first_level, 1.0) * sched * sp.first_spell_month_day_1_14_share)
    d114 = np.minimum(short + d114_long.astype(np.int64), sick - d60)
    return pd.DataFrame(
        {
            "staff_id": staff["staff_id"].to_numpy()[who],
            "month": m_start,
            "fte": fte,
            "scheduled_hours": sched / 100,
            "sick_hours": sick / 100,
            "sick_hours_day_1_14": d114 / 100,
            "sick_hours_day_60_plus": d60 / 100,
        }
    )


@dataclass
class _Caseload:
    household: pd.DataFrame
    person: pd.DataFrame
    application: pd.DataFrame
    payment: pd.DataFrame
    support_obstacle: pd.DataFrame
    persons_extra: pd.DataFrame  # generation-only person attributes for interventions


def _caseload(
    spec: Scale, win: _Window, staff: pd.DataFrame, staff_month: pd.DataFrame, rng: np.random.Generator
) -> _Caseload:
    cl, money, gap, hd = spec.caseload, spec.money, spec.gender_gap, spec.handling
    n_d = len(spec.districts)

    # Households: monthly arrivals per district (oversupplied), each with a spell of months.
    ref_first, ref_last = (
        _month_index(spec.reference_year),
        _month_index(spec.reference_year, MONTHS_PER_YEAR),
    )
    months = np.arange(min(win.first_month, ref_first) - cl.burn_in_months, max(win.last_month, ref_last) + 1)
    recipients = np.array([d.recipients for d in spec.districts])
    target = recipients / cl.mean_household_size() * cl.oversupply
    lam = target / (cl.mean_duration_months() + MONTHS_PER_YEAR - 1)
    ref_month = ref_first + (MONTHS_PER_YEAR - 1) / 2
    rate = lam[:, None] * (1 + cl.yearly_trend) ** ((months[None, :] - ref_month) / MONTHS_PER_YEAR)
    arrivals = (np.floor(rate) + (rng.random(rate.shape) < rate - np.floor(rate))).astype(np.int64)
    h_district = np.repeat(np.repeat(np.arange(n_d), len(months)), arrivals.ravel())
    h_start = np.repeat(np.tile(months, n_d), arrivals.ravel())
    n = len(h_start)
    types, shares = cl.type_shares()
    h_type = types[rng.choice(len(types), size=n, p=shares)]
    is_long = rng.random(n) < cl.long_term_share
    long_extra = 1 / (cl.long_term_mean_months - cl.long_term_min_months + 1)
    duration = np.where(
        is_long,
        cl.long_term_min_months - 1 + rng.geometric(long_extra, n),
        rng.geometric(1 / cl.short_term_mean_months, n),
    )
    duration = np.where(h_type == MINOR_TYPE, np.minimum(duration, cl.minor_max_months), duration)
    h_end = h_start + duration - 1
    kids = np.isin(h_type, TYPES_WITH_CHILDREN)
    n_children = np.where(
        kids, 1 + np.minimum(rng.poisson(cl.extra_children_mean, n), cl.max_children - 1), 0
    )
    has_partner = np.isin(h_type, COUPLE_TYPES)
    has_ovrig = ~kids & (h_type != MINOR_TYPE) & (rng.random(n) < cl.ovrig_share)
    open_offset = rng.integers(*hd.received_offset_days, n)
    hh_sigma = rng.normal(0.0, money.household_sigma, n)

    # Calibration: in random order, keep reference-year households per district until their
    # persons reach the published recipients; thin all other households at the same rate.
    size = 1 + has_partner + n_children + has_ovrig
    u = rng.random(n)
    in_ref = np.flatnonzero((h_start <= ref_last) & (h_end >= ref_first))
    in_ref = in_ref[np.lexsort((u[in_ref], h_district[in_ref]))]
    cum = np.cumsum(size[in_ref])
    district_first = np.searchsorted(h_district[in_ref], np.arange(n_d))
    before = np.r_[0, cum][district_first][h_district[in_ref]]
    taken = cum - size[in_ref] - before < recipients[h_district[in_ref]]
    keep = np.zeros(n, dtype=bool)
    keep[in_ref[taken]] = True
    rate_kept = np.bincount(h_district[in_ref[taken]], minlength=n_d) / np.maximum(
        np.bincount(h_district[in_ref], minlength=n_d), 1
    )
    others = np.ones(n, dtype=bool)
    others[in_ref] = False
    keep |= others & (u < rate_kept[h_district])
    keep &= (h_end >= win.first_month) & (h_start <= win.last_month)
    order = np.lexsort((h_start[keep], h_district[keep]))
    h_district, h_start, h_end, h_type, open_offset, hh_sigma, n_children, has_partner, has_ovrig = (
        a[keep][order]
        for a in (
            h_district,
            h_start,
            h_end,
            h_type,
            open_offset,
            hh_sigma,
            n_children,
            has_partner,
            has_ovrig,
        )
    )
    kids = n_children > 0
    n = len(h_start)
    first_m = np.maximum(h_start, win.first_month)
    last_m = np.minimum(h_end, win.last_month)

    # Persons: registerledare, medsökande, barn, övrig.
    rl_male = np.select(
        [np.isin(h_type, gap.male_types), np.isin(h_type, gap.female_types), has_partner],
        [True, False, rng.random(n) < cl.couple_registerledare_male_share],
        rng.random(n) < 0.5,
    )
    spell_start = _month_start(h_start)
    first_day = _month_start(first_m)
    span_years = (_month_start(last_m + 1) - first_day).astype(np.int64) / DAYS_PER_YEAR

    def clipped_normal(params: tuple[float, float, float, float], size: int) -> np.ndarray:
        mean, sd, lo, hi = params
        return np.clip(rng.normal(mean, sd, size), lo, hi)

    rl_age = np.where(kids, clipped_normal(cl.parent_age, n), clipped_normal(cl.adult_age, n))
    rl_age = np.where(h_type == MINOR_TYPE, rng.uniform(*cl.minor_applicant_age, n), rl_age)
    partner_age = np.maximum(rl_age + rng.normal(0.0, cl.partner_age_sd, n), ADULT_AGE)
    same_sex = rng.random(n) < cl.same_sex_couple_share

    p_hh = np.concatenate(
        [
            np.arange(n),
            np.flatnonzero(has_partner),
            np.repeat(np.arange(n), n_children),
            np.flatnonzero(has_ovrig),
        ]
    )
    counts = [n, int(has_partner.sum()), int(n_children.sum()), int(has_ovrig.sum())]
    role_names = np.array(["registerledare", "medsokande", "barn", "ovrig"], dtype=object)
    p_role_code = np.repeat(np.arange(4), counts)
    m_total = len(p_hh)
    p_male = np.concatenate(
        [
            rl_male,
            np.where(same_sex, rl_male, ~rl_male)[has_partner],
            rng.random(counts[2]) < 0.5,
            rng.random(counts[3]) < 0.5,
        ]
    )
    # Ages: adults at the spell start; children at the first window month, under 18 to the end.
    child_max = np.clip(ADULT_AGE - span_years, 0.1, ADULT_AGE)[p_hh[p_role_code == 2]]
    child_age = rng.random(counts[2]) * child_max * 0.999
    age = np.concatenate([rl_age, partner_age[has_partner], child_age, rng.uniform(*cl.ovrig_age, counts[3])])
    ref_day = np.where(p_role_code == 2, first_day[p_hh], spell_start[p_hh])
    birth = ref_day - _days(np.floor(age * DAYS_PER_YEAR))
    adult = p_role_code != 2
    born_abroad = rng.random(m_total) < np.where(
        adult, cl.born_abroad_adult_share, cl.born_abroad_child_share
    )
    samordning = born_abroad & (rng.random(m_total) < cl.samordningsnummer_share_of_born_abroad)
    pid = personnummer(birth, p_male, samordning, rng)
    h_ids = _ids("H", n, 7)
    district_codes = np.array([d.code for d in spec.districts], dtype=object)

    # Main försörjningshinder per adult (persistent), by whether the household has children.
    w_no = np.array(cl.obstacle_weights) / sum(cl.obstacle_weights)
    w_ch = np.array(cl.obstacle_weights_with_children) / sum(cl.obstacle_weights_with_children)
    p_kids = kids[p_hh]
    main_obst = np.where(
        p_kids,
        rng.choice(len(OBSTACLES), size=m_total, p=w_ch),
        rng.choice(len(OBSTACLES), size=m_total, p=w_no),
    )
    rl_person = np.arange(n)  # registerledare rows come first, in household order
    partner_person = np.full(n, -1)
    partner_person[has_partner] = n + np.arange(counts[1])

    # Applications: one per household and month in the spell (inside the window), a few gaps.
    a_hh, a_pos = _expand(last_m - first_m + 1)
    a_month = first_m[a_hh] + a_pos
    keep = (a_pos == 0) | (rng.random(len(a_hh)) >= cl.month_gap_share)
    a_hh, a_month = a_hh[keep], a_month[keep]
    n_a = len(a_hh)
    bm = _month_start(a_month)
    offset = np.where(
        a_month == h_start[a_hh], open_offset[a_hh], rng.integers(*hd.received_offset_days, n_a)
    )
    received = bm + _days(offset)
    handling = hd.handling_min_days + np.round(rng.gamma(*hd.handling_gamma, n_a)).astype(np.int64)
    decided = received + _days(handling)
    pending = decided > win.end

    # Försörjningshinder per adult and application month.
    def month_codes(person: np.ndarray) -> np.ndarray:
        change = rng.random(len(person)) < cl.obstacle_change_share
        w = np.where(p_kids[person][:, None], w_ch[None, :], w_no[None, :])
        other = (rng.random(len(person))[:, None] > np.cumsum(w, axis=1)).sum(axis=1)
        return np.where(change, np.minimum(other, len(OBSTACLES) - 1), main_obst[person])

    rl_code = month_codes(rl_person[a_hh])
    has_p = partner_person[a_hh] >= 0
    partner_code = month_codes(partner_person[a_hh][has_p])

    # Need, decisions, amounts (öre).
    a_type = h_type[a_hh]
    base = np.select(
        [has_partner[a_hh], a_type == MINOR_TYPE], [money.need_couple, money.need_minor], money.need_single
    )
    base = base + money.need_per_child * n_children[a_hh] + money.need_per_ovrig * has_ovrig[a_hh]
    women = np.isin(a_type, gap.female_types)
    single = women | np.isin(a_type, gap.male_types)
    year = 1970 + a_month // MONTHS_PER_YEAR
    growth = (1 + money.yearly_increase) ** (year - spec.reference_year)
    need = (
        base
        * np.exp(hh_sigma[a_hh] + rng.normal(0.0, money.month_sigma, n_a))
        * np.array(money.obstacle_factors)[rl_code]
        * np.where(women, gap.women_granted_factor, 1.0)
    )
    p_avslag = np.where(single, gap.men_avslag_share + women * gap.women_extra_avslag, money.avslag_share)
    u = rng.random(n_a)
    avslag = u < p_avslag
    delvis = ~avslag & (u < p_avslag + money.delvis_share)
    granted_mask = ~avslag & ~pending
    calibrate = granted_mask & (year == spec.reference_year)
    calibrate = calibrate if calibrate.any() else granted_mask  # reference year outside the window
    scale_factor = money.mean_paid_per_household_month / need[calibrate].mean()  # growth comes after
    need_ore = np.round(need * scale_factor * growth * 100).astype(np.int64)
    applied = np.where(
        delvis,
        np.round(need_ore / rng.uniform(*money.delvis_granted_range, n_a)),
        np.where(avslag, np.round(need_ore * rng.uniform(*money.avslag_applied_range, n_a)), need_ore),
    ).astype(np.int64)
    granted = np.where(avslag, 0, need_ore)
    decision = np.where(avslag, "avslag", np.where(delvis, "delvis_bifall", "bifall")).astype(object)

    # Handlers: a socialsekreterare/bidragshandläggare employed in the benefit month.
    handlers = staff.loc[staff["role"].isin(spec.staff.handler_roles), "staff_id"]
    sm = staff_month[staff_month["staff_id"].isin(handlers)]
    sm_month = _month_of(sm["month"].to_numpy().astype("datetime64[D]"))
    sm_order = np.argsort(sm_month, kind="stable")
    sm_ids, sm_month = sm["staff_id"].to_numpy()[sm_order], sm_month[sm_order]
    per_month = np.bincount(sm_month - win.first_month, minlength=win.last_month - win.first_month + 1)
    month_offset = np.cumsum(per_month) - per_month
    rel = a_month - win.first_month
    handler = sm_ids[month_offset[rel] + np.floor(rng.random(n_a) * per_month[rel]).astype(np.int64)]

    app_ids = _ids("AP", n_a, 9)
    application = pd.DataFrame(
        {
            "application_id": app_ids,
            "household_id": h_ids[a_hh],
            "applicant_id": pid[rl_person[a_hh]],
            "received_on": received,
            "decided_on": np.where(pending, np.datetime64("NaT"), decided),
            "benefit_month": bm,
            "applied_sek": applied / 100,
            "granted_sek": np.where(pending, np.nan, granted / 100),
            "decision": np.where(pending, None, decision),
            "handler_id": handler,
        }
    )

    # Payments: one or two per granted application; later than the data end is not extracted.
    g = np.flatnonzero(granted_mask)
    split = rng.random(len(g)) < money.split_payment_share
    first_share = np.where(split, rng.uniform(*money.split_first_range, len(g)), 1.0)
    first_amt = np.round(granted[g] * first_share).astype(np.int64)
    paid1 = decided[g] + _days(rng.integers(*money.pay_lag_days, len(g)))
    paid2 = paid1 + _days(rng.integers(*money.split_second_lag_days, len(g)))
    pay_src = np.concatenate([g, g[split]])
    pay_amt = np.concatenate([first_amt, (granted[g] - first_amt)[split]])
    pay_day = np.concatenate([paid1, paid2[split]])
    pay_order = np.lexsort((pay_day, pay_src))
    pay_src, pay_amt, pay_day = pay_src[pay_order], pay_amt[pay_order], pay_day[pay_order]
    visible = pay_day <= win.end
    pay_src, pay_amt, pay_day = pay_src[visible], pay_amt[visible], pay_day[visible]
    manual = rng.random(len(pay_src)) < money.manual_payment_share
    payment = pd.DataFrame(
        {
            "payment_id": _ids("P", len(pay_src), 9),
            "household_id": h_ids[a_hh[pay_src]],
            "application_id": np.where(manual, None, app_ids[pay_src]),
            "benefit_month": bm[pay_src],
            "paid_on": pay_day,
            "amount_sek": pay_amt / 100,
        }
    )

    obstacle_names = np.array(OBSTACLES, dtype=object)
    support_obstacle = pd.DataFrame(
        {
            "person_id": np.concatenate([pid[rl_person[a_hh]], pid[partner_person[a_hh][has_p]]]),
            "benefit_month": np.concatenate([bm, bm[has_p]]),
            "code": obstacle_names[np.concatenate([rl_code, partner_code])],
        }
    ).sort_values(["person_id", "benefit_month"], kind="stable")

    # Households: opened with the first application, closed a while after the spell ended.
    last_decided = np.full(n, win.start - _days(1))
    np.maximum.at(last_decided, a_hh, np.where(pending, win.start, decided))
    closed = np.maximum(
        _month_start(h_end + 1) + _days(rng.integers(*hd.close_delay_days, n)), last_decided + _days(1)
    )
    opened = spell_start + _days(open_offset)
    np.minimum.at(opened, a_hh, received)  # a late first application may follow an early second
    closed = np.where((h_end < win.last_month) & (closed <= win.end), closed, np.datetime64("NaT"))
    household = pd.DataFrame(
        {
            "household_id": h_ids,
            "district_code": district_codes[h_district],
            "household_type": h_type,
            "opened_on": opened,
            "closed_on": closed,
        }
    )
    person = pd.DataFrame(
        {
            "person_id": pid,
            "household_id": h_ids[p_hh],
            "role": role_names[p_role_code],
            "sex": np.where(p_male, "M", "K"),
            "birth_date": birth,
            "born_abroad": born_abroad,
        }
    )
    extra = pd.DataFrame(
        {
            "person_id": pid,
            "district": h_district[p_hh],
            "role": role_names[p_role_code],
            "birth_date": birth,
            "first_day": first_day[p_hh],
            "last_day": _month_start(last_m + 1)[p_hh] - _days(1),
            "main_obstacle": obstacle_names[main_obst],
        }
    )
    person_order = np.lexsort((p_role_code, p_hh))
    return _Caseload(
        household=household,
        person=person.iloc[person_order].reset_index(drop=True),
        application=application,
        payment=payment,
        support_obstacle=support_obstacle.reset_index(drop=True),
        persons_extra=extra,
    )


def _interventions(spec: Scale, win: _Window, people: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Programme starts per year and district, drawn among eligible persons of active households."""
    frames = []
    n_d = len(spec.districts)
    birth = people["birth_date"].to_numpy().astype("datetime64[D]")
    first = people["first_day"].to_numpy().astype("datetime64[D]")
    last = people["last_day"].to_numpy().astype("datetime64[D]")
    district = people["district"].to_numpy()
    role = people["role"].to_numpy()
    obstacle = people["main_obstacle"].to_numpy()
    is_rl = role == "registerledare"
    for year in win.years:
        y0, y1 = np.datetime64(f"{year}-01-01", "D"), np.datetime64(f"{year}-12-31", "D")
        active_rl = is_rl & (first <= y1) & (last >= y0)
        active_households = np.bincount(district[active_rl], minlength=n_d)
        for prog in spec.programmes:
            s_lo = _month_start(_month_index(year, prog.start_months[0]))
            s_hi = _month_start(_month_index(year, prog.start_months[1]) + 1) - _days(1)
            lo, hi = np.maximum(first, s_lo), np.minimum(last, s_hi)
            age_mid = (y0 + _days(182) - birth).astype(np.int64) / DAYS_PER_YEAR
            ok = np.isin(role, prog.roles) & (lo <= hi) & (age_mid >= prog.ages[0]) & (age_mid < prog.ages[1])
            if prog.eligible_obstacles:
                ok &= np.isin(obstacle, prog.eligible_obstacles)
            if prog.district_target:
                wanted = np.array([getattr(d, prog.district_target) for d in spec.districts], dtype=float)
            else:
                wanted = active_households * prog.per_active_household
            wanted = np.round(wanted * (1 + rng.normal(0.0, spec.programme_count_noise, n_d))).astype(int)
            cand = np.flatnonzero(ok)
            cand = cand[np.lexsort((rng.random(len(cand)), district[cand]))]
            d_sorted = district[cand]
            starts = np.searchsorted(d_sorted, np.arange(n_d))
            rank = np.arange(len(cand)) - starts[d_sorted]
            chosen = cand[rank < np.maximum(wanted, 0)[d_sorted]]
            k = len(chosen)
            started = _uniform_days(rng, lo[chosen], hi[chosen])
            ended = started + _days(rng.integers(*prog.duration_days, k))
            ongoing = ended > win.end
            frames.append(
                pd.DataFrame(
                    {
                        "person_id": people["person_id"].to_numpy()[chosen],
                        "kind": prog.kind,
                        "started_on": started,
                        "ended_on": np.where(ongoing, np.datetime64("NaT"), ended),
                        "outcome": np.where(ongoing, None, _pick(rng, prog.outcomes, k)),
                    }
                )
            )
    out = pd.concat(frames, ignore_index=True).sort_values(["started_on", "person_id", "kind"], kind="stable")
    out.insert(0, "intervention_id", _ids("I", len(out), 7))
    return out.reset_index(drop=True)


def _job_places(spec: Scale, win: _Window, rng: np.random.Generator) -> pd.DataFrame:
    """Feriejobb (offered mostly in spring) and Stockholmsjobb places per year and district."""
    frames = []
    codes = np.array([d.code for d in spec.districts], dtype=object)
    n_d = len(codes)
    for year in win.years:
        y_start = _month_start(_month_index(year))
        for kind, attr in (("feriejobb", "feriejobb_places"), ("stockholmsjobb", "stockholmsjobb_places")):
            target = np.array([getattr(d, attr) for d in spec.districts], dtype=float)
            count = np.round(target * (1 + rng.normal(0.0, spec.job_place_noise, n_d))).astype(int)
            who = np.repeat(np.arange(n_d), np.maximum(count, 0))
            k = len(who)
            if kind == "feriejobb":
                lo_m, hi_m = spec.feriejobb_offer_months
                lo = np.full(k, _month_start(_month_index(year, lo_m)))
                hi = np.full(k, _month_start(_month_index(year, hi_m) + 1) - _days(1))
                late = rng.random(k) < spec.feriejobb_late_share
                lo = np.where(late, hi + _days(1), lo)
                hi = np.where(late, _month_start(_month_index(year, hi_m) + 2) - _days(1), hi)
            else:
                lo = np.full(k, y_start)
                hi = np.full(k, _month_start(_month_index(year + 1)) - _days(1))
            frames.append(
                pd.DataFrame(
                    {"kind": kind, "district_code": codes[who], "offered_on": _uniform_days(rng, lo, hi)}
                )
            )
    out = pd.concat(frames, ignore_index=True).sort_values(
        ["offered_on", "district_code", "kind"], kind="stable"
    )
    out.insert(0, "place_id", _ids("J", len(out), 7))
    return out.reset_index(drop=True)


def _indicator_inputs(
    spec: Scale, win: _Window, staff: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Staff survey indices per year (T, K, M consistent by headcount) and tertial indicators."""
    sv = spec.survey
    women_share = float((staff["sex"] == "K").mean())
    rows = []
    for year in win.years:
        for indicator, target in sv.yearly:
            total = target + rng.normal(0.0, sv.yearly_sd)
            men = total + rng.normal(0.0, sv.sex_sd)
            women = (total - (1 - women_share) * men) / women_share
            rows += [(indicator, year, None, sex, v) for sex, v in (("T", total), ("K", women), ("M", men))]
        for indicator, target in sv.tertial:
            values = target + rng.normal(0.0, sv.tertial_sd, sv.tertials)
            rows += [(indicator, year, t + 1, "T", v) for t, v in enumerate(values)]
    out = pd.DataFrame(rows, columns=["indicator_id", "year", "tertial", "sex", "value"])
    out["district_code"] = None
    out["tertial"] = out["tertial"].astype("Int64")
    out["value"] = out["value"].clip(0, 100).round(1)
    return out[["indicator_id", "year", "tertial", "district_code", "sex", "value"]]


def build(
    scale: str = "unit", *, seed: int = 2018, years: tuple[int, ...] = (2017, 2018, 2019)
) -> dict[str, pd.DataFrame]:
    """All source tables as DataFrames (column order as in :mod:`etl.source`), without writing."""
    if scale not in SCALES:
        raise ValueError(f"Okänd skala {scale!r}: välj en av {', '.join(SCALES)}.")
    years = tuple(sorted({int(y) for y in years}))
    if not years or years != tuple(range(years[0], years[-1] + 1)):
        raise ValueError(f"År måste vara en obruten följd, t.ex. (2017, 2018, 2019); fick {years!r}.")
    spec = SCALES[scale]
    win = _Window(years)
    # One independent stream per part, so tuning e.g. the staff model leaves the caseload as it was.
    population_rng, staff_rng, case_rng, programme_rng, place_rng, survey_rng = np.random.default_rng(
        seed
    ).spawn(6)
    tables: dict[str, pd.DataFrame] = {
        "district": _districts(spec),
        "population": _population(spec, win, population_rng),
    }
    tables["staff"], tables["staff_month"] = _staff(spec, win, staff_rng)
    cases = _caseload(spec, win, tables["staff"], tables["staff_month"], case_rng)
    tables.update(
        household=cases.household,
        person=cases.person,
        application=cases.application,
        payment=cases.payment,
        support_obstacle=cases.support_obstacle,
        intervention=_interventions(spec, win, cases.persons_extra, programme_rng),
        job_place=_job_places(spec, win, place_rng),
        indicator_input=_indicator_inputs(spec, win, tables["staff"], survey_rng),
    )
    return {name: tables[name][[c.name for c in table.columns]] for name, table in source.TABLES.items()}


# --------------------------------------------------------------------------- writing


def _nonempty_tables(conn: sa.Connection) -> list[str]:
    inspector = sa.inspect(conn)
    return [
        name
        for name, table in source.TABLES.items()
        if inspector.has_table(name)
        and conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first()
    ]


def _python_column(series: pd.Series, column: sa.Column) -> np.ndarray:
    """Values the DBAPI accepts for ``column``: dates, floats, ints, bools, str; None for missing."""
    if isinstance(column.type, sa.Date):
        return series.to_numpy(dtype="datetime64[D]").astype(object)
    missing = series.isna().to_numpy()
    if isinstance(column.type, sa.Numeric):
        values = series.to_numpy(dtype=float).round(4).astype(object)
    elif isinstance(column.type, sa.Integer):
        values = series.fillna(0).to_numpy(dtype=np.int64).astype(object)
    elif isinstance(column.type, sa.Boolean):
        values = series.fillna(False).to_numpy(dtype=bool).astype(object)
    else:
        values = series.to_numpy(dtype=object).copy()
    values[missing] = None
    return values


def _write_executemany(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame, chunk: int) -> None:
    cols = [c.name for c in table.columns]
    arrays = [_python_column(frame[c], table.c[c]) for c in cols]
    for lo in range(0, len(frame), chunk):
        rows = zip(*(a[lo : lo + chunk] for a in arrays), strict=True)
        records = [dict(zip(cols, row, strict=True)) for row in rows]
        conn.execute(table.insert(), records)


def _arrow_table(frame: pd.DataFrame, table: sa.Table) -> pa.Table:
    """The frame as Arrow, dates as date32, so Arrow's C++ CSV writer can format it quickly."""
    columns = {}
    for column in table.columns:
        values = frame[column.name]
        if isinstance(column.type, sa.Date):
            columns[column.name] = pa.array(
                values.to_numpy(dtype="datetime64[D]"), pa.date32(), from_pandas=True
            )
        else:
            columns[column.name] = pa.array(values, from_pandas=True)
    return pa.table(columns)


def _write_copy(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame, chunk: int) -> None:
    """PostgreSQL COPY FROM STDIN in CSV (an empty unquoted field is NULL), chunk by chunk."""
    quote = conn.dialect.identifier_preparer.quote
    cols = ", ".join(quote(c.name) for c in table.columns)
    arrow = _arrow_table(frame, table)
    options = pa_csv.WriteOptions(include_header=False)
    dbapi = conn.connection.driver_connection
    with (
        dbapi.cursor() as cur,
        cur.copy(f"COPY {quote(table.name)} ({cols}) FROM STDIN (FORMAT csv)") as copy,
    ):
        for lo in range(0, len(frame), chunk):
            buf = io.BytesIO()
            pa_csv.write_csv(arrow.slice(lo, chunk), buf, options)
            copy.write(buf.getvalue())


def generate(
    url: str, *, scale: str = "unit", seed: int = 2018, years: tuple[int, ...] = (2017, 2018, 2019)
) -> dict[str, int]:
    """Create the source tables at ``url`` and fill them with seeded demo data; rows per table.

    Refuses (ValueError) when any source table already holds rows, so data is never duplicated.
    Everything is written in one transaction.
    """
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            filled = _nonempty_tables(conn)
        if filled:
            raise ValueError(
                "Databasen innehåller redan data i " + ", ".join(filled) + ": demodata skrivs bara "
                "till tomma källtabeller (töm dem eller välj en ny databas)."
            )
        tables = build(scale, seed=seed, years=years)
        chunk = SCALES[scale].write_chunk_rows
        with engine.begin() as conn:
            source.metadata.create_all(conn)
            if _nonempty_tables(conn):
                raise ValueError("Källtabellerna fick data under genereringen; inget skrevs.")
            writer = _write_copy if conn.dialect.name == "postgresql" else _write_executemany
            for name, frame in tables.items():
                writer(conn, source.TABLES[name], frame, chunk)
    finally:
        engine.dispose()
    return {name: len(frame) for name, frame in tables.items()}


__all__ = ["SCALES", "District", "GenderGap", "Scale", "build", "generate", "personnummer"]
