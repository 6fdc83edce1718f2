"""Workbooks printed to PDF with LibreOffice, and what poppler's ``pdftotext -bbox-layout``
reads back: each page's words with their heights and the sheet each page belongs to.

Text height on paper is judged against a reference: a workbook with one line of 8 pt text
printed at 100 % (converted in the same LibreOffice run), so font substitution and the
font's line box cancel out. The tools are looked up on PATH; ``require_print_tools`` skips
without them (or without the Carlito font, which gives Calibri's widths), or fails under
``REQUIRE_PRINT_TOOLS=1`` (set by .ci/run, which installs them).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import xlsxwriter

OFFICE = shutil.which("libreoffice") or shutil.which("soffice")
PDFTOTEXT = shutil.which("pdftotext")
TIMEOUT_S = 300
REFERENCE_PT = 8
REFERENCE_TEXT = "Referens"
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def _has_carlito() -> bool:
    """Carlito: Calibri's metrics, so LibreOffice lays out the columns as Excel does."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    return "carlito" in subprocess.run([fc_list], capture_output=True, text=True, timeout=60).stdout.lower()


def require_print_tools() -> None:
    """Skip (or fail under REQUIRE_PRINT_TOOLS=1) without LibreOffice, poppler or Carlito."""
    tools = (
        ("LibreOffice (soffice)", OFFICE is not None),
        ("pdftotext (poppler-utils)", PDFTOTEXT is not None),
        ("typsnittet Carlito (fonts-crosextra-carlito)", _has_carlito()),
    )
    missing = [name for name, present in tools if not present]
    if not missing:
        return
    missing_tool(f"{' och '.join(missing)} finns inte på PATH: utskriftsprovet kan inte köras.")


def missing_tool(reason: str) -> None:
    """Skip with ``reason``; fail under REQUIRE_PRINT_TOOLS=1 (CI installs the tools)."""
    if os.environ.get("REQUIRE_PRINT_TOOLS") == "1":
        pytest.fail(f"REQUIRE_PRINT_TOOLS=1 men {reason}")
    pytest.skip(reason)


def to_pdf(books: list[Path], out: Path) -> list[Path]:
    """Convert the workbooks to PDF in one LibreOffice run (own profile: safe beside others)."""
    out.mkdir(parents=True, exist_ok=True)
    home = out / "home"
    done = subprocess.run(
        [OFFICE, f"-env:UserInstallation={(out / 'lo-profile').as_uri()}", "--headless", "--norestore",
         "--convert-to", "pdf", "--outdir", str(out), *map(str, books)],
        capture_output=True, text=True, timeout=TIMEOUT_S, env={**os.environ, "HOME": str(home)},
    )  # fmt: skip
    pdfs = [out / (book.stem + ".pdf") for book in books]
    assert done.returncode == 0 and all(p.exists() for p in pdfs), (done.stdout, done.stderr)
    return pdfs


def reference_book(path: Path) -> Path:
    """One line of 8 pt text on a page printed at 100 %: the height 8 pt has in the PDF."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Referens")
    ws.write_string(0, 0, REFERENCE_TEXT, wb.add_format({"font_size": REFERENCE_PT}))
    ws.set_print_scale(100)
    wb.close()
    return path


@dataclass(frozen=True)
class Word:
    text: str
    height: float
    y: float


def pages(pdf: Path) -> list[list[Word]]:
    """The words of each page, top to bottom."""
    out = subprocess.run(
        [PDFTOTEXT, "-bbox-layout", str(pdf), "-"], capture_output=True, text=True, check=True,
        timeout=TIMEOUT_S,
    ).stdout  # fmt: skip
    result = []
    for page in out.split("<page ")[1:]:
        words = [
            Word(html.unescape(m.group(5)), float(m.group(4)) - float(m.group(2)), float(m.group(2)))
            for m in _WORD.finditer(page)
        ]
        result.append(sorted(words, key=lambda w: w.y))
    return result


def reference_height(pdf: Path) -> float:
    (words,) = pages(pdf)
    (word,) = [w for w in words if w.text == REFERENCE_TEXT]
    return word.height


def page_text(words: list[Word]) -> str:
    return " ".join(w.text for w in words)
