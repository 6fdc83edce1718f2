"""The gender verdict's Swedish wording (reports.gender_text): each case by hand."""

from __future__ import annotations

import re

from reports.gender_text import verdict
from reports.swedish import format_number


def test_verdict_not_significant():
    text = verdict(-120.4, -350.0, 110.2, confidence=0.95)
    assert "120 kr mindre" in text
    assert "95 % konfidensintervall: −350 till 110 kr" in text
    assert "inte statistiskt säkerställd" in text
    assert "bara kvinnor eller bara män" in text  # left-out strata are stated


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
