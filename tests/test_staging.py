"""Staging: purge of old run folders, the run lock, atomic writes."""

import datetime as dt
import logging
import os
from zoneinfo import ZoneInfo

import pytest

from etl import staging
from etl.settings import settings

TZ = "Europe/Stockholm"
TODAY = dt.date(2018, 6, 30)


def _at(path, year, month, day, hour=12, minute=0):
    """Set a path's modification time to a local (Stockholm) wall-clock time."""
    ts = dt.datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(TZ)).timestamp()
    os.utime(path, (ts, ts), follow_symlinks=False)


def _run(root, name, *times):
    """A run folder with one quarantine file per given time, then the folder's own time."""
    run = root / name
    (run / "quarantine").mkdir(parents=True)
    for i, when in enumerate(times):
        f = run / "quarantine" / f"t{i}.parquet"
        f.write_bytes(b"PAR1")
        _at(f, *when)
    _at(run / "quarantine", 2018, 1, 1)
    _at(run, 2018, 1, 1)
    return run


def test_old_runs_go_and_recent_ones_stay(tmp_path, caplog):
    root = tmp_path / "staging"
    old = _run(root, "old", (2018, 4, 1))
    # One old file but a recent one too: the newest counts, so it stays.
    mixed = _run(root, "mixed", (2018, 1, 2), (2018, 6, 25))
    # Retention 30, today 30 June: cut-off is local midnight starting 31 May (30 days ago).
    edge_kept = _run(root, "edge_kept", (2018, 5, 31, 0, 30))  # 30 days old: kept
    edge_gone = _run(root, "edge_gone", (2018, 5, 30, 23, 30))  # 31 days old: removed
    with caplog.at_level(logging.INFO, logger="etl.staging"):
        removed = staging.purge(root, 30, TODAY, TZ)
    assert removed == [root.resolve() / "edge_gone", root.resolve() / "old"]
    assert not old.exists() and not edge_gone.exists()
    assert mixed.exists() and edge_kept.exists()
    assert "old" in caplog.text and "edge_gone" in caplog.text and "2018-05-30" in caplog.text


def test_empty_run_folder_uses_its_own_time(tmp_path):
    root = tmp_path / "staging"
    (root / "empty_old").mkdir(parents=True)
    _at(root / "empty_old", 2018, 1, 1)
    (root / "empty_new").mkdir()
    _at(root / "empty_new", 2018, 6, 29)
    assert staging.purge(root, 30, TODAY, TZ) == [root.resolve() / "empty_old"]
    assert (root / "empty_new").exists()


def test_never_touches_anything_outside_staging(tmp_path):
    root = tmp_path / "staging"
    outside = tmp_path / "archive"
    (outside / "pkg").mkdir(parents=True)
    keep = outside / "pkg" / "statistics.csv"
    keep.write_text("x")
    _at(keep, 2017, 1, 1)
    _at(outside / "pkg", 2017, 1, 1)
    # A link in the staging root to an old folder outside: not a run folder of ours.
    (root).mkdir()
    (root / "link_to_archive").symlink_to(outside / "pkg", target_is_directory=True)
    _at(root / "link_to_archive", 2017, 1, 1)
    # An old run holding a link to a file outside: the run goes, the file outside stays.
    run = _run(root, "old_run", (2018, 1, 5))
    (run / "link").symlink_to(keep)
    _at(run / "link", 2018, 1, 5)
    # A plain file in the staging root is not a run folder.
    (root / "notes.txt").write_text("x")
    _at(root / "notes.txt", 2017, 1, 1)
    assert staging.purge(root, 30, TODAY, TZ) == [root.resolve() / "old_run"]
    assert keep.read_text() == "x" and (outside / "pkg").is_dir()
    assert (root / "link_to_archive").is_symlink() and (root / "notes.txt").exists()


def test_a_link_to_a_recent_file_outside_does_not_keep_an_old_run(tmp_path):
    # Only the link's own time counts, not its target's (which may be anything).
    root = tmp_path / "staging"
    target = tmp_path / "fresh.txt"
    target.write_text("x")
    _at(target, 2018, 6, 29)
    run = _run(root, "old_run", (2018, 1, 5))
    (run / "link").symlink_to(target)
    _at(run / "link", 2018, 1, 5)
    assert staging.purge(root, 30, TODAY, TZ) == [root.resolve() / "old_run"]
    assert target.exists()


def test_missing_staging_root_is_nothing_to_do(tmp_path):
    assert staging.purge(tmp_path / "none", 30, TODAY, TZ) == []


def test_default_timezone_and_retention_come_from_configuration(tmp_path):
    cfg = settings()
    assert cfg.timezone == TZ and cfg.pipeline.staging.retention_days == 30
    root = tmp_path / "staging"
    _run(root, "old", (2018, 5, 30, 23, 30))
    assert staging.purge(root, cfg.pipeline.staging.retention_days, TODAY) == [root.resolve() / "old"]


@pytest.mark.parametrize("days", [0, -1, "30", True, 1.5, None])
def test_bad_retention_is_refused(tmp_path, days):
    (tmp_path / "run").mkdir()
    _at(tmp_path / "run", 2000, 1, 1)
    with pytest.raises(ValueError, match="retention_days måste vara ett heltal på minst 1"):
        staging.purge(tmp_path, days, TODAY, TZ)
    assert (tmp_path / "run").exists()


@pytest.mark.parametrize("today", [None, "2018-06-30"])
def test_bad_today_is_refused(tmp_path, today):
    with pytest.raises(ValueError, match="Dagens datum"):
        staging.purge(tmp_path, 30, today, TZ)


# --- run lock and atomic writes ----------------------------------------------------------------


def test_a_second_run_of_the_same_folder_is_refused_while_the_first_holds_the_lock(tmp_path):
    run = staging.run_dir(tmp_path, "cli__2018-T1")
    with staging.run_lock(run, "cli__2018-T1") as lock:
        refused = pytest.raises(staging.RunLocked, match="En annan körning pågår redan i .*cli__2018-T1")
        with refused, staging.run_lock(run, "cli__2018-T1"):
            pytest.fail("two runs held the lock at once")
        assert lock.name == ".cli__2018-T1.lock" and not run.exists()  # beside, not in, the run folder
    with staging.run_lock(run, "cli__2018-T1"):  # released when the first run ends
        pass


def test_the_lock_is_released_when_the_holder_is_killed(tmp_path):
    import signal
    import subprocess
    import sys

    run = tmp_path / "cli__2018-T1"
    script = (
        "import os, signal, sys; from pathlib import Path; from etl import staging\n"
        f"with staging.run_lock(Path({str(run)!r}), 'a'):\n"
        "    print('held', flush=True); sys.stdin.readline()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"held\n"
        with pytest.raises(staging.RunLocked), staging.run_lock(run, "b"):
            pass
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    with staging.run_lock(run, "b"):
        pass


def test_atomic_path_leaves_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "out" / "published.csv"
    with staging.atomic_path(target) as tmp:
        tmp.write_text("a\n")
    assert target.read_text() == "a\n"
    with pytest.raises(RuntimeError), staging.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "a\n"
    assert [p.name for p in target.parent.iterdir()] == ["published.csv"]  # no temporary left
