"""The before/after comparison (etl.review.compare) on a small hand-made fixture, and the
whole flow through the CLI: sample, fill in, import, compare (workbook written)."""

from __future__ import annotations

import math

import openpyxl
import pandas as pd
import pytest

from etl.__main__ import main
from etl.disclosure import DisclosureConfig
from etl.review.compare import AFTER, BEFORE, compare, exact_interval
from etl.settings.review import Answers, Comparison, Review
from tests.support.review import KEY_A, fill, make_source

CFG = Review(answers=Answers(concerned=("a", "b")), comparison=Comparison(bootstrap_resamples=1000, seed=1))
RULES = DisclosureConfig(min_persons=3, min_staff_group=11, suppressed_symbol="..", nothing_symbol="–")


def _answers(sex, concerned, quality, guideline, bemotande, decision, granted) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sex": sex,
            "concerned": concerned,
            "quality": quality,
            "guideline": guideline,
            "bemotande": bemotande,
            "decision": decision,
            "granted_sek": granted,
        }
    )


BEFORE_FRAME = pd.concat(
    [
        _answers(
            "K",
            list("aaab"),
            [1, 2, 2, 3],
            ["ja", "nej", "nej", "delvis"],
            ["ja"] * 4,
            ["bifall", "avslag", "bifall", "delvis_bifall"],
            [1000.0, 0.0, 3000.0, 2000.0],
        ),
        _answers(
            "M",
            list("aaaa"),
            [3, 3, 4, 4],
            ["ja", "ja", "ja", "nej"],
            ["ja", "ja", "nej", "nej"],
            ["bifall"] * 4,
            [1000.0, 2000.0, 3000.0, 4000.0],
        ),
    ]
)
AFTER_FRAME = pd.concat(
    [
        _answers(
            "K",
            list("aaaa"),
            [3, 3, 3, 3],
            ["ja"] * 4,
            ["ja", "ja", "ja", "nej"],
            ["bifall"] * 4,
            [2000.0] * 4,
        ),
        _answers(
            "M",
            list("aaab"),
            [3, 4, 4, 4],
            ["ja", "ja", "ja", "nej"],
            ["ja", "ja", "ja", "nej"],
            ["bifall"] * 4,
            [3000.0] * 4,
        ),
    ]
)


@pytest.fixture(scope="module")
def comp():
    return compare(BEFORE_FRAME, AFTER_FRAME, "2018-01", "2019-01", CFG, RULES)


def _fig(comp, metric, round_, sex):
    return comp.figures.set_index(["metric", "round", "sex"]).loc[(metric, round_, sex)]


def _diff(comp, metric, kind):
    return comp.differences.set_index(["metric", "kind"]).loc[(metric, kind)]


def test_figures_by_hand(comp):
    assert _fig(comp, "granskning_kvalitet_medel", BEFORE, "K")["value"] == 2.0  # (1+2+2+3)/4
    assert _fig(comp, "granskning_kvalitet_medel", BEFORE, "M")["value"] == 3.5
    assert _fig(comp, "granskning_kvalitet_medel", AFTER, "M")["value"] == 3.75
    assert _fig(comp, "granskning_beviljat_medel", BEFORE, "K")["value"] == 2000.0  # avslag left out: 6000/3
    assert _fig(comp, "granskning_beviljat_medel", BEFORE, "K")["n"] == 3
    assert _fig(comp, "granskning_riktlinjer_ja", BEFORE, "M")["value"] == 75.0
    assert _fig(comp, "granskning_avslag_andel", BEFORE, "K")["value"] == 25.0
    assert _fig(comp, "granskning_avsag_1", AFTER, "K")["value"] == 100.0
    assert _fig(comp, "granskning_avsag_2", BEFORE, "M")["value"] == 0.0


def test_differences_by_hand(comp):
    quality = {
        k: _diff(comp, "granskning_kvalitet_medel", k)["value"]
        for k in ("before_km", "after_km", "change_k", "change_m", "change_km")
    }
    assert quality == pytest.approx(
        {"before_km": -1.5, "after_km": -0.75, "change_k": 1.0, "change_m": 0.25, "change_km": 0.75}
    )
    granted = _diff(comp, "granskning_beviljat_medel", "change_km")
    assert granted["value"] == pytest.approx(-500.0)  # (2000 − 3000) − (2000 − 2500)
    assert _diff(comp, "granskning_riktlinjer_ja", "after_km")["value"] == pytest.approx(25.0)  # 100 − 75
    assert _diff(comp, "granskning_riktlinjer_ja", "after_km")["unit"] == "procentenheter"


def test_exact_intervals_by_hand(comp):
    # 4 of 4: lower end 0.025^(1/4) = 0.3976; 0 of 4: upper end 1 − 0.025^(1/4) = 0.6024
    all_yes = _fig(comp, "granskning_riktlinjer_ja", AFTER, "K")
    assert (all_yes["low"], all_yes["high"]) == pytest.approx((39.764, 100.0), abs=1e-3)
    none = _fig(comp, "granskning_avsag_2", BEFORE, "M")
    assert (none["low"], none["high"]) == pytest.approx((0.0, 60.236), abs=1e-3)
    assert exact_interval(5, 10, 0.95) == pytest.approx((0.18709, 0.81291), abs=1e-5)


def test_bootstrap_intervals_are_seeded_and_cover_the_estimate(comp):
    constant = _fig(comp, "granskning_kvalitet_medel", AFTER, "K")  # every case scored 3
    assert (constant["low"], constant["high"]) == (3.0, 3.0)
    again = compare(BEFORE_FRAME, AFTER_FRAME, "2018-01", "2019-01", CFG, RULES)
    pd.testing.assert_frame_equal(again.differences, comp.differences)
    for row in comp.differences.itertuples():
        if not math.isnan(row.low):
            assert row.low <= row.value + 1e-9 and row.value <= row.high + 1e-9, row


def test_small_cells_are_suppressed_with_complements(comp):
    hidden = {(r.metric, r.round, r.sex) for r in comp.figures.itertuples() if r.suppressed}
    assert hidden == {
        ("granskning_avsag_2", BEFORE, "K"),
        ("granskning_avsag_1", BEFORE, "K"),  # 1 of 4, and its complement
        ("granskning_avsag_2", AFTER, "M"),
        ("granskning_avsag_1", AFTER, "M"),
        ("granskning_riktlinjer_ja", BEFORE, "K"),  # 1 of 4
        ("granskning_bemotande_ja", BEFORE, "M"),  # 2 of 4
        ("granskning_avslag_andel", BEFORE, "K"),  # 1 of 4
    }
    guideline = comp.differences[comp.differences["metric"] == "granskning_riktlinjer_ja"].set_index("kind")
    assert guideline["suppressed"].to_dict() == {
        "before_km": True,
        "after_km": False,
        "change_k": True,
        "change_m": False,
        "change_km": True,
    }


@pytest.mark.slow
def test_the_whole_flow_through_the_cli(tmp_path, monkeypatch, capsys):
    url = make_source(tmp_path / "source.db", per_sex=30)
    monkeypatch.setenv("EB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EB_PSEUDONYM_KEY", KEY_A)
    assert (
        main(["review", "sample", "--source", url, "--year", "2018", "--per-sex", "10", "--seed", "1"]) == 0
    )
    assert (
        main(
            [
                "review",
                "sample",
                "--source",
                url,
                "--year",
                "2018",
                "--per-sex",
                "10",
                "--seed",
                "2",
                "--exclude-round",
                "2018-01",
            ]
        )
        == 0
    )
    review = tmp_path / "data" / "review" / "rounds"
    for round_id in ("2018-01", "2018-02"):
        filled = fill(review / round_id / f"granskning-{round_id}.xlsx", tmp_path / f"{round_id}.xlsx")
        assert main(["review", "import", str(filled)]) == 0
    assert main(["review", "import", str(tmp_path / "source.db")]) == 1
    assert "ingen Excel-arbetsbok" in capsys.readouterr().err
    assert main(["review", "compare", "--before", "2018-01", "--after", "2018-02"]) == 0
    book = openpyxl.load_workbook(
        tmp_path / "data" / "archive" / "review" / "comparisons" / "jamforelse-2018-01-2018-02.xlsx"
    )
    assert book.sheetnames == ["Granskning", "Registerdata", "Om jämförelsen"]
    labels = [row[0] for row in book["Granskning"].iter_rows(values_only=True)]
    assert "Utredningens kvalitet, medelvärde (1–4)" in labels
