"""Staff of the unit(s): employment, monthly scheduled and sick hours, and the staff survey."""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo.arrays import Window, apportion, as_days, expand, ids, month_of, month_start
from demo.calibration import Scale
from demo.parameters import DAYS_PER_YEAR, MONTHS_PER_YEAR, StaffPlan


def staff(spec: Scale, win: Window, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Staff on the reference day (31 December of the middle year), predecessors and successors."""
    ref = np.datetime64(f"{win.years[len(win.years) // 2]}-12-31", "D")
    current = _reference_day_staff(spec.staff, win, ref, rng)
    predecessors, successors = _replacements(spec.staff, win, ref, current, rng)
    groups = (current, predecessors, successors)
    keys = ("male", "role", "age", "employed_from", "employed_to")
    joined = {key: np.concatenate([g[key] for g in groups]) for key in keys}
    frame = pd.DataFrame(
        {
            "sex": np.where(joined["male"], "M", "K"),
            "role": joined["role"],
            "birth_year": ref.astype("datetime64[Y]").astype(int) + 1970 - joined["age"],
            "employed_from": joined["employed_from"],
            "employed_to": joined["employed_to"],
            "_tiebreak": rng.random(len(joined["role"])),
        }
    )
    frame = frame.sort_values(["employed_from", "_tiebreak"], kind="stable").drop(columns="_tiebreak")
    frame.insert(0, "staff_id", ids("A", len(frame), max(4, len(str(len(frame))))))
    frame = frame.reset_index(drop=True)
    return frame, staff_months(spec, win, frame, rng)


def _reference_day_staff(
    sp: StaffPlan, win: Window, ref: np.datetime64, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """The planned posts, filled on ``ref``: sex, age band (managers not the youngest), tenure."""
    names = np.array([r for r, _ in sp.roles], dtype=object)
    role = np.tile(np.repeat(names, [c for _, c in sp.roles]), sp.teams)
    n = len(role)
    male = np.zeros(n, dtype=bool)
    male[rng.permutation(n)[: round(n * sp.male_share)]] = True
    band_lo, band_hi = _band_limits(sp)
    band = rng.permutation(
        np.repeat(np.arange(len(sp.age_bands)), apportion(n, [b[2] for b in sp.age_bands]))
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
    employed_from = np.where(joined, win.start + as_days(in_window), win.start - as_days(pre))
    leaves = (rng.random(n) < 1 - (1 - sp.turnover_per_year) ** (after_days / DAYS_PER_YEAR)) & (
        after_days > 0
    )
    employed_to = np.where(
        leaves, ref + as_days(rng.integers(1, max(after_days, 1) + 1, n)), np.datetime64("NaT")
    )
    return {
        "male": male,
        "role": role,
        "age": age,
        "employed_from": employed_from,
        "employed_to": employed_to,
        "_joined": joined,
        "_leaves": leaves,
    }


def _band_limits(sp: StaffPlan) -> tuple[np.ndarray, np.ndarray]:
    return np.array([b[0] for b in sp.age_bands]), np.array([b[1] for b in sp.age_bands])


def _replacements(
    sp: StaffPlan, win: Window, ref: np.datetime64, current: dict[str, np.ndarray], rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Who held a post before someone joined in the window, and who took it after someone left."""
    role, manager = current["role"], np.isin(current["role"], sp.full_time_roles)
    employed_from, employed_to = current["employed_from"], current["employed_to"]
    band_lo, band_hi = _band_limits(sp)

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
    pred_src = np.flatnonzero(current["_joined"] & (employed_from > win.start))
    pred = others(pred_src)
    pred_to = employed_from[pred_src] - as_days(rng.integers(*gap, len(pred_src)))
    age_at_leaving = pred["age"] - (ref - pred_to).astype(np.int64) / DAYS_PER_YEAR
    pred_tenure = np.clip(np.minimum(sp.max_tenure_years, age_at_leaving - sp.min_hiring_age), 0.1, None)
    pred_from = pred_to - as_days(np.ceil(rng.random(len(pred_src)) * pred_tenure * DAYS_PER_YEAR))
    keep = pred_to >= win.start
    succ_src = np.flatnonzero(current["_leaves"])
    succ = others(succ_src)
    succ_from = employed_to[succ_src] + as_days(rng.integers(*gap, len(succ_src)))
    keep_s = succ_from <= win.end
    predecessors = {key: v[keep] for key, v in pred.items()}
    predecessors.update(employed_from=pred_from[keep], employed_to=pred_to[keep])
    successors = {key: v[keep_s] for key, v in succ.items()}
    successors.update(
        employed_from=succ_from[keep_s],
        employed_to=np.full(int(keep_s.sum()), np.datetime64("NaT"), "datetime64[D]"),
    )
    return predecessors, successors


def staff_months(spec: Scale, win: Window, staff: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One row per staff member and month employed, with scheduled and sick hours (centi-hours)."""
    sp = spec.staff
    start = staff["employed_from"].to_numpy().astype("datetime64[D]")
    end = staff["employed_to"].to_numpy().astype("datetime64[D]")
    end = np.where(np.isnat(end) | (end > win.end), win.end, end)
    start = np.maximum(start, win.start)
    first_m, last_m = month_of(start), month_of(end)
    who, pos = expand(np.maximum(last_m - first_m + 1, 0))
    month = first_m[who] + pos
    m_start, m_next = month_start(month), month_start(month + 1)
    lo = np.maximum(m_start, start[who])
    hi = np.minimum(m_next, end[who] + as_days(1))
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

    level, first_level, late_level = _long_spell_levels(sp, win, staff, who, month, rng)
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


def _long_spell_levels(
    sp: StaffPlan,
    win: Window,
    staff: pd.DataFrame,
    who: np.ndarray,
    month: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sick level per staff month from long spells: in all months, in the first, from the third on.

    Spells are drawn per year from the year before the window (so spells already run in
    January). Stratified, not independent: the number of spells is the expected one and
    lengths and levels are spread over their distributions, so even 32 staff give a stable
    yearly sick-leave share.
    """
    emp_first = month_of(staff["employed_from"].to_numpy().astype("datetime64[D]"))
    end_raw = staff["employed_to"].to_numpy().astype("datetime64[D]")
    emp_last = np.where(np.isnat(end_raw), win.last_month, month_of(end_raw))
    lv = np.array([v for v, _ in sp.long_spell_levels])
    spells = []
    for y_first in win.first_month + MONTHS_PER_YEAR * np.arange(-1, len(win.years)):
        cand = np.flatnonzero((emp_first <= y_first + MONTHS_PER_YEAR - 1) & (emp_last >= y_first))
        k_sp = round(sp.long_spell_share_per_year * len(cand))
        quantile = (rng.permutation(k_sp) + 0.5) / max(k_sp, 1)
        length = np.ceil(np.log1p(-quantile) / np.log1p(-1 / sp.long_spell_mean_months)).astype(np.int64)
        level_counts = apportion(k_sp, [w for _, w in sp.long_spell_levels])
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
    sp_idx, k = expand(s_len)
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
    return level, first_level, late_level


def indicator_inputs(
    spec: Scale, win: Window, staff: pd.DataFrame, rng: np.random.Generator
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

