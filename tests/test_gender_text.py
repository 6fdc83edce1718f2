"""The gender verdict's Swedish wording (reports.gender_text): each case by hand."""

from __future__ import annotations

import re

from reports import gender_text
from reports.gender_text import verdict
from reports.swedish import format_number


def test_verdict_not_significant():
    text = verdict(-120.4, -350.0, 110.2, confidence=0.95)
    assert "120 kr mindre" in text
    assert "95 % konfidensintervall: −350 till 110 kr" in text
    assert "inte statistiskt säkerställd" in text
    assert "färre än 5 hushåll av något kön slås ihop eller lämnas utanför" in text  # the small-strata rule


def test_verdict_women_get_less():
    text = verdict(-1523.6, -2410.0, -612.3, confidence=0.95)
    assert "i genomsnitt 1 524 kr mindre per beviljat beslut än män" in text
    assert "−2 410 till −612 kr" in text
    assert "är statistiskt säkerställd" in text and "under noll" in text
    assert "inte statistiskt" not in text


def test_verdict_women_get_more():
    text = verdict(2500.0, 1200.6, 3800.0, confidence=0.9)
    assert "2 500 kr mer" in text and "90 % konfidensintervall: 1 201 till 3 800 kr" in text
    assert "över noll" in text and "inte statistiskt" not in text


def test_verdict_without_numbers():
    for args in ((None, None, None), (float("nan"), -1.0, 1.0), (-100.0, None, 50.0)):
        text = verdict(*args)
        assert "kan inte visas" in text and "för litet" in text
        assert not re.search(r"\d", text)


def test_verdict_reads_confidence_from_config():
    from etl.settings import settings

    level = format_number(settings().pipeline.gender_analysis.confidence * 100)
    assert f"{level} % konfidensintervall" in verdict(-10.0, -20.0, 5.0)


def test_sign_flip_is_explained():
    # The 2018-T1 demo case of issue 12: women +1 089 kr unadjusted, −210 kr adjusted.
    text = gender_text.sign_flip(1089.4, -210.2)
    assert "Utan justering fick kvinnor i genomsnitt 1 089 kr mer än män" in text
    assert "fick de 210 kr mindre" in text and "sammansättningseffekt" in text
    assert gender_text.sign_flip(1089.4, 210.0) is None  # same sign: nothing to explain
    assert gender_text.sign_flip(None, -210.0) is None
    assert gender_text.sign_flip(0.2, -210.0) is None  # rounds to 0 kr: no sign to flip


def test_robustness_warnings():
    text = gender_text.robustness(1.0, 1.0, 12.34)
    assert "skattningen vilar på mycket få hushåll" in text
    assert "flera toppar" in text and "12,3 % av besluten" in text
    assert gender_text.robustness(0.0, 0.0, 0.0) == ""
    assert gender_text.robustness(None, None, None) == ""


def test_limits_name_what_is_not_adjusted_and_the_detectable_difference():
    # Interval −600 … 400 at 95 %: SE = 1000 / (2 · 1.95996) = 255.1; detectable at 80 % power:
    # SE · (1.95996 + 0.84162) = 714.7 → "715 kr".
    text = gender_text.limits(-600.0, 400.0, 0.95)
    assert "behov, hyra, hushållets storlek och ansökt belopp är inte justerade" in text
    assert "omkring 715 kr" in text
    assert "715" not in gender_text.limits(None, None)


def test_peer_sentence():
    text = gender_text.peer(-160.4, -491.0, 170.0)
    assert "regression med samma slags grupper −160 kr (−491 till 170 kr)" in text and "vikt" not in text
    assert gender_text.peer(None, 1.0, 2.0) == ""


def test_email_text_never_a_bare_point_estimate():
    text = gender_text.email_text(-210.2, -635.0, 265.0, 1.0, "..")
    assert text.startswith("−210 kr (95 % konfidensintervall −635 till 265 kr; inte statistiskt säkerställd)")
    assert text.endswith("; skattningen vilar på mycket få hushåll")
    assert gender_text.email_text(-900.0, -1500.0, -300.0, 0.0, "..").endswith("; statistiskt säkerställd)")
    assert gender_text.email_text(-210.0, None, 265.0, 0.0, "..") == ".."  # no interval: no figure


def test_definition_is_the_catalogue_text():
    from etl.settings import settings

    assert gender_text.definition() == settings().catalogue.entry_for(gender_text.DIFF_ID).definition
    assert "Inget annat justeras" in gender_text.definition()
    n = settings().pipeline.gender_analysis.min_households_per_sex
    assert f"minst {n}" in gender_text.definition()  # the small-strata rule in the one definition
