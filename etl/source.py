"""The source contract: every table the case and HR systems hand us, defined once.

Extraction, the demo generator, validation and the docs all read these definitions, so a
column is named in exactly one place (docs/source-contract.md explains each one).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
)

metadata = MetaData()

district = Table(
    "district",
    metadata,
    Column("district_code", Text, primary_key=True),
    Column("name", Text),
)

population = Table(
    "population",
    metadata,
    Column("year", Integer),
    Column("district_code", Text),
    Column("sex", Text),
    Column("age", Integer),
    Column("count", Integer),
)

household = Table(
    "household",
    metadata,
    Column("household_id", Text, primary_key=True),
    Column("district_code", Text),
    Column("household_type", Integer),
    Column("opened_on", Date),
    Column("closed_on", Date, nullable=True),
)

person = Table(
    "person",
    metadata,
    Column("person_id", Text, primary_key=True),
    Column("household_id", Text),
    Column("role", Text),
    Column("sex", Text),
    Column("birth_date", Date),
    Column("born_abroad", Boolean),
)

application = Table(
    "application",
    metadata,
    Column("application_id", Text, primary_key=True),
    Column("household_id", Text),
    Column("applicant_id", Text),
    Column("received_on", Date),
    Column("decided_on", Date, nullable=True),
    Column("benefit_month", Date),
    Column("applied_sek", Numeric(12, 2)),
    Column("granted_sek", Numeric(12, 2), nullable=True),
    Column("decision", Text, nullable=True),
    Column("handler_id", Text),
)

payment = Table(
    "payment",
    metadata,
    Column("payment_id", Text, primary_key=True),
    Column("household_id", Text),
    Column("application_id", Text, nullable=True),
    Column("benefit_month", Date),
    Column("paid_on", Date),
    Column("amount_sek", Numeric(12, 2)),
)

support_obstacle = Table(
    "support_obstacle",
    metadata,
    Column("person_id", Text),
    Column("benefit_month", Date),
    Column("code", Text),
)

intervention = Table(
    "intervention",
    metadata,
    Column("intervention_id", Text, primary_key=True),
    Column("person_id", Text),
    Column("kind", Text),
    Column("started_on", Date),
    Column("ended_on", Date, nullable=True),
    Column("outcome", Text, nullable=True),
)

job_place = Table(
    "job_place",
    metadata,
    Column("place_id", Text, primary_key=True),
    Column("kind", Text),
    Column("district_code", Text),
    Column("offered_on", Date),
)

staff = Table(
    "staff",
    metadata,
    Column("staff_id", Text, primary_key=True),
    Column("sex", Text),
    Column("role", Text),
    Column("birth_year", Integer),
    Column("employed_from", Date),
    Column("employed_to", Date, nullable=True),
)

staff_month = Table(
    "staff_month",
    metadata,
    Column("staff_id", Text),
    Column("month", Date),
    Column("fte", Numeric(4, 2)),
    Column("scheduled_hours", Numeric(8, 2)),
    Column("sick_hours", Numeric(8, 2)),
    Column("sick_hours_day_1_14", Numeric(8, 2)),
    Column("sick_hours_day_60_plus", Numeric(8, 2)),
)

indicator_input = Table(
    "indicator_input",
    metadata,
    Column("indicator_id", Text),
    Column("year", Integer),
    Column("tertial", Integer, nullable=True),
    Column("district_code", Text, nullable=True),
    Column("sex", Text),
    Column("value", Numeric(12, 4)),
)

booked_cost = Table(
    "booked_cost",
    metadata,
    Column("month", Date),
    Column("district_code", Text),
    Column("account", Text),
    Column("cost_sek", Numeric(14, 2)),
    Column("income_sek", Numeric(14, 2)),
)
"""The ledger's booked costs and income per month, district and budget line (handlaggning,
arbetsmarknadsatgarder): the outcome the plan's budget lines other than bistånd are followed up
against. Not about individuals."""

TABLES: dict[str, Table] = dict(metadata.tables)
"""Every source table by name. No foreign keys on purpose: the source is not ours to constrain,
so broken references must be loadable (and are caught by validation instead)."""

BIG_TABLES = ("household", "person", "application", "payment", "support_obstacle")
"""The tables that grow with the caseload (0.3–3.8 M rows nationally): one extraction task each
in Airflow, so the grid shows each. The others (a few hundred to a few hundred thousand rows)
take well under a second to read, less than starting a task process for each."""
SMALL_TABLES = "small_tables"
EXTRACT_TASKS: dict[str, tuple[str, ...]] = {
    **{name: (name,) for name in TABLES if name in BIG_TABLES},
    SMALL_TABLES: tuple(name for name in TABLES if name not in BIG_TABLES),
}
"""The DAG's extraction tasks (``extract.<name>``) and the tables each extracts, in order."""
LONGEST_FIRST = ("application", "support_obstacle", "payment", "person", "household", SMALL_TABLES)
"""The extraction tasks by their national reading time, longest first: the order a CLI run starts
them in, so that with two at a time the long ones run beside each other."""

# Columns holding a personnummer/samordningsnummer; pseudonymised at extraction.
PERSON_ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "person": ("person_id",),
    "application": ("applicant_id",),
    "support_obstacle": ("person_id",),
    "intervention": ("person_id",),
}

# Columns holding an employee id; pseudonymised too (sick leave is sensitive personal data).
STAFF_ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "staff": ("staff_id",),
    "staff_month": ("staff_id",),
    "application": ("handler_id",),
}


def sqlite_read_only_url(path: str | Path) -> str:
    """SQLAlchemy URL opening the SQLite file at ``path`` read-only (``mode=ro``).

    A plain ``sqlite:///path`` creates an empty database when the file is missing, so a moved
    or unmounted source would look like a source without tables; read-only, it is an error.
    """
    return f"sqlite:///file:{quote(str(Path(path).absolute()))}?mode=ro&uri=true"


def read_only(url: str) -> str:
    """``url`` itself, or for a SQLite file its read-only form (other databases: unchanged)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return url
    if parsed.database.startswith("file:"):
        return url  # already a URI; the caller chose its mode
    return sqlite_read_only_url(parsed.database)
