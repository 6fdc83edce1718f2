"""Retention of pseudonyms in the archive (etl/retention.py): after the rule's days from the
period's end a package keeps its figures and counts but no example keys, and still verifies."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from etl import archive, retention
from etl.periods import Period

T1 = Period.parse("2018-T1")
DAYS = 400
TZ = "Europe/Stockholm"
# Archived 2018-05-16 at noon in Stockholm; + 400 days = 2019-06-20 (counted by hand: 2018-05-16
# + 365 = 2019-05-16, + 35 = 2019-06-20).
ARCHIVED = dt.datetime(2018, 5, 16, 12, 0, tzinfo=ZoneInfo(TZ)).timestamp()
DUE = dt.date(2019, 6, 20)
PSEUDONYMS = ["3f2a9c0d1e7b4a55", "a90c11d2e3f4b566"]  # as extraction writes them (hex)


def _report() -> list[dict]:
    return [
        {
            "table": "person",
            "rows_read": 10,
            "rows_accepted": 8,
            "rows_quarantined": 2,
            "critical": [],
            "warnings": [f"person: kön saknas (2 rader), t.ex. {PSEUDONYMS[0]}, {PSEUDONYMS[1]}"],
            "failed_rules": {"kön saknas": 2},
            "status": "varning",
            "rules": [{"rule": "kön saknas", "rows": 2, "examples": list(PSEUDONYMS), "severity": "warning"}],
        }
    ]


def _package(tmp_path: Path) -> tuple[Path, Path]:
    src = tmp_path / "src"
    (src / "gx").mkdir(parents=True)
    (src / "docs").mkdir()
    (src / "statistics.csv").write_text("indikator,varde\nhushall,8\n")
    (src / "validation.json").write_text(
        json.dumps(_report(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    )
    (src / "gx" / "person.json").write_text(json.dumps({"unexpected_list": PSEUDONYMS}))
    (src / "docs" / "index.html").write_text(f"<td>{PSEUDONYMS[0]}</td>")
    files = {
        "statistics.csv": src / "statistics.csv",
        "validation.json": src / "validation.json",
        "validation/gx": src / "gx",
        "validation/data_docs": src / "docs",
    }
    root = tmp_path / "arkiv"
    package = archive.archive_package(root, T1, files, {"run_id": "r1"}).path
    os.utime(package / "manifest.json", (ARCHIVED, ARCHIVED))
    return root, package


def _text_of(folder: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in folder.rglob("*") if p.is_file())


def test_nothing_is_redacted_before_the_due_date(tmp_path):
    root, package = _package(tmp_path)
    assert retention.due_date(package, DAYS, TZ) == DUE
    assert retention.purge_archive(root, DAYS, DUE - dt.timedelta(days=1), TZ) == []
    assert PSEUDONYMS[0] in _text_of(package)


def test_on_the_due_date_pseudonyms_go_counts_stay_and_the_archive_still_verifies(tmp_path):
    root, package = _package(tmp_path)
    before = json.loads((package / "manifest.json").read_text())
    assert retention.purge_archive(root, DAYS, DUE, TZ) == [package]
    text = _text_of(package)
    assert not any(p in text for p in PSEUDONYMS)
    report = json.loads((package / "validation.json").read_text())[0]
    assert (report["rows_read"], report["rows_quarantined"], report["failed_rules"]) == (
        10,
        2,
        {"kön saknas": 2},
    )
    assert report["rules"][0]["examples"] == [] and report["rules"][0]["rows"] == 2
    assert report["warnings"] == ["person: kön saknas (2 rader), t.ex. [gallrat], [gallrat]"]
    assert (
        not (package / "validation" / "gx").exists() and not (package / "validation" / "data_docs").exists()
    )
    assert (package / "statistics.csv").read_text() == "indikator,varde\nhushall,8\n"  # figures kept
    record = json.loads((package / "manifest.json").read_text())["redacted"]
    assert record["rule"] == "archive.personal_data_retention_days = 400"
    assert record["removed"] == ["validation/data_docs/index.html", "validation/gx/person.json"]
    assert record["before"]["content_sha256"] == before["content_sha256"]
    assert archive.verify(root) == []
    assert retention.purge_archive(root, DAYS, DUE + dt.timedelta(days=30), TZ) == []  # once only


def test_a_change_after_redaction_is_still_found(tmp_path):
    root, package = _package(tmp_path)
    retention.purge_archive(root, DAYS, DUE, TZ)
    (package / "validation.json").write_text("[]\n")
    assert archive.verify(root) == [f"{package}: ändrad: validation.json"]


def test_a_forged_redaction_is_found(tmp_path):
    """Someone rewrites a package and its manifest by hand: without the index's redaction entry
    (written by the purge, write-once beside the original entry) verify reports it."""
    root, package = _package(tmp_path)
    retention.purge_archive(root, DAYS, DUE, TZ)
    marker = archive.index_entry(root, package).with_name("2018-T1-v1" + archive.REDACTED_INDEX)
    marker.unlink()
    assert archive.verify(root) == [f"{package}: ändrad: manifest.json (jämfört med arkivets förteckning)"]


def test_a_vb_bundle_referring_to_a_redacted_package_still_verifies(tmp_path):
    root, _ = _package(tmp_path)
    for tertial in ("T2", "T3"):
        other = tmp_path / tertial
        other.mkdir()
        (other / "statistics.csv").write_text(f"{tertial}\n")
        archive.archive_package(
            root, Period.parse(f"2018-{tertial}"), {"statistics.csv": other / "statistics.csv"}, {}
        )
    archive.assemble_vb(root, 2018, {})
    retention.purge_archive(root, DAYS, DUE, TZ)
    assert archive.verify(root) == []


def test_an_interrupted_redaction_is_completed_by_the_next_purge(tmp_path, monkeypatch):
    root, package = _package(tmp_path)
    real = shutil.rmtree

    def killed(*_a, **_k):  # the process dies after validation.json, before the manifest
        raise KeyboardInterrupt

    monkeypatch.setattr(retention.shutil, "rmtree", killed)
    with pytest.raises(KeyboardInterrupt):
        retention.purge_archive(root, DAYS, DUE, TZ)
    assert archive.verify(root)  # half done: reported
    monkeypatch.setattr(retention.shutil, "rmtree", real)
    assert retention.purge_archive(root, DAYS, DUE, TZ) == [package]
    assert archive.verify(root) == [] and PSEUDONYMS[0] not in _text_of(package)


def test_a_package_that_does_not_match_its_manifest_is_not_redacted(tmp_path):
    root, package = _package(tmp_path)
    (package / "statistics.csv").write_text("ändrad\n")
    with pytest.raises(archive.ArchiveError, match="Gallras inte: paketet stämmer inte"):
        retention.purge_archive(root, DAYS, DUE, TZ)
    assert PSEUDONYMS[0] in (package / "validation.json").read_text()  # untouched: evidence kept


def test_the_rule_is_configured_and_documented():
    from etl.settings import settings

    assert settings().pipeline.archive.personal_data_retention_days == DAYS
    docs = (Path(__file__).resolve().parents[1] / "docs" / "deployment.md").read_text(encoding="utf-8")
    assert "personal_data_retention_days" in docs and "Gallring" in docs
