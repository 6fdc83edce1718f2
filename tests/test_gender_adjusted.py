"""etl.statistics.gender_adjusted's leave-one-household-out influence, against a brute force: the
estimate computed again from the decisions without each household in turn, in plain Python.

Fixture (2018-T1, min 1 household per sex; U = utan|sjukskriven, B = med|sjukskriven; kr per
granted decision, one a month):

    district  women                      men
    A         W1 3000, W2 5000 (U)       M1 2000, M2 4000 (U)
    B         W3 3000, W4 3000, W5 6000  M3 1000, M4 2000, M5 3000 (U)
    C         W7 2000 (U), W6 4000 (B)   M7 2000 × 2 (U), M6 1000 (B)
    D         W8 1500 (U)                M8 1000 (U)
    E         W9 2500 (U)                —
"""

from __future__ import annotations

import math
from fractions import Fraction

import pandas as pd
import pytest

from etl.periods import Period
from etl.settings.pipeline import GenderAnalysis as GenderAnalysisConfig
from etl.statistics.gender import decisions_in_period
from etl.statistics.gender_adjusted import adjusted_difference
from etl.vocabulary import ALL
from tests.support.gender import one_applicant_tables

T1 = Period(2018, 1)
CFG = GenderAnalysisConfig(
    bootstrap_resamples=1000, seed=11, confidence=0.95, min_households_per_sex=1, multimodal_share=0.1
)
PEOPLE = [  # name, district, sex, children, obstacle, granted per month
    ("W1", "A", "K", False, "sjukskriven", [3000]),
    ("W2", "A", "K", False, "sjukskriven", [5000]),
    ("M1", "A", "M", False, "sjukskriven", [2000]),
    ("M2", "A", "M", False, "sjukskriven", [4000]),
    ("W3", "B", "K", False, "sjukskriven", [3000]),
    ("W4", "B", "K", False, "sjukskriven", [3000]),
    ("W5", "B", "K", False, "sjukskriven", [6000]),
    ("M3", "B", "M", False, "sjukskriven", [1000]),
    ("M4", "B", "M", False, "sjukskriven", [2000]),
    ("M5", "B", "M", False, "sjukskriven", [3000]),
    ("W7", "C", "K", False, "sjukskriven", [2000]),
    ("M7", "C", "M", False, "sjukskriven", [2000, 2000]),
    ("W6", "C", "K", True, "sjukskriven", [4000]),
    ("M6", "C", "M", True, "sjukskriven", [1000]),
    ("W8", "D", "K", False, "sjukskriven", [1500]),
    ("M8", "D", "M", False, "sjukskriven", [1000]),
    ("W9", "E", "K", False, "sjukskriven", [2500]),
]
SCOPES = ["A", "B", "C", "D", "E", ALL]


def _estimate(people) -> Fraction | None:
    """Women's minus men's mean per decision in each stratum with both sexes, weighted by the
    stratum's decisions; None without such a stratum."""
    diff, total = Fraction(0), 0
    for stratum in {p[3] for p in people}:
        women = [a for p in people if p[3] == stratum and p[2] == "K" for a in p[5]]
        men = [a for p in people if p[3] == stratum and p[2] == "M" for a in p[5]]
        if women and men:
            weight = len(women) + len(men)
            diff += weight * (Fraction(sum(women), len(women)) - Fraction(sum(men), len(men)))
            total += weight
    return diff / total if total else None


def _influence(scope: str) -> tuple[float, float]:
    """(max_shift, fragile) by leaving each of the scope's households out in turn."""
    people = [p for p in PEOPLE if scope in (ALL, p[1])]
    point = _estimate(people)
    shifts, fragile = [], False
    for left_out in people:
        v = _estimate([p for p in people if p is not left_out])
        if v is None:
            shifts.append(math.inf)
            fragile = True
            continue
        shifts.append(abs(v - point))
        fragile |= (v > 0) != (point > 0) or (v < 0) != (point < 0) or abs(v - point) > abs(point) / 2
    return float(max(shifts)), float(fragile)


@pytest.fixture(scope="module")
def result():
    return adjusted_difference(decisions_in_period(one_applicant_tables(PEOPLE), T1), SCOPES, CFG)


def test_influence_by_hand(result):
    # B: 4000 − 2000 = 2000. Without W5 (6000): 3000 − 2000 = 1000, a shift of exactly half: not
    # fragile. Without W3 or W4: 4500 − 2000; without M3 or M5: 4000 − 2500 or 4000 − 1500.
    assert (result.loc["B", "max_shift"], result.loc["B", "fragile"]) == (1000.0, 0.0)
    # C: (3 · (2000 − 2000) + 2 · (4000 − 1000)) / 5 = 1200. Without W7 or M7 (both decisions) U
    # loses a sex: 3000, a shift of 1800. Without W6 or M6: 0, the sign is lost.
    assert result.loc["C", "diff"] == pytest.approx(1200)
    assert result.loc["C", "max_shift"] == pytest.approx(1800)
    assert result.loc["C", "fragile"] == 1.0
    # A: 4000 − 3000 = 1000; without W2 or M1: 0 (shift 1000, sign lost).
    assert (result.loc["A", "max_shift"], result.loc["A", "fragile"]) == (1000.0, 1.0)
    # D: one household of each sex; either left out leaves no estimate.
    assert (result.loc["D", "max_shift"], result.loc["D", "fragile"]) == (math.inf, 1.0)
    # E: no man, no estimate, nothing to leave out.
    assert math.isnan(result.loc["E", "max_shift"]) and math.isnan(result.loc["E", "fragile"])


@pytest.mark.parametrize("scope", ["A", "B", "C", "D", ALL])
def test_influence_matches_the_brute_force(result, scope):
    max_shift, fragile = _influence(scope)
    assert result.loc[scope, "max_shift"] == pytest.approx(max_shift)
    assert result.loc[scope, "fragile"] == fragile


def test_households_per_scope(result):
    # Granted decisions in the strata used: E's only stratum lacks men, so E counts none; the unit
    # counts W9 (U has both sexes there).
    women = {"A": 2, "B": 3, "C": 2, "D": 1, "E": 0, ALL: 9}
    men = {"A": 2, "B": 3, "C": 2, "D": 1, "E": 0, ALL: 8}
    assert result["women"].to_dict() == women and result["men"].to_dict() == men


@pytest.mark.parametrize("elements", [7, 60, 10**6])
def test_the_batch_size_changes_no_bit(result, monkeypatch, elements):
    # _BATCH_ELEMENTS only caps memory: 7 elements give one resample (and one household) a batch,
    # 60 three resamples of the 17 households a batch and a last one of one (1000 = 3 · 333 + 1),
    # the leave-one-out batches end mid-district; every figure must be the same bits as one batch.
    from etl.statistics import gender_adjusted

    monkeypatch.setattr(gender_adjusted, "_BATCH_ELEMENTS", elements)
    again = adjusted_difference(decisions_in_period(one_applicant_tables(PEOPLE), T1), SCOPES, CFG)
    pd.testing.assert_frame_equal(again, result, check_exact=True)


@pytest.mark.parametrize("threads", [2, 3])
def test_threads_change_no_bit(result, monkeypatch, threads):
    # The draws are taken in one stream, in order; the rest of each batch runs in a thread. With
    # 60 elements (334 batches of at most 3 resamples), 2 or 3 threads give the one-thread bits.
    from etl.statistics import gender_adjusted

    monkeypatch.setattr(gender_adjusted, "_BATCH_ELEMENTS", 60)
    cfg = CFG.model_copy(update={"bootstrap_threads": threads})
    again = adjusted_difference(decisions_in_period(one_applicant_tables(PEOPLE), T1), SCOPES, cfg)
    pd.testing.assert_frame_equal(again, result, check_exact=True)
