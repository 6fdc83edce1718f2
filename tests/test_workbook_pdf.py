"""The workbook converts to PDF with LibreOffice (headless) and its first page renders to PNG.

Skipped with the reason where LibreOffice or poppler's pdftoppm is not installed (Debian:
``apt-get install --no-install-recommends libreoffice-calc-nogui poppler-utils``).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from reports.workbook import write_workbook
from tests.support.reports import context, published_table

pytestmark = pytest.mark.slow

OFFICE = shutil.which("libreoffice") or shutil.which("soffice")
TIMEOUT_S = 180


def test_workbook_converts_to_pdf_and_renders(tmp_path):
    if OFFICE is None:
        pytest.skip(
            "LibreOffice (libreoffice/soffice) finns inte på PATH: PDF-konverteringen kan inte provas."
        )
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
        pytest.skip("pdftoppm (poppler-utils) finns inte: PDF:en skapades men sidan kan inte renderas.")
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
