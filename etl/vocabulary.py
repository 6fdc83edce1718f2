"""The shared vocabulary of the statistics: scopes, sexes, columns and disclosure rule names.

Every stage after validation speaks it (case, staff and gender statistics, disclosure, the
reports), so it lives here, importing nothing from the project: no stage has to import
another stage to name a column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the settings (read at DAG parse) import this module
    import pandas as pd

ALL = "ALL"
"""Scope code for the whole unit (all districts together)."""
SEXES = ("T", "K", "M")
"""Totalt, kvinnor, män: every individual-based figure is given for all three."""

COLUMNS = ["indicator_id", "period", "district_code", "sex", "numerator", "denominator", "value", "unit"]
"""Columns of the internal statistics.csv."""
BASIS = "basis_persons"
"""Internal column: the smallest non-zero number of persons (or employees) among the counts a
figure rests on (numerator and, for rates, denominator); 0 when all of them are zero.
Disclosure control reads it."""
RULE = "disclosure_rule"
"""Internal column: which disclosure rule applies to the row (see ``etl.disclosure``)."""
INTERNAL = [*COLUMNS, BASIS, RULE]
"""Columns of statistics.parquet."""
PART_COLUMNS = [c for c in INTERNAL if c != "period"]
"""Columns of the frames each statistics module returns (the builder adds ``period``)."""

PERSONS = "persons"
"""Individual-based: suppressed when resting on 1–4 persons."""
STAFF_GROUP = "staff_group"
"""Staff sick leave: not shown for groups of ten or fewer employees."""
NOT_INDIVIDUAL = "none"
"""Places, amounts not tied to persons, reported values without a basis: never suppressed."""
DISCLOSURE_RULES = (PERSONS, STAFF_GROUP, NOT_INDIVIDUAL)


def require_columns(tables: Mapping[str, pd.DataFrame], required: Mapping[str, tuple[str, ...]]) -> None:
    """Fail with a clear message, not a KeyError, when a table or column is not there."""
    for name, cols in required.items():
        if name not in tables:
            raise ValueError(f"Statistiken kan inte beräknas: tabellen {name} saknas.")
        missing = [c for c in cols if c not in tables[name].columns]
        if missing:
            raise ValueError(
                f"Statistiken kan inte beräknas: tabellen {name} saknar kolumnerna {', '.join(missing)}."
            )
