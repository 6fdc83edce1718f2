"""The managers' analysis round trip: a T1 workbook filled in with openpyxl, imported, stored as
a new package version and read back by comments_for_year (etl/comments/, docs/comments.md)."""

from __future__ import annotations

import datetime as dt
import email
import os
import shutil
import subprocess

import openpyxl
import pandas as pd
import pytest

from etl import archive
from etl.__main__ import main as cli
from etl.comments import identity, inbox, store
from etl.comments.store import COLUMNS, comments_for_year
from etl.periods import Period
from etl.published import PUBLISHED, read_published
from tests.support.comments import archive_run, comment_cells, fill, workbook_in
from tests.support.reports import PERIOD

NOW = dt.datetime(2018, 6, 1, 9, 0, tzinfo=dt.UTC)
KUN_MANAGER = "maria.provlund@stockholm.se"  # config/recipients.yml: the one recipient for KUN


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("EB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EB_MAIL_MODE", "outbox")
    archive_run(tmp_path)
    return tmp_path


def _v1(data):
    return data / "archive" / "2018" / "T1" / "v1"


def test_t1_workbook_has_unlocked_comment_cells_and_is_otherwise_protected(data):
    book = openpyxl.load_workbook(workbook_in(_v1(data), "KUN"))
    props = {p.name: p.value for p in book.custom_doc_props.props}
    assert (props["eb_year"], props["eb_tertial"], props["eb_scope"]) == ("2018", "1", "KUN")
    assert props["eb_run_id"] == "scheduled__2018-05-16"
    # The hash recomputed here from the archived CSV, the way the docstring says: period, scope,
    # scopes shown, then one sorted line per figure with its published text.
    pub = read_published(_v1(data) / PUBLISHED)
    assert props["eb_figures_sha256"] == identity.figures_hash(pub, "2018-T1", "KUN", ["KUN", "ALL"])
    cells = comment_cells(book)
    assert "eb_andel_befolkning" in cells and len(cells) == 17  # the catalogue's goal rows
    for ws in book.worksheets:
        assert ws.protection.sheet and not ws.protection.password
    ws = book["Sammanfattning"]
    free = {c.coordinate for row in ws.iter_rows() for c in row if c.protection.locked is False}
    assert free == {coord for pair in cells.values() for coord in pair}


def test_round_trip_stores_a_new_version_readable_by_comments_for_year(data):
    original = workbook_in(_v1(data), "KUN")
    texts = {
        "eb_andel_befolkning": (
            "Andelen sjönk i Kungsholmen.\nFler fick arbete.",
            "Fortsätt med jobbcoacher.",
        ),
        "eb_langvarigt_vuxna": (None, "-Se över planeringen"),  # a leading minus is text, not a formula
    }
    returned = fill(original, data / "tillbaka" / "Kungsholmen ifylld.xlsx", texts)
    done = inbox.import_file(returned, sender=KUN_MANAGER, now=NOW)
    v2 = data / "archive" / "2018" / "T1" / "v2"
    assert done.stored.created and done.stored.version == v2
    # The new version holds every file of v1 unchanged, plus the comments and their import record.
    old, new = archive.read_manifest(_v1(data))["files"], archive.read_manifest(v2)["files"]
    assert {k: v for k, v in new.items() if not k.startswith("manager_comments")} == old
    expected_csv = (
        "year,tertial,scope,indicator,analys,atgarder\n"
        '2018,1,KUN,eb_andel_befolkning,"Andelen sjönk i Kungsholmen.\nFler fick arbete.",'
        "Fortsätt med jobbcoacher.\n"
        "2018,1,KUN,eb_langvarigt_vuxna,,-Se över planeringen\n"
    )
    assert (v2 / "manager_comments.csv").read_text(encoding="utf-8") == expected_csv
    assert archive.verify(data / "archive") == []
    year = comments_for_year(data / "archive", 2018)
    assert list(year.columns) == COLUMNS
    assert year.to_dict("records") == [
        {"year": 2018, "tertial": 1, "scope": "KUN", "indicator": "eb_andel_befolkning",
         "analys": "Andelen sjönk i Kungsholmen.\nFler fick arbete.",
         "atgarder": "Fortsätt med jobbcoacher."},
        {"year": 2018, "tertial": 1, "scope": "KUN", "indicator": "eb_langvarigt_vuxna",
         "analys": "", "atgarder": "-Se över planeringen"},
    ]  # fmt: skip
    # One receipt, to the sender, through the ledger, with the stored comments attached.
    assert [r["status"] for r in done.receipts] == ["sent"] and done.receipts[0]["to"] == KUN_MANAGER
    eml = next((data / "outbox" / "2018-T1" / "kvitton").rglob("*.eml"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert msg["To"].addresses[0].addr_spec == KUN_MANAGER and "Kvitto" in msg["Subject"]
    body = msg.get_body(("plain",)).get_content()
    assert "(tertialuppföljningens version 2)" in body and "Mål med kommentar: 2." in body
    attached = next(msg.iter_attachments())
    assert attached.get_payload(decode=True).decode("utf-8") == expected_csv
    assert attached.get_content_charset() == "utf-8"


def test_reimport_of_the_same_file_is_idempotent(data):
    returned = fill(workbook_in(_v1(data), "KUN"), data / "r.xlsx", {"eb_andel_befolkning": ("Text", None)})
    first = inbox.import_file(returned, sender=KUN_MANAGER, now=NOW)
    again = inbox.import_file(returned, sender=KUN_MANAGER, now=NOW + dt.timedelta(hours=1))
    assert not again.stored.created and again.stored.version == first.stored.version
    assert [r["status"] for r in again.receipts] == ["already_sent"]
    assert [p.name for p in archive.versions(data / "archive", PERIOD)] == ["v1", "v2"]
    ledger = sorted((data / "archive" / "2018" / "T1" / "email_ledger").glob("*.json"))
    assert len(ledger) == 1


def test_scopes_accumulate_and_a_later_return_replaces_only_its_scope(data):
    unit = fill(workbook_in(_v1(data), "ALL"), data / "a.xlsx", {"eb_andel_befolkning": ("Enheten", "Mer")})
    kun1 = fill(workbook_in(_v1(data), "KUN"), data / "k1.xlsx", {"eb_andel_befolkning": ("Första", None)})
    kun2 = fill(workbook_in(_v1(data), "KUN"), data / "k2.xlsx", {"eb_langvarigt_vuxna": ("Andra", None)})
    for f in (unit, kun1, kun2, kun1):  # kun1 again after kun2: its words are the latest again
        inbox.import_file(f, now=NOW)
    got = comments_for_year(data / "archive", 2018)
    assert got[["scope", "indicator", "analys"]].values.tolist() == [
        ["ALL", "eb_andel_befolkning", "Enheten"],
        ["KUN", "eb_andel_befolkning", "Första"],
    ]
    assert [p.name for p in archive.versions(data / "archive", PERIOD)] == ["v1", "v2", "v3", "v4", "v5"]
    assert archive.verify(data / "archive") == []


def test_a_later_rerun_without_comments_keeps_the_stored_ones_readable(data):
    returned = fill(workbook_in(_v1(data), "KUN"), data / "r.xlsx", {"eb_andel_befolkning": ("Kvar", None)})
    inbox.import_file(returned, now=NOW)
    archive_run(data, run_id="manual__rerun")  # same figures, new run: v3 without comments
    assert comments_for_year(data / "archive", 2018)["analys"].tolist() == ["Kvar"]


def test_no_comments_stored_gives_an_empty_frame_with_the_columns(tmp_path):
    got = comments_for_year(tmp_path / "archive", 2018)
    assert list(got.columns) == COLUMNS and got.empty
    assert got.dtypes["year"] == "int64" and got.dtypes["tertial"] == "int64"


def test_inbox_moves_files_to_done_and_refused_with_swedish_notes(data):
    box = data / "inbox"
    good = fill(workbook_in(_v1(data), "KUN"), box / "kun.xlsx", {"eb_andel_befolkning": ("Bra", None)})
    (box / "kun.xlsx.avsandare").write_text(KUN_MANAGER + "\n", encoding="utf-8")
    (box / "anteckning.pdf").write_bytes(b"%PDF-1.4 not a workbook")
    copying = box / "kopieras.xlsx"
    copying.write_bytes(b"PK")
    old = (NOW - dt.timedelta(minutes=5)).timestamp()
    for f in (good, box / "anteckning.pdf"):
        os.utime(f, (old, old))
    os.utime(copying, (NOW.timestamp(), NOW.timestamp()))
    out = inbox.import_inbox(now=NOW)
    assert len(out["imported"]) == 1 and len(out["refused"]) == 1 and out["waiting"] == ["kopieras.xlsx"]
    assert (box / "done" / "kun.xlsx").is_file() and (box / "done" / "kun.xlsx.avsandare").is_file()
    assert "1 mål med kommentar för KUN 2018-T1" in (box / "done" / "kun.xlsx.kvitto.txt").read_text("utf-8")
    reason = (box / "refused" / "anteckning.pdf.fel.txt").read_text(encoding="utf-8")
    assert "ingen Excel-arbetsbok (.xlsx)" in reason and "inget har sparats" in reason
    assert sorted(p.name for p in box.iterdir() if p.is_file()) == ["kopieras.xlsx"]


def test_cli_imports_and_says_so_in_swedish(data, capsys):
    returned = fill(workbook_in(_v1(data), "ALL"), data / "r.xlsx", {"eb_andel_befolkning": ("Text", None)})
    assert cli(["comments", "import", str(returned)]) == 0
    assert "ny version v2" in capsys.readouterr().out
    assert cli(["comments", "import", str(data / "saknas.xlsx")]) == 1
    assert "finns inte" in capsys.readouterr().err


def test_t3_workbooks_have_no_comment_cells(tmp_path):
    package = archive_run(tmp_path, scopes=("ALL",), period=Period(2018, 3))
    book = openpyxl.load_workbook(next((package / "workbooks").glob("*.xlsx")))
    assert not any(p.name.startswith("eb_") for p in book.custom_doc_props.props)
    assert not book["Sammanfattning"].protection.sheet


def test_stored_csv_is_sorted_and_deterministic(data):
    texts = {"eb_langvarigt_vuxna": ("B", None), "eb_andel_befolkning": ("A", None)}
    inbox.import_file(fill(workbook_in(_v1(data), "KUN"), data / "r.xlsx", texts), now=NOW)
    frame = pd.read_csv(data / "archive" / "2018" / "T1" / "v2" / store.COMMENTS, dtype="string")
    assert frame["indicator"].tolist() == ["eb_andel_befolkning", "eb_langvarigt_vuxna"]


@pytest.mark.slow
def test_a_workbook_saved_again_by_libreoffice_still_imports(data):
    """Another program's save (LibreOffice here; Excel behaves the same) keeps the custom
    properties and the cell values the import compares."""
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        pytest.skip("LibreOffice (libreoffice/soffice) finns inte på PATH: omsparningen kan inte provas.")
    filled = fill(
        workbook_in(_v1(data), "KUN"), data / "in" / "kun.xlsx", {"eb_andel_befolkning": ("Bra", "Mer")}
    )
    out = data / "lo"
    subprocess.run(
        [office, "--headless", f"-env:UserInstallation={(data / 'profile').as_uri()}",
         "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(filled)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    done = inbox.import_file(out / "kun.xlsx", now=NOW)
    assert done.stored.created
    assert comments_for_year(data / "archive", 2018)[["analys", "atgarder"]].values.tolist() == [
        ["Bra", "Mer"]
    ]


def test_an_empty_return_clears_the_scopes_earlier_comments(data):
    inbox.import_file(
        fill(workbook_in(_v1(data), "KUN"), data / "a.xlsx", {"eb_andel_befolkning": ("X", None)})
    )
    cleared = inbox.import_file(fill(workbook_in(_v1(data), "KUN"), data / "b.xlsx", {}), now=NOW)
    assert cleared.stored.created and cleared.stored.version.name == "v3"
    assert comments_for_year(data / "archive", 2018).empty
    assert archive.verify(data / "archive") == []


def test_reimport_without_the_sender_sends_no_receipt_to_anyone_else(data):
    returned = fill(workbook_in(_v1(data), "ALL"), data / "r.xlsx", {"eb_andel_befolkning": ("Text", None)})
    first = inbox.import_file(returned, sender="karin.exempelsson@stockholm.se", now=NOW)
    again = inbox.import_file(returned, now=NOW)  # no sender: would otherwise go to both ALL recipients
    assert [r["to"] for r in first.receipts] == ["karin.exempelsson@stockholm.se"]
    assert [(r["status"], r["to"]) for r in again.receipts] == [
        ("already_sent", "karin.exempelsson@stockholm.se")
    ]
    assert len(list((data / "archive" / "2018" / "T1" / "email_ledger").glob("*.json"))) == 1
