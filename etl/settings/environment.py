"""Every ``EB_*`` environment variable, read in this one place.

Read on each call (cheap), not cached: Airflow workers, the CLI and tests set them per process
or per test, and a stale value would be worse than a second ``os.environ`` lookup.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, SecretStr, field_validator

from etl.settings.base import Frozen, parse

REPO = Path(__file__).resolve().parents[2]

class Environment(Frozen):
    """Each field is read from the variable named by its alias."""

    model_config = ConfigDict(populate_by_name=True)

    config_dir: Path = Field(REPO / "config", alias="EB_CONFIG_DIR")
    data_dir: Path = Field(REPO / "var" / "data", alias="EB_DATA_DIR")
    """Root for staging and the archive."""
    mail_mode: Literal["smtp", "outbox"] | None = Field(None, alias="EB_MAIL_MODE")
    """Overrides delivery.mode in recipients.yml (the demo uses outbox)."""
    schedule_end: dt.date | None = Field(None, alias="EB_SCHEDULE_END")
    """Overrides orchestration.end_date (the demo's data ends with 2019)."""
    staging_url: str | None = Field(None, alias="EB_STAGING_URL")
    """Staging on object storage (e.g. s3://bucket/staging) instead of the data folder."""
    staging_conn_id: str | None = Field(None, alias="EB_STAGING_CONN_ID")
    pseudonym_key: SecretStr | None = Field(None, alias="EB_PSEUDONYM_KEY")
    pseudonym_key_file: Path | None = Field(None, alias="EB_PSEUDONYM_KEY_FILE")
    code_version: str | None = Field(None, alias="EB_CODE_VERSION")
    deadline_alerts: bool = Field(True, alias="EB_DEADLINE_ALERTS")
    """``off`` only for ``airflow dags test`` (Airflow 3.3.2 cannot test a DAG with a deadline)."""

    @field_validator("deadline_alerts", mode="before")
    @classmethod
    def _on_off(cls, value: object) -> object:
        return {"on": True, "off": False}.get(str(value).strip().lower(), value)


def env(environ: Mapping[str, str] | None = None) -> Environment:
    """The ``EB_*`` variables as typed values; an empty variable counts as unset."""
    environ = os.environ if environ is None else environ
    names = [f.alias for f in Environment.model_fields.values()]
    raw = {name: environ[name] for name in names if environ.get(name, "").strip()}
    return parse(Environment, raw, "miljövariabel")


