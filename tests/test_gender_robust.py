"""Hand-computed tests for the gender analysis' robustness (issues 12 and 20): small strata,
leave-one-household-out influence, the regression peer estimate, share intervals and the
bootstrap's independence of the pseudonym key.

The pooling fixture (KUN, 2018-T1, one decision each unless said):

    stratum                 women (granted)            men (granted)
    utan|sjukskriven   A    W1 10000, W2 10000         M1 9000, M2 9000
    med|sjukskriven    B    W3 14000, W4 14000         M3 8000 × 3 decisions (one household)
    med|sociala_skal   C    W5 12000                   M4 12000
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from etl.periods import Period
from etl.settings.pipeline import GenderAnalysis as GenderAnalysisConfig
from etl.statistics.gender import (
    DIFF_ID,
    EXCLUDED_ID,
    FRAGILE_ID,
    MULTIMODAL_ID,
    REGRESSION_ID,
    adjusted_difference,
    decisions_in_period,
    gender_statistics,
)
from etl.statistics.gender_intervals import wilson, z_value
from etl.statistics.gender_regression import within_estimate
from etl.vocabulary import ALL
from tests.support.gender import gender_tables, one_applicant_tables

T1 = Period(2018, 1)
CFG = GenderAnalysisConfig(
    bootstrap_resamples=1000, seed=11, confidence=0.95, min_households_per_sex=2, multimodal_share=0.1
)
Z = z_value(0.95)


def _pooling_tables(with_m4: bool = True) -> dict[str, pd.DataFrame]:
    people = [  # household, sex, stratum code, children, [granted per decision]
        ("W1", "K", "sjukskriven", False, [10000]),
        ("W2", "K", "sjukskriven", False, [10000]),
        ("M1", "M", "sjukskriven", False, [9000]),
        ("M2", "M", "sjukskriven", False, [9000]),
        ("W3", "K", "sjukskriven", True, [14000]),
        ("W4", "K", "sjukskriven", True, [14000]),
        ("M3", "M", "sjukskriven", True, [8000, 8000, 8000]),
        ("W5", "K", "sociala_skal", True, [12000]),
    ] + ([("M4", "M", "sociala_skal", True, [12000])] if with_m4 else [])
    return one_applicant_tables([(name, "KUN", sex, children, code, amounts)
                                 for name, sex, code, children, amounts in people])  # fmt: skip


def _value(stats, indicator_id, scope=ALL, sex="T") -> float:
    hit = stats[
        (stats["indicator_id"] == indicator_id) & (stats["district_code"] == scope) & (stats["sex"] == sex)
    ]
    assert len(hit) == 1
    return float(hit["value"].iloc[0])


def test_small_stratum_is_pooled_by_hand():
    # A passes (2 women, 2 men). B fails (one man, M3), C fails (1 and 1): pooled into
    # med|övriga_hinder with women W3 W4 W5 = 3 and men M3 M4 = 2 households → passes.
    #   A: 10000 − 9000 = 1000, weight 4 decisions
    #   pool: K (14000 + 14000 + 12000) / 3 − M (3 × 8000 + 12000) / 4 = 40000/3 − 9000, weight 7
    result = adjusted_difference(decisions_in_period(_pooling_tables(), T1), ["KUN", ALL], CFG)
    expected = (4 * 1000 + 7 * (40000 / 3 - 9000)) / 11
    assert expected == pytest.approx(103000 / 33)
    assert result.loc[ALL, "diff"] == pytest.approx(expected)
    assert result.loc[ALL, "excluded_share"] == 0
    assert (result.loc[ALL, "women"], result.loc[ALL, "men"]) == (5, 4)


def test_pool_too_small_is_left_out_and_its_share_reported():
    # Without M4 the pool holds one man (M3): it is left out. Only A remains → 1000; the pool's
    # decisions W3 W4 M3×3 W5 = 6 of 10 are left out → 60 %.
    result = adjusted_difference(decisions_in_period(_pooling_tables(False), T1), [ALL], CFG)
    assert result.loc[ALL, "diff"] == pytest.approx(1000.0)
    assert result.loc[ALL, "excluded_share"] == pytest.approx(60.0)
    assert (result.loc[ALL, "women"], result.loc[ALL, "men"]) == (2, 2)


def test_without_pooling_the_one_male_household_stratum_enters_alone():
    # min 1: A, B and C enter alone: (4·1000 + 5·(14000 − 8000) + 2·0) / 11.
    cfg = CFG.model_copy(update={"min_households_per_sex": 1})
    result = adjusted_difference(decisions_in_period(_pooling_tables(), T1), [ALL], cfg)
    assert result.loc[ALL, "diff"] == pytest.approx((4000 + 30000) / 11)


def test_leave_one_household_out_influence_by_hand():
    # Leaving M3 out (strata fixed as observed): pool K 40000/3 − M 12000 = 4000/3, weight 4
    # (W3 W4 W5 M4) → (4·1000 + 4·4000/3) / 8 = 3500/3. Shift 103000/33 − 3500/3 = 64500/33, more
    # than half of 103000/33: fragile. Every other household moves it less (M4: to 3600).
    result = adjusted_difference(decisions_in_period(_pooling_tables(), T1), [ALL], CFG)
    assert result.loc[ALL, "max_shift"] == pytest.approx(64500 / 33)
    assert result.loc[ALL, "fragile"] == 1.0
    stats = gender_statistics(_pooling_tables(), T1, ["KUN"], CFG)
    assert _value(stats, FRAGILE_ID) == 1.0
    assert _value(stats, EXCLUDED_ID) == 0.0
    assert _value(stats, DIFF_ID) == pytest.approx(103000 / 33)


def test_a_robust_estimate_is_not_fragile():
    rng = np.random.default_rng(5)
    households, persons, apps, obstacles = [], [], [], []
    for i in range(80):  # 40 women, 40 men in one stratum; women's amounts 1000 kr higher
        sex = "K" if i < 40 else "M"
        households.append((f"H{i}", "KUN", 5 if sex == "K" else 3))
        persons.append((f"P{i}", f"H{i}", "registerledare", sex))
        amount = float(round(rng.normal(10000 if sex == "K" else 9000, 300)))
        day = "2018-01-01"
        apps.append((f"A{i}", f"H{i}", f"P{i}", day, "2018-01-05", day, amount, amount, "bifall"))
    stats = gender_statistics(gender_tables(households, persons, apps, obstacles), T1, ["KUN"], CFG)
    assert _value(stats, FRAGILE_ID) == 0.0
    assert _value(stats, MULTIMODAL_ID) == 0.0


def test_regression_by_hand_and_by_dummy_matrix():
    # Within each stratum the OLS weight is n_K·n_M / n: A 2·2/4 = 1, B 2·3/5 = 1.2, C 1·1/2 = 0.5;
    # differences 1000, 6000, 0 → β = (1000 + 7200) / 2.7.
    stats = gender_statistics(_pooling_tables(), T1, ["KUN"], CFG)
    assert _value(stats, REGRESSION_ID) == pytest.approx(8200 / 2.7)
    low, high = _value(stats, f"{REGRESSION_ID}_ki_lag"), _value(stats, f"{REGRESSION_ID}_ki_hog")
    assert low < 8200 / 2.7 < high


def test_cluster_robust_interval_matches_explicit_normal_equations():
    rng = np.random.default_rng(3)
    n_households = 60
    household = np.repeat(np.arange(n_households), 3)
    woman = (household % 2 == 0).astype(float)
    stratum = rng.integers(0, 4, len(household))
    effect = rng.normal(0, 800, n_households)[household]  # household-level noise: clustering matters
    y = 9000 + 500 * woman + 700 * stratum + effect + rng.normal(0, 300, len(household))
    beta, low, high = within_estimate(y, woman, stratum.astype(str), household, 0.95)

    # Reference: the full dummy matrix, β = (X'X)⁻¹X'y and the CR1 sandwich.
    x = np.column_stack([woman, *(stratum == s for s in range(4))]).astype(float)
    xtx_inv = np.linalg.inv(x.T @ x)
    coef = xtx_inv @ x.T @ y
    resid = y - x @ coef
    scores = [x[household == g].T @ resid[household == g] for g in range(n_households)]
    meat = sum(np.outer(s, s) for s in scores)
    n, k, g = len(y), x.shape[1], n_households
    v = g / (g - 1) * (n - 1) / (n - k) * xtx_inv @ meat @ xtx_inv
    from scipy import stats

    t = stats.t.ppf(0.975, g - 1)
    assert beta == pytest.approx(coef[0])
    assert low == pytest.approx(coef[0] - t * math.sqrt(v[0, 0]))
    assert high == pytest.approx(coef[0] + t * math.sqrt(v[0, 0]))


# --------------------------------------------------------------------------- the pseudonym key


def _random_tables(seed: int, rename) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    households, persons, apps, obstacles = [], [], [], []
    for i in range(90):
        sex = "K" if i % 3 else "M"
        hid, pid = rename(f"H{i}"), rename(f"P{i}")
        households.append((hid, ["KUN", "NOR"][i % 2], (5 if sex == "K" else 3) + (i % 4 == 0)))
        persons.append((pid, hid, "registerledare", sex))
        for month in (1, 2, 3):
            bm = f"2018-{month:02d}-01"
            amount = float(round(rng.normal(9000, 2000)))
            decision = "avslag" if rng.random() < 0.1 else "bifall"
            apps.append((rename(f"A{i}{month}"), hid, pid, bm, f"2018-{month:02d}-09", bm, 11000.0,
                         0.0 if decision == "avslag" else amount, decision))  # fmt: skip
            obstacles.append((pid, bm, ["sjukskriven", "sociala_skal", "ovrigt"][i % 3]))
    return gender_tables(households, persons, apps, obstacles)


def test_two_pseudonym_keys_give_the_same_intervals():
    # Same data, ids replaced by two different keyed hashes (their sort orders differ).
    import hashlib

    def key(k):
        return lambda x: hashlib.sha256(f"{k}:{x}".encode()).hexdigest()[:16]

    cfg = CFG.model_copy(update={"min_households_per_sex": 5})
    one = gender_statistics(_random_tables(8, key("nyckel-1")), T1, ["KUN", "NOR"], cfg)
    two = gender_statistics(_random_tables(8, key("nyckel-2")), T1, ["KUN", "NOR"], cfg)
    def rank(k):
        return sorted(range(90), key=lambda i: key(k)(f"H{i}"))

    assert rank("nyckel-1") != rank("nyckel-2")  # the keys really reorder the households
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    assert not math.isnan(_value(one, f"{DIFF_ID}_ki_lag"))


# --------------------------------------------------------------------------- shares and counts


def test_wilson_by_hand():
    # 1 of 4: the textbook Wilson interval (0.0456, 0.6994).
    low, high = wilson(1, 4, Z)
    assert float(low) == pytest.approx(0.04559, abs=1e-4)
    assert float(high) == pytest.approx(0.69936, abs=1e-4)
    assert np.isnan(wilson(0, 0, Z)[0])
