"""The generator's model parameters: who the households are, money, dates, programmes, staff, survey.

Frozen dataclasses whose defaults are the unit scale's calibration (see :mod:`demo`); a scale
(:mod:`demo.calibration`) overrides a few. The generator has no other numbers of substance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
"""Försörjningshinder codes (Socialstyrelsen's main groups), see :mod:`demo`."""

TYPES_WITH_CHILDREN = (4, 6, 8)
COUPLE_TYPES = (7, 8)
MINOR_TYPE = 1


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

