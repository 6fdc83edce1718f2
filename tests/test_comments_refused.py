"""Bad returns of the comment workbook: each refused with a Swedish reason naming the sheet and
cell, and nothing stored (no new version, no receipt, the archive still verifies)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import shutil
import zipfile

import pytest

from etl import archive
from etl.comments import identity, inbox
from etl.comments.reader import CommentsRefused
from etl.comments.store import comments_for_year
from tests.support.comments import archive_run, fill, workbook_in
from tests.support.reports import PERIOD

NOW = dt.datetime(2018, 6, 1, 9, 0, tzinfo=dt.UTC)
# The KUN workbook's Sammanfattning, worked out from its layout: header on row 6, goals from row 7
# in catalogue order (eb_andel_barn, eb_andel_befolkning, …); columns A–Q are the district
# table (E = Utfall Kungsholmen Totalt), R = Analys, S = Åtgärder.
GOAL = "eb_andel_befolkning"
ANALYS_CELL = "Sammanfattning!R8"
OUTCOME_CELL = "E8"  # 0.35: GOLDEN[("eb_andel_befolkning", "KUN", "T")] in tests/support/reports.py


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("EB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EB_MAIL_MODE", "outbox")
    archive_run(tmp_path)
    return tmp_path


def _original(data):
    return workbook_in(data / "archive" / "2018" / "T1" / "v1", "KUN")


def _refused(data, path) -> str:
    """Import ``path``; it must be refused with nothing stored. Returns the message."""
    with pytest.raises(CommentsRefused) as err:
        inbox.import_file(path, now=NOW)
    root = data / "archive"
    assert [p.name for p in archive.versions(root, PERIOD)] == ["v1"]
    assert comments_for_year(root, 2018).empty
    assert not (root / "2018" / "T1" / "email_ledger").exists()  # no receipt
    assert not (data / "outbox").exists()
    assert archive.verify(root) == []
    message = str(err.value)
    assert message.startswith(f"{path.name} lästes inte in, inget har sparats:")
    return message


def test_formula_in_a_comment(data):
    path = fill(_original(data), data / "f.xlsx", {GOAL: ("=SUMMA(E7:E9)", None)})
    assert f"{ANALYS_CELL} (Analys, " in _refused(data, path)
    assert "en formel är inte tillåten" in _refused(data, path)


def test_changed_figure(data):
    def edit(book):
        book["Sammanfattning"][OUTCOME_CELL] = 0.36

    path = fill(_original(data), data / "c.xlsx", {GOAL: ("Text", None)}, edit)
    assert f"Sammanfattning!{OUTCOME_CELL}: ändrad siffra (var '0,35', är '0,36')" in _refused(data, path)


def test_wrong_package_hash_mismatch(data):
    def edit(book):
        for p in book.custom_doc_props.props:
            if p.name == identity.FIGURES:
                p.value = "0" * 64

    path = fill(_original(data), data / "w.xlsx", {GOAL: ("Text", None)}, edit)
    message = _refused(data, path)
    assert "Dokumentegenskaperna" in message and "finns inte i arkivet" in message


def test_workbook_of_another_scope_renamed_still_checked_against_its_own_original(data):
    """Renaming the file changes nothing: the properties say which workbook it is."""

    def edit(book):
        book["Ekonomi"]["A1"] = "Ändrad rubrik"

    path = fill(_original(data), data / "Tertialuppfoljning_2018_T1_Forsorjningsstod_ALL.xlsx", {}, edit)
    assert "Ekonomi!A1: ändrad låst cell" in _refused(data, path)


def test_deleted_sheet(data):
    def edit(book):
        del book["Personal"]

    path = fill(_original(data), data / "d.xlsx", {GOAL: ("Text", None)}, edit)
    assert "Bladet 'Personal' saknas" in _refused(data, path)


def test_added_sheet(data):
    path = fill(_original(data), data / "a.xlsx", {GOAL: ("Text", None)}, lambda b: b.create_sheet("Mina"))
    assert "Bladet 'Mina' är tillagt" in _refused(data, path)


def test_protected_cell_edited(data):
    def edit(book):
        book["Sammanfattning"]["Q8"] = "Min egen kommentar i den genererade kolumnen"

    path = fill(_original(data), data / "p.xlsx", {}, edit)
    message = _refused(data, path)
    assert "Sammanfattning!Q8: ändrad låst cell" in message
    assert "Bara cellerna Analys och Åtgärder på Sammanfattning får fyllas i." in message


def test_over_long_text(data):
    path = fill(_original(data), data / "l.xlsx", {GOAL: ("x" * 2001, None)})  # config: max_chars 2000
    assert f"{ANALYS_CELL} (Analys, " in (message := _refused(data, path))
    assert "2001 tecken, högst 2000 får plats" in message


def test_text_at_the_limit_is_accepted(data):
    path = fill(_original(data), data / "ok.xlsx", {GOAL: ("x" * 2000, None)})
    assert inbox.import_file(path, now=NOW).stored.created


def test_control_character(data):
    # a tab pasted from another program (openpyxl itself refuses to write most other control characters)
    path = fill(_original(data), data / "k.xlsx", {GOAL: (None, "Ring\toss")})
    message = _refused(data, path)
    assert "Sammanfattning!S8 (Åtgärder, " in message and "styrtecken (U+0009)" in message


@pytest.mark.parametrize("content", [b"%PDF-1.4 a pdf", b"", b"zip"])
def test_not_an_xlsx(data, content):
    path = data / "fel.xlsx"
    if content == b"zip":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("hello.txt", "not a workbook")
    else:
        path.write_bytes(content)
    message = _refused(data, path)
    assert "ingen Excel-arbetsbok (.xlsx)" in message or "kan inte läsas som .xlsx" in message


def test_old_version_superseded_by_new_figures(data):
    old = fill(_original(data), data / "gammal.xlsx", {GOAL: ("Text", None)})
    archive_run(data, run_id="manual__rerun", shift=1.0)  # the tertial re-run with changed figures: v2
    with pytest.raises(CommentsRefused) as err:
        inbox.import_file(old, now=NOW)
    assert "Dokumentegenskaperna" in str(err.value)
    message = str(err.value)
    assert (
        "hör till version 1 av 2018-T1, men siffrorna har ersatts av en senare körning (version 2)" in message
    )
    assert [p.name for p in archive.versions(data / "archive", PERIOD)] == ["v1", "v2"]
    assert comments_for_year(data / "archive", 2018).empty


def test_properties_removed(data):
    def edit(book):
        book.custom_doc_props.props.clear()

    path = fill(_original(data), data / "n.xlsx", {GOAL: ("Text", None)}, edit)
    assert "Dokumentegenskaperna (Arkiv > Info > Egenskaper): eb_year" in _refused(data, path)


def test_nothing_filled_in(data):
    path = fill(_original(data), data / "tom.xlsx", {})
    assert "inga kommentarer är ifyllda" in _refused(data, path)


def test_tampered_archive_is_refused_not_trusted(data):
    path = fill(_original(data), data / "t.xlsx", {GOAL: ("Text", None)})
    published = data / "archive" / "2018" / "T1" / "v1" / "published.csv"
    published.chmod(0o644)
    published.write_text(published.read_text() + "\n", encoding="utf-8")
    with pytest.raises(CommentsRefused, match="Arkivpaketet stämmer inte med sitt manifest"):
        inbox.import_file(path, now=NOW)


def test_refused_file_in_the_inbox_gets_a_reason_file(data):
    box = data / "inbox"
    box.mkdir()
    shutil.copyfile(fill(_original(data), data / "f.xlsx", {GOAL: ("=1+1", None)}), box / "f.xlsx")
    old = NOW.timestamp()
    os.utime(box / "f.xlsx", (old, old))
    out = inbox.import_inbox(now=NOW + dt.timedelta(days=1))
    assert len(out["refused"]) == 1 and not out["imported"]
    reason = (box / "refused" / "f.xlsx.fel.txt").read_text(encoding="utf-8")
    assert f"{ANALYS_CELL} (Analys, " in reason and "formel" in reason
    assert [p.name for p in archive.versions(data / "archive", PERIOD)] == ["v1"]
    assert not (data / "archive" / "2018" / "T1" / "email_ledger").exists()  # nothing in the archive
    # The workbook says it is Kungsholmen's: its one recipient is told why, once.
    notices = list((box / "refused" / ".utkorg").rglob("*.eml"))
    assert [p.name for p in notices] == ["maria.provlund_at_stockholm.se.eml"]
    msg = email.message_from_bytes(notices[0].read_bytes(), policy=email.policy.default)
    assert msg["Subject"] == "Arbetsboken kunde inte läsas in: f.xlsx"
    assert f"{ANALYS_CELL} (Analys, " in msg.get_body(("plain",)).get_content()
    assert len(list((box / "refused" / ".utskick").glob("*.json"))) == 1


def test_a_refused_file_with_a_named_sender_tells_them_and_an_unknown_one_tells_nobody(data):
    box = data / "inbox"
    box.mkdir()
    (box / "a.pdf").write_bytes(b"%PDF-1.4")
    (box / "a.pdf.avsandare").write_text("nils.testberg@stockholm.se\n", encoding="utf-8")
    (box / "b.pdf").write_bytes(b"%PDF-1.4 other")
    old = NOW.timestamp()
    for f in ("a.pdf", "b.pdf"):
        os.utime(box / f, (old, old))
    out = inbox.import_inbox(now=NOW + dt.timedelta(days=1))
    assert len(out["refused"]) == 2
    notices = sorted(p.name for p in (box / "refused" / ".utkorg").rglob("*.eml"))
    assert notices == ["nils.testberg_at_stockholm.se.eml"]  # b.pdf says nothing about its scope
    assert (box / "refused" / "a.pdf.avsandare").is_file() and (box / "refused" / "b.pdf.fel.txt").is_file()
