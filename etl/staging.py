"""Run-scoped staging storage: one folder per run, one Parquet file per table and stage.

Everything between tasks travels through here, never through XCom. Paths are plain
``pathlib.Path`` or Airflow's ``ObjectStoragePath`` (same interface), so a deployment can
point staging at S3-compatible storage without code changes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

log = logging.getLogger(__name__)

RAW = "raw"
VALIDATED = "validated"
QUARANTINE = "quarantine"

_SAFE_RUN_ID = re.compile(r"[^A-Za-z0-9_.-]+")


def run_dir(staging_root: Path, run_id: str) -> Path:
    """The staging folder of one run; the run id is made filesystem-safe."""
    return Path(staging_root) / _SAFE_RUN_ID.sub("_", run_id)


def table_path(run: Path, stage: str, table: str) -> Path:
    return Path(run) / stage / f"{table}.parquet"


def meta_path(run: Path, stage: str, table: str) -> Path:
    return Path(run) / stage / f"{table}.meta.json"


def read_table(run: Path, stage: str, table: str) -> pd.DataFrame:
    return pd.read_parquet(table_path(run, stage, table))


def write_json(path: Path, data: Any) -> Path:
    """Write JSON deterministically (sorted keys, UTF-8, trailing newline), atomically."""
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; renamed onto ``path`` only when the block ends
    without error, so a reader (or a killed run) never sees a partial or empty file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class RunLocked(RuntimeError):
    """Another run holds the lock of this run folder (the same period, at the same time)."""


@contextlib.contextmanager
def run_lock(run: Path, run_id: str) -> Iterator[Path]:
    """Hold an exclusive lock on ``run`` for a whole run; a second run of the same folder is
    refused at once (:class:`RunLocked`) instead of mixing its files with the first one's.

    The lock is ``.<run folder>.lock`` beside the folder (purge leaves plain files alone), an
    ``flock`` that the kernel releases when the process ends, even by SIGKILL; the file names the
    holder for the operator."""
    run = Path(run)
    run.parent.mkdir(parents=True, exist_ok=True)
    lock = run.parent / f".{run.name}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = lock.read_text(encoding="utf-8", errors="replace").strip() or "okänd"
            raise RunLocked(
                f"En annan körning pågår redan i {run} ({holder}). Vänta tills den är klar; två "
                "samtidiga körningar av samma period skulle blanda sina filer."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"körning {run_id}, process {os.getpid()} på {socket.gethostname()}\n".encode())
        yield lock
    finally:
        os.close(fd)  # releases the lock


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _newest_change(folder: Path) -> float:
    """Newest modification time of any file in ``folder`` (the folder's own when it is empty).

    Symbolic links are not followed: their own time counts, not their target's."""
    times = [
        os.lstat(os.path.join(parent, name)).st_mtime
        for parent, _dirs, files in os.walk(folder, followlinks=False)
        for name in files
    ]
    return max(times, default=folder.lstat().st_mtime)


def purge(staging_root: Path, retention_days: int, today: dt.date, timezone: str | None = None) -> list[Path]:
    """Delete run folders whose newest file is older than ``retention_days`` days.

    Staging holds quarantined rows with pseudonymised personal data, so it must not live
    forever. Only real folders directly inside ``staging_root`` are considered (symbolic links
    and plain files are left alone), and nothing outside it is touched. A folder is removed
    when (today − the local date of its newest file) > ``retention_days``; ``timezone``
    defaults to the unit's. Returns the removed folders, sorted.
    """
    if isinstance(retention_days, bool) or not isinstance(retention_days, int) or retention_days < 1:
        raise ValueError(
            f"staging.retention_days måste vara ett heltal på minst 1 (var {retention_days!r}); "
            "0 skulle radera pågående körningar."
        )
    if not isinstance(today, dt.date):
        raise ValueError(f"Dagens datum saknas eller är ogiltigt: {today!r}.")
    if timezone is None:
        from etl.settings import settings  # not at import: staging itself needs no settings

        timezone = settings().timezone
    root = Path(staging_root)
    if not root.is_dir():
        return []
    root = root.resolve()
    keep_from = dt.date(today.year, today.month, today.day) - dt.timedelta(days=retention_days)
    cutoff = dt.datetime.combine(keep_from, dt.time(0), tzinfo=ZoneInfo(timezone)).timestamp()
    removed = []
    for entry in sorted(root.iterdir()):
        if entry.is_symlink() or not entry.is_dir() or entry.resolve().parent != root:
            continue
        newest = _newest_change(entry)
        if newest < cutoff:
            shutil.rmtree(entry)
            changed = dt.datetime.fromtimestamp(newest, ZoneInfo(timezone)).date()
            log.info("Rensade mellanlagringen %s (senast ändrad %s)", entry.name, changed.isoformat())
            removed.append(entry)
    return removed
