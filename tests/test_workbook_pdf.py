"""The workbooks print: converted to PDF with LibreOffice (headless), every page's text is at
least 8 pt and every page of a sheet carries its header rows; the first page renders to PNG.

Skipped with the reason where LibreOffice, poppler or the Carlito font is not installed (Debian:
``apt-get install --no-install-recommends libreoffice-calc-nogui poppler-utils
fonts-crosextra-carlito``); under ``REQUIRE_PRINT_TOOLS=1`` (.ci/run, which installs them) a
missing tool fails instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import openpyxl
import pytest

from reports.vb import write_vb_workbook
from reports.workbook import write_workbook
from tests.support import pdf as pdf_support
from tests.support.reports import context, published_table
from tests.support.vb import vb_inputs, vb_stages

pytestmark = pytest.mark.slow

OFFICE = shutil.which("libreoffice") or shutil.which("soffice")
TIMEOUT_S = 180


def test_workbook_converts_to_pdf_and_renders(tmp_path):
    pdf_support.require_print_tools()
    book = write_workbook(context(published_table(), "OST"), tmp_path / "book")
    profile = tmp_path / "lo-profile"  # own profile: works as root and next to other runs
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    out = tmp_path / "pdf"
    done = subprocess.run(
        [
            OFFICE,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(book),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=env,
    )
    pdf = out / (book.stem + ".pdf")
    assert done.returncode == 0, done.stderr
    assert pdf.exists() and pdf.stat().st_size > 0, (done.stdout, done.stderr)
    assert pdf.read_bytes().startswith(b"%PDF")

    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pdf_support.missing_tool("pdftoppm (poppler-utils) finns inte: sidan kan inte renderas till PNG.")
    prefix = tmp_path / "page"
    subprocess.run(
        [pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(prefix)],
        check=True,
        timeout=TIMEOUT_S,
    )
    pngs = sorted(tmp_path.glob("page*.png"))
    assert len(pngs) == 1 and pngs[0].read_bytes().startswith(b"\x89PNG")
    if os.environ.get("EB_KEEP_PDF_PREVIEW"):  # for looking at the page by hand
        shutil.copy(pngs[0], os.environ["EB_KEEP_PDF_PREVIEW"])


# --- the print test: every page legible, the column headers on every page -----------------

HEADER_PT = 36
"""Words above this (half an inch; the page header sits at 0.3") are the page header; the
footer is the page's lowest line."""
HEIGHT_TOLERANCE = 0.97
"""Word boxes are rounded in the PDF: a word counts as 8 pt when within 3 % of the reference."""


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """The unit and a district workbook and the VB workbook, as PDF, with the 8 pt reference."""
    pdf_support.require_print_tools()
    out = tmp_path_factory.mktemp("print")
    published = published_table()
    books = [write_workbook(context(published, scope), out / "books") for scope in ("ALL", "OST")]
    books.append(write_vb_workbook(vb_inputs(vb_stages()), out / "books"))
    reference = pdf_support.reference_book(out / "books" / "Referens.xlsx")
    ref_pdf, *pdfs = pdf_support.to_pdf([reference, *books], out / "pdf")
    return pdf_support.reference_height(ref_pdf), list(zip(books, pdfs, strict=True))


def _sheet_of(words: list[pdf_support.Word], names: list[str]) -> str:
    """The sheet a page belongs to: the page header names it (&A)."""
    top = " ".join(w.text for w in words if w.y < HEADER_PT)
    found = [name for name in names if name in top]
    assert found, top
    return max(found, key=len)


def _head_word(ws) -> str:
    """The first word of the first text in column A of the sheet's repeated rows (column A is
    on every printed part: it is in the repeated columns when a sheet prints in parts)."""
    first, last = (int(x) for x in ws.print_title_rows.replace("$", "").split(":"))
    texts = [ws.cell(r, 1).value for r in range(first, last + 1) if isinstance(ws.cell(r, 1).value, str)]
    return texts[0].split()[0]


def test_every_printed_page_is_legible_and_has_its_headers(printed):
    height_8pt, books = printed
    for book, pdf in books:
        wb = openpyxl.load_workbook(book)
        names = wb.sheetnames
        pages = pdf_support.pages(pdf)
        assert pages, pdf
        by_sheet: dict[str, list[int]] = {}
        for number, words in enumerate(pages, start=1):
            assert words, (pdf.name, number)
            smallest = min(words, key=lambda w: w.height)
            assert smallest.height >= height_8pt * HEIGHT_TOLERANCE, (
                f"{pdf.name} sida {number}: '{smallest.text}' är "
                f"{smallest.height / height_8pt * 8:.1f} pt (minst 8 pt)"
            )
            by_sheet.setdefault(_sheet_of(words, names), []).append(number)
        assert set(by_sheet) == {ws.title for ws in wb.worksheets if ws.sheet_state == "visible"}, pdf.name
        for name, numbers in by_sheet.items():
            if len(numbers) < 2:
                continue
            needle = _head_word(wb[name])
            for number in numbers:
                words = pages[number - 1]
                footer = max(w.y for w in words)
                body = {w.text for w in words if HEADER_PT <= w.y < footer - 1}
                assert needle in body, f"{pdf.name} sida {number} ({name}): rubrikraden '{needle}' saknas"


def test_summary_prints_in_three_parts_side_by_side(printed):
    """Sammanfattning is wider than a page at 75 %: per page of rows it prints the figures, then
    the judgement with its comment, then the manager's Analys and Åtgärder (over, then down)."""
    _, books = printed
    book, pdf = books[0]
    names = openpyxl.load_workbook(book).sheetnames
    pages = pdf_support.pages(pdf)
    summary = [words for words in pages if _sheet_of(words, names) == "Sammanfattning"]
    parts = [("Årsmål",), ("Helårsprognos", "Kommentar"), ("Analys", "Åtgärder")]
    for i, words in enumerate(summary[:3]):
        body = {w.text for w in words}
        assert all(label in body for label in parts[i]), (i, sorted(body)[:40])
        assert "Kommentar" not in body or i == 1
