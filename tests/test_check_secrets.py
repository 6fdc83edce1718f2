"""scripts/check-secrets.sh names every missing or weak secret at once (compose names only the
first missing one and accepts any value), from a .env file or from the environment (compose's
check-secrets service). Values are never printed."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REQUIRED = [
    "AIRFLOW_DB_PASSWORD", "REDIS_PASSWORD", "SOURCE_DB_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY", "AIRFLOW_ADMIN_USERNAME", "AIRFLOW_ADMIN_PASSWORD", "MAILPIT_UI_PASSWORD",
    "EB_PSEUDONYM_KEY",
]  # fmt: skip
# Strong values written out by hand (a valid Fernet key: URL-safe base64 of 32 bytes).
STRONG = {
    "AIRFLOW_DB_PASSWORD": "3f9a" * 16,
    "REDIS_PASSWORD": "a1b2" * 16,
    "SOURCE_DB_PASSWORD": "c3d4" * 16,
    "AIRFLOW_FERNET_KEY": base64.urlsafe_b64encode(bytes(range(32))).decode(),
    "AIRFLOW_JWT_SECRET": "e5f6" * 32,
    "AIRFLOW_API_SECRET_KEY": "0a1b" * 16,
    "AIRFLOW_ADMIN_USERNAME": "eb-drift",
    "AIRFLOW_ADMIN_PASSWORD": "Vk3pQz8rTn2wLx5y",
    "MAILPIT_UI_PASSWORD": "Hq7mRt4vNc9sKd2j",
    "EB_PSEUDONYM_KEY": "9e8d" * 16,
}


def _check(env_file: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(REPO / "scripts" / "check-secrets.sh"), str(env_file)], capture_output=True, text=True
    )


def _write(tmp_path: Path, values: dict[str, str]) -> Path:
    env = tmp_path / ".env"
    env.write_text("".join(f"{name}='{value}'\n" for name, value in values.items()))
    return env


def _refused(result: subprocess.CompletedProcess) -> dict[str, str]:
    """Name -> reason from the listing after the first line."""
    assert result.returncode == 1, result.stdout + result.stderr
    return dict(line.strip().split(": ", 1) for line in result.stderr.splitlines()[1:])


def test_every_missing_secret_is_listed_in_one_go(tmp_path):
    env = tmp_path / ".env"
    env.write_text("AIRFLOW_DB_PASSWORD=" + "ab" * 16 + "\nREDIS_PASSWORD=\nEB_IMAGE=\n")
    refused = _refused(_check(env))
    assert list(refused) == REQUIRED[1:]
    assert set(refused.values()) == {"saknas eller är tom"}


def test_strong_values_pass(tmp_path):
    result = _check(_write(tmp_path, STRONG))
    assert result.returncode == 0, result.stderr
    assert "Alla 10 obligatoriska hemligheter" in result.stdout


# Each documented weak default, refused with its reason.
WEAK = {
    "AIRFLOW_ADMIN_USERNAME": ("admin", 'standardnamnet "admin"'),
    "AIRFLOW_ADMIN_PASSWORD": ("admin", "ett känt standardlösenord"),
    "MAILPIT_UI_PASSWORD": ("short-pass", "för kort (10 byte, minst 16)"),
    "EB_PSEUDONYM_KEY": ("k", "för kort (1 byte, minst 32)"),
    # a hex string (openssl rand -hex 32), a common mistake: not base64 of 32 bytes
    "AIRFLOW_FERNET_KEY": ("0123456789abcdef" * 4, "ingen giltig Fernet-nyckel"),
    "AIRFLOW_JWT_SECRET": ("ab" * 20, "för kort (40 byte, minst 64)"),
    "AIRFLOW_DB_PASSWORD": ("a" * 32, "ett och samma tecken upprepat"),
    "REDIS_PASSWORD": (" " * 40, "bara blanksteg"),
    "SOURCE_DB_PASSWORD": ("airflow", "för kort (7 byte, minst 32)"),
    "AIRFLOW_API_SECRET_KEY": ("x" * 64, "ett och samma tecken upprepat"),
}


def test_every_weak_value_is_refused_and_all_are_named_at_once(tmp_path):
    values = {name: WEAK[name][0] for name in REQUIRED}
    result = _check(_write(tmp_path, values))
    refused = _refused(result)
    assert list(refused) == REQUIRED
    for name, (_value, reason) in WEAK.items():
        assert reason in refused[name], (name, refused[name])
    assert "(10 st;" in result.stderr.splitlines()[0]
    for name, (value, _reason) in WEAK.items():  # secret values never shown (a user name may be)
        if name != "AIRFLOW_ADMIN_USERNAME" and len(value.strip()) > 5:
            assert value not in result.stderr, name


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("AIRFLOW_ADMIN_USERNAME", "Airflow", 'standardnamnet "airflow"'),
        (
            "AIRFLOW_ADMIN_PASSWORD",
            "eb-drift",
            "samma som användarnamnet",
        ),  # length 8: the first rule that fails
        ("AIRFLOW_ADMIN_PASSWORD", "short", "för kort (5 byte, minst 16)"),
        ("EB_PSEUDONYM_KEY", "a" * 32, "ett och samma tecken upprepat"),
        ("EB_PSEUDONYM_KEY", "ab" * 15 + "c", "för kort (31 byte, minst 32)"),
        (
            "AIRFLOW_FERNET_KEY",
            base64.urlsafe_b64encode(bytes(31)).decode() + "A",
            "ingen giltig Fernet-nyckel",
        ),
        ("AIRFLOW_FERNET_KEY", "A" * 43 + "=", "ett och samma tecken"),
    ],
    ids=["admin_user_airflow", "admin_password_is_user", "admin_password_short", "key_32_times_a",
         "key_31_bytes", "fernet_31_bytes", "fernet_32_zero_bytes"],  # fmt: skip
)
def test_one_weak_value_among_strong_ones(tmp_path, name, value, reason):
    refused = _refused(_check(_write(tmp_path, {**STRONG, name: value})))
    assert list(refused) == [name] and reason in refused[name]


def test_the_environment_mode_checks_the_same_rules(tmp_path):
    """As compose's check-secrets service runs it: values from the environment, no .env."""
    script = str(REPO / "scripts" / "check-secrets.sh")
    base = {k: v for k, v in os.environ.items() if k not in REQUIRED}
    ok = subprocess.run(
        ["bash", script, "--environment"], env={**base, **STRONG}, capture_output=True, text=True
    )
    assert ok.returncode == 0 and "i miljön" in ok.stdout, ok.stderr
    weak = {**STRONG, "AIRFLOW_ADMIN_USERNAME": "admin", "AIRFLOW_ADMIN_PASSWORD": "admin"}
    bad = subprocess.run(
        ["bash", script, "--environment"], env={**base, **weak}, capture_output=True, text=True
    )
    assert list(_refused(bad)) == ["AIRFLOW_ADMIN_USERNAME", "AIRFLOW_ADMIN_PASSWORD"]
