"""Golden tests for the gender analysis (etl.statistics.gender): every ja_* figure by hand, two districts.

Period 2018-T1 (decisions 1 January–30 April 2018). Single-adult households only (types 3–6).

    household district type  applicant sex
    H1        KUN      5     P1        K   (woman, no children)
    H2        KUN      3     P2        M   (man, no children)
    H3        KUN      6     P3        K   (woman with children)
    H7        KUN      4     P7        M   (man with children)
    H4        NOR      3     P4        M
    H5        NOR      5     P5        K
    H6        NOR      7     P6        K   (couple: not in the analysis)

Decisions in P, with the stratum (children × försörjningshinder that month):

    app  appl sex  days  applied granted decision       stratum
    A01  P1   K    7     9000    9000    bifall         utan | sjukskriven
    A02  P1   K    10    10000   8000    delvis_bifall  utan | arbetslos_utan_ersattning (2 codes: 1st sorted)
    A03  P1   K    4     6000    0       avslag         utan | sjukskriven
    A04  P2   M    3     10000   10000   bifall         utan | sjukskriven
    A05  P2   M    8     11000   11000   bifall         utan | arbetslos_utan_ersattning
    A06  P3   K    12    14000   14000   bifall         med  | sociala_skal
    A09  P7   M    5     13000   12000   delvis_bifall  med  | sociala_skal
    A11  P4   M    2     9000    0       avslag         utan | sjukskriven      (NOR)
    A12  P4   M    6     9500    9500    bifall         utan | saknas           (NOR, no code)
    A13  P5   K    9     9000    9000    bifall         utan | sjukskriven      (NOR)
    A15  P5   K    10    10000   7000    delvis_bifall  utan | sjukskriven      (NOR, decided 30 April)

Not in the analysis: A07 decided 3 May, A08 decided in December 2017, A10 pending, A14 couple.
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
    HIGH_ID,
    LOW_ID,
    MULTIMODAL_ID,
    REGRESSION_ID,
    adjusted_difference,
    decisions_in_period,
    gender_statistics,
)
from etl.vocabulary import ALL, BASIS, INTERNAL, PERSONS, RULE
from tests.support.gender import gender_tables as _tables

T1 = Period(2018, 1)
LOW, HIGH = "_ki_lag", "_ki_hog"
CFG = GenderAnalysisConfig(
    bootstrap_resamples=1000, seed=20180101, confidence=0.95, min_households_per_sex=1, multimodal_share=0.1
)
"""min_households_per_sex=1: the hand values below predate the small-strata rule (tested on its own)."""
DISTRICTS = ["KUN", "NOR"]


def _cfg(**changes) -> GenderAnalysisConfig:
    return CFG.model_copy(update=changes)


HOUSEHOLDS = [
    ("H1", "KUN", 5),
    ("H2", "KUN", 3),
    ("H3", "KUN", 6),
    ("H7", "KUN", 4),
    ("H4", "NOR", 3),
    ("H5", "NOR", 5),
    ("H6", "NOR", 7),
]
PERSONS_ = [
    ("P1", "H1", "registerledare", "K"),
    ("P2", "H2", "registerledare", "M"),
    ("P3", "H3", "registerledare", "K"),
    ("C3", "H3", "barn", "M"),
    ("P7", "H7", "registerledare", "M"),
    ("P4", "H4", "registerledare", "M"),
    ("P5", "H5", "registerledare", "K"),
    ("P6", "H6", "registerledare", "K"),
    ("Q6", "H6", "medsokande", "M"),
]
APPLICATIONS = [
    # id, household, applicant, received, decided, benefit month, applied, granted, decision
    ("A01", "H1", "P1", "2018-01-02", "2018-01-09", "2018-01-01", 9000, 9000, "bifall"),
    ("A02", "H1", "P1", "2018-02-01", "2018-02-11", "2018-02-01", 10000, 8000, "delvis_bifall"),
    ("A03", "H1", "P1", "2018-03-01", "2018-03-05", "2018-03-01", 6000, 0, "avslag"),
    ("A04", "H2", "P2", "2018-01-03", "2018-01-06", "2018-01-01", 10000, 10000, "bifall"),
    ("A05", "H2", "P2", "2018-02-01", "2018-02-09", "2018-02-01", 11000, 11000, "bifall"),
    ("A06", "H3", "P3", "2018-01-10", "2018-01-22", "2018-01-01", 14000, 14000, "bifall"),
    ("A07", "H3", "P3", "2018-04-25", "2018-05-03", "2018-05-01", 14000, 14000, "bifall"),  # after P
    ("A08", "H3", "P3", "2017-12-20", "2017-12-28", "2017-12-01", 14000, 14000, "bifall"),  # before P
    ("A09", "H7", "P7", "2018-01-05", "2018-01-10", "2018-01-01", 13000, 12000, "delvis_bifall"),
    ("A10", "H7", "P7", "2018-04-28", None, "2018-04-01", 13000, None, None),  # pending
    ("A11", "H4", "P4", "2018-01-01", "2018-01-03", "2018-01-01", 9000, 0, "avslag"),
    ("A12", "H4", "P4", "2018-02-01", "2018-02-07", "2018-02-01", 9500, 9500, "bifall"),
    ("A13", "H5", "P5", "2018-01-02", "2018-01-11", "2018-01-01", 9000, 9000, "bifall"),
    ("A14", "H6", "P6", "2018-01-02", "2018-01-04", "2018-01-01", 20000, 20000, "bifall"),  # couple
    ("A15", "H5", "P5", "2018-04-20", "2018-04-30", "2018-04-01", 10000, 7000, "delvis_bifall"),
]
OBSTACLES = [
    ("P1", "2018-01-01", "sjukskriven"),
    ("P1", "2018-02-01", "sjukskriven"),
    ("P1", "2018-02-01", "arbetslos_utan_ersattning"),  # sorts first
    ("P1", "2018-03-01", "sjukskriven"),
    ("P2", "2018-01-01", "sjukskriven"),
    ("P2", "2018-02-01", "arbetslos_utan_ersattning"),
    ("P3", "2018-01-01", "sociala_skal"),
    ("P7", "2018-01-01", "sociala_skal"),
    ("P4", "2018-01-01", "sjukskriven"),  # none in February: "saknas"
    ("P5", "2018-01-01", "sjukskriven"),
    ("P5", "2018-04-01", "sjukskriven"),
    ("P6", "2018-01-01", "ovrigt"),
]
TABLES = _tables(HOUSEHOLDS, PERSONS_, APPLICATIONS, OBSTACLES)


@pytest.fixture(scope="module")
def stats() -> pd.DataFrame:
    return gender_statistics(TABLES, T1, DISTRICTS, CFG)


def _row(stats, indicator_id, scope, sex):
    mask = (stats["indicator_id"] == indicator_id) & (stats["district_code"] == scope) & (stats["sex"] == sex)
    hit = stats[mask]
    assert len(hit) == 1, (indicator_id, scope, sex)
    return hit.iloc[0]


def _check(stats, indicator_id, scope, sex, value, basis, numerator=None, denominator=None):
    row = _row(stats, indicator_id, scope, sex)
    if value is None:
        assert math.isnan(row["value"]), (indicator_id, scope, sex, row["value"])
    else:
        assert row["value"] == pytest.approx(value), (indicator_id, scope, sex, row["value"])
    assert row[BASIS] == basis, (indicator_id, scope, sex, row[BASIS])
    if numerator is not None:
        assert row["numerator"] == pytest.approx(numerator)
    if denominator is not None:
        assert row["denominator"] == pytest.approx(denominator)


def test_shape_and_rules(stats):
    assert list(stats.columns) == [c for c in INTERNAL if c != "period"]
    per_sex = [
        "ja_avslag_andel",
        "ja_beviljat_kr_medel",
        "ja_beviljat_andel_av_ansokt",
        "ja_handlaggningstid_median",
        "ja_sokande_antal",
        "ja_beslut_antal",
        *(f"{b}{x}" for b in ("ja_avslag_andel", "ja_beviljat_andel_av_ansokt") for x in (LOW, HIGH)),
    ]
    t_only = [DIFF_ID, LOW_ID, HIGH_ID, EXCLUDED_ID, FRAGILE_ID, MULTIMODAL_ID, "ja_beviljat_kr_skillnad"]
    t_only += [f"{b}{x}" for b in ("ja_avslag_andel_skillnad", "ja_beviljat_andel_av_ansokt_skillnad",
                                   REGRESSION_ID) for x in ("", "_ki_lag", "_ki_hog")]  # fmt: skip
    expected = {(i, s, x) for i in per_sex for s in ["KUN", "NOR", ALL] for x in "TKM"}
    expected |= {(i, s, "T") for i in t_only for s in ["KUN", "NOR", ALL]}
    assert set(zip(stats["indicator_id"], stats["district_code"], stats["sex"], strict=True)) == expected
    assert len(stats) == len(expected)
    assert (stats[RULE] == PERSONS).all()
    units = dict(zip(stats["indicator_id"], stats["unit"], strict=False))
    assert {i: u for i, u in units.items() if i in per_sex[:4] or i in (DIFF_ID, LOW_ID, HIGH_ID)} == {
        "ja_avslag_andel": "procent",
        "ja_beviljat_kr_medel": "kr",
        "ja_beviljat_andel_av_ansokt": "procent",
        "ja_handlaggningstid_median": "dagar",
        DIFF_ID: "kr",
        LOW_ID: "kr",
        HIGH_ID: "kr",
    }


def test_avslag_andel(stats):
    # KUN K: A01 A02 A03 A06, avslag A03 → 1/4. Persons: avslag {P1}, decided {P1, P3} → BASIS 1.
    _check(stats, "ja_avslag_andel", "KUN", "K", 1 / 4 * 100, 1, 1, 4)
    _check(stats, "ja_avslag_andel", "KUN", "M", 0 / 3 * 100, 2, 0, 3)  # A04 A05 A09; no avslag persons
    _check(stats, "ja_avslag_andel", "KUN", "T", 1 / 7 * 100, 1, 1, 7)
    _check(stats, "ja_avslag_andel", "NOR", "K", 0 / 2 * 100, 1)  # A13 A15 (A15 decided on the last day)
    _check(stats, "ja_avslag_andel", "NOR", "M", 1 / 2 * 100, 1)  # A11 avslag, A12
    _check(stats, "ja_avslag_andel", "NOR", "T", 1 / 4 * 100, 1)
    _check(stats, "ja_avslag_andel", ALL, "K", 1 / 6 * 100, 1)
    _check(stats, "ja_avslag_andel", ALL, "M", 1 / 5 * 100, 1)
    _check(stats, "ja_avslag_andel", ALL, "T", 2 / 11 * 100, 2, 2, 11)  # avslag {P1, P4}


def test_beviljat_kr_medel(stats):
    # Mean over bifall and delvis_bifall only.
    _check(stats, "ja_beviljat_kr_medel", "KUN", "K", (9000 + 8000 + 14000) / 3, 2, 31000, 3)
    _check(stats, "ja_beviljat_kr_medel", "KUN", "M", (10000 + 11000 + 12000) / 3, 2)
    _check(stats, "ja_beviljat_kr_medel", "KUN", "T", (31000 + 33000) / 6, 4)
    _check(stats, "ja_beviljat_kr_medel", "NOR", "K", (9000 + 7000) / 2, 1)
    _check(stats, "ja_beviljat_kr_medel", "NOR", "M", 9500 / 1, 1)
    _check(stats, "ja_beviljat_kr_medel", "NOR", "T", (16000 + 9500) / 3, 2)
    _check(stats, "ja_beviljat_kr_medel", ALL, "K", (31000 + 16000) / 5, 3)
    _check(stats, "ja_beviljat_kr_medel", ALL, "M", (33000 + 9500) / 4, 3)
    _check(stats, "ja_beviljat_kr_medel", ALL, "T", (47000 + 42500) / 9, 6, 89500, 9)


def test_beviljat_andel_av_ansokt(stats):
    # Σ granted / Σ applied over all decisions (avslag included with granted 0).
    _check(stats, "ja_beviljat_andel_av_ansokt", "KUN", "K", 31000 / (9000 + 10000 + 6000 + 14000) * 100, 2)
    _check(stats, "ja_beviljat_andel_av_ansokt", "KUN", "M", 33000 / (10000 + 11000 + 13000) * 100, 2)
    _check(stats, "ja_beviljat_andel_av_ansokt", "KUN", "T", 64000 / 73000 * 100, 4)
    _check(stats, "ja_beviljat_andel_av_ansokt", "NOR", "K", 16000 / 19000 * 100, 1)
    _check(stats, "ja_beviljat_andel_av_ansokt", "NOR", "M", 9500 / (9000 + 9500) * 100, 1)
    _check(stats, "ja_beviljat_andel_av_ansokt", "NOR", "T", 25500 / 37500 * 100, 2)
    _check(stats, "ja_beviljat_andel_av_ansokt", ALL, "T", 89500 / 110500 * 100, 6, 89500, 110500)


def test_handlaggningstid_median(stats):
    _check(stats, "ja_handlaggningstid_median", "KUN", "K", (7 + 10) / 2, 2)  # 4 7 10 12
    _check(stats, "ja_handlaggningstid_median", "KUN", "M", 5, 2)  # 3 5 8
    _check(stats, "ja_handlaggningstid_median", "KUN", "T", 7, 4)  # 3 4 5 7 8 10 12
    _check(stats, "ja_handlaggningstid_median", "NOR", "K", (9 + 10) / 2, 1)
    _check(stats, "ja_handlaggningstid_median", "NOR", "M", (2 + 6) / 2, 1)
    _check(stats, "ja_handlaggningstid_median", "NOR", "T", (6 + 9) / 2, 2)  # 2 6 9 10
    _check(stats, "ja_handlaggningstid_median", ALL, "K", (9 + 10) / 2, 3)  # 4 7 9 10 10 12
    _check(stats, "ja_handlaggningstid_median", ALL, "M", 5, 3)  # 2 3 5 6 8
    _check(stats, "ja_handlaggningstid_median", ALL, "T", 7, 6)  # 2 3 4 5 6 7 8 9 10 10 12
    assert pd.isna(_row(stats, "ja_handlaggningstid_median", ALL, "T")["numerator"])


def test_standardised_difference_by_hand(stats):
    # Unit (ALL), strata with all decisions (the weights) and the granted means:
    #   utan|sjukskriven   A01 A03 A04 A11 A13 A15 → weight 6; K (9000+9000+7000)/3, M 10000/1
    #   utan|arbetslos     A02 A05                 → weight 2; K 8000, M 11000
    #   med|sociala_skal   A06 A09                 → weight 2; K 14000, M 12000
    #   utan|saknas        A12 (men only)          → left out (weight 1 not used)
    all_diff = (6 * (25000 / 3 - 10000) + 2 * (8000 - 11000) + 2 * (14000 - 12000)) / (6 + 2 + 2)
    assert all_diff == pytest.approx(-1200.0)  # (−10000 − 6000 + 4000) / 10
    # BASIS: women with a granted decision in kept strata {P1, P3, P5} = 3, men {P2, P7} = 2 (P4's
    # only granted decision is in the left-out stratum) → min = 2.
    _check(stats, DIFF_ID, ALL, "T", all_diff, 2)
    # KUN: utan|sjukskriven A01 A03 A04 → weight 3, K 9000 − M 10000; arbetslos 2 × (8000 − 11000);
    #      sociala_skal 2 × (14000 − 12000)
    kun_diff = (3 * (9000 - 10000) + 2 * (8000 - 11000) + 2 * (14000 - 12000)) / (3 + 2 + 2)
    assert kun_diff == pytest.approx(-5000 / 7)
    _check(stats, DIFF_ID, "KUN", "T", kun_diff, 2)
    # NOR: utan|sjukskriven has women's granted decisions but only an avslag for men, utan|saknas
    # only men: neither stratum holds a household of each sex. Changed by issue 20 (was: nothing to
    # report): the small-strata rule pools the failing strata of a children group, and the pool
    # utan|övriga_hinder holds P5 (K: 9000, 7000) and P4 (M: 9500), weight A11 A12 A13 A15 = 4.
    _check(stats, DIFF_ID, "NOR", "T", (9000 + 7000) / 2 - 9500, 1)
    _check(stats, EXCLUDED_ID, "NOR", "T", 0.0, 1)


def test_interval_contains_point_estimate(stats):
    for scope in ("KUN", ALL):
        diff = _row(stats, DIFF_ID, scope, "T")["value"]
        low, high = _row(stats, LOW_ID, scope, "T")["value"], _row(stats, HIGH_ID, scope, "T")["value"]
        assert low <= diff <= high, (scope, low, diff, high)
        assert low < high  # KUN has two women and two men to resample
        assert _row(stats, LOW_ID, scope, "T")[BASIS] == _row(stats, DIFF_ID, scope, "T")[BASIS]


def test_one_applicant_per_group_gives_a_zero_width_interval():
    # The bootstrap resamples applicants (with all their decisions), not single decisions. With
    # one woman and one man every resample is the original data, so the interval collapses to the
    # point even though the woman's two decisions differ: K (8000 + 10000) / 2 vs M 10000 → −1000.
    # (Resampling her decisions one by one would give −2000, −1000 or 0 and a wide interval.)
    tables = _tables(
        [("H1", "KUN", 5), ("H2", "KUN", 3)],
        [("P1", "H1", "registerledare", "K"), ("P2", "H2", "registerledare", "M")],
        [
            ("A1", "H1", "P1", "2018-01-02", "2018-01-09", "2018-01-01", 9000, 8000, "delvis_bifall"),
            ("A3", "H1", "P1", "2018-02-02", "2018-02-09", "2018-02-01", 10000, 10000, "bifall"),
            ("A2", "H2", "P2", "2018-01-02", "2018-01-09", "2018-01-01", 10000, 10000, "bifall"),
        ],
        [],
    )
    stats = gender_statistics(tables, T1, ["KUN"], CFG)
    for indicator_id in (DIFF_ID, LOW_ID, HIGH_ID):
        _check(stats, indicator_id, ALL, "T", -1000.0, 1)  # both without a code: stratum utan|saknas


def _random_tables(seed: int, n_persons: int = 120) -> dict[str, pd.DataFrame]:
    """A larger random case (three months of decisions each) for properties of the bootstrap."""
    rng = np.random.default_rng(seed)
    ids = [f"P{i:03d}" for i in range(n_persons)]
    types = rng.choice([3, 4, 5, 6], n_persons)
    district = rng.choice(DISTRICTS, n_persons)
    households = [(f"H{i:03d}", district[i], int(types[i])) for i in range(n_persons)]
    sexes = np.where(np.isin(types, (5, 6)), "K", "M")
    persons = [(ids[i], f"H{i:03d}", "registerledare", sexes[i]) for i in range(n_persons)]
    apps, obstacles = [], []
    for month in (1, 2, 3):  # building test data: three months per person
        granted = np.round(rng.normal(9000, 1500, n_persons))
        bm, decided = f"2018-{month:02d}-01", f"2018-{month:02d}-08"
        apps += [
            (f"A{month}{i:03d}", f"H{i:03d}", ids[i], bm, decided, bm, 12000, granted[i], "bifall")
            for i in range(n_persons)
        ]
        obstacles += [(ids[i], bm, ["sjukskriven", "sociala_skal"][i % 2]) for i in range(n_persons)]
    return _tables(households, persons, apps, obstacles)


def test_bootstrap_is_deterministic_and_depends_on_the_seed():
    tables = _random_tables(1)
    first = gender_statistics(tables, T1, DISTRICTS, CFG)
    again = gender_statistics(tables, T1, DISTRICTS, CFG)
    pd.testing.assert_frame_equal(first, again)
    # Row order of the input does not matter either.
    shuffled = dict(tables, application=tables["application"].sample(frac=1, random_state=3))
    pd.testing.assert_frame_equal(first, gender_statistics(shuffled, T1, DISTRICTS, CFG))
    other = gender_statistics(tables, T1, DISTRICTS, CFG.model_copy(update={"seed": CFG.seed + 1}))
    bounds = first["indicator_id"].isin([LOW_ID, HIGH_ID])
    assert (first.loc[bounds, "value"].to_numpy() != other.loc[bounds, "value"].to_numpy()).all()
    pd.testing.assert_frame_equal(first[~bounds], other[~bounds])  # only the interval moves
    for scope in ("KUN", "NOR", ALL):
        low, diff, high = (_row(first, i, scope, "T")["value"] for i in (LOW_ID, DIFF_ID, HIGH_ID))
        assert low < diff < high


def test_wider_confidence_gives_a_wider_interval():
    tables = _random_tables(2)
    narrow = gender_statistics(tables, T1, DISTRICTS, _cfg(seed=7, confidence=0.80))
    wide = gender_statistics(tables, T1, DISTRICTS, _cfg(seed=7, confidence=0.99))
    for frame in (narrow, wide):
        assert frame.loc[frame["indicator_id"] == DIFF_ID, "value"].notna().all()
    width = lambda f: _row(f, HIGH_ID, ALL, "T")["value"] - _row(f, LOW_ID, ALL, "T")["value"]  # noqa: E731
    assert width(wide) > width(narrow)


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="får inte innehålla 'ALL'"):
        gender_statistics(TABLES, T1, ["KUN", ALL], CFG)
    with pytest.raises(ValueError, match="tabellen support_obstacle saknas"):
        gender_statistics({k: v for k, v in TABLES.items() if k != "support_obstacle"}, T1, DISTRICTS, CFG)
    broken = dict(TABLES, application=TABLES["application"].drop(columns="granted_sek"))
    with pytest.raises(ValueError, match="saknar kolumnerna granted_sek"):
        gender_statistics(broken, T1, DISTRICTS, CFG)


def test_no_decisions_gives_nan_rows_not_zeros():
    tables = _tables(HOUSEHOLDS, PERSONS_, APPLICATIONS, OBSTACLES)
    stats = gender_statistics(tables, Period(2019, 1), DISTRICTS, CFG)  # nothing decided in 2019
    assert len(stats) == 3 * 3 * 10 + 3 * 16  # 10 indicators by sex, 16 T only, 3 scopes
    counts = stats["indicator_id"].isin(["ja_sokande_antal", "ja_beslut_antal"])
    assert stats.loc[~counts, "value"].isna().all()
    assert (stats.loc[counts, "value"] == 0).all()  # zero applicants is a count, not "nothing"
    assert (stats[BASIS] == 0).all()
    assert (stats.loc[stats["indicator_id"] == "ja_avslag_andel", "denominator"] == 0).all()


def test_decisions_frame_strata():
    d = decisions_in_period(TABLES, T1).set_index("application_id")
    assert sorted(d.index) == ["A01", "A02", "A03", "A04", "A05", "A06", "A09", "A11", "A12", "A13", "A15"]
    assert d.loc["A02", "stratum"] == "utan_barn|arbetslos_utan_ersattning"
    assert d.loc["A06", "stratum"] == "med_barn|sociala_skal"
    assert d.loc["A12", "stratum"] == "utan_barn|saknas"
    result = adjusted_difference(d.reset_index(), ["KUN", "NOR", ALL], CFG)
    assert list(result.index) == ["KUN", "NOR", ALL]
    assert result.loc[ALL, "women"] == 3 and result.loc[ALL, "men"] == 2


# --------------------------------------------------------------------------- the planted gap


def test_demo_planted_gap_is_found():
    """demo plants women's granted = 0.965 × men's in the same stratum (−3.5 %).

    The unit scale is too small for an applicant-level interval to exclude zero (≈ ±450 kr around
    a ≈ −300 kr effect for one year), so this uses the city scale, which builds in about a second.
    """
    import demo
    from etl.settings import settings

    tables = demo.build("city", seed=2018, years=(2017, 2018, 2019))
    districts = sorted(tables["district"]["district_code"])
    stats = gender_statistics(tables, Period(2018, 3), districts, settings().pipeline.gender_analysis)
    diff, low, high = (_row(stats, i, ALL, "T")["value"] for i in (DIFF_ID, LOW_ID, HIGH_ID))
    men_mean = _row(stats, "ja_beviljat_kr_medel", ALL, "M")["value"]
    assert diff < 0 and high < 0, (low, diff, high)
    # The planted effect, −3.5 % of a man's amount, lies within the interval.
    assert low < -0.035 * men_mean < high, (low, -0.035 * men_mean, high)


# --------------------------------------------------------------------------- n, share intervals


def test_applicants_and_decisions_per_sex(stats):
    _check(stats, "ja_sokande_antal", "KUN", "K", 2, 2)  # P1 P3
    _check(stats, "ja_beslut_antal", "KUN", "K", 4, 2)  # A01 A02 A03 A06
    _check(stats, "ja_sokande_antal", ALL, "M", 3, 3)  # P2 P7 P4
    _check(stats, "ja_beslut_antal", ALL, "T", 11, 6)


def test_unadjusted_difference(stats):
    _check(stats, "ja_beviljat_kr_skillnad", ALL, "T", 47000 / 5 - 42500 / 4, 3)  # −1225
    _check(stats, "ja_beviljat_kr_skillnad", "KUN", "T", 31000 / 3 - 33000 / 3, 2)


def _wilson_by_hand(k, n, z=1.959963984540054):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_avslag_wilson_interval_with_design_effect(stats):
    # KUN K: 1 avslag of 4 decisions; households P1 (1 of 3), P3 (0 of 1). Clustered variance
    # 2/1 · (0.25² + 0.25²) / 4² = 0.015625 < simple 0.25·0.75/4: deff 1 (never below 1) → Wilson 1/4.
    low, high = _wilson_by_hand(1, 4)
    _check(stats, "ja_avslag_andel_ki_lag", "KUN", "K", low * 100, 1)
    _check(stats, "ja_avslag_andel_ki_hog", "KUN", "K", high * 100, 1)
    assert (low, high) == pytest.approx((0.0456, 0.6994), abs=1e-4)
    # ALL M: 1 of 5; P4 (1 of 2), P2 (0 of 2), P7 (0 of 1), p = 0.2. Clustered variance
    # 3/2 · (0.6² + 0.4² + 0.2²) / 5² = 0.0336; simple 0.2·0.8/5 = 0.032 → deff 1.05, n_eff = 5/1.05.
    n_eff = 5 / 1.05
    low_m, high_m = _wilson_by_hand(0.2 * n_eff, n_eff)
    _check(stats, "ja_avslag_andel_ki_lag", ALL, "M", low_m * 100, 1)
    _check(stats, "ja_avslag_andel_ki_hog", ALL, "M", high_m * 100, 1)
    # Difference K − M (Newcombe): ALL K 1 of 6; households P1 (1 of 3), P3 (0 of 1), P5 (0 of 2):
    # clustered 3/2 · (0.5² + (1/6)² + (1/3)²) / 36 = 0.0162 < 5/216 = 0.0231: deff 1.
    low_k, high_k = _wilson_by_hand(1, 6)
    pk, pm = 1 / 6, 0.2
    d_low = pk - pm - math.sqrt((pk - low_k) ** 2 + (high_m - pm) ** 2)
    d_high = pk - pm + math.sqrt((high_k - pk) ** 2 + (pm - low_m) ** 2)
    _check(stats, "ja_avslag_andel_skillnad", ALL, "T", (pk - pm) * 100, 1)
    _check(stats, "ja_avslag_andel_skillnad_ki_lag", ALL, "T", d_low * 100, 1)
    _check(stats, "ja_avslag_andel_skillnad_ki_hog", ALL, "T", d_high * 100, 1)


def test_granted_of_applied_interval_by_hand(stats):
    # KUN M: households P2 (21000 of 21000) and P7 (12000 of 13000), R = 33000/34000. Residuals
    # y − R·x: 21000 − 21000·33/34 = 21000/34 and 12000 − 13000·33/34 = −21000/34.
    r = 33000 / 34000
    var = 2 / 1 * 2 * (21000 / 34) ** 2 / 34000**2
    half = 1.959963984540054 * math.sqrt(var)
    _check(stats, "ja_beviljat_andel_av_ansokt_ki_lag", "KUN", "M", (r - half) * 100, 2)
    _check(stats, "ja_beviljat_andel_av_ansokt_ki_hog", "KUN", "M", (r + half) * 100, 2)
    # NOR M has one household (P4): no variance from one cluster → nothing to report.
    _check(stats, "ja_beviljat_andel_av_ansokt_ki_lag", "NOR", "M", None, 1)
