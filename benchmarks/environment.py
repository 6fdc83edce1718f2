"""What a benchmark runs on: the source database, the pseudonymisation key, the machine.

- **PostgreSQL admin connection:** ``$EB_BENCH_POSTGRES_URL``, else ``$EB_TEST_POSTGRES_URL``, else
  ``postgresql+psycopg://postgres@127.0.0.1:5432/test``. A benchmark database ``eb_bench_<hex>``
  is created next to it and dropped with ``WITH (FORCE)`` at the end.
- **Pseudonymisation key:** ``$EB_PSEUDONYM_KEY`` or ``$EB_PSEUDONYM_KEY_FILE`` if set, else a
  fixed benchmark key (the data is synthetic).
"""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import uuid
from pathlib import Path

import sqlalchemy as sa

from etl import source

ADMIN_URL = os.environ.get(
    "EB_BENCH_POSTGRES_URL",
    os.environ.get("EB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
BENCH_KEY = b"eb-benchmark-key-synthetic-data-only-0123456789"
"""Fixed HMAC key for the synthetic data when no key is configured (≥ 32 bytes)."""
SEED = 2018
REPO = Path(__file__).resolve().parent.parent


def benchmark_key() -> tuple[bytes, str]:
    """The key and where it came from."""
    from etl import pseudonym

    try:
        return pseudonym.load_key(), "environment"
    except pseudonym.PseudonymKeyError:
        return BENCH_KEY, "fixed benchmark key"


def _admin(statement: str) -> None:
    """One statement on the admin connection, outside a transaction (CREATE/DROP DATABASE)."""
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(statement))
    finally:
        admin.dispose()


def create_database() -> tuple[str, str]:
    """A new empty database next to the admin connection: (its URL, its name)."""
    name = f"eb_bench_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    return sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False), name


def drop_database(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def source_has_data(url: str) -> bool:
    """True if any source table of ``url`` has a row (then a benchmark reuses it as it is)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            for name, table in source.TABLES.items():
                if not inspector.has_table(name):
                    continue
                if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
                    return True
        return False
    finally:
        engine.dispose()


def server_version(url: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("select version()")).scalar()
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def machine_info() -> dict:
    mem_kb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = None
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1) if mem_kb else None,
        "git_commit": commit,
    }
