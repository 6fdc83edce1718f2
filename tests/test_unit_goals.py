"""The enhetsmål figure eb_andel_hushall_sociala_skal on a fixture counted by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from etl.periods import Period
from etl.statistics.unit_goals import social_share
from etl.vocabulary import BASIS


def _tables():
    ts = pd.Timestamp
    household = pd.DataFrame(
        {"household_id": ["H1", "H2", "H3", "H4"], "district_code": ["KUN", "KUN", "NOR", "KUN"]}
    )
    person = pd.DataFrame(
        {
            "person_id": ["A1", "A2", "B2", "A3", "A4"],
            "household_id": ["H1", "H2", "H2", "H3", "H4"],
            "role": ["registerledare", "registerledare", "medsokande", "registerledare", "registerledare"],
            "sex": ["K", "M", "K", "K", "M"],
        }
    )
    payment = pd.DataFrame(
        {
            "household_id": ["H1", "H2", "H3", "H4", "H1"],
            "benefit_month": [ts("2018-02-01"), ts("2018-03-01"), ts("2018-04-01"), ts("2017-06-01"),
                              ts("2018-03-01")],
        }
    )  # fmt: skip
    support_obstacle = pd.DataFrame(
        {
            # H1: social reasons in T1; H2's co-applicant: another reason; H3: social only in 2017;
            # H4 has social reasons in T1 but was not paid in T1 (not counted at all).
            "person_id": ["A1", "B2", "A3", "A4"],
            "benefit_month": [ts("2018-03-01"), ts("2018-03-01"), ts("2017-05-01"), ts("2018-02-01")],
            "code": ["sociala_skal", "arbetslos_utan_ersattning", "sociala_skal", "sociala_skal"],
        }
    )
    return dict(household=household, person=person, payment=payment, support_obstacle=support_obstacle)


def test_share_of_paid_households_with_social_reasons():
    out = social_share(_tables(), Period(2018, 1), ["KUN", "NOR"]).set_index(["district_code", "sex"])
    # Paid in T1: H1 (KUN, K, social), H2 (KUN, M), H3 (NOR, K). H4 paid only in 2017.
    expected = {
        ("KUN", "T"): (1, 2, 50.0), ("KUN", "K"): (1, 1, 100.0), ("KUN", "M"): (0, 1, 0.0),
        ("NOR", "T"): (0, 1, 0.0), ("ALL", "T"): (1, 3, 100 / 3), ("ALL", "K"): (1, 2, 50.0),
    }  # fmt: skip
    for key, (num, den, value) in expected.items():
        row = out.loc[key]
        assert (row["numerator"], row["denominator"]) == (num, den), key
        assert row["value"] == pytest.approx(value), key
    assert pd.isna(out.loc[("NOR", "M"), "value"])  # no household: nothing to report
    # Disclosure basis: the smaller of with (1) and without (1) the reason.
    assert out.loc[("KUN", "T"), BASIS] == 1 and out.loc[("ALL", "T"), BASIS] == 1
