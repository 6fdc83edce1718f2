"""docker-compose.yml, Dockerfile, .dockerignore and .env.example checked as files.

No Docker engine is needed: the compose file is read with PyYAML (anchors and merge keys
resolved) and interpolated here the way compose does it. Where a compose client is installed
(`docker compose` v2, or the standalone `docker-compose`), `config -q` validates the file too,
with a temporary .env of generated placeholder values; without one that test skips.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.db import REPO

pytestmark = pytest.mark.slow

COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERIGNORE = REPO / ".dockerignore"

AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-worker": "celery worker",
    "airflow-triggerer": "triggerer",
    "airflow-init": None,
}
OTHER_SERVICES = {"check-secrets", "postgres", "redis", "source-db", "source-seed", "mailpit"}
ONE_SHOT = {"check-secrets", "airflow-init", "source-seed"}
SECRETS = {
    "AIRFLOW_DB_PASSWORD",
    "REDIS_PASSWORD",
    "SOURCE_DB_PASSWORD",
    "AIRFLOW_FERNET_KEY",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY",
    "AIRFLOW_ADMIN_USERNAME",
    "AIRFLOW_ADMIN_PASSWORD",
    "EB_PSEUDONYM_KEY",
    "MAILPIT_UI_PASSWORD",
}
# ${VAR}, ${VAR:?msg}, ${VAR?msg}, ${VAR:-default}, ${VAR-default}; $$ is a literal $.
VAR_REF = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[?-])([^}]*))?\}")


@pytest.fixture(scope="module")
def raw() -> str:
    """The compose file without its comment lines (compose never interpolates comments)."""
    lines = COMPOSE.read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(ln for ln in lines if not ln.lstrip().startswith("#"))


@pytest.fixture(scope="module")
def compose(raw) -> dict:
    return yaml.safe_load(raw)


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f".env.example: raden {line!r} saknar '='"
            values[name.strip()] = value.strip()
    return values


def _placeholder_env() -> dict[str, str]:
    """A filled-in .env: every variable of .env.example, secrets generated as .env.example says."""
    from cryptography.fernet import Fernet

    values = dict.fromkeys(_env_example(), "")
    values.update({name: secrets.token_hex(32) for name in SECRETS})
    values.update(
        AIRFLOW_FERNET_KEY=Fernet.generate_key().decode(),
        AIRFLOW_ADMIN_PASSWORD=secrets.token_urlsafe(24),
        AIRFLOW_JWT_SECRET=secrets.token_hex(64),
        AIRFLOW_ADMIN_USERNAME="eb-admin",
    )
    return values


def _interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation, enough for this file: raises like compose on a missing ``:?``."""

    def replace(m: re.Match) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        value = env.get(name)
        if op == ":?" and not value:
            raise LookupError(f"{name}: {arg}")
        if op == ":-" and not value:
            return arg
        return value or ""

    return VAR_REF.sub(replace, text).replace("$$", "$")


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {k: str(v) for k, v in env.items()}


def _dockerfile_env() -> dict[str, str]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    env = {}
    for line in text.splitlines():
        if line.strip().startswith("ENV "):
            env.update(re.findall(r"([A-Z_][A-Z0-9_]*)=(\S+)", line))
    return env


# -- services ---------------------------------------------------------------------------------


def test_all_required_services_exist(services):
    assert set(AIRFLOW_SERVICES) | OTHER_SERVICES <= set(services)


def test_airflow_services_run_their_component(services):
    for name, component in AIRFLOW_SERVICES.items():
        if component is None:
            continue
        command = services[name]["command"]
        text = " ".join(command) if isinstance(command, list) else command
        assert component in text, (name, text)
    assert "airflow db migrate" in services["airflow-init"]["command"][0]
    # The source-database pool the DAG's extract tasks use (config/pipeline.yml).
    assert "/opt/eb/scripts/airflow-pools.sh" in services["airflow-init"]["command"][0]


def test_every_long_running_service_has_a_healthcheck(services):
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no", f"{name} is one-shot and must not restart"
            continue
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


def test_apiserver_healthcheck_uses_the_monitor_endpoint(services):
    assert "/api/v2/monitor/health" in " ".join(services["airflow-apiserver"]["healthcheck"]["test"])


def test_airflow_services_wait_for_databases_and_init(services):
    for name in set(AIRFLOW_SERVICES) - {"airflow-init"}:
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert deps["redis"]["condition"] == "service_healthy", name
        assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
    assert services["airflow-worker"]["depends_on"]["source-seed"]["condition"] == (
        "service_completed_successfully"
    )
    assert services["source-seed"]["depends_on"]["source-db"]["condition"] == "service_healthy"


def test_nothing_that_stores_or_uses_a_secret_starts_before_check_secrets_passed(services):
    check = services["check-secrets"]
    assert check["entrypoint"] == ["bash", "/opt/eb/scripts/check-secrets.sh", "--environment"]
    assert check["restart"] == "no" and "depends_on" not in check
    assert set(_environment(check)) == SECRETS  # the script sees every secret, and only those
    for name in set(services) - {"check-secrets"}:
        deps = services[name]["depends_on"]
        assert deps["check-secrets"]["condition"] == "service_completed_successfully", name


def test_mailpit_ui_asks_for_a_password_and_is_on_loopback(services):
    mailpit = services["mailpit"]
    auth = _environment(mailpit)["MP_UI_AUTH"]
    password = "${MAILPIT_UI_PASSWORD:?set MAILPIT_UI_PASSWORD in .env (see .env.example)}"
    assert auth == "${MAILPIT_UI_USER:-mailpit}:" + password
    assert mailpit["ports"] == ["${MAILPIT_UI_BIND:-127.0.0.1}:8025:8025"]


def test_airflow_services_share_one_image_built_from_the_dockerfile(services):
    built = {name: (services[name]["image"], json.dumps(services[name]["build"], sort_keys=True))
             for name in [*AIRFLOW_SERVICES, "source-seed"]}  # fmt: skip
    assert len(set(built.values())) == 1, built
    build = services["airflow-scheduler"]["build"]
    assert build["context"] == "." and build.get("dockerfile", "Dockerfile") == "Dockerfile"


def test_celery_executor_with_redis_broker_and_execution_api(services):
    for name in AIRFLOW_SERVICES:
        env = _environment(services[name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://"), name
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql"), name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        for secret in (
            "AIRFLOW__CORE__FERNET_KEY",
            "AIRFLOW__API_AUTH__JWT_SECRET",
            "AIRFLOW__API__SECRET_KEY",
        ):
            assert env[secret].startswith("${") and ":?" in env[secret], (name, secret)
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
        # So that `backfill create --from-date 2018-01-01` (docs/deployment.md) includes 2018-T1.
        assert env["AIRFLOW__CORE__DEFAULT_TIMEZONE"] == "Europe/Stockholm"


# -- secrets ----------------------------------------------------------------------------------


def test_every_secret_is_required_and_never_defaulted(raw):
    refs = VAR_REF.findall(raw)
    used = {name for name, _, _ in refs}
    assert used >= SECRETS, f"secrets not used: {SECRETS - used}"
    for name, op, _ in refs:
        if name in SECRETS:
            assert op == ":?", f"${{{name}}} must be written ${{{name}:?message}}, not with {op or 'nothing'}"
    assert not re.search(r"(?<!\$)\$(?!\{|\$)[A-Za-z_]", raw), "bare $VAR: write ${VAR:?...} or $$VAR"


def test_no_hard_coded_passwords_or_default_admin(raw, services):
    lowered = raw.lower()
    for bad in ("admin:admin", "airflow:airflow", "_airflow_www_user", "all_admins"):
        assert bad not in lowered, bad
    secret_key = re.compile(r"PASSWORD|SECRET|FERNET|_KEY$|REQUIREPASS", re.IGNORECASE)
    for name, service in services.items():
        for key, value in _environment(service).items():
            if secret_key.search(key) and not key.endswith("_FILE") and not key.startswith("AIRFLOW_CONN_"):
                assert VAR_REF.fullmatch(value), f"{name}: {key} must come from .env, not {value!r}"
            # Credentials inside URLs and connection JSON must be references as well.
            for cred in re.findall(r"://[^:/@]*:([^@]+)@", value) + re.findall(
                r'"password":\s*"([^"]*)"', value
            ):
                assert VAR_REF.fullmatch(cred), f"{name}: {key} has a literal credential"


def test_pseudonym_key_and_source_connection_only_on_workers(services):
    for name, service in services.items():
        env = _environment(service)
        has = {"AIRFLOW_CONN_EB_PSEUDONYM_KEY", "AIRFLOW_CONN_EB_SOURCE"} & set(env)
        assert not has or name == "airflow-worker", f"{name} must not get {has}"
    env = _environment(services["airflow-worker"])
    assert "EB_PSEUDONYM_KEY:?" in env["AIRFLOW_CONN_EB_PSEUDONYM_KEY"]
    assert "AIRFLOW_CONN_SMTP_DEFAULT" in env


def test_admin_comes_from_env_through_the_passwords_file(services):
    api = services["airflow-apiserver"]
    env = _environment(api)
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].startswith("${AIRFLOW_ADMIN_USERNAME:?")
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].endswith(":admin")
    assert "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" in env
    assert "exec airflow api-server" in api["command"][0]


def test_connections_are_valid_json_once_interpolated(raw):
    rendered = yaml.safe_load(_interpolate(raw, _placeholder_env()))
    conns = {}
    for service in rendered["services"].values():
        for key, value in _environment(service).items():
            if key.startswith("AIRFLOW_CONN_"):
                conns[key] = json.loads(value)
    assert conns["AIRFLOW_CONN_EB_SOURCE"]["conn_type"] == "postgres"
    assert conns["AIRFLOW_CONN_EB_SOURCE"]["host"] == "source-db"
    assert len(conns["AIRFLOW_CONN_EB_PSEUDONYM_KEY"]["password"]) >= 32
    smtp = conns["AIRFLOW_CONN_SMTP_DEFAULT"]
    assert (smtp["host"], smtp["port"]) == ("mailpit", 1025)


def test_missing_secret_refuses_to_start(raw):
    env = _placeholder_env()
    for name in SECRETS:
        with pytest.raises(LookupError, match=name):
            _interpolate(raw, {**env, name: ""})


def test_env_example_lists_every_variable_without_real_values(raw):
    example = _env_example()
    used = {name for name, _, _ in VAR_REF.findall(raw)}
    assert used <= set(example), f"missing from .env.example: {sorted(used - set(example))}"
    assert set(example) <= used, f"unused in docker-compose.yml: {sorted(set(example) - used)}"
    for name in SECRETS:
        assert example[name] == "", f".env.example must not hold a value for {name}"
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    for name in SECRETS - {"AIRFLOW_ADMIN_USERNAME"}:  # each secret says how to generate it
        block = text.split(f"\n{name}=")[0].rsplit("\n\n", 1)[-1]
        assert "Generate:" in block, f".env.example: no generator documented for {name}"


# -- volumes and mounts -----------------------------------------------------------------------


def test_named_volumes_for_databases_logs_and_archive(compose, services):
    volumes = set(compose["volumes"])
    assert {"postgres-data", "source-db-data", "airflow-logs", "eb-data"} <= volumes
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "source-db-data:/var/lib/postgresql/data" in services["source-db"]["volumes"]


def test_archive_volume_is_mounted_on_the_workers_at_eb_data_dir(services):
    data_dir = _dockerfile_env()["EB_DATA_DIR"]
    assert f"eb-data:{data_dir}" in services["airflow-worker"]["volumes"]
    for name in AIRFLOW_SERVICES:
        assert "airflow-logs:/opt/airflow/logs" in services[name]["volumes"], name


def test_no_code_is_mounted_into_the_containers(services):
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            assert not source.startswith((".", "/", "~")), (
                f"{name} bind-mounts {volume}: code is in the image"
            )


def test_published_ports_default_to_loopback(services):
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("${") and ":-127.0.0.1}" in str(port), f"{name}: {port}"


# -- Dockerfile and .dockerignore -------------------------------------------------------------


def test_dockerfile_installs_the_lock_then_the_project_as_non_root():
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim", text, re.MULTILINE)
    lock = text.index("pip install --require-hashes -r /tmp/requirements.lock")
    project = text.index("pip install --no-deps .")
    assert lock < project
    assert "COPY requirements.lock" in text
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0"), "the image must run as a non-root user"
    env = _dockerfile_env()
    assert env["AIRFLOW_HOME"] == "/opt/airflow"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"].endswith("/dags")
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"].endswith("/plugins")
    assert env["EB_CONFIG_DIR"].endswith("/config")


def test_dockerignore_admits_only_the_project():
    lines = [ln.strip() for ln in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()]
    rules = [ln for ln in lines if ln and not ln.startswith("#")]
    assert rules[0] == "*", "allowlist: exclude everything first"
    admitted = {r[1:].rstrip("/") for r in rules if r.startswith("!")}
    # demo/: compose's source-seed service generates the demo source with `python -m demo`.
    assert admitted == {"pyproject.toml", "requirements.lock", "etl", "reports", "demo", "dags", "plugins",
                        "config", "expectations", "scripts/airflow-pools.sh", "scripts/check-secrets.sh",
                        ".env.example"}  # fmt: skip
    assert (REPO / ".gitignore").read_text().count(".env") >= 1


# -- a real compose client, where there is one -------------------------------------------------


def _compose_client() -> list[str] | None:
    candidates = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for cmd in candidates:
        probe = subprocess.run([*cmd, "version"], capture_output=True, text=True, timeout=60)
        if probe.returncode == 0:
            return cmd
    return None


@pytest.fixture(scope="module")
def compose_client() -> list[str]:
    cmd = _compose_client()
    if cmd is None:
        pytest.skip("ingen compose-klient: varken `docker compose` eller `docker-compose` finns")
    return cmd


def _compose_config(cmd: list[str], tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()), encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if k not in env}
    args = ["--project-directory", str(REPO), "-f", str(COMPOSE), "--env-file", str(env_file), "config", "-q"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=120, env=clean, cwd=tmp_path)


def test_compose_config_accepts_a_filled_in_env(compose_client, tmp_path):
    result = _compose_config(compose_client, tmp_path, _placeholder_env())
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_config_refuses_a_missing_secret(compose_client, tmp_path):
    env = _placeholder_env()
    env["EB_PSEUDONYM_KEY"] = ""
    result = _compose_config(compose_client, tmp_path, env)
    assert result.returncode != 0
    assert "set EB_PSEUDONYM_KEY in .env" in result.stdout + result.stderr


def test_secrets_generated_as_env_example_says_pass_check_secrets(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in _placeholder_env().items()), encoding="utf-8")
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "check-secrets.sh"), str(env_file)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_every_pin_in_the_lock_has_hashes_and_is_installed_requiring_them():
    text = (REPO / "requirements.lock").read_text(encoding="utf-8")
    hashes = r"(?:    --hash=sha256:[0-9a-f]{64}(?: \\)?\n)+"
    pins = re.findall(r"^[A-Za-z0-9][A-Za-z0-9._-]*==\S+ \\\n" + hashes, text, re.M)
    requirements = [line for line in text.splitlines() if re.match(r"^[A-Za-z0-9]", line)]
    assert len(pins) == len(requirements) > 100, "every pinned requirement carries its hashes"
    assert "pip install --require-hashes -r /tmp/requirements.lock" in DOCKERFILE.read_text(encoding="utf-8")
    assert "pip install --quiet --require-hashes -r requirements.lock" in (REPO / "Makefile").read_text()
