"""Before/after comparison of two review rounds, women and men side by side.

Every figure is ``sum(v·w) / sum(w)`` over a round's cases of one sex: a share (``v`` = 1 for
the answer, ``w`` = 1) or a mean (``v`` = the score or amount, ``w`` = 1 for the cases it is
taken over). Shares get an exact (Clopper–Pearson) interval; means and every difference a seeded
percentile bootstrap that resamples cases within each round and sex. The differences: women
minus men in each round, after minus before for each sex, and the change of the women–men
difference (the project's effect). Figures resting on 1–4 cases are suppressed with
``etl.disclosure.suppress`` (the answers of "vad ansökan avsåg" add up to the round's cases, so
one hidden answer is protected by a second); a difference is shown only when all its parts are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from etl.disclosure import SUPPRESSED, DisclosureConfig, suppress
from etl.settings import settings
from etl.settings.review import Review
from etl.vocabulary import ALL, BASIS, PERSONS, RULE

SEXES = ("K", "M")
BEFORE, AFTER = "before", "after"
GRANTED = ("bifall", "delvis_bifall")
COUNT_ID = "granskning_antal"
CONCERNED_PREFIX = "granskning_avsag_"


@dataclass(frozen=True)
class Metric:
    id: str
    label: str
    unit: str  # "procent" (a share) or the unit of a mean
    share: bool


def metrics(cfg: Review) -> list[Metric]:
    """The figures compared, in the workbook's order."""
    concerned = [
        Metric(f"{CONCERNED_PREFIX}{i}", f"Ansökan avsåg: {v}", "procent", True)
        for i, v in enumerate(cfg.answers.concerned, start=1)
    ]
    return [
        *concerned,
        Metric("granskning_kvalitet_medel", "Utredningens kvalitet, medelvärde (1–4)", "poäng", False),
        Metric("granskning_riktlinjer_ja", "Bedömning enligt riktlinjerna: ja", "procent", True),
        Metric("granskning_bemotande_ja", "Bemötande dokumenterat: ja", "procent", True),
        Metric("granskning_avslag_andel", "Avslag", "procent", True),
        Metric(
            "granskning_beviljat_medel", "Beviljat belopp, medelvärde (bifall och delvis bifall)", "kr", False
        ),
    ]


def values(answers: pd.DataFrame, cfg: Review) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per metric: (v, w) over the cases of ``answers``."""
    ones = np.ones(len(answers))
    out = {}
    for i, value in enumerate(cfg.answers.concerned, start=1):
        out[f"{CONCERNED_PREFIX}{i}"] = ((answers["concerned"] == value).to_numpy(float), ones)
    out["granskning_kvalitet_medel"] = (pd.to_numeric(answers["quality"]).to_numpy(float), ones)
    out["granskning_riktlinjer_ja"] = ((answers["guideline"] == "ja").to_numpy(float), ones)
    out["granskning_bemotande_ja"] = ((answers["bemotande"] == "ja").to_numpy(float), ones)
    out["granskning_avslag_andel"] = ((answers["decision"] == "avslag").to_numpy(float), ones)
    granted = answers["decision"].isin(GRANTED).to_numpy(float)
    out["granskning_beviljat_medel"] = (answers["granted_sek"].fillna(0).to_numpy(float), granted)
    return out


def _stat(v: np.ndarray, w: np.ndarray) -> float:
    total = w.sum()
    return float((v * w).sum() / total) if total else float("nan")


def exact_interval(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Clopper–Pearson interval of k successes in n (as proportions)."""
    if n == 0:
        return float("nan"), float("nan")
    alpha = 1 - confidence
    low = 0.0 if k == 0 else float(sps.beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(sps.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return low, high


def _boot(v: np.ndarray, w: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The statistic for each resample (rows of ``index``)."""
    if v.size == 0:
        return np.full(index.shape[0], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (v[index] * w[index]).sum(axis=1) / w[index].sum(axis=1)


@dataclass(frozen=True)
class Comparison:
    before: str
    after: str
    figures: pd.DataFrame
    """metric, label, unit, round (before/after), sex, value, low, high, n, basis, suppressed."""
    differences: pd.DataFrame
    """metric, label, unit, kind, value, low, high, suppressed."""


DIFFERENCES = {
    "before_km": "Kvinnor − män, före",
    "after_km": "Kvinnor − män, efter",
    "change_k": "Efter − före, kvinnor",
    "change_m": "Efter − före, män",
    "change_km": "Förändring av skillnaden kvinnor − män",
}


def compare(
    before: pd.DataFrame,
    after: pd.DataFrame,
    before_id: str,
    after_id: str,
    cfg: Review | None = None,
    disclosure: DisclosureConfig | None = None,
) -> Comparison:
    """Figures and differences of two rounds' answers (``etl.review.importer.latest_answers``)."""
    cfg = cfg or settings().review
    disclosure = disclosure or DisclosureConfig.from_settings()
    conf, reps = cfg.comparison.confidence, cfg.comparison.bootstrap_resamples
    rng = np.random.default_rng(cfg.comparison.seed)
    groups = {
        (r, s): frame[frame["sex"] == s].reset_index(drop=True)
        for r, frame in ((BEFORE, before), (AFTER, after))
        for s in SEXES
    }
    vals = {g: values(frame, cfg) for g, frame in groups.items()}
    index = {
        g: rng.integers(0, len(frame), size=(reps, len(frame))) if len(frame) else np.zeros((reps, 0), int)
        for g, frame in groups.items()
    }
    q = [(1 - conf) / 2 * 100, (1 + conf) / 2 * 100]
    fig_rows, diff_rows = [], []
    for m in metrics(cfg):
        boot = {}
        for g in groups:
            v, w = vals[g][m.id]
            value, n = _stat(v, w), int(w.sum())
            boot[g] = _boot(v, w, index[g])
            if m.share:
                k = int((v * w).sum())
                low, high = (100 * x for x in exact_interval(k, n, conf))
                value, basis = value * 100, k
            else:
                low, high = np.nanpercentile(boot[g], q) if n else (np.nan, np.nan)
                basis = n
            fig_rows.append(
                {
                    "metric": m.id,
                    "label": m.label,
                    "unit": m.unit,
                    "round": g[0],
                    "sex": g[1],
                    "value": value,
                    "low": float(low),
                    "high": float(high),
                    "n": n,
                    "basis": basis,
                }
            )
        scale = 100 if m.share else 1
        diffs = {
            "before_km": (boot[BEFORE, "K"] - boot[BEFORE, "M"], [(BEFORE, "K"), (BEFORE, "M")], [1, -1]),
            "after_km": (boot[AFTER, "K"] - boot[AFTER, "M"], [(AFTER, "K"), (AFTER, "M")], [1, -1]),
            "change_k": (boot[AFTER, "K"] - boot[BEFORE, "K"], [(AFTER, "K"), (BEFORE, "K")], [1, -1]),
            "change_m": (boot[AFTER, "M"] - boot[BEFORE, "M"], [(AFTER, "M"), (BEFORE, "M")], [1, -1]),
        }
        diffs["change_km"] = (
            diffs["after_km"][0] - diffs["before_km"][0],
            [(AFTER, "K"), (AFTER, "M"), (BEFORE, "K"), (BEFORE, "M")],
            [1, -1, -1, 1],
        )
        point = {g: _stat(*vals[g][m.id]) for g in groups}
        for kind, (draws, parts, signs) in diffs.items():
            value = sum(s * point[p] for p, s in zip(parts, signs, strict=True)) * scale
            finite = draws[np.isfinite(draws)]
            low, high = (np.percentile(finite, q) * scale) if finite.size else (np.nan, np.nan)
            diff_rows.append(
                {
                    "metric": m.id,
                    "label": m.label,
                    "unit": "procentenheter" if m.share else m.unit,
                    "kind": kind,
                    "value": value,
                    "low": float(low),
                    "high": float(high),
                    "parts": parts,
                }
            )
    figures = _suppress(pd.DataFrame(fig_rows), groups, before_id, after_id, disclosure)
    hidden = {(r.metric, r.round, r.sex) for r in figures.itertuples() if r.suppressed}
    diff = pd.DataFrame(diff_rows)
    diff[SUPPRESSED] = [
        any((m, *p) in hidden for p in parts) for m, parts in zip(diff["metric"], diff["parts"], strict=True)
    ]
    return Comparison(before_id, after_id, figures, diff.drop(columns="parts"))


def _suppress(
    figures: pd.DataFrame, groups: dict, before_id: str, after_id: str, cfg: DisclosureConfig
) -> pd.DataFrame:
    """Small-cell suppression as everywhere else (etl.disclosure), with the answer counts as total."""
    period = {BEFORE: before_id, AFTER: after_id}
    counts = pd.DataFrame(
        [
            {"metric": COUNT_ID, "round": r, "sex": s, "value": float(len(f)), "basis": len(f)}
            for (r, s), f in groups.items()
        ]
    )
    both = pd.concat([figures, counts], ignore_index=True)
    stats = pd.DataFrame(
        {
            "indicator_id": both["metric"],
            "period": both["round"].map(period),
            "district_code": ALL,
            "sex": both["sex"],
            "value": both["value"],
            "unit": both["unit"].fillna("antal"),
            BASIS: both["basis"].astype(float),
            RULE: PERSONS,
        }
    )
    rules = DisclosureConfig(
        min_persons=cfg.min_persons,
        min_staff_group=cfg.min_staff_group,
        suppressed_symbol=cfg.suppressed_symbol,
        nothing_symbol=cfg.nothing_symbol,
        sum_groups=((COUNT_ID, (f"{CONCERNED_PREFIX}*",)),),
    )
    hidden = suppress(stats, rules)[SUPPRESSED].to_numpy()
    out = figures.copy()
    out[SUPPRESSED] = hidden[: len(figures)]
    return out
