"""scripts/check-secrets.sh names every missing secret at once (compose names only the first)."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REQUIRED = [
    "AIRFLOW_DB_PASSWORD", "REDIS_PASSWORD", "SOURCE_DB_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY", "AIRFLOW_ADMIN_USERNAME", "AIRFLOW_ADMIN_PASSWORD", "EB_PSEUDONYM_KEY",
]  # fmt: skip


def _check(env_file: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(REPO / "scripts" / "check-secrets.sh"), str(env_file)], capture_output=True, text=True
    )


def test_every_missing_secret_is_listed_in_one_go(tmp_path):
    env = tmp_path / ".env"
    env.write_text("AIRFLOW_DB_PASSWORD=abc\nREDIS_PASSWORD=\nEB_IMAGE=\n")
    result = _check(env)
    assert result.returncode == 1
    listed = [line.strip() for line in result.stderr.splitlines()[1:]]
    assert listed == REQUIRED[1:]


def test_complete_env_passes(tmp_path):
    env = tmp_path / ".env"
    env.write_text("".join(f"{name}='x{i}'\n" for i, name in enumerate(REQUIRED)))
    result = _check(env)
    assert result.returncode == 0 and "Alla 9 obligatoriska" in result.stdout
