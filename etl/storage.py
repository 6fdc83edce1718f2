"""Run-scoped staging storage: where tasks hand each other files, on any worker.

The staging root is an Airflow ``ObjectStoragePath``: ``$EB_STAGING_URL`` (e.g.
``s3://bucket/staging`` with connection ``$EB_STAGING_CONN_ID``), else the local folder
``$EB_DATA_DIR/staging``. Steps work on a local folder: with local staging that folder *is*
the run's staging folder; with remote staging each step downloads the run's files to a
scratch folder, works there, and uploads what it created or changed, so Celery workers on
different machines see one another's files. Nothing large ever goes through XCom.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from etl.archive import sha256
from etl.settings import env

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)

LOCAL_PROTOCOLS = ("file", "local", "")
_CHUNK = 1 << 20


def remote(url: str) -> ObjectStoragePath:
    """Airflow's object storage path for ``url`` (imported only when staging is remote, so the
    CLI and the statistics never import Airflow)."""
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(url, conn_id=env().staging_conn_id)


def staging_root(data_dir: Path) -> str:
    """``$EB_STAGING_URL`` if set, else the local folder ``<data_dir>/staging``."""
    return env().staging_url or str(Path(data_dir).resolve() / "staging")


def is_local(url: str) -> bool:
    """A plain path or a ``file://`` URL: steps can work in the staging folder itself."""
    return "://" not in url or remote(url).protocol in LOCAL_PROTOCOLS


def local_path(url: str) -> Path:
    """The folder of a local staging URL or path."""
    return Path(remote(url).path if "://" in url else url)


def _local_files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): sha256(p) for p in folder.rglob("*") if p.is_file()}


@contextlib.contextmanager
def local_run(run_url: str) -> Iterator[Path]:
    """A local folder holding the run's staged files for the duration of one step."""
    if is_local(run_url):
        local = local_path(run_url)
        local.mkdir(parents=True, exist_ok=True)
        yield local
        return
    target = remote(run_url)
    scratch = Path(tempfile.mkdtemp(prefix="eb-run-"))
    try:
        if target.exists():
            for src in target.rglob("*"):
                if src.is_file():
                    dst = scratch / PurePosixPath(src.path).relative_to(PurePosixPath(target.path))
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    with src.open("rb") as fin, open(dst, "wb") as fout:
                        shutil.copyfileobj(fin, fout, _CHUNK)
        before = _local_files(scratch)
        yield scratch
        after = _local_files(scratch)
        changed = sorted(name for name, digest in after.items() if before.get(name) != digest)
        for name in changed:
            dst = target / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            with open(scratch / name, "rb") as fin, dst.open("wb") as fout:
                shutil.copyfileobj(fin, fout, _CHUNK)
        log.info("Laddade upp %d ändrade filer till %s", len(changed), target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
