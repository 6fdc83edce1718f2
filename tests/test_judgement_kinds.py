"""Each judgement kind of the catalogue on fixtures where the naive rule gives another verdict.

Naive rule = the year-to-date value (or, for counts, the linear prognosis) against the årsmål,
unrounded. Figures worked out by hand in the comments; targets from config/plans/2018.yml.
"""

from __future__ import annotations

import pytest

from etl.settings import settings
from etl.settings.catalogue import Entry
from etl.targets import DELVIS, EJ_MATT, EJ_UPPFYLLT, UPPFYLLT, History, assess, judge, shown

PLAN = settings().plan(2018)
CAT = settings().catalogue


def naive(entry, value, months, target):
    """The old rule: YTD value (count: linear prognosis) against the target, unrounded, 10 %."""
    v = value * 12 / months if entry.is_count else value
    short = v - target if entry.direction == "lower_is_better" else target - v
    return UPPFYLLT if short <= 0 else DELVIS if short <= 0.1 * target else EJ_UPPFYLLT


def test_annual_share_is_judged_on_a_prognosis_from_last_years_ratio():
    barn = CAT.get("eb_andel_barn")  # ALL target 0.5, lower is better
    assert barn.judgement == "annual_share"
    # T1: 0.44 % so far looks "uppfyllt" against 0.5; last year 0.40 in T1 and 0.54 for the
    # year (ratio 1.35) → prognosis 0.44 × 1.35 = 0.594, shown 0.6: 20 % over → ej uppfyllt.
    a = assess(barn, PLAN, 0.44, 4, history=History(same_period=0.40, full_year=0.54))
    assert naive(barn, 0.44, 4, 0.5) == UPPFYLLT
    assert (a.judgement, a.compared, a.target) == (EJ_UPPFYLLT, 0.6, 0.5)
    assert "utfall × 1,35" in a.basis
    # Without last year's figures: not judged before the year end.
    a = assess(barn, PLAN, 0.44, 4)
    assert a.judgement == EJ_MATT and "bedöms i verksamhetsberättelsen" in a.basis
    # The full year: the value itself.
    assert judge(barn, PLAN, 0.53, 12) == UPPFYLLT  # shows 0.5


def test_seasonal_count_is_judged_against_last_years_profile():
    ferie = CAT.get("am_feriejobb_platser")  # ALL target 696
    assert ferie.judgement == "seasonal_count"
    # T2 (Jan–Aug): 600 places; the linear prognosis 900 says "uppfyllt". Last year 700 of
    # 700 places had come by August (share 1.0): the year will end at 600 → 96 short of
    # 696 = 13.8 % → ej uppfyllt.
    a = assess(ferie, PLAN, 600, 8, history=History(same_period=700, full_year=700))
    assert naive(ferie, 600, 8, 696) == UPPFYLLT
    assert (a.judgement, a.compared) == (EJ_UPPFYLLT, 600)
    # T1: 200 places; linear 600 says "ej uppfyllt" (13.8 % short). Last year 200 of 700 had
    # come by April → prognosis 200 / (200/700) = 700 ≥ 696 → uppfyllt.
    a = assess(ferie, PLAN, 200, 4, history=History(same_period=200, full_year=700))
    assert naive(ferie, 200, 4, 696) == EJ_UPPFYLLT
    assert (a.judgement, a.compared) == (UPPFYLLT, 700)
    # Without a profile: only at year end.
    assert judge(ferie, PLAN, 200, 4) == EJ_MATT
    assert judge(ferie, PLAN, 650, 12) == DELVIS  # 46 short = 6.6 %


def test_count_is_judged_on_the_shown_linear_prognosis():
    praktik = CAT.get("am_praktik")  # ALL target 40
    # T2: 24 → 36: 10 % short exactly → delvis; both naive and kind-aware agree here.
    assert judge(praktik, PLAN, 24, 8) == DELVIS == naive(praktik, 24, 8, 40)
    # T2: 23.9 (not a real count, but the prognosis 35.85 shows as 36): judged as shown.
    assert naive(praktik, 23.9, 8, 40) == EJ_UPPFYLLT
    assert assess(praktik, PLAN, 23.9, 8).compared == 36 and judge(praktik, PLAN, 23.9, 8) == DELVIS


def _trend_entry() -> Entry:
    """A "minskar" goal (the plan lists the id without a numeric target)."""
    base = CAT.get("eb_langvarigt_vuxna").model_dump()
    return Entry(**{**base, "id": "eb_langvarigt_vuxna", "judgement": "trend"})


@pytest.mark.parametrize(
    ("now", "last", "expected"),
    [
        # Lower is better. 0.30 against last year's 0.35: fewer → uppfyllt, although it is far
        # above the numeric årsmål 0.22 the naive rule would use (ej uppfyllt).
        (0.30, 0.35, UPPFYLLT),
        (0.35, 0.351, DELVIS),  # both show 0.35: unchanged
        (0.36, 0.35, EJ_UPPFYLLT),
        (0.30, None, EJ_MATT),
    ],
)
def test_trend_goal_is_judged_against_the_same_period_last_year(now, last, expected):
    entry = _trend_entry()
    assert entry.trend_word == "minskar"
    a = assess(entry, PLAN, now, 8, history=History(same_period=last))
    assert a.judgement == expected
    if expected == UPPFYLLT:
        assert naive(entry, now, 8, 0.22) == EJ_UPPFYLLT and (a.compared, a.target) == (0.3, 0.35)


def test_no_target_no_judgement_whatever_the_history():
    unga = CAT.get("am_unga_varken_arbetar_studerar")
    assert judge(unga, PLAN, 3.0, 12, history=History(1.0, 2.0)) is None
    sick = CAT.get("pe_sjukfranvaro")
    assert judge(sick, PLAN, 10.0, 8, scope="OST", history=History(1.0, 2.0)) is None


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [(0.6002, 1, 0.6), (0.45, 1, 0.5), (0.349, 1, 0.3), (16.5, 0, 17), (-0.25, 1, -0.3), (1.005, 2, 1.01)],
)
def test_shown_rounds_half_away_from_zero(value, decimals, expected):
    assert shown(value, decimals) == expected


def test_catalogue_refuses_a_judgement_kind_that_does_not_fit_the_unit():
    base = CAT.get("eb_andel_barn").model_dump()
    with pytest.raises(ValueError, match="seasonal_count gäller antal"):
        Entry(**{**base, "judgement": "seasonal_count"})
    count = CAT.get("am_praktik").model_dump()
    with pytest.raises(ValueError, match="annual_share gäller andelar"):
        Entry(**{**count, "judgement": "annual_share"})
    with pytest.raises(ValueError, match="kräver direction"):
        Entry(**{**count, "direction": None, "judgement": "trend"})
