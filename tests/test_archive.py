import json

import pytest

from etl import archive
from etl.periods import Period

T1 = Period.parse("2018-T1")


def _files(tmp_path, text="a,b\n1,2\n"):
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "statistics.csv").write_text(text)
    (src / "book.xlsx").write_bytes(b"PK\x03\x04fake")
    return {"statistics.csv": src / "statistics.csv", "workbooks/book.xlsx": src / "book.xlsx"}


def test_package_has_manifest_with_sha256_of_every_file(tmp_path):
    res = archive.archive_package(tmp_path / "arkiv", T1, _files(tmp_path), {"run_id": "r1"})
    assert res.created and res.version == 1 and res.path == tmp_path / "arkiv" / "2018" / "T1" / "v1"
    manifest = json.loads((res.path / "manifest.json").read_text())
    # sha256("a,b\n1,2\n") computed independently with `printf 'a,b\n1,2\n' | sha256sum`
    assert manifest["files"]["statistics.csv"] == {
        "sha256": "492d5ea496056f1a6a6592241032fab764c321596317930b4fa0e1e8bc3b7470",
        "size": 8,
    }
    assert set(manifest["files"]) == {"statistics.csv", "workbooks/book.xlsx"}
    assert manifest["run_id"] == "r1" and manifest["period"] == "2018-T1"


def test_identical_rerun_reuses_version_and_changed_content_is_new_version(tmp_path):
    root = tmp_path / "arkiv"
    first = archive.archive_package(root, T1, _files(tmp_path), {"run_id": "r1"})
    again = archive.archive_package(root, T1, _files(tmp_path), {"run_id": "r2"})
    assert (again.path, again.created) == (first.path, False)
    changed = archive.archive_package(root, T1, _files(tmp_path, "a,b\n1,3\n"), {"run_id": "r3"})
    assert changed.created and changed.version == 2
    assert json.loads((first.path / "manifest.json").read_text())["run_id"] == "r1"  # untouched
    assert sorted(p.name for p in (root / "2018" / "T1").iterdir()) == ["v1", "v2"]


def test_verify_names_altered_missing_and_extra_files(tmp_path):
    root = tmp_path / "arkiv"
    res = archive.archive_package(root, T1, _files(tmp_path), {})
    assert archive.verify(root) == []
    (res.path / "statistics.csv").write_text("a,b\n9,9\n")
    (res.path / "workbooks" / "book.xlsx").unlink()
    (res.path / "extra.txt").write_text("x")
    problems = archive.verify(root)
    assert any("ändrad: statistics.csv" in p for p in problems)
    assert any("saknas: workbooks/book.xlsx" in p for p in problems)
    assert any("okänd fil: extra.txt" in p for p in problems)


def test_failure_before_rename_leaves_no_package(tmp_path, monkeypatch):
    root = tmp_path / "arkiv"

    def boom(*_):
        raise OSError("killed")

    monkeypatch.setattr(archive.os, "rename", boom)
    with pytest.raises(OSError):
        archive.archive_package(root, T1, _files(tmp_path), {})
    assert list((root / "2018" / "T1").iterdir()) == []
    monkeypatch.undo()
    assert archive.archive_package(root, T1, _files(tmp_path), {}).version == 1
