"""Households (arrivals, type, spell, members) calibrated to the published recipients, and their persons.

Households are simulated with oversupply and thinned at random until the reference year's
persons reach each district's target (see :mod:`demo`). Draws happen in a fixed order on the one
caseload stream, so the functions here must be called in the order :func:`demo.cases.caseload` uses.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from demo.arrays import Window, as_days, month_index, month_start, personnummer
from demo.calibration import Scale
from demo.parameters import (
    ADULT_AGE,
    COUPLE_TYPES,
    DAYS_PER_YEAR,
    MINOR_TYPE,
    MONTHS_PER_YEAR,
    OBSTACLES,
    TYPES_WITH_CHILDREN,
)


@dataclass
class Households:
    """One entry per household in each array (spell months are month indexes)."""

    district: np.ndarray
    start: np.ndarray
    end: np.ndarray
    type: np.ndarray
    open_offset: np.ndarray  # received_on of the first application vs. the spell's first day
    sigma: np.ndarray  # persistent lognormal need factor (rent and the like)
    n_children: np.ndarray
    has_partner: np.ndarray
    has_ovrig: np.ndarray

    def __len__(self) -> int:
        return len(self.start)

    def first_month(self, win: Window) -> np.ndarray:
        """Each household's first month inside the window."""
        return np.maximum(self.start, win.first_month)

    def last_month(self, win: Window) -> np.ndarray:
        """Each household's last month inside the window."""
        return np.minimum(self.end, win.last_month)

    def select(self, index: np.ndarray) -> Households:
        return Households(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


@dataclass
class Persons:
    """Every household member; registerledare first (row i is household i's), then the others."""

    person_id: np.ndarray
    household: np.ndarray  # index into Households
    role_code: np.ndarray  # index into ROLE_NAMES
    male: np.ndarray
    birth: np.ndarray
    born_abroad: np.ndarray
    main_obstacle: np.ndarray  # index into OBSTACLES, persistent per adult
    partner: np.ndarray  # per household: the medsökande's row, -1 without one


ROLE_NAMES = np.array(["registerledare", "medsokande", "barn", "ovrig"], dtype=object)


def simulate_households(spec: Scale, win: Window, rng: np.random.Generator) -> Households:
    """Monthly arrivals per district (oversupplied), each with a type, a spell and its members."""
    cl, hd = spec.caseload, spec.handling
    n_d = len(spec.districts)
    ref_first, ref_last = reference_months(spec)
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
    kids = np.isin(h_type, TYPES_WITH_CHILDREN)
    n_children = np.where(
        kids, 1 + np.minimum(rng.poisson(cl.extra_children_mean, n), cl.max_children - 1), 0
    )
    has_ovrig = ~kids & (h_type != MINOR_TYPE) & (rng.random(n) < cl.ovrig_share)
    return Households(
        district=h_district,
        start=h_start,
        end=h_start + duration - 1,
        type=h_type,
        open_offset=rng.integers(*hd.received_offset_days, n),
        sigma=rng.normal(0.0, spec.money.household_sigma, n),
        n_children=n_children,
        has_partner=np.isin(h_type, COUPLE_TYPES),
        has_ovrig=has_ovrig,
    )


def reference_months(spec: Scale) -> tuple[int, int]:
    """First and last month index of the reference year."""
    return month_index(spec.reference_year), month_index(spec.reference_year, MONTHS_PER_YEAR)


def calibrate_households(spec: Scale, win: Window, hh: Households, rng: np.random.Generator) -> Households:
    """The households kept, in district and start order.

    In random order, keep reference-year households per district until their persons reach the
    published recipients; thin all other households at the same rate.
    """
    n_d, n = len(spec.districts), len(hh)
    ref_first, ref_last = reference_months(spec)
    recipients = np.array([d.recipients for d in spec.districts])
    size = 1 + hh.has_partner + hh.n_children + hh.has_ovrig
    u = rng.random(n)
    in_ref = np.flatnonzero((hh.start <= ref_last) & (hh.end >= ref_first))
    in_ref = in_ref[np.lexsort((u[in_ref], hh.district[in_ref]))]
    cum = np.cumsum(size[in_ref])
    district_first = np.searchsorted(hh.district[in_ref], np.arange(n_d))
    before = np.r_[0, cum][district_first][hh.district[in_ref]]
    taken = cum - size[in_ref] - before < recipients[hh.district[in_ref]]
    keep = np.zeros(n, dtype=bool)
    keep[in_ref[taken]] = True
    rate_kept = np.bincount(hh.district[in_ref[taken]], minlength=n_d) / np.maximum(
        np.bincount(hh.district[in_ref], minlength=n_d), 1
    )
    others = np.ones(n, dtype=bool)
    others[in_ref] = False
    keep |= others & (u < rate_kept[hh.district])
    keep &= (hh.end >= win.first_month) & (hh.start <= win.last_month)
    kept = hh.select(keep)
    return kept.select(np.lexsort((kept.start, kept.district)))


def persons(spec: Scale, win: Window, hh: Households, rng: np.random.Generator) -> Persons:
    """Registerledare, medsökande, barn and övrig with sex, birth date, personnummer, main obstacle."""
    cl = spec.caseload
    n = len(hh)
    counts = [n, int(hh.has_partner.sum()), int(hh.n_children.sum()), int(hh.has_ovrig.sum())]
    p_hh = np.concatenate(
        [
            np.arange(n),
            np.flatnonzero(hh.has_partner),
            np.repeat(np.arange(n), hh.n_children),
            np.flatnonzero(hh.has_ovrig),
        ]
    )
    p_role_code = np.repeat(np.arange(4), counts)
    p_male, birth = _sex_and_birth(spec, win, hh, p_hh, p_role_code, rng)
    m_total = len(p_hh)
    adult = p_role_code != 2
    born_abroad = rng.random(m_total) < np.where(
        adult, cl.born_abroad_adult_share, cl.born_abroad_child_share
    )
    samordning = born_abroad & (rng.random(m_total) < cl.samordningsnummer_share_of_born_abroad)
    pid = personnummer(birth, p_male, samordning, rng)

    # Main försörjningshinder per adult (persistent), by whether the household has children.
    w_no, w_ch = obstacle_weights(spec)
    p_kids = (hh.n_children > 0)[p_hh]
    main_obst = np.where(
        p_kids,
        rng.choice(len(OBSTACLES), size=m_total, p=w_ch),
        rng.choice(len(OBSTACLES), size=m_total, p=w_no),
    )
    partner = np.full(n, -1)
    partner[hh.has_partner] = n + np.arange(counts[1])
    return Persons(pid, p_hh, p_role_code, p_male, birth, born_abroad, main_obst, partner)


def obstacle_weights(spec: Scale) -> tuple[np.ndarray, np.ndarray]:
    """Försörjningshinder probabilities for households without and with children."""
    cl = spec.caseload
    w_no = np.array(cl.obstacle_weights) / sum(cl.obstacle_weights)
    w_ch = np.array(cl.obstacle_weights_with_children) / sum(cl.obstacle_weights_with_children)
    return w_no, w_ch


def _sex_and_birth(
    spec: Scale,
    win: Window,
    hh: Households,
    p_hh: np.ndarray,
    p_role_code: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Sex and birth date per person: adults' age at the spell start; children under 18 to the end."""
    cl, gap = spec.caseload, spec.gender_gap
    n, has_partner, kids = len(hh), hh.has_partner, hh.n_children > 0
    counts = np.bincount(p_role_code, minlength=4)
    rl_male = np.select(
        [np.isin(hh.type, gap.male_types), np.isin(hh.type, gap.female_types), has_partner],
        [True, False, rng.random(n) < cl.couple_registerledare_male_share],
        rng.random(n) < 0.5,
    )
    spell_start = month_start(hh.start)
    first_day = month_start(hh.first_month(win))
    span_years = (month_start(hh.last_month(win) + 1) - first_day).astype(np.int64) / DAYS_PER_YEAR

    def clipped_normal(params: tuple[float, float, float, float], size: int) -> np.ndarray:
        mean, sd, lo, hi = params
        return np.clip(rng.normal(mean, sd, size), lo, hi)

    rl_age = np.where(kids, clipped_normal(cl.parent_age, n), clipped_normal(cl.adult_age, n))
    rl_age = np.where(hh.type == MINOR_TYPE, rng.uniform(*cl.minor_applicant_age, n), rl_age)
    partner_age = np.maximum(rl_age + rng.normal(0.0, cl.partner_age_sd, n), ADULT_AGE)
    same_sex = rng.random(n) < cl.same_sex_couple_share
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
    birth = ref_day - as_days(np.floor(age * DAYS_PER_YEAR))
    return p_male, birth
