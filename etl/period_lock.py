"""One DAG run per period at a time: a lease file per period, taken in ``plan``, released at the
run's end (success or failure), and taken over when its holder no longer runs.

``max_active_runs=1`` queues a second ordinary run, but a backfill run counts against its own
limit and ``airflow dags test`` runs beside the scheduler: two runs of one period would then
write the same archive period and e-mail ledger at once. The lease lives beside the archive
(``$EB_DATA_DIR/locks/<period>.json``), which every worker shares. A lease whose holder is no
longer queued or running in Airflow (a crashed worker, a run marked failed before it could
release) is stale and is taken over with a warning, so a crash never blocks a period for good.
Check-and-write happens under an ``flock`` on ``locks/.guard`` (kernel-released on any exit),
so two runs deciding at the same moment cannot both win.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from etl import staging

log = logging.getLogger(__name__)

LOCKS = "locks"
GUARD = ".guard"
ACTIVE_STATES = ("queued", "running")
"""Airflow run states in which a holder still holds its period."""


class PeriodLocked(RuntimeError):
    """Another run that is still queued or running holds the period."""


@dataclass(frozen=True)
class Lease:
    period: str
    run_id: str
    taken_at: str
    """When and where, for the operator reading the message (not part of any result)."""
    host: str


def locks_dir(archive_root: Path | str) -> Path:
    """The leases' folder: beside the archive, outside every package."""
    return Path(archive_root).parent / LOCKS


def _path(folder: Path, period: str) -> Path:
    return Path(folder) / f"{period}.json"


@contextlib.contextmanager
def _guard(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / GUARD, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # held for a read and a write: milliseconds
        yield
    finally:
        os.close(fd)


def holder(folder: Path, period: str) -> Lease | None:
    """The current lease of ``period`` (None when free; an unreadable file counts as free)."""
    try:
        return Lease(**staging.read_json(_path(folder, period)))
    except (FileNotFoundError, ValueError, TypeError):
        return None


def acquire(folder: Path, period: str, run_id: str, *, is_active: Callable[[str], bool]) -> Lease:
    """Take ``period`` for ``run_id``; the same run taking it again (a retried or cleared
    ``plan``) keeps it. ``is_active(run_id)`` says whether another holder still runs."""
    folder = Path(folder)
    with _guard(folder):
        current = holder(folder, period)
        if current is not None and current.run_id != run_id:
            if is_active(current.run_id):
                raise PeriodLocked(
                    f"Perioden {period} körs redan av körningen {current.run_id} (startad "
                    f"{current.taken_at} på {current.host}). Två samtidiga körningar av samma period "
                    "skulle skriva samma arkiv och e-postlogg, så den här körningen avbryts utan att "
                    "ha ändrat något. Gör så här: vänta tills den andra körningen är klar (se Dag Runs), "
                    f"och utlös sedan period={period} igen om den behövs."
                )
            log.warning(
                "Perioden %s var låst av körningen %s, som inte längre pågår: låset tas över.",
                period,
                current.run_id,
            )
        lease = Lease(
            period=period,
            run_id=run_id,
            taken_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            host=socket.gethostname(),
        )
        staging.write_json(_path(folder, period), asdict(lease))
    log.info("Perioden %s är låst för körningen %s.", period, run_id)
    return lease


def release(folder: Path, run_id: str) -> list[str]:
    """Release every period ``run_id`` holds (none when another run took it over); returns them."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    freed = []
    with _guard(folder):
        for path in sorted(folder.glob("*.json")):
            current = holder(folder, path.stem)
            if current is not None and current.run_id == run_id:
                path.unlink()
                freed.append(path.stem)
    for period in freed:
        log.info("Perioden %s är frisläppt (körningen %s är klar).", period, run_id)
    return freed
