"""Run-scoped staging on object storage: each step gets a local copy, changes go back."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from airflow.sdk import ObjectStoragePath

from etl import storage
from etl.pipeline import plan_run


@pytest.fixture(autouse=True)
def memory_store():
    """An in-memory fsspec file system standing in for S3 (Airflow's ObjectStoragePath knows only
    registered schemes; a deployment's provider registers s3://)."""
    from airflow.sdk.io import attach
    from fsspec.implementations.memory import MemoryFileSystem

    attach("memory", fs=MemoryFileSystem())


def test_local_staging_is_used_in_place(tmp_path):
    run = tmp_path / "staging" / "r1"
    with storage.local_run(str(run)) as local:
        assert local == run and run.is_dir()
        (local / "raw").mkdir()
        (local / "raw" / "t.parquet").write_bytes(b"x")
    assert (run / "raw" / "t.parquet").read_bytes() == b"x"


def test_remote_staging_round_trips_through_a_scratch_copy():
    url = f"memory://eb-test-{uuid.uuid4().hex}/staging/r1"
    scratches = []
    with storage.local_run(url) as local:  # step 1 (e.g. extract) writes two files
        scratches.append(local)
        (local / "raw").mkdir()
        (local / "raw" / "a.parquet").write_bytes(b"first")
        (local / "raw" / "b.parquet").write_bytes(b"other")
    remote = ObjectStoragePath(url)
    assert (remote / "raw" / "a.parquet").read_bytes() == b"first"
    with storage.local_run(url) as local:  # step 2 (another worker) sees them, changes one
        scratches.append(local)
        assert (local / "raw" / "b.parquet").read_bytes() == b"other"
        (local / "raw" / "a.parquet").write_bytes(b"second")
        (local / "out.csv").write_text("n\n1\n")
    assert (remote / "raw" / "a.parquet").read_bytes() == b"second"
    assert (remote / "out.csv").read_text() == "n\n1\n"
    assert (remote / "raw" / "b.parquet").read_bytes() == b"other"
    assert not any(Path(s).exists() for s in scratches), "scratch copies are removed"
    assert scratches[0] != Path(remote.path)


def test_plan_puts_the_run_on_object_storage_when_configured(tmp_path, monkeypatch):
    monkeypatch.setenv("EB_STAGING_URL", "memory://eb-plan/staging")
    plan = plan_run("manual__2018-05-16T00:00:00+00:00", period="2018-T1", data_dir=tmp_path)
    assert plan.run_dir == "memory://eb-plan/staging/manual__2018-05-16T00_00_00_00_00"
    assert plan.archive_root == str(tmp_path / "archive")  # the archive stays on its volume
    monkeypatch.delenv("EB_STAGING_URL")
    local = plan_run("r", period="2018-T1", data_dir=tmp_path)
    assert local.run_dir == str((tmp_path / "staging" / "r").resolve())
