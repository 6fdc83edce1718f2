"""Programmes (interventions for persons in active households) and offered job places."""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo.arrays import Window, as_days, ids, month_index, month_start, pick, uniform_days
from demo.calibration import Scale
from demo.parameters import DAYS_PER_YEAR


def interventions(spec: Scale, win: Window, people: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
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
            s_lo = month_start(month_index(year, prog.start_months[0]))
            s_hi = month_start(month_index(year, prog.start_months[1]) + 1) - as_days(1)
            lo, hi = np.maximum(first, s_lo), np.minimum(last, s_hi)
            age_mid = (y0 + as_days(182) - birth).astype(np.int64) / DAYS_PER_YEAR
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
            started = uniform_days(rng, lo[chosen], hi[chosen])
            ended = started + as_days(rng.integers(*prog.duration_days, k))
            ongoing = ended > win.end
            frames.append(
                pd.DataFrame(
                    {
                        "person_id": people["person_id"].to_numpy()[chosen],
                        "kind": prog.kind,
                        "started_on": started,
                        "ended_on": np.where(ongoing, np.datetime64("NaT"), ended),
                        "outcome": np.where(ongoing, None, pick(rng, prog.outcomes, k)),
                    }
                )
            )
    out = pd.concat(frames, ignore_index=True).sort_values(["started_on", "person_id", "kind"], kind="stable")
    out.insert(0, "intervention_id", ids("I", len(out), 7))
    return out.reset_index(drop=True)


def job_places(spec: Scale, win: Window, rng: np.random.Generator) -> pd.DataFrame:
    """Feriejobb (offered mostly in spring) and Stockholmsjobb places per year and district."""
    frames = []
    codes = np.array([d.code for d in spec.districts], dtype=object)
    n_d = len(codes)
    for year in win.years:
        y_start = month_start(month_index(year))
        for kind, attr in (("feriejobb", "feriejobb_places"), ("stockholmsjobb", "stockholmsjobb_places")):
            target = np.array([getattr(d, attr) for d in spec.districts], dtype=float)
            count = np.round(target * (1 + rng.normal(0.0, spec.job_place_noise, n_d))).astype(int)
            who = np.repeat(np.arange(n_d), np.maximum(count, 0))
            k = len(who)
            if kind == "feriejobb":
                lo_m, hi_m = spec.feriejobb_offer_months
                lo = np.full(k, month_start(month_index(year, lo_m)))
                hi = np.full(k, month_start(month_index(year, hi_m) + 1) - as_days(1))
                late = rng.random(k) < spec.feriejobb_late_share
                lo = np.where(late, hi + as_days(1), lo)
                hi = np.where(late, month_start(month_index(year, hi_m) + 2) - as_days(1), hi)
            else:
                lo = np.full(k, y_start)
                hi = np.full(k, month_start(month_index(year + 1)) - as_days(1))
            frames.append(
                pd.DataFrame(
                    {"kind": kind, "district_code": codes[who], "offered_on": uniform_days(rng, lo, hi)}
                )
            )
    out = pd.concat(frames, ignore_index=True).sort_values(
        ["offered_on", "district_code", "kind"], kind="stable"
    )
    out.insert(0, "place_id", ids("J", len(out), 7))
    return out.reset_index(drop=True)

