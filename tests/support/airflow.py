"""Running Airflow in a subprocess for tests: the environment it gets."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.support.db import REPO

PSEUDONYM_KEY = "airflow-test-pseudonym-key-" * 2
"""At least 32 bytes and not one character repeated (etl.pseudonym.load_key refuses those)."""


def airflow_env(home: Path, metadata_url: str, source_conn: dict, data_dir: Path) -> dict:
    """Environment for an `airflow` subprocess: its own home and metadata database, no inherited EB_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "EB_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=metadata_url,
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(REPO / "plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW_CONN_EB_SOURCE=json.dumps(source_conn),
        AIRFLOW_CONN_EB_PSEUDONYM_KEY=json.dumps({"conn_type": "generic", "password": PSEUDONYM_KEY}),
        EB_DATA_DIR=str(data_dir),
        EB_MAIL_MODE="outbox",
        EB_DEADLINE_ALERTS="off",  # dag.test() cannot run deadline alerts (Airflow 3.3.2; see the DAG)
        GX_ANALYTICS_ENABLED="false",
    )
    return env
