"""The caseload: households and persons, monthly applications and decisions, payments, obstacles.

Every part draws from the one caseload stream in a fixed order (households, persons,
applications, obstacles, amounts, handlers, payments, closing dates): reordering the calls
changes the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from demo.arrays import Window, as_days, expand, ids, month_of, month_start
from demo.calibration import Scale
from demo.households import (
    ROLE_NAMES,
    Households,
    Persons,
    calibrate_households,
    obstacle_weights,
    persons,
    simulate_households,
)
from demo.parameters import MINOR_TYPE, MONTHS_PER_YEAR, OBSTACLES

_OBSTACLE_NAMES = np.array(OBSTACLES, dtype=object)


@dataclass
class Caseload:
    household: pd.DataFrame
    person: pd.DataFrame
    application: pd.DataFrame
    payment: pd.DataFrame
    support_obstacle: pd.DataFrame
    persons_extra: pd.DataFrame  # generation-only person attributes for interventions


@dataclass
class _Applications:
    """One entry per application: its household (index), benefit month and dates."""

    household: np.ndarray
    month: np.ndarray
    received: np.ndarray
    decided: np.ndarray
    pending: np.ndarray  # no decision yet on the last day of data


@dataclass
class _Amounts:
    """Decision and amounts (öre) per application."""

    applied: np.ndarray
    granted: np.ndarray
    decision: np.ndarray
    granted_mask: np.ndarray  # decided and not avslag: what is paid


def caseload(
    spec: Scale, win: Window, staff: pd.DataFrame, staff_month: pd.DataFrame, rng: np.random.Generator
) -> Caseload:
    """All caseload tables, plus the person attributes :func:`demo.programmes.interventions` needs."""
    hh = calibrate_households(spec, win, simulate_households(spec, win, rng), rng)
    people = persons(spec, win, hh, rng)
    apps = _applications(spec, win, hh, rng)
    rl_code = _month_obstacles(spec, hh, people, apps.household, rng)  # registerledare row = household
    has_p = people.partner[apps.household] >= 0
    partner_code = _month_obstacles(spec, hh, people, people.partner[apps.household][has_p], rng)
    amounts = _amounts(spec, hh, apps, rl_code, rng)
    h_ids = ids("H", len(hh), 7)
    app_ids = ids("AP", len(apps.household), 9)
    bm = month_start(apps.month)
    applicant = people.person_id[apps.household]  # registerledare rows come first, in household order
    application = pd.DataFrame(
        {
            "application_id": app_ids,
            "household_id": h_ids[apps.household],
            "applicant_id": applicant,
            "received_on": apps.received,
            "decided_on": np.where(apps.pending, np.datetime64("NaT"), apps.decided),
            "benefit_month": bm,
            "applied_sek": amounts.applied / 100,
            "granted_sek": np.where(apps.pending, np.nan, amounts.granted / 100),
            "decision": np.where(apps.pending, None, amounts.decision),
            "handler_id": _handlers(spec, win, staff, staff_month, apps.month, rng),
        }
    )
    payment = _payments(spec, win, apps, amounts, h_ids, app_ids, rng)
    support_obstacle = pd.DataFrame(
        {
            "person_id": np.concatenate([applicant, people.person_id[people.partner[apps.household][has_p]]]),
            "benefit_month": np.concatenate([bm, bm[has_p]]),
            "code": _OBSTACLE_NAMES[np.concatenate([rl_code, partner_code])],
        }
    ).sort_values(["person_id", "benefit_month"], kind="stable")
    return Caseload(
        household=_household_frame(spec, win, hh, apps, h_ids, rng),
        person=_person_frame(people, h_ids),
        application=application,
        payment=payment,
        support_obstacle=support_obstacle.reset_index(drop=True),
        persons_extra=_persons_extra(win, hh, people),
    )


def _applications(spec: Scale, win: Window, hh: Households, rng: np.random.Generator) -> _Applications:
    """One per household and month in the spell (inside the window), a few gaps; dates."""
    hd = spec.handling
    first_m = hh.first_month(win)
    a_hh, a_pos = expand(hh.last_month(win) - first_m + 1)
    a_month = first_m[a_hh] + a_pos
    keep = (a_pos == 0) | (rng.random(len(a_hh)) >= spec.caseload.month_gap_share)
    a_hh, a_month = a_hh[keep], a_month[keep]
    n_a = len(a_hh)
    offset = np.where(
        a_month == hh.start[a_hh], hh.open_offset[a_hh], rng.integers(*hd.received_offset_days, n_a)
    )
    received = month_start(a_month) + as_days(offset)
    handling = hd.handling_min_days + np.round(rng.gamma(*hd.handling_gamma, n_a)).astype(np.int64)
    decided = received + as_days(handling)
    return _Applications(a_hh, a_month, received, decided, decided > win.end)


def _month_obstacles(
    spec: Scale, hh: Households, people: Persons, person: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Försörjningshinder per adult and application month: mostly the person's main one."""
    w_no, w_ch = obstacle_weights(spec)
    p_kids = (hh.n_children > 0)[people.household]
    change = rng.random(len(person)) < spec.caseload.obstacle_change_share
    w = np.where(p_kids[person][:, None], w_ch[None, :], w_no[None, :])
    other = (rng.random(len(person))[:, None] > np.cumsum(w, axis=1)).sum(axis=1)
    return np.where(change, np.minimum(other, len(OBSTACLES) - 1), people.main_obstacle[person])


def _amounts(
    spec: Scale, hh: Households, apps: _Applications, rl_code: np.ndarray, rng: np.random.Generator
) -> _Amounts:
    """Need (with the planted gender gap), decisions, and amounts rescaled to the published mean."""
    money, gap = spec.money, spec.gender_gap
    a_hh, n_a = apps.household, len(apps.household)
    a_type = hh.type[a_hh]
    base = np.select(
        [hh.has_partner[a_hh], a_type == MINOR_TYPE], [money.need_couple, money.need_minor], money.need_single
    )
    base = base + money.need_per_child * hh.n_children[a_hh] + money.need_per_ovrig * hh.has_ovrig[a_hh]
    women = np.isin(a_type, gap.female_types)
    single = women | np.isin(a_type, gap.male_types)
    year = 1970 + apps.month // MONTHS_PER_YEAR
    growth = (1 + money.yearly_increase) ** (year - spec.reference_year)
    need = (
        base
        * np.exp(hh.sigma[a_hh] + rng.normal(0.0, money.month_sigma, n_a))
        * np.array(money.obstacle_factors)[rl_code]
        * np.where(women, gap.women_granted_factor, 1.0)
    )
    p_avslag = np.where(single, gap.men_avslag_share + women * gap.women_extra_avslag, money.avslag_share)
    u = rng.random(n_a)
    avslag = u < p_avslag
    delvis = ~avslag & (u < p_avslag + money.delvis_share)
    granted_mask = ~avslag & ~apps.pending
    calibrate = granted_mask & (year == spec.reference_year)
    calibrate = calibrate if calibrate.any() else granted_mask  # reference year outside the window
    scale_factor = money.mean_paid_per_household_month / need[calibrate].mean()  # growth comes after
    # A district's payout level applies after the calibration, so the others keep the mean.
    level = np.array([d.payout_level for d in spec.districts])[hh.district[a_hh]]
    need_ore = np.round(need * scale_factor * growth * level * 100).astype(np.int64)
    applied = np.where(
        delvis,
        np.round(need_ore / rng.uniform(*money.delvis_granted_range, n_a)),
        np.where(avslag, np.round(need_ore * rng.uniform(*money.avslag_applied_range, n_a)), need_ore),
    ).astype(np.int64)
    granted = np.where(avslag, 0, need_ore)
    decision = np.where(avslag, "avslag", np.where(delvis, "delvis_bifall", "bifall")).astype(object)
    return _Amounts(applied, granted, decision, granted_mask)


def _handlers(
    spec: Scale,
    win: Window,
    staff: pd.DataFrame,
    staff_month: pd.DataFrame,
    a_month: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """A socialsekreterare/bidragshandläggare employed in the benefit month, per application."""
    handlers = staff.loc[staff["role"].isin(spec.staff.handler_roles), "staff_id"]
    sm = staff_month[staff_month["staff_id"].isin(handlers)]
    sm_month = month_of(sm["month"].to_numpy().astype("datetime64[D]"))
    sm_order = np.argsort(sm_month, kind="stable")
    sm_ids, sm_month = sm["staff_id"].to_numpy()[sm_order], sm_month[sm_order]
    per_month = np.bincount(sm_month - win.first_month, minlength=win.last_month - win.first_month + 1)
    month_offset = np.cumsum(per_month) - per_month
    rel = a_month - win.first_month
    return sm_ids[month_offset[rel] + np.floor(rng.random(len(a_month)) * per_month[rel]).astype(np.int64)]


def _payments(
    spec: Scale,
    win: Window,
    apps: _Applications,
    amounts: _Amounts,
    h_ids: np.ndarray,
    app_ids: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """One or two per granted application; later than the data end is not extracted."""
    money, granted = spec.money, amounts.granted
    g = np.flatnonzero(amounts.granted_mask)
    split = rng.random(len(g)) < money.split_payment_share
    first_share = np.where(split, rng.uniform(*money.split_first_range, len(g)), 1.0)
    first_amt = np.round(granted[g] * first_share).astype(np.int64)
    paid1 = apps.decided[g] + as_days(rng.integers(*money.pay_lag_days, len(g)))
    paid2 = paid1 + as_days(rng.integers(*money.split_second_lag_days, len(g)))
    pay_src = np.concatenate([g, g[split]])
    pay_amt = np.concatenate([first_amt, (granted[g] - first_amt)[split]])
    pay_day = np.concatenate([paid1, paid2[split]])
    pay_order = np.lexsort((pay_day, pay_src))
    pay_src, pay_amt, pay_day = pay_src[pay_order], pay_amt[pay_order], pay_day[pay_order]
    visible = pay_day <= win.end
    pay_src, pay_amt, pay_day = pay_src[visible], pay_amt[visible], pay_day[visible]
    manual = rng.random(len(pay_src)) < money.manual_payment_share
    return pd.DataFrame(
        {
            "payment_id": ids("P", len(pay_src), 9),
            "household_id": h_ids[apps.household[pay_src]],
            "application_id": np.where(manual, None, app_ids[pay_src]),
            "benefit_month": month_start(apps.month)[pay_src],
            "paid_on": pay_day,
            "amount_sek": pay_amt / 100,
        }
    )


def _household_frame(
    spec: Scale, win: Window, hh: Households, apps: _Applications, h_ids: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """Opened with the first application, closed a while after the spell ended."""
    n, a_hh = len(hh), apps.household
    last_decided = np.full(n, win.start - as_days(1))
    np.maximum.at(last_decided, a_hh, np.where(apps.pending, win.start, apps.decided))
    closed = np.maximum(
        month_start(hh.end + 1) + as_days(rng.integers(*spec.handling.close_delay_days, n)),
        last_decided + as_days(1),
    )
    opened = month_start(hh.start) + as_days(hh.open_offset)
    np.minimum.at(opened, a_hh, apps.received)  # a late first application may follow an early second
    closed = np.where((hh.end < win.last_month) & (closed <= win.end), closed, np.datetime64("NaT"))
    district_codes = np.array([d.code for d in spec.districts], dtype=object)
    return pd.DataFrame(
        {
            "household_id": h_ids,
            "district_code": district_codes[hh.district],
            "household_type": hh.type,
            "opened_on": opened,
            "closed_on": closed,
        }
    )


def _person_frame(people: Persons, h_ids: np.ndarray) -> pd.DataFrame:
    """The source's person table, members of a household together (registerledare first)."""
    person = pd.DataFrame(
        {
            "person_id": people.person_id,
            "household_id": h_ids[people.household],
            "role": ROLE_NAMES[people.role_code],
            "sex": np.where(people.male, "M", "K"),
            "birth_date": people.birth,
            "born_abroad": people.born_abroad,
        }
    )
    return person.iloc[np.lexsort((people.role_code, people.household))].reset_index(drop=True)


def _persons_extra(win: Window, hh: Households, people: Persons) -> pd.DataFrame:
    """Who may join a programme when: district, role, age, months in the window, main obstacle."""
    p_hh = people.household
    return pd.DataFrame(
        {
            "person_id": people.person_id,
            "district": hh.district[p_hh],
            "role": ROLE_NAMES[people.role_code],
            "birth_date": people.birth,
            "first_day": month_start(hh.first_month(win))[p_hh],
            "last_day": month_start(hh.last_month(win) + 1)[p_hh] - as_days(1),
            "main_obstacle": _OBSTACLE_NAMES[people.main_obstacle],
        }
    )
