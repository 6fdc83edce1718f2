"""Builders for the gender analysis' tests: staging-typed frames from plain tuples."""

from __future__ import annotations

import pandas as pd

from etl.statistics.gender import REQUIRED


def gender_tables(households, persons, applications, obstacles) -> dict[str, pd.DataFrame]:
    """Frames with the dtypes of validated staging."""
    household = pd.DataFrame(households, columns=["household_id", "district_code", "household_type"]).astype(
        {"household_id": "string", "district_code": "string", "household_type": "Int64"}
    )
    person = pd.DataFrame(persons, columns=["person_id", "household_id", "role", "sex"]).astype("string")
    application = pd.DataFrame(applications, columns=list(REQUIRED["application"])).astype(
        {
            "application_id": "string",
            "household_id": "string",
            "applicant_id": "string",
            "received_on": "datetime64[s]",
            "decided_on": "datetime64[s]",
            "benefit_month": "datetime64[s]",
            "applied_sek": "float64",
            "granted_sek": "float64",
            "decision": "string",
        }
    )
    support_obstacle = pd.DataFrame(obstacles, columns=["person_id", "benefit_month", "code"]).astype(
        {"person_id": "string", "benefit_month": "datetime64[s]", "code": "string"}
    )
    return {
        "household": household,
        "person": person,
        "application": application,
        "support_obstacle": support_obstacle,
    }


HOUSEHOLD_TYPE = {("K", False): 5, ("M", False): 3, ("K", True): 6, ("M", True): 4}
"""household_type of a one-applicant household by the applicant's sex and children."""


def one_applicant_tables(people, year: int = 2018) -> dict[str, pd.DataFrame]:
    """Tables of one-applicant households, one granted decision a month from January.

    ``people``: (name, district, sex, children, försörjningshinder code, [granted kr per month]).
    """
    households, persons, apps, obstacles = [], [], [], []
    for name, district, sex, children, code, amounts in people:
        households.append((f"H{name}", district, HOUSEHOLD_TYPE[(sex, children)]))
        persons.append((f"P{name}", f"H{name}", "registerledare", sex))
        for month, amount in enumerate(amounts, start=1):
            bm = f"{year}-{month:02d}-01"
            apps.append((f"A{name}{month}", f"H{name}", f"P{name}", bm, f"{year}-{month:02d}-05", bm, amount,
                         amount, "bifall"))  # fmt: skip
            obstacles.append((f"P{name}", bm, code))
    return gender_tables(households, persons, apps, obstacles)
