"""Housekeeping of personal data past its retention (docs/deployment.md, "Gallring"): staging
folders of earlier runs (they hold quarantined rows) after ``staging.retention_days``, and the
pseudonyms in archived packages after ``archive.personal_data_retention_days``
(etl/retention.py). Run at the start of every tertial run and daily by the DAG ``housekeeping``,
so nothing waits four months for the next tertial.

Uses today's date: this is housekeeping of files, never part of a result.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from etl import retention, staging, storage
from etl.settings import settings

log = logging.getLogger(__name__)


def purge(data_dir: Path, keep: Path | None = None) -> list[str]:
    """Redact archived packages past their retention and delete earlier runs' staging folders
    past theirs (never ``keep``, the running run's own); returns the staging folders deleted."""
    cfg = settings().pipeline
    days = cfg.archive.personal_data_retention_days
    retention.purge_archive(Path(data_dir) / "archive", days, dt.date.today())  # logs each package
    root = storage.staging_root(Path(data_dir))
    if not storage.is_local(root):
        log.info("Mellanlagringen ligger i objektlagring: rensas av lagringens livscykelregler.")
        return []
    folder = storage.local_path(root)
    if not folder.is_dir():
        return []
    removed = staging.purge(folder, cfg.staging.retention_days, dt.date.today())
    own = Path(keep).resolve() if keep is not None else None
    return [str(p) for p in removed if Path(p).resolve() != own]
