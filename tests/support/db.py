"""Test databases: the repository root, PostgreSQL availability, new databases, hand-built sources."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[2]

PG_ADMIN_URL = os.environ.get("EB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_reason() -> str | None:
    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"PostgreSQL på {PG_ADMIN_URL} går inte att nå: {type(exc).__name__}: {exc}"


_PG_REASON: str | None | bool = False  # False = not probed yet


def require_postgres() -> None:
    """Skip (or fail under REQUIRE_POSTGRES=1) when PostgreSQL is not reachable."""
    global _PG_REASON
    if _PG_REASON is False:
        _PG_REASON = _postgres_reason()
    if _PG_REASON:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 men {_PG_REASON}")
        pytest.skip(_PG_REASON)


def new_postgres_database() -> tuple[str, callable]:
    """A new, empty PostgreSQL database: its URL and a function that drops it."""
    name = f"eb_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def load_source(url: str, rows: dict[str, list[dict]]) -> None:
    """Create the source contract's tables at ``url`` and insert hand-built ``rows`` per table."""
    from etl import source

    engine = sa.create_engine(url)
    source.metadata.create_all(engine)
    with engine.begin() as conn:
        for name, records in rows.items():
            conn.execute(source.TABLES[name].insert(), records)
    engine.dispose()
