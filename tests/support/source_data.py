"""Small hand-built source databases whose figures are known by hand."""

from __future__ import annotations

import datetime as dt

from etl.pseudonym import luhn_check_digit
from tests.support.db import load_source


def pnr(n: int, female: bool) -> str:
    """A valid personnummer born 1980-01-01: serial ``n``, 11th digit even for women."""
    serial = f"{n:02d}" + ("2" if female else "3")  # 11th digit even for women, odd for men
    body = "800101" + serial
    return "19" + body + str(luhn_check_digit(body))


def small_db(url: str) -> None:
    """KUN: 6 single women paid in Feb 2018 (+1 paid only in 2017); NOR: 2 single men paid in March 2018."""
    households, people, payments = [], [], []
    spec = [("KUN", True, dt.date(2018, 2, 1))] * 6 + [("KUN", True, dt.date(2017, 6, 1))]
    spec += [("NOR", False, dt.date(2018, 3, 1))] * 2
    for i, (district, female, month) in enumerate(spec):
        hid = f"H{i}"
        households.append(
            {"household_id": hid, "district_code": district, "household_type": 5 if female else 3,
             "opened_on": dt.date(2016, 1, 1), "closed_on": None}
        )  # fmt: skip
        people.append(
            {"person_id": pnr(i, female), "household_id": hid, "role": "registerledare",
             "sex": "K" if female else "M", "birth_date": dt.date(1980, 1, 1), "born_abroad": False}
        )  # fmt: skip
        payments.append(
            {"payment_id": f"P{i}", "household_id": hid, "application_id": None, "benefit_month": month,
             "paid_on": month, "amount_sek": 9000}
        )  # fmt: skip
    districts = [
        {"district_code": c, "name": n}
        for c, n in [("KUN", "Kungsholmen"), ("NOR", "Norrmalm"), ("OST", "Östermalm")]
    ]
    load_source(url, {"district": districts, "household": households, "person": people, "payment": payments})
