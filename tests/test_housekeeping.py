"""etl.housekeeping: what the daily DAG and every run's start purge (real files, real mtimes)."""

from __future__ import annotations

import os
import time

from etl import housekeeping


def _aged(folder, days: float) -> None:
    """A staging run folder whose only file was last changed ``days`` days ago."""
    folder.mkdir(parents=True)
    f = folder / "quarantine.parquet"
    f.write_bytes(b"x")
    then = time.time() - days * 86400
    os.utime(f, (then, then))


def test_expired_staging_goes_and_fresh_stays(tmp_path, monkeypatch):
    monkeypatch.delenv("EB_STAGING_URL", raising=False)
    staging = tmp_path / "staging"
    _aged(staging / "old_run", 45)  # config/pipeline.yml staging.retention_days: 30
    _aged(staging / "recent_run", 3)
    assert housekeeping.purge(tmp_path) == [str((staging / "old_run").resolve())]
    assert sorted(p.name for p in staging.iterdir()) == ["recent_run"]


def test_nothing_to_do_without_staging_or_archive(tmp_path, monkeypatch):
    monkeypatch.delenv("EB_STAGING_URL", raising=False)
    assert housekeeping.purge(tmp_path) == []
    assert list(tmp_path.iterdir()) == []  # creates nothing
