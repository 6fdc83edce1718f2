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
