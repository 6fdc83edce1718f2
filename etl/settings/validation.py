"""config/validation.yml: settings of the validation stage (the rules are expectations/*.json)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from etl.settings.base import Frozen


class Quarantine(Frozen):
    stop_enabled: bool
    max_share: float = Field(ge=0, le=1)
    """More than this share of a table's rows in quarantine is critical."""
    min_rows: int = Field(ge=1)
    """... once at least this many rows are quarantined."""


class Amounts(Frozen):
    max_payment_sek: float = Field(gt=0)


class Dates(Frozen):
    earliest: dt.date
    fact_days_after_period_end: int = Field(ge=0)
    max_years_after_period_end: int = Field(ge=0)


class Validation(Frozen):
    required_tables: tuple[str, ...]
    optional_tables: tuple[str, ...] = ()
    """Tables whose absence from the source only warns (the workbook says "saknas")."""
    quarantine: Quarantine
    amounts: Amounts
    dates: Dates
    staff_age: tuple[int, int]
    examples: int = Field(ge=0)
    data_docs: bool
    sex_history_years: int = Field(ge=1)

    @model_validator(mode="after")
    def _ages(self) -> Validation:
        low, high = self.staff_age
        if not 0 <= low < high:
            raise ValueError(f"staff_age {list(self.staff_age)} ska vara [lägsta, högsta], lägsta < högsta")
        return self
