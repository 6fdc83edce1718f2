"""Fault injection: SIGKILL at points across extract, validate, statistics, workbooks, e-mail and
archive (a real process, killed by the kernel: no ``finally`` runs), then a normal re-run.

After the re-run: the archive verifies, its published figures equal an undisturbed run's (nothing
lost), no message was written twice and no ledger entry duplicated (nothing sent twice). A kill
inside the e-mail step leaves that recipient "oklart om levererat": the re-run names them and
sends nothing to them (at most once), and the others get theirs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from etl import archive
from etl.mail import recipients
from tests.support.source_data import small_db

pytestmark = pytest.mark.slow

KEY = "test-pseudonym-key-0123456789abcdef"
POINTS = {
    # name: (module, attribute, call on which the process dies, dies before (True) or after the call)
    "extract, before the third table": ("etl.pipeline", "extract_table", 3, True),
    "extract, in the middle of streaming": ("etl.extract", "transform_chunk", 1, False),
    "validate, after writing, before the sex history": ("etl.sex_history", "record", 1, True),
    "statistics, while writing statistics.csv": ("etl.statistics.build", "write_statistics_csv", 1, False),
    "workbooks, after the first": ("reports.workbook", "write_workbook", 2, True),
    "e-mail, before the first message": ("etl.mail.sending", "write_outbox", 1, True),
    "e-mail, after the second message": ("etl.mail.sending", "write_outbox", 2, False),
    "archive, before the rename": ("etl.archive", "_fsync_tree", 1, True),
    "archive, after the rename, before the index": ("etl.archive", "_index", 1, True),
    "archive, after the package, before the end of the run": ("etl.archive", "archive_package", 1, False),
}


def _script(module: str, attr: str, call: int, before: bool, args: list[str]) -> str:
    return (
        "import importlib, os, signal, sys\n"
        f"mod = importlib.import_module({module!r})\n"
        f"real, calls = getattr(mod, {attr!r}), []\n"
        "def dying(*a, **k):\n"
        "    calls.append(1)\n"
        f"    if len(calls) == {call} and {before}: os.killpg(0, signal.SIGKILL)\n"
        "    result = real(*a, **k)\n"
        f"    if len(calls) == {call}: os.killpg(0, signal.SIGKILL)\n"
        "    return result\n"
        f"setattr(mod, {attr!r}, dying)\n"
        "from etl.__main__ import main\n"
        f"sys.exit(main({args!r}))\n"
    )


def _run(command: list[str], environ: dict) -> subprocess.CompletedProcess:
    """In a session of its own: a dying point kills the run's whole process group (the CLI and the
    step's child process, as the OOM killer or a power cut would), never pytest."""
    return subprocess.run(command, env=environ, capture_output=True, timeout=900, start_new_session=True)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[str, bytes, dict]:
    folder = tmp_path_factory.mktemp("faults")
    url = f"sqlite:///{folder / 'src.db'}"
    small_db(url)
    environ = {**os.environ, "EB_MAIL_MODE": "outbox", "EB_PSEUDONYM_KEY": KEY}
    clean = _run([sys.executable, "-m", "etl", "run", "--source", url, "--period", "2018-T1",
                  "--out", str(folder / "clean")], environ)  # fmt: skip
    assert clean.returncode == 0, clean.stderr.decode()[-2000:]
    published = (archive.versions(folder / "clean" / "archive", _t1())[-1] / "published.csv").read_bytes()
    return url, published, environ


def _t1():
    from etl.periods import Period

    return Period(2018, 1)


def _sent(out: Path) -> dict[str, int]:
    outbox = out / "outbox" / "2018-T1"
    return {p.name: p.stat().st_mtime_ns for p in outbox.glob("*.eml")} if outbox.exists() else {}


@pytest.mark.parametrize("point", sorted(POINTS))
def test_sigkill_then_rerun_loses_nothing_and_sends_nothing_twice(point, source, tmp_path):
    url, published, environ = source
    out = tmp_path / "out"
    args = ["run", "--source", url, "--period", "2018-T1", "--out", str(out)]
    module, attr, call, before = POINTS[point]
    killed = _run([sys.executable, "-c", _script(module, attr, call, before, args)], environ)
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    sent_before = _sent(out)

    rerun = _run([sys.executable, "-m", "etl", *args], environ)
    err = rerun.stderr.decode()
    in_email = attr == "write_outbox"
    if in_email:  # the message being sent when the process died: outcome unknown, not resent
        assert rerun.returncode == 1 and "Oklart om levererat" in err, err[-2000:]
    else:
        assert rerun.returncode == 0, err[-2000:]
    sent = _sent(out)
    assert {name: sent[name] for name in sent_before} == sent_before, "a message was written twice"
    ledger = out / "archive" / "2018" / "T1" / "email_ledger"
    entries = sorted(p.name for p in ledger.glob("*.json"))
    assert not any("-resend-" in name for name in entries)
    assert len(entries) + len(list(ledger.glob("*.attempt"))) == len(recipients.recipient_addresses())
    assert archive.verify(out / "archive") == []
    package = archive.versions(out / "archive", _t1())[-1]
    assert (package / "published.csv").read_bytes() == published, "figures differ from an undisturbed run"
