import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from etl import archive
from etl.periods import Period

T1 = Period.parse("2018-T1")
T2 = Period.parse("2018-T2")
T3 = Period.parse("2018-T3")
ROOT_DIR = Path(__file__).resolve().parent.parent


def _files(tmp_path, text="a,b\n1,2\n"):
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "statistics.csv").write_text(text)
    (src / "book.xlsx").write_bytes(b"PK\x03\x04fake")
    return {"statistics.csv": src / "statistics.csv", "workbooks/book.xlsx": src / "book.xlsx"}


def _entries(base: Path) -> list[str]:
    return sorted(p.name for p in base.iterdir()) if base.exists() else []


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
    # The manifest's own checksum, in sha256sum format, so any byte of the package is covered.
    own = hashlib.sha256((res.path / "manifest.json").read_bytes()).hexdigest()
    assert (res.path / "manifest.sha256").read_text() == f"{own}  manifest.json\n"


def test_identical_rerun_reuses_version_and_changed_content_is_new_version(tmp_path):
    root = tmp_path / "arkiv"
    first = archive.archive_package(root, T1, _files(tmp_path), {"run_id": "r1"})
    again = archive.archive_package(root, T1, _files(tmp_path), {"run_id": "r2"})
    assert (again.path, again.created) == (first.path, False)
    changed = archive.archive_package(root, T1, _files(tmp_path, "a,b\n1,3\n"), {"run_id": "r3"})
    assert changed.created and changed.version == 2
    assert json.loads((first.path / "manifest.json").read_text())["run_id"] == "r1"  # untouched
    assert _entries(root / "2018" / "T1") == ["v1", "v2"]


def test_email_ledger_is_just_a_file_in_the_package(tmp_path):
    ledger = tmp_path / "email_ledger.json"
    ledger.write_text('{"sent": []}\n')
    res = archive.archive_package(tmp_path / "arkiv", T1, {"email_ledger.json": ledger}, {})
    assert (res.path / "email_ledger.json").read_text() == '{"sent": []}\n'
    assert "email_ledger.json" in json.loads((res.path / "manifest.json").read_text())["files"]
    assert archive.verify(tmp_path / "arkiv") == []


# --- a run killed while archiving -------------------------------------------------------------------


def test_failure_before_rename_leaves_no_package(tmp_path, monkeypatch):
    root = tmp_path / "arkiv"

    def boom(*_):
        raise OSError("killed")

    monkeypatch.setattr(archive.os, "rename", boom)
    with pytest.raises(OSError, match="killed"):
        archive.archive_package(root, T1, _files(tmp_path), {})
    assert _entries(root / "2018" / "T1") == []  # no version, and the temporary folder is gone
    assert archive.versions(root, T1) == [] and archive.verify(root) == []
    monkeypatch.undo()
    assert archive.archive_package(root, T1, _files(tmp_path), {}).version == 1


def test_kill_without_cleanup_leaves_only_an_incoming_folder(tmp_path, monkeypatch):
    # As if the process died after writing the temporary package: no `finally` runs.
    root = tmp_path / "arkiv"

    def killed(_folder):
        raise SystemExit("killed")

    monkeypatch.setattr(archive, "_fsync_tree", killed)
    monkeypatch.setattr(archive.shutil, "rmtree", lambda *_a, **_k: None)
    with pytest.raises(SystemExit):
        archive.archive_package(root, T1, _files(tmp_path), {})
    monkeypatch.undo()
    (left,) = _entries(root / "2018" / "T1")
    assert left.startswith(".incoming-") and (root / "2018" / "T1" / left / "manifest.json").exists()
    assert archive.versions(root, T1) == []
    # Reported (it may hold unsuppressed statistics), and removed by the next archiving: its
    # writer is gone (no lock on it), unlike a folder another run is writing right now.
    assert [p.split(": ", 1)[1] for p in archive.verify(root)] == [
        f"ofullständigt paket från en avbruten körning: {left} (tas bort vid nästa arkivering)"
    ]
    live = root / "2018" / "T1" / ".incoming-live"
    live.mkdir()
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a concurrent run's writer holds it
    try:
        res = archive.archive_package(root, T1, _files(tmp_path), {})
    finally:
        os.close(fd)
    assert (res.version, res.created) == (1, True)
    assert _entries(root / "2018" / "T1") == [".incoming-live", "v1"]


def test_real_sigkill_between_writing_and_rename(tmp_path):
    # A separate process is killed with SIGKILL right before the rename.
    root = tmp_path / "arkiv"
    files = {k: str(v) for k, v in _files(tmp_path).items()}
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from etl import archive
        from etl.periods import Period
        archive._fsync_tree = lambda folder: os.kill(os.getpid(), signal.SIGKILL)
        archive.archive_package(Path({str(root)!r}), Period.parse("2018-T1"),
                                {{k: Path(v) for k, v in {files!r}.items()}}, {{}})
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT_DIR, capture_output=True, timeout=60)
    assert proc.returncode == -9, proc.stderr.decode()
    assert archive.versions(root, T1) == []
    assert ["avbruten körning" in p for p in archive.verify(root)] == [True]
    assert archive.archive_package(root, T1, _files(tmp_path), {}).version == 1


# --- tampering --------------------------------------------------------------------------------------


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[0] ^= 0x01  # same size, one bit differs
    path.write_bytes(bytes(data))


def _edit_manifest(path: Path) -> None:
    manifest = json.loads(path.read_text())
    manifest["run_id"] = "forged"
    path.write_text(json.dumps(manifest))


TAMPERING = {
    "altered byte": (lambda p: _flip_byte(p / "statistics.csv"), "ändrad: statistics.csv"),
    "missing file": (lambda p: (p / "workbooks" / "book.xlsx").unlink(), "saknas: workbooks/book.xlsx"),
    "extra file": (lambda p: (p / "extra.txt").write_text("x"), "okänd fil: extra.txt"),
    "extra file in a folder": (
        lambda p: (p / "workbooks" / "x.xlsx").write_text("x"),
        "okänd fil: workbooks/x.xlsx",
    ),
    "edited manifest": (lambda p: _edit_manifest(p / "manifest.json"), "ändrad: manifest.json"),
    "deleted manifest": (lambda p: (p / "manifest.json").unlink(), "saknas: manifest.json"),
    "deleted manifest checksum": (lambda p: (p / "manifest.sha256").unlink(), "saknas: manifest.sha256"),
    "unreadable manifest": (lambda p: (p / "manifest.json").write_text("{"), "går inte att läsa"),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_verify_names_every_kind_of_tampering(tmp_path, case):
    root = tmp_path / "arkiv"
    res = archive.archive_package(root, T1, _files(tmp_path), {"run_id": "r1"})
    assert archive.verify(root) == []
    tamper, message = TAMPERING[case]
    tamper(res.path)
    problems = archive.verify(root)
    assert any(message in p and str(res.path) in p for p in problems), problems


def test_verify_names_several_problems_at_once(tmp_path):
    root = tmp_path / "arkiv"
    res = archive.archive_package(root, T1, _files(tmp_path), {})
    _flip_byte(res.path / "statistics.csv")
    (res.path / "workbooks" / "book.xlsx").unlink()
    (res.path / "extra.txt").write_text("x")
    problems = archive.verify(root)
    assert any("ändrad: statistics.csv" in p for p in problems)
    assert any("saknas: workbooks/book.xlsx" in p for p in problems)
    assert any("okänd fil: extra.txt" in p for p in problems)


def test_verify_notices_a_deleted_version_and_a_stray_folder(tmp_path):
    root = tmp_path / "arkiv"
    v1 = archive.archive_package(root, T1, _files(tmp_path), {})
    archive.archive_package(root, T1, _files(tmp_path, "changed\n"), {})
    for p in sorted(v1.path.rglob("*"), reverse=True):
        p.rmdir() if p.is_dir() else p.unlink()
    v1.path.rmdir()
    (root / "2018" / "T1" / "v2-copy").mkdir()
    problems = archive.verify(root)
    assert any("saknas: paketversion v1" in p for p in problems)
    assert any("okänd fil: v2-copy" in p for p in problems)


# --- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../outside.csv", "Ogiltigt filnamn"),
        ("/abs.csv", "Ogiltigt filnamn"),
        ("manifest.json", "reserverat"),
        ("manifest.sha256", "reserverat"),
    ],
)
def test_bad_file_names_are_refused(tmp_path, name, message):
    src = _files(tmp_path)["statistics.csv"]
    with pytest.raises(archive.ArchiveError, match=message):
        archive.archive_package(tmp_path / "arkiv", T1, {name: src}, {})
    assert not (tmp_path / "outside.csv").exists()


def test_missing_source_file_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(archive.ArchiveError, match="saknas: nope.csv"):
        archive.archive_package(tmp_path / "arkiv", T1, {"nope.csv": tmp_path / "nope.csv"}, {})
    assert archive.versions(tmp_path / "arkiv", T1) == []


# --- the verksamhetsberättelse bundle ----------------------------------------------------------------


def _year(tmp_path, root):
    """Archive T1 twice (v1, v2), T2 and T3 once."""
    out = {}
    archive.archive_package(root, T1, _files(tmp_path, "t1 first\n"), {})
    out["T1"] = archive.archive_package(root, T1, _files(tmp_path, "t1 second\n"), {})
    out["T2"] = archive.archive_package(root, T2, _files(tmp_path, "t2\n"), {})
    out["T3"] = archive.archive_package(root, T3, _files(tmp_path, "t3\n"), {})
    return out


def _trend(tmp_path, content=b"PK\x03\x04trend"):
    path = tmp_path / "trend.xlsx"
    path.write_bytes(content)
    return {"workbooks/Trend_2018.xlsx": path}


def test_vb_references_the_latest_packages_by_hash(tmp_path):
    root = tmp_path / "arkiv"
    packages = _year(tmp_path, root)
    res = archive.assemble_vb(root, 2018, _trend(tmp_path))
    assert (res.path, res.version, res.created) == (root / "2018" / "VB" / "v1", 1, True)
    refs = json.loads((res.path / "references.json").read_text())
    assert refs["year"] == 2018 and set(refs["packages"]) == {"T1", "T2", "T3"}
    assert refs["packages"]["T1"]["path"] == "2018/T1/v2" and refs["packages"]["T1"]["version"] == 2
    for tertial, package in packages.items():
        manifest_bytes = (package.path / "manifest.json").read_bytes()
        assert refs["packages"][tertial]["manifest_sha256"] == hashlib.sha256(manifest_bytes).hexdigest()
        assert refs["packages"][tertial]["content_sha256"] == json.loads(manifest_bytes)["content_sha256"]
    manifest = json.loads((res.path / "manifest.json").read_text())
    assert set(manifest["files"]) == {"references.json", "workbooks/Trend_2018.xlsx"}
    assert manifest["files"]["workbooks/Trend_2018.xlsx"] == {
        "sha256": hashlib.sha256(b"PK\x03\x04trend").hexdigest(),
        "size": 9,  # len(b"PK\x03\x04trend") = 4 + 5
    }
    assert manifest["year"] == 2018 and manifest["package"] == "VB"
    assert archive.verify(root) == []


def test_vb_identical_is_recognised_and_changes_make_new_versions(tmp_path):
    root = tmp_path / "arkiv"
    _year(tmp_path, root)
    first = archive.assemble_vb(root, 2018, _trend(tmp_path))
    again = archive.assemble_vb(root, 2018, _trend(tmp_path))
    assert (again.path, again.created) == (first.path, False)
    other_trend = archive.assemble_vb(root, 2018, _trend(tmp_path, b"PK\x03\x04other"))
    assert (other_trend.version, other_trend.created) == (2, True)
    archive.archive_package(root, T2, _files(tmp_path, "t2 corrected\n"), {})  # T2 v2
    newer = archive.assemble_vb(root, 2018, _trend(tmp_path, b"PK\x03\x04other"))
    assert newer.version == 3
    refs = json.loads((newer.path / "references.json").read_text())
    assert refs["packages"]["T2"]["path"] == "2018/T2/v2"
    assert _entries(root / "2018" / "VB") == ["v1", "v2", "v3"]
    assert archive.verify(root) == []


@pytest.mark.parametrize("present", [("T1", "T2"), ()])
def test_vb_refuses_when_the_full_year_is_missing(tmp_path, present):
    root = tmp_path / "arkiv"
    for name in present:
        archive.archive_package(root, Period.parse(f"2018-{name}"), _files(tmp_path), {})
    with pytest.raises(archive.ArchiveError, match="arkivpaket saknas för T3 2018. Kör den tertialen först"):
        archive.assemble_vb(root, 2018, _trend(tmp_path))
    assert not (root / "2018" / "VB").exists() or _entries(root / "2018" / "VB") == []


def test_vb_without_earlier_tertials_lists_them_as_missing(tmp_path):
    """A first run at T3 (T1 and T2 never run): the bundle is made; the VB workbook computes
    the tertials from the extract, and references.json says they have no package."""
    root = tmp_path / "arkiv"
    archive.archive_package(root, Period.parse("2018-T3"), _files(tmp_path), {})
    res = archive.assemble_vb(root, 2018, _trend(tmp_path))
    refs = json.loads((res.path / "references.json").read_text())
    assert set(refs["packages"]) == {"T3"} and refs["missing"] == ["T1", "T2"]
    assert archive.verify(root) == []


@pytest.mark.parametrize("year", ["2018", 18, True, 2018.0])
def test_vb_refuses_a_bad_year(tmp_path, year):
    with pytest.raises(archive.ArchiveError, match="Ogiltigt år"):
        archive.assemble_vb(tmp_path / "arkiv", year, {})


def test_vb_refuses_to_reference_a_tampered_package(tmp_path):
    root = tmp_path / "arkiv"
    packages = _year(tmp_path, root)
    _flip_byte(packages["T2"].path / "statistics.csv")
    with pytest.raises(archive.ArchiveError, match="ändrad: statistics.csv"):
        archive.assemble_vb(root, 2018, _trend(tmp_path))


def test_verify_checks_the_vb_references(tmp_path):
    root = tmp_path / "arkiv"
    packages = _year(tmp_path, root)
    vb = archive.assemble_vb(root, 2018, _trend(tmp_path))
    # A careful forger rewrites T1's manifest and its checksum file: T1 alone looks intact,
    # but the VB bundle recorded the old manifest hash.
    t1 = packages["T1"].path
    _edit_manifest(t1 / "manifest.json")
    digest = hashlib.sha256((t1 / "manifest.json").read_bytes()).hexdigest()
    (t1 / "manifest.sha256").write_text(f"{digest}  manifest.json\n")
    problems = archive.verify(root)
    assert problems == [  # the archive's index (written at archiving) notices it too
        f"{t1}: ändrad: manifest.json (jämfört med arkivets förteckning)",
        f"{vb.path}: refererat paket ändrat: T1 (2018/T1/v2/manifest.json)",
    ]
    # A referenced package that disappeared is named too.
    for p in sorted(packages["T3"].path.rglob("*"), reverse=True):
        p.rmdir() if p.is_dir() else p.unlink()
    packages["T3"].path.rmdir()
    assert any("refererat paket saknas: T3 (2018/T3/v1)" in p for p in archive.verify(root))


def test_verify_of_an_empty_root_is_clean_and_a_missing_one_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    assert archive.verify(tmp_path / "empty") == []
    missing = tmp_path / "nothing"
    assert archive.verify(missing) == [f"{missing}: arkivet finns inte (fel sökväg?)"]


def test_cli_verify_of_a_nonexistent_path_fails(tmp_path, capsys):
    from etl.__main__ import main

    assert main(["verify", str(tmp_path / "does-not-exist")]) == 1
    assert "arkivet finns inte" in capsys.readouterr().err


@pytest.mark.parametrize("deleted", ["latest", "all", "period"])
def test_verify_notices_a_deleted_latest_version_or_period(tmp_path, deleted):
    """v1 … v<N> without gaps is not enough: the index written at archiving remembers v2."""
    root = tmp_path / "arkiv"
    archive.archive_package(root, T1, _files(tmp_path), {})
    v2 = archive.archive_package(root, T1, _files(tmp_path, "changed\n"), {}).path
    assert archive.verify(root) == []
    gone = {"latest": [v2], "all": [v2, v2.parent / "v1"], "period": [v2.parent]}[deleted]
    for folder in gone:
        shutil.rmtree(folder)
    problems = archive.verify(root)
    assert f"{v2}: saknas: paketversionen (finns i arkivets förteckning)" in problems


def test_empty_files_are_not_archived_and_verify_refuses_them(tmp_path):
    files = _files(tmp_path)
    files["workbooks/book.xlsx"].write_bytes(b"")  # a workbook cut off at 0 bytes
    with pytest.raises(archive.ArchiveError, match="Tomma filer arkiveras inte.*workbooks/book.xlsx"):
        archive.archive_package(tmp_path / "arkiv", T1, files, {})
    assert not (tmp_path / "arkiv" / "2018" / "T1").exists() or archive.versions(tmp_path / "arkiv", T1) == []
    # An empty file that got into a package some other way (and into its manifest) is reported.
    files["workbooks/book.xlsx"].write_bytes(b"PK")
    pkg = archive.archive_package(tmp_path / "arkiv", T1, files, {}).path
    manifest = json.loads((pkg / "manifest.json").read_text())
    (pkg / "workbooks/book.xlsx").write_bytes(b"")
    manifest["files"]["workbooks/book.xlsx"] = {"sha256": hashlib.sha256(b"").hexdigest(), "size": 0}
    manifest["content_sha256"] = archive.content_hash(manifest["files"])
    (pkg / "manifest.json").write_text(json.dumps(manifest))
    digest = hashlib.sha256((pkg / "manifest.json").read_bytes()).hexdigest()
    (pkg / "manifest.sha256").write_text(f"{digest}  manifest.json\n")
    assert f"{pkg}: tom fil: workbooks/book.xlsx" in archive.verify(tmp_path / "arkiv")


def test_verify_compares_the_package_ledger_with_the_email_ledger(tmp_path):
    root = tmp_path / "arkiv"
    ledger = root / "2018" / "T1" / archive.EMAIL_LEDGER_DIR
    ledger.mkdir(parents=True)
    entry = {"to": "olga@stockholm.se", "attachment": {"name": "b.xlsx", "sha256": "x"}, "resend": 0}
    (ledger / "olga__x.json").write_text(json.dumps(entry))
    src = tmp_path / "email_ledger.json"
    src.write_text(json.dumps([entry]))
    archive.archive_package(root, T1, {**_files(tmp_path), "email_ledger.json": src}, {})
    assert archive.verify(root) == []
    (ledger / "olga__x.json").write_text(json.dumps({**entry, "to": "someone@stockholm.se"}))
    problems = archive.verify(root)
    assert len(problems) == 1 and "utskicksloggen saknar eller har ändrat posten till olga@" in problems[0]
    (ledger / "olga__x.json").unlink()
    assert len(archive.verify(root)) == 1


def test_the_email_ledger_is_a_hash_chain_that_verify_checks(tmp_path):
    """Each entry is numbered after the last and holds its SHA-256 (etl.mail.ledger): a deleted
    or edited entry breaks the chain, even one no package recorded."""
    from etl.mail import ledger as mail_ledger

    root = tmp_path / "arkiv"
    folder = root / "2018" / "T1" / archive.EMAIL_LEDGER_DIR
    folder.mkdir(parents=True)
    for who in ("anna", "bo", "cia"):
        mail_ledger.record(folder, who, "k", {"to": f"{who}@stockholm.se", "attachment": {"sha256": "k"}})
    files = [folder / f"{who}__k.json" for who in ("anna", "bo", "cia")]
    chain = [(json.loads(f.read_bytes())["chain_seq"], json.loads(f.read_bytes())["chain_prev_sha256"])
             for f in files]  # fmt: skip
    assert chain == [(1, None), (2, hashlib.sha256(files[0].read_bytes()).hexdigest()),
                     (3, hashlib.sha256(files[1].read_bytes()).hexdigest())]  # fmt: skip
    assert archive.verify(root) == []

    files[0].chmod(0o644)  # an edit (the entry was read-only)
    files[0].write_text(files[0].read_text().replace("anna@", "eve@"))
    assert archive.verify(root) == [
        f"{folder}: utskicksloggens kedja är bruten: bo__k.json stämmer inte med post 1 (ändrad eller ersatt)"
    ]
    files[1].unlink()  # a deletion
    assert archive.verify(root) == [f"{folder}: utskicksloggens kedja är bruten: post 2 saknas"]
