"""Builders for the verksamhetsberättelse tests: a small source with Stockholmsjobb starts whose
figures per tertial are known by hand, and VB inputs from the synthetic published tables."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from etl.periods import Period
from reports.model import Figures
from reports.vb.model import Stage, VbInputs, empty_comments
from tests.support.db import load_source
from tests.support.reports import context, published_table
from tests.support.source_data import pnr

STARTS = [
    # (how many, female, started_on): all in Kungsholmen households
    (6, True, dt.date(2017, 1, 16)),  # helår 2017: 6 (6 women)
    (5, True, dt.date(2018, 2, 12)),  # T1 2018: 5 (5 women)
    (5, False, dt.date(2018, 6, 11)),  # T2 2018: 5 + 5 = 10 (5 women, 5 men)
    (6, True, dt.date(2018, 10, 8)),  # helår 2018: 10 + 6 = 16 (11 women, 5 men)
]
"""Stockholmsjobb starts, each by a different person."""


def vb_db(url: str) -> None:
    """Kungsholmen: 22 single adults, each starting one Stockholmsjobb (STARTS) and paid once that month."""
    households, people, interventions, payments = [], [], [], []
    n = 0
    for count, female, started in STARTS:
        for _ in range(count):
            hid = f"H{n}"
            households.append(
                {"household_id": hid, "district_code": "KUN", "household_type": 5 if female else 3,
                 "opened_on": dt.date(2016, 1, 1), "closed_on": None}
            )  # fmt: skip
            person = pnr(n, female)
            people.append(
                {"person_id": person, "household_id": hid, "role": "registerledare",
                 "sex": "K" if female else "M", "birth_date": dt.date(1980, 1, 1), "born_abroad": False}
            )  # fmt: skip
            interventions.append(
                {"intervention_id": f"I{n}", "person_id": person, "kind": "stockholmsjobb",
                 "started_on": started, "ended_on": None, "outcome": None}
            )  # fmt: skip
            month = started.replace(day=1)
            payments.append(
                {"payment_id": f"P{n}", "household_id": hid, "application_id": None, "benefit_month": month,
                 "paid_on": month, "amount_sek": 9000}
            )  # fmt: skip
            n += 1
    districts = [
        {"district_code": c, "name": name}
        for c, name in [("KUN", "Kungsholmen"), ("NOR", "Norrmalm"), ("OST", "Östermalm")]
    ]
    load_source(
        url,
        {
            "district": districts,
            "household": households,
            "person": people,
            "intervention": interventions,
            "payment": payments,
        },  # fmt: skip
    )


def with_values(
    period: Period, values: dict[tuple[str, str, str], float], shift: float = 0.0
) -> pd.DataFrame:
    """The synthetic published table of ``period`` with ``values`` set (indicator, scope, sex)."""
    df = published_table(period, shift).set_index(["indicator_id", "district_code", "sex"])
    for key, v in values.items():
        df.loc[key, ["value", "suppressed", "published"]] = [v, False, f"{v:g}"]
    return df.reset_index()


def vb_inputs(
    stages: dict[str, pd.DataFrame], comments: pd.DataFrame | None = None, gender: dict | None = None,
    tertials: dict | None = None,
) -> VbInputs:
    """VB inputs for 2018 whose full year (``stages["T3"]``) is the context's published table;
    ``gender``: year → full-year table, ``tertials``: (year, 1 or 2) → that tertial's table."""
    ctx = context(stages["T3"], period=Period(2018, 3))
    labelled = {key: Stage(key, Figures(df), f"arkivpaket {key}") for key, df in stages.items()}
    years = {year: Figures(df) for year, df in (gender or {}).items()}
    within = {key: Figures(df) for key, df in (tertials or {}).items()}
    return VbInputs(ctx, labelled, years, within, empty_comments() if comments is None else comments)


def vb_stages() -> dict[str, pd.DataFrame]:
    """T1, T2 and helår 2018 and helår 2017 from the synthetic published table (shifted apart)."""
    return {
        "T1": published_table(Period(2018, 1)),
        "T2": published_table(Period(2018, 2), shift=1000.0),
        "T3": published_table(Period(2018, 3), shift=2000.0),
        "prev_T3": published_table(Period(2017, 3), shift=5000.0),
    }
