"""Fixtures and the session's environment: an empty source database on SQLite and on PostgreSQL.

Source-side tests take ``empty_db_url`` and run once per backend. Where PostgreSQL is not
reachable they skip with the reason; ``REQUIRE_POSTGRES=1`` (set by .ci/run) turns that into
a failure so CI can never pass by silently skipping. Shared builders live in ``tests/support``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

from tests.support.db import REPO, new_postgres_database, require_postgres

# Airflow reads its settings at import: give the test session its own home, never ~/airflow.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="eb-test-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(REPO / "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(REPO / "plugins"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db_url(request, tmp_path) -> Iterator[str]:
    """URL of a new, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'source.db'}"
        return
    require_postgres()
    url, drop = new_postgres_database()
    try:
        yield url
    finally:
        drop()
