"""Case statistics (etl.statistics.case) against values computed by hand.

The small world below (period 2018-T1 = 1 Jan–30 Apr 2018, population of 2017):

KUN  H1 type 6, registerledare p1 K (1980); p2 M born 2000-04-30 (18 on the last day of P:
     adult); p3 K born 2000-05-01 (17 at the end of P: child). Paid 10,000 for Jan–Mar 2018,
     10,000 + 500 for Apr 2018 (the 500 paid on 10 May, after P), and May–Oct 2017: 10 distinct
     months in May 2017–Apr 2018, so long-term.
KUN  H2 type 3, registerledare p4 M. Paid 5,000 for each of Jan–Apr 2018, Aug–Dec 2017 (the
     December one paid in January 2018: benefit month before P) and Apr 2017 (4,000; outside
     the 12-month window): 9 months in the window, not long-term.
NOR  H3 type 7, registerledare p5 K, medsökande p6 M. Paid 12,000 for Feb 2018, 3,000 for Feb 2017.
NOR  H4 type 5, registerledare p7 K. Paid only for Jun 2017 (no bistånd in P).
OST  H5 type 4, registerledare p8 M. Never paid.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from etl import pipeline, source, staging
from etl.extract import extract_table
from etl.periods import Period
from etl.pseudonym import luhn_check_digit
from etl.settings import settings
from etl.statistics import build, case
from etl.statistics.case import case_statistics
from etl.validation.run import validate_run
from etl.vocabulary import BASIS, INTERNAL, NOT_INDIVIDUAL, PERSONS, RULE
from tests.support.db import load_source

HOUSEHOLD_TYPES = (1, 3, 4, 5, 6, 7, 8, 9)
CASE_IDS = (
    "eb_mottagare", "eb_andel_befolkning", "eb_andel_barn", "eb_langvarigt_vuxna", "eb_hushall",
    "eb_utbetalt_kr", "eb_kr_per_hushallsmanad",
    *(f"eb_hushall_typ_{n}" for n in HOUSEHOLD_TYPES), *(f"eb_mottagare_typ_{n}" for n in HOUSEHOLD_TYPES),
    "am_stockholmsjobb_aspiranter", "am_praktik", "ar_till_forsorjning", "am_feriejobb_platser",
    "am_stockholmsjobb_platser",
)  # fmt: skip
"""The case statistics' fixed ids (the monthly series depend on the period)."""

NAN = math.nan
DISTRICTS = ["KUN", "NOR", "OST"]
SCOPES = [*DISTRICTS, "ALL"]
T1, T3 = Period(2018, 1), Period(2018, 3)
_DTYPES = {sa.Date: "datetime64[s]", sa.Integer: "Int64", sa.Numeric: "float64", sa.Text: "string",
           sa.Boolean: "boolean"}  # fmt: skip


def _table(name: str, rows: list[tuple]) -> pd.DataFrame:
    """A table typed like validated staging (columns of etl/source.py)."""
    cols = source.TABLES[name].columns
    df = pd.DataFrame(rows, columns=[c.name for c in cols], dtype=object)
    return df.astype({c.name: _DTYPES[type(c.type)] for c in cols})


def _payments(hh: str, months: list[str], amount: float) -> list[tuple]:
    return [(f"{hh}-{m}", hh, None, f"{m}-01", f"{m}-05", amount) for m in months]


def _world(indicator_input: list[tuple] | None = None) -> dict[str, pd.DataFrame]:
    payments = [
        *_payments("H1", ["2018-01", "2018-02", "2018-03", "2018-04"], 10000),
        ("H1-late", "H1", None, "2018-04-01", "2018-05-10", 500),  # benefit month in P, paid after
        *_payments("H1", [f"2017-{m:02d}" for m in range(5, 11)], 10000),
        *_payments("H2", ["2018-01", "2018-02", "2018-03", "2018-04"], 5000),
        *_payments("H2", ["2017-08", "2017-09", "2017-10", "2017-11"], 5000),
        ("H2-dec", "H2", None, "2017-12-01", "2018-01-05", 5000),  # paid in P, benefit month before
        *_payments("H2", ["2017-04"], 4000),
        *_payments("H3", ["2018-02"], 12000),
        *_payments("H3", ["2017-02"], 3000),
        *_payments("H4", ["2017-06"], 7000),
    ]
    population = [
        (2017, "KUN", "K", 10, 100), (2017, "KUN", "K", 40, 300),
        (2017, "KUN", "M", 10, 100), (2017, "KUN", "M", 40, 200),
        (2017, "NOR", "K", 10, 50), (2017, "NOR", "K", 40, 150),
        (2017, "NOR", "M", 10, 50), (2017, "NOR", "M", 40, 150),
        (2017, "OST", "K", 40, 200), (2017, "OST", "M", 40, 200),  # no children in OST
        (2018, "KUN", "K", 40, 999999),  # P's own year: not used
    ]  # fmt: skip
    interventions = [
        ("I1", "p1", "stockholmsjobb", "2018-02-01", None, None),
        ("I2", "p1", "stockholmsjobb", "2018-03-01", None, None),  # same person again
        ("I3", "p4", "stockholmsjobb", "2017-12-01", None, None),  # before P
        ("I4", "p6", "stockholmsjobb", "2018-04-30", None, None),  # last day of P
        ("I5", "p7", "stockholmsjobb", "2018-01-15", None, None),  # household without bistånd in P
        ("I6", "p8", "stockholmsjobb", "2018-05-01", None, None),  # after P
        ("I7", "p2", "praktik", "2018-01-10", "2018-02-10", "avbrott"),
        ("I8", "p2", "praktik", "2018-03-10", None, None),  # same person's second praktik
        ("I9", "p5", "praktik", "2018-02-01", None, None),
        ("I10", "p4", "praktik", "2017-11-01", None, None),  # before P
        ("I11", "p1", "ar_rehab", "2017-06-01", "2018-03-31", "egen_forsorjning"),
        ("I12", "p4", "ar_rehab", "2017-06-01", "2018-02-15", "avbrott"),
        ("I13", "p4", "ar_rehab", "2018-02-16", "2018-04-20", "annan_forsorjning"),
        ("I14", "p5", "ar_rehab", "2017-09-01", "2018-01-31", "studier"),
        ("I15", "p6", "ar_rehab", "2017-01-01", "2017-12-31", "egen_forsorjning"),  # ended before P
        ("I16", "p8", "ar_rehab", "2018-01-01", None, None),  # still running
    ]
    job_places = [
        ("J1", "feriejobb", "KUN", "2018-02-01"),
        ("J2", "feriejobb", "KUN", "2018-04-30"),
        ("J3", "feriejobb", "NOR", "2018-05-02"),  # after P
        ("J4", "stockholmsjobb", "OST", "2018-01-01"),
        ("J5", "stockholmsjobb", "OST", "2017-12-31"),  # before P
    ]
    if indicator_input is None:
        indicator_input = [
            ("elektroniska_inkop_andel", 2018, 1, None, "T", 64.5),
            ("elektroniska_inkop_andel", 2018, 3, None, "T", 70.0),
            ("elektroniska_inkop_andel", 2017, 1, None, "T", 60.0),
            ("ledarskapsindex", 2018, None, None, "T", 81.0),
            ("ledarskapsindex", 2018, None, None, "K", 82.0),
            ("ledarskapsindex", 2018, None, None, "M", 79.0),
            ("aktivt_medskapandeindex", 2018, None, "KUN", "T", 85.0),
        ]
    return {
        "district": _table("district", [("KUN", "Kungsholmen"), ("NOR", "Norrmalm"), ("OST", "Östermalm")]),
        "population": _table("population", population),
        "household": _table("household", [
            ("H1", "KUN", 6, "2016-01-01", None), ("H2", "KUN", 3, "2016-01-01", None),
            ("H3", "NOR", 7, "2016-01-01", None), ("H4", "NOR", 5, "2016-01-01", None),
            ("H5", "OST", 4, "2016-01-01", None),
        ]),
        "person": _table("person", [
            ("p1", "H1", "registerledare", "K", "1980-05-10", False),
            ("p2", "H1", "barn", "M", "2000-04-30", False),
            ("p3", "H1", "barn", "K", "2000-05-01", False),
            ("p4", "H2", "registerledare", "M", "1990-01-01", False),
            ("p5", "H3", "registerledare", "K", "1970-03-15", True),
            ("p6", "H3", "medsokande", "M", "1968-07-01", True),
            ("p7", "H4", "registerledare", "K", "1985-01-01", False),
            ("p8", "H5", "registerledare", "M", "1975-01-01", False),
        ]),
        "payment": _table("payment", payments),
        "intervention": _table("intervention", interventions),
        "job_place": _table("job_place", job_places),
        "indicator_input": _table("indicator_input", indicator_input),
    }  # fmt: skip


@pytest.fixture(scope="module")
def t1() -> pd.DataFrame:
    return case_statistics(_world(), T1, DISTRICTS)


def _cells(stats: pd.DataFrame, indicator_id: str, column: str = "value") -> dict:
    rows = stats[stats["indicator_id"] == indicator_id]
    return dict(zip(zip(rows["district_code"], rows["sex"], strict=True), rows[column], strict=True))


def _grid(**cells: float) -> dict:
    """Every scope × sex; cells named like KUN_K=2 (unnamed cells are 0)."""
    return {(s, x): float(cells.get(f"{s}_{x}", 0)) for s in SCOPES for x in ("T", "K", "M")}


def _check(stats: pd.DataFrame, indicator_id: str, expected: dict, column: str = "value") -> None:
    assert _cells(stats, indicator_id, column) == pytest.approx(expected, nan_ok=True)


def test_recipients_split_by_the_persons_own_sex(t1):
    # H1 (p1 K, p2 M, p3 K) and H2 (p4 M) in KUN; H3 (p5 K, p6 M) in NOR; H4 unpaid in P.
    _check(t1, "eb_mottagare", _grid(KUN_K=2, KUN_M=2, KUN_T=4, NOR_K=1, NOR_M=1, NOR_T=2,
                                     ALL_K=3, ALL_M=3, ALL_T=6))  # fmt: skip


def test_share_of_population_uses_the_previous_years_population(t1):
    # 2017 population: KUN K 400, M 300; NOR K 200, M 200; OST K 200, M 200 (2018 row ignored).
    expected = _grid(
        KUN_K=2 / 400 * 100, KUN_M=2 / 300 * 100, KUN_T=4 / 700 * 100,
        NOR_K=1 / 200 * 100, NOR_M=1 / 200 * 100, NOR_T=2 / 400 * 100,
        ALL_K=3 / 800 * 100, ALL_M=3 / 700 * 100, ALL_T=6 / 1500 * 100,
    )  # fmt: skip
    _check(t1, "eb_andel_befolkning", expected)
    _check(t1, "eb_andel_befolkning", _grid(KUN_K=400, KUN_M=300, KUN_T=700, NOR_K=200, NOR_M=200,
                                            NOR_T=400, OST_K=200, OST_M=200, OST_T=400, ALL_K=800,
                                            ALL_M=700, ALL_T=1500), "denominator")  # fmt: skip
    # A population share rests on the recipients, not on the population.
    _check(t1, "eb_andel_befolkning", _cells(t1, "eb_mottagare"), BASIS)


def test_children_are_under_18_at_the_end_of_the_period(t1):
    # p3 (17 on 30 April) is the only child; p2 turns 18 on 30 April and is an adult.
    # Children 0-17 in 2017: KUN K 100, M 100; NOR 50, 50; OST none (0/0: nothing to report).
    expected = _grid(KUN_K=1 / 100 * 100, KUN_T=1 / 200 * 100, ALL_K=1 / 150 * 100, ALL_T=1 / 300 * 100)
    expected.update({("OST", s): NAN for s in ("T", "K", "M")})
    _check(t1, "eb_andel_barn", expected)


def test_long_term_adults_need_10_of_the_last_12_months(t1):
    # H1: May–Oct 2017 + Jan–Apr 2018 = 10 months -> its adults p1 (K) and p2 (M, 18 on 30 April).
    # H2: Aug–Dec 2017 + Jan–Apr 2018 = 9 (Apr 2017 is outside May 2017–Apr 2018) -> not counted.
    # Adults 18+ in 2017: KUN K 300, M 200; NOR 150, 150; OST 200, 200.
    expected = _grid(KUN_K=1 / 300 * 100, KUN_M=1 / 200 * 100, KUN_T=2 / 500 * 100,
                     ALL_K=1 / 650 * 100, ALL_M=1 / 550 * 100, ALL_T=2 / 1200 * 100)  # fmt: skip
    _check(t1, "eb_langvarigt_vuxna", expected)
    adults = _grid(KUN_K=1, KUN_M=1, KUN_T=2, ALL_K=1, ALL_M=1, ALL_T=2)
    _check(t1, "eb_langvarigt_vuxna", adults, "numerator")


def test_households_split_by_the_registerledares_sex(t1):
    _check(t1, "eb_hushall", _grid(KUN_K=1, KUN_M=1, KUN_T=2, NOR_K=1, NOR_T=1, ALL_K=2, ALL_M=1, ALL_T=3))


def test_paid_counts_benefit_months_in_p_whenever_paid(t1):
    # H1 40,000 + 500 (paid in May for April); H2 4 × 5,000 (the December one is not in P); H3 12,000.
    paid = _grid(KUN_K=40500, KUN_M=20000, KUN_T=60500, NOR_K=12000, NOR_T=12000,
                 ALL_K=52500, ALL_M=20000, ALL_T=72500)  # fmt: skip
    _check(t1, "eb_utbetalt_kr", paid)
    # An amount rests on the households paid.
    _check(t1, "eb_utbetalt_kr", _cells(t1, "eb_hushall"), BASIS)
    assert set(_cells(t1, "eb_utbetalt_kr", RULE).values()) == {PERSONS}


def test_paid_per_household_month(t1):
    # Household-months: H1 4 (two April payments are one month), H2 4, H3 1.
    expected = _grid(KUN_K=40500 / 4, KUN_M=20000 / 4, KUN_T=60500 / 8, NOR_K=12000, NOR_T=12000,
                     ALL_K=52500 / 5, ALL_M=20000 / 4, ALL_T=72500 / 9)  # fmt: skip
    expected.update({("NOR", "M"): NAN, **{("OST", s): NAN for s in ("T", "K", "M")}})
    _check(t1, "eb_kr_per_hushallsmanad", expected)
    _check(t1, "eb_kr_per_hushallsmanad", _grid(KUN_K=4, KUN_M=4, KUN_T=8, NOR_K=1, NOR_T=1,
                                                ALL_K=5, ALL_M=4, ALL_T=9), "denominator")  # fmt: skip


def test_household_types(t1):
    _check(t1, "eb_hushall_typ_6", _grid(KUN_K=1, KUN_T=1, ALL_K=1, ALL_T=1))
    _check(t1, "eb_hushall_typ_3", _grid(KUN_M=1, KUN_T=1, ALL_M=1, ALL_T=1))
    _check(t1, "eb_hushall_typ_7", _grid(NOR_K=1, NOR_T=1, ALL_K=1, ALL_T=1))
    # Persons by their own sex: H1 (type 6) has p1 K, p2 M, p3 K.
    _check(t1, "eb_mottagare_typ_6", _grid(KUN_K=2, KUN_M=1, KUN_T=3, ALL_K=2, ALL_M=1, ALL_T=3))
    _check(t1, "eb_mottagare_typ_3", _grid(KUN_M=1, KUN_T=1, ALL_M=1, ALL_T=1))
    _check(t1, "eb_mottagare_typ_7", _grid(NOR_K=1, NOR_M=1, NOR_T=2, ALL_K=1, ALL_M=1, ALL_T=2))
    for t in (1, 4, 5, 8, 9):  # H4 (type 5) and H5 (type 4) had no bistånd in P
        _check(t1, f"eb_hushall_typ_{t}", _grid())
        _check(t1, f"eb_mottagare_typ_{t}", _grid())


def test_monthly_series_cover_p_and_the_same_months_a_year_earlier(t1):
    months = {i[len("eb_hushall_manad_") :] for i in t1["indicator_id"] if i.startswith("eb_hushall_manad_")}
    assert months == {"201701", "201702", "201703", "201704", "201801", "201802", "201803", "201804"}
    _check(t1, "eb_utbetalt_kr_manad_201801", _grid(KUN_K=10000, KUN_M=5000, KUN_T=15000,
                                                    ALL_K=10000, ALL_M=5000, ALL_T=15000))  # fmt: skip
    _check(t1, "eb_utbetalt_kr_manad_201802", _grid(KUN_K=10000, KUN_M=5000, KUN_T=15000, NOR_K=12000,
                                                    NOR_T=12000, ALL_K=22000, ALL_M=5000,
                                                    ALL_T=27000))  # fmt: skip
    _check(t1, "eb_utbetalt_kr_manad_201804", _grid(KUN_K=10500, KUN_M=5000, KUN_T=15500,
                                                    ALL_K=10500, ALL_M=5000, ALL_T=15500))  # fmt: skip
    _check(t1, "eb_hushall_manad_201802", _grid(KUN_K=1, KUN_M=1, KUN_T=2, NOR_K=1, NOR_T=1,
                                                ALL_K=2, ALL_M=1, ALL_T=3))  # fmt: skip
    _check(t1, "eb_utbetalt_kr_manad_201702", _grid(NOR_K=3000, NOR_T=3000, ALL_K=3000, ALL_T=3000))
    _check(t1, "eb_utbetalt_kr_manad_201704", _grid(KUN_M=4000, KUN_T=4000, ALL_M=4000, ALL_T=4000))
    _check(t1, "eb_hushall_manad_201704", _grid(KUN_M=1, KUN_T=1, ALL_M=1, ALL_T=1))
    _check(t1, "eb_utbetalt_kr_manad_201701", _grid())


def test_monthly_sums_are_those_of_every_household_month_to_the_bit():
    """Öre amounts, where the order of the additions shows: the monthly figures are the sums of
    each household-month's payments (in row order), added per district × sex in household order,
    as grouping a copy of every household-month with its district and sex as text gives."""
    rng = np.random.default_rng(7)
    n_hh, n_pay = 400, 6000
    districts = ["KUN", "NOR"]
    hh_district = rng.choice(np.array([*districts, None], dtype=object), n_hh)
    hh_sex = rng.choice(np.array(["K", "M"], dtype=object), n_hh)
    pay = pd.DataFrame({
        "hh": rng.integers(0, n_hh, n_pay),
        "benefit_month": pd.to_datetime(rng.choice(["2017-01-01", "2017-03-01", "2018-02-01", "2018-09-01"],
                                                   n_pay)).astype("datetime64[ms]"),
        "kr": rng.integers(1, 10**6, n_pay) / 100 + np.where(rng.random(n_pay) < 0.05, np.nan, 0),
    })  # fmt: skip
    period = Period.parse("2018-T1")
    months = [pd.Timestamp(y, m, 1) for y in (2017, 2018) for m in range(1, 5)]
    per = pay[pay["benefit_month"].isin(months)].groupby(["hh", "benefit_month"])["kr"].sum().reset_index()
    per = per.assign(district_code=hh_district[per["hh"]], sex=hh_sex[per["hh"]], n=1)
    expected = case._cells(per, ["kr", "n"], districts, "benefit_month", months)
    got = pd.concat(case._monthly(pay, (hh_district, hh_sex), period, districts), ignore_index=True)
    for month in months:
        cells = expected.xs(month)
        suffix = f"{month.year}{month.month:02d}"
        for name, column in ((f"eb_utbetalt_kr_manad_{suffix}", "kr"), (f"eb_hushall_manad_{suffix}", "n")):
            rows = got[got["indicator_id"] == name].set_index(["district_code", "sex"])["value"]
            assert rows.reindex(cells.index).to_numpy().tolist() == cells[column].tolist(), name


def test_stockholmsjobb_aspirants_are_distinct_persons_starting_in_p(t1):
    # p1 (K, KUN) twice; p6 (M, NOR) on the last day; p7 (K, NOR) without bistånd in P.
    _check(t1, "am_stockholmsjobb_aspiranter", _grid(KUN_K=1, KUN_T=1, NOR_K=1, NOR_M=1, NOR_T=2,
                                                     ALL_K=2, ALL_M=1, ALL_T=3))  # fmt: skip


def test_praktik_counts_occasions_and_rests_on_persons(t1):
    # p2 (M, KUN) twice, p5 (K, NOR) once; p4's praktik began in 2017.
    _check(t1, "am_praktik", _grid(KUN_M=2, KUN_T=2, NOR_K=1, NOR_T=1, ALL_K=1, ALL_M=2, ALL_T=3))
    _check(t1, "am_praktik", _grid(KUN_M=1, KUN_T=1, NOR_K=1, NOR_T=1, ALL_K=1, ALL_M=1, ALL_T=2), BASIS)


def test_ar_rehab_to_support_among_interventions_ended_in_p(t1):
    # Ended in P: p1 egen (KUN K); p4 avbrott + annan (KUN M); p5 studier (NOR K).
    expected = _grid(KUN_K=1 / 1 * 100, KUN_M=1 / 2 * 100, KUN_T=2 / 3 * 100,
                     ALL_K=1 / 2 * 100, ALL_M=1 / 2 * 100, ALL_T=2 / 4 * 100)  # fmt: skip
    expected.update({("NOR", "M"): NAN, **{("OST", s): NAN for s in ("T", "K", "M")}})
    _check(t1, "ar_till_forsorjning", expected)
    _check(t1, "ar_till_forsorjning", _grid(KUN_K=1, KUN_M=2, KUN_T=3, NOR_K=1, NOR_T=1,
                                            ALL_K=2, ALL_M=2, ALL_T=4), "denominator")  # fmt: skip
    # Basis = fewer of (persons in the numerator, persons in the denominator), non-zero:
    # ALL K: 1 (p1) vs 2 (p1, p5) -> 1; ALL T: 2 (p1, p4) vs 3 -> 2; NOR K: 0 vs 1 -> 1.
    _check(t1, "ar_till_forsorjning", _grid(KUN_K=1, KUN_M=1, KUN_T=2, NOR_K=1, NOR_T=1,
                                            ALL_K=1, ALL_M=1, ALL_T=2), BASIS)  # fmt: skip


def test_places_by_the_places_district_total_only(t1):
    for indicator_id, expected in [
        ("am_feriejobb_platser", {"KUN": 2, "NOR": 0, "OST": 0, "ALL": 2}),
        ("am_stockholmsjobb_platser", {"KUN": 0, "NOR": 0, "OST": 1, "ALL": 1}),
    ]:
        assert _cells(t1, indicator_id) == {(s, "T"): float(v) for s, v in expected.items()}
        assert set(_cells(t1, indicator_id, RULE).values()) == {NOT_INDIVIDUAL}
        assert set(_cells(t1, indicator_id, BASIS).values()) == {0}


def test_passthrough_t1_takes_the_tertial_value_only():
    rows = case_statistics(_world(), T1, DISTRICTS)
    rows = rows[~rows["indicator_id"].isin(CASE_IDS) & ~rows["indicator_id"].str.contains("manad")]
    got = rows[["indicator_id", "district_code", "sex", "value", "unit", RULE]].itertuples(index=False)
    assert [tuple(r) for r in got] == [("elektroniska_inkop_andel", "ALL", "T", 64.5, "procent", "none")]
    assert rows["numerator"].isna().all() and rows["denominator"].isna().all()


def test_passthrough_t3_adds_annual_values():
    rows = case_statistics(_world(), T3, DISTRICTS)
    rows = rows[~rows["indicator_id"].isin(CASE_IDS) & ~rows["indicator_id"].str.contains("manad")]
    assert set(zip(rows["indicator_id"], rows["district_code"], rows["sex"], rows["value"], rows["unit"],
                   strict=True)) == {
        ("elektroniska_inkop_andel", "ALL", "T", 70.0, "procent"),
        ("ledarskapsindex", "ALL", "T", 81.0, "index"),
        ("ledarskapsindex", "ALL", "K", 82.0, "index"),
        ("ledarskapsindex", "ALL", "M", 79.0, "index"),
        ("aktivt_medskapandeindex", "KUN", "T", 85.0, "index"),
    }  # fmt: skip
    assert set(rows[RULE]) == {NOT_INDIVIDUAL} and set(rows[BASIS]) == {0}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("okand_indikator", 2018, 1, None, "T", 1.0), "okänd indikator okand_indikator"),
        (("eb_hushall", 2018, 1, None, "T", 1.0), "eb_hushall beräknas av statistiken"),
        (("pe_sjukfranvaro", 2018, 1, None, "T", 1.0), "pe_sjukfranvaro beräknas av statistiken"),
    ],
)
def test_passthrough_rejects_unknown_or_computed_ids(row, message):
    with pytest.raises(ValueError, match=message):
        case_statistics(_world([row]), T1, DISTRICTS)


def test_passthrough_rejects_a_tertial_and_an_annual_value_for_the_same_cell_in_t3():
    rows = [("ledarskapsindex", 2018, 3, None, "T", 80.0), ("ledarskapsindex", 2018, None, None, "T", 81.0)]
    assert len(case_statistics(_world(rows), T1, DISTRICTS).query("indicator_id == 'ledarskapsindex'")) == 0
    with pytest.raises(ValueError, match="ledarskapsindex har flera värden för 2018-T3"):
        case_statistics(_world(rows), T3, DISTRICTS)


def test_missing_column_is_a_clear_error():
    tables = _world()
    tables["payment"] = tables["payment"].drop(columns="benefit_month")
    with pytest.raises(ValueError, match="tabellen payment saknar kolumnerna benefit_month"):
        case_statistics(tables, T1, DISTRICTS)
    del tables["payment"]
    with pytest.raises(ValueError, match="tabellen payment saknas"):
        case_statistics(tables, T1, DISTRICTS)


def test_duplicate_keys_are_a_clear_error():
    tables = _world()
    tables["household"] = pd.concat([tables["household"], tables["household"].iloc[:1]], ignore_index=True)
    with pytest.raises(ValueError, match="household_id i tabellen household är inte unik"):
        case_statistics(tables, T1, DISTRICTS)


def test_every_indicator_has_the_full_grid_even_with_no_data():
    empty = {name: df.iloc[0:0] for name, df in _world().items()}
    stats = case_statistics(empty, T1, DISTRICTS)
    fixed = {i: (4 if i.endswith("_platser") else 12) for i in CASE_IDS}
    monthly = {f"eb_{k}_manad_{y}{m:02d}": 12 for k in ("utbetalt_kr", "hushall") for y in (2017, 2018)
               for m in range(1, 5)}  # fmt: skip
    assert stats.groupby("indicator_id").size().to_dict() == {**fixed, **monthly}
    assert not stats.duplicated(["indicator_id", "district_code", "sex"]).any()
    rates = stats["indicator_id"].isin(
        ["eb_andel_befolkning", "eb_andel_barn", "eb_langvarigt_vuxna", "eb_kr_per_hushallsmanad",
         "ar_till_forsorjning"]
    )  # fmt: skip
    assert stats.loc[rates, "value"].isna().all()  # zero denominators: nothing to report
    assert (stats.loc[~rates, "value"] == 0).all()  # zero stays a zero
    assert (stats[BASIS] == 0).all()
    assert list(stats.columns) == [c for c in INTERNAL if c != "period"]


def test_every_case_indicator_is_present_for_t2_with_its_sorted_grid():
    stats = case_statistics(_world(), Period(2018, 2), DISTRICTS)
    assert stats.equals(stats.sort_values(["indicator_id", "district_code", "sex"], ignore_index=True))
    assert {f"eb_hushall_manad_2017{m:02d}" for m in range(1, 9)} <= set(stats["indicator_id"])
    assert stats["numerator"].dtype == "Float64" and stats["value"].dtype == "float64"
    # T2 2018 window is Sep 2017–Aug 2018: H1 has Sep, Oct 2017 + Jan–Apr 2018 = 6 months only.
    assert _cells(stats, "eb_langvarigt_vuxna")[("ALL", "T")] == 0


# --- end to end through a real SQLite source ---------------------------------------------------

KEY = b"test-pseudonym-key-0123456789abcdef"


def _pnr(n: int, female: bool, born: str = "19800101") -> str:
    body = born[2:] + f"{n:02d}" + ("2" if female else "3")  # 11th digit even for women
    return born + f"{n:02d}" + ("2" if female else "3") + str(luhn_check_digit(body))


def _source_db(url: str) -> None:
    """KUN: 6 single women paid Jan–Apr 2018 and May–Oct 2017 (long-term), one of them with a son
    born 2005; NOR: 2 single men paid for March 2018 only. Population 2017: KUN K 3000, M 2000."""
    rows: dict[str, list[dict]] = {"household": [], "person": [], "payment": []}
    spec = [("KUN", True)] * 6 + [("NOR", False)] * 2
    months = [dt.date(2018, m, 1) for m in range(1, 5)] + [dt.date(2017, m, 1) for m in range(5, 11)]
    for i, (district, female) in enumerate(spec):
        hid = f"H{i}"
        rows["household"].append({"household_id": hid, "district_code": district,
                                  "household_type": 6 if i == 0 else (5 if female else 3),
                                  "opened_on": dt.date(2016, 1, 1), "closed_on": None})  # fmt: skip
        rows["person"].append({"person_id": _pnr(i, female), "household_id": hid, "role": "registerledare",
                               "sex": "K" if female else "M", "birth_date": dt.date(1980, 1, 1),
                               "born_abroad": False})  # fmt: skip
        paid = months if female else [dt.date(2018, 3, 1)]
        rows["payment"] += [{"payment_id": f"P{i}-{m:%Y%m}", "household_id": hid, "application_id": None,
                             "benefit_month": m, "paid_on": m, "amount_sek": 9000} for m in paid]  # fmt: skip
    rows["person"].append({"person_id": _pnr(20, False, "20050101"), "household_id": "H0", "role": "barn",
                           "sex": "M", "birth_date": dt.date(2005, 1, 1), "born_abroad": False})  # fmt: skip
    rows["district"] = [{"district_code": c, "name": c} for c in DISTRICTS]
    rows["population"] = [{"year": 2017, "district_code": "KUN", "sex": s, "age": 40, "count": n}
                          for s, n in (("K", 3000), ("M", 2000))]  # fmt: skip
    load_source(url, rows)


def test_build_statistics_end_to_end_from_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'source.db'}"
    _source_db(url)
    run = tmp_path / "cli__2018-T1"
    for name in source.TABLES:
        extract_table(url, name, T1, run, KEY)
    validate_run(run, period=T1, cfg=settings().validation.model_copy(update={"data_docs": False}))

    stats = build.build_statistics(run, T1)
    assert list(stats.columns) == INTERNAL and set(stats["period"]) == {"2018-T1"}
    assert stats.equals(pd.read_parquet(run / "statistics.parquet"))
    assert stats.equals(stats.sort_values(["indicator_id", "district_code", "sex"], ignore_index=True))
    assert {"pe_anstallda", "ja_avslag_andel"} <= set(stats["indicator_id"])  # staff and gender joined in
    assert not stats.duplicated(["indicator_id", "district_code", "sex"]).any()

    _check(stats, "eb_hushall", _grid(KUN_K=6, KUN_T=6, NOR_M=2, NOR_T=2, ALL_K=6, ALL_M=2, ALL_T=8))
    # 6 women + the boy in KUN, 2 men in NOR.
    recipients = _grid(KUN_K=6, KUN_M=1, KUN_T=7, NOR_M=2, NOR_T=2, ALL_K=6, ALL_M=3, ALL_T=9)
    _check(stats, "eb_mottagare", recipients)
    # KUN women 6 × 4 months × 9,000; NOR men 2 × 9,000.
    _check(stats, "eb_utbetalt_kr", _grid(KUN_K=216000, KUN_T=216000, NOR_M=18000, NOR_T=18000,
                                          ALL_K=216000, ALL_M=18000, ALL_T=234000))  # fmt: skip
    # Long-term adults: the 6 women (10 months each) of 3,000 adult women in KUN; no population in NOR/OST.
    long_term = _cells(stats, "eb_langvarigt_vuxna")
    assert long_term[("KUN", "K")] == pytest.approx(6 / 3000 * 100)
    assert long_term[("KUN", "T")] == pytest.approx(6 / 5000 * 100)
    assert math.isnan(long_term[("NOR", "T")])
    assert _cells(stats, "eb_andel_befolkning")[("ALL", "T")] == pytest.approx(9 / 5000 * 100)
    assert staging.read_table(run, staging.VALIDATED, "person")["person_id"].str.startswith("p").all()


def _extract_and_validate(url: str, data: Path, period: str) -> Path:
    plan = pipeline.plan_run(f"cli__{period}", period=period, data_dir=data)
    for name in source.TABLES:
        pipeline.extract_step(plan, name, url, KEY)
    pipeline.validate_step(plan)
    return Path(plan.run_dir)


@pytest.mark.slow  # two full runs through the CLI
def test_a_registerledare_whose_sex_code_changes_between_extracts_is_rejected(tmp_path):
    """H1's registerledare (KUN, woman no. 1) is M in the source after 2018-T1: 2018-T2 rejects
    the person and the household, so H1 counts nowhere; the next period compares with the
    T2 extract, where the code is already M, and takes H1 in as a man's household."""
    url, data = f"sqlite:///{tmp_path / 'source.db'}", tmp_path / "data"
    _source_db(url)
    t1 = _extract_and_validate(url, data, "2018-T1")
    assert staging.read_table(t1, staging.QUARANTINE, "household").empty

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        person = source.TABLES["person"]
        conn.execute(person.update().where(person.c.person_id == _pnr(1, True)).values(sex="M"))
    engine.dispose()

    for _ in range(2):  # a re-run of T2 compares with the same T1 history: same rejection
        t2 = _extract_and_validate(url, data, "2018-T2")
        report = {r["table"]: r for r in staging.read_json(t2 / "validation.json")}
        assert report["household"]["failed_rules"] == {
            "household_id: registerledarens könskod har ändrats sedan förra uttaget": 1
        }
        assert report["person"]["failed_rules"] == {"sex: könskoden har ändrats sedan förra uttaget": 1}
        assert list(staging.read_table(t2, staging.QUARANTINE, "household")["household_id"]) == ["H1"]
        stats = build.build_statistics(t2, Period(2018, 2))
        # Households paid Jan–Aug 2018: KUN women H0, H2–H5 (H1 rejected), NOR men H6, H7.
        _check(stats, "eb_hushall", _grid(KUN_K=5, KUN_T=5, NOR_M=2, NOR_T=2, ALL_K=5, ALL_M=2, ALL_T=7))
        # The 5 women and H0's son in KUN, 2 men in NOR.
        _check(stats, "eb_mottagare", _grid(KUN_K=5, KUN_M=1, KUN_T=6, NOR_M=2, NOR_T=2,
                                            ALL_K=5, ALL_M=3, ALL_T=8))  # fmt: skip

    t3 = _extract_and_validate(url, data, "2018-T3")
    assert staging.read_table(t3, staging.QUARANTINE, "household").empty
    stats = build.build_statistics(t3, T3)
    _check(stats, "eb_hushall", _grid(KUN_K=5, KUN_M=1, KUN_T=6, NOR_M=2, NOR_T=2, ALL_K=5, ALL_M=3, ALL_T=8))


def test_a_household_whose_registerledare_was_quarantined_is_in_no_figure():
    """H2's registerledare p4 was quarantined (e.g. an invalid sex code), so validated staging has
    no leader for H2: counted in T but neither K nor M, T − K − M would reveal H2 and its
    20,000 kr. H2 is left out of every figure instead."""
    world = _world()
    person = world["person"]
    world["person"] = person[person["person_id"] != "p4"].reset_index(drop=True)
    stats = case_statistics(world, T1, DISTRICTS)
    _check(stats, "eb_hushall", _grid(KUN_K=1, KUN_T=1, NOR_K=1, NOR_T=1, ALL_K=2, ALL_T=2))
    paid = _grid(KUN_K=40500, KUN_T=40500, NOR_K=12000, NOR_T=12000, ALL_K=52500, ALL_T=52500)
    _check(stats, "eb_utbetalt_kr", paid)
    _check(stats, "eb_utbetalt_kr_manad_201802", _grid(KUN_K=10000, KUN_T=10000, NOR_K=12000,
                                                       NOR_T=12000, ALL_K=22000, ALL_T=22000))  # fmt: skip
    counts = ("eb_hushall", "eb_utbetalt_kr", "eb_mottagare", "am_stockholmsjobb_aspiranter", "am_praktik")
    for indicator_id in [i for i in stats["indicator_id"].unique() if i.startswith(counts)]:
        cells = _cells(stats, indicator_id)
        for scope in SCOPES:
            t, k, m = (cells[(scope, x)] for x in ("T", "K", "M"))
            assert t == pytest.approx(k + m), (indicator_id, scope)  # T − K − M reveals nothing
