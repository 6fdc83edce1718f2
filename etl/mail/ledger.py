"""What was sent: a write-once ledger, one entry file per (recipient, content hash).

An entry is created atomically, and only after the server accepted the message; a retried or
cleared task finds it and sends nothing. ``resend`` adds a ``-resend-N`` entry, never editing
one. (At-least-once: a crash between the server's acceptance and the ledger write would send
again on retry. That is the safe side: a lost report is worse than a duplicate.) The ledger of a
period lives beside its package versions in the archive, so a new run id still sees it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from etl.periods import Period

LEDGER_SUFFIX = ".json"


def ledger_dir(archive_root: Path, period: Period | str) -> Path:
    """Where the ledger of a period lives: beside its package versions, kept across runs."""
    from etl.archive import EMAIL_LEDGER_DIR  # archive imports pandas: not at DAG parse time

    p = Period.parse(str(period))
    return Path(archive_root) / str(p.year) / f"T{p.tertial}" / EMAIL_LEDGER_DIR


def _write_once(path: Path, payload: bytes) -> bool:
    """Create ``path`` with ``payload`` atomically; False (nothing written) if it exists."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o444)  # read-only: a ledger entry is never edited
        try:
            os.link(tmp, path)  # fails if the entry exists: never overwrites
        except FileExistsError:
            return False
        except OSError:  # no hard links on this file system: exclusive create instead
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
                os.fsync(f.fileno())
        return True
    finally:
        os.unlink(tmp)


def _payload(entry: dict) -> bytes:
    return (json.dumps(entry, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _base(folder: Path, slug: str, key: str) -> Path:
    return Path(folder) / f"{slug}__{key}{LEDGER_SUFFIX}"


def sent_before(folder: Path, slug: str, key: str) -> dict | None:
    """The first entry for (recipient slug, content key) with its ``ledger_file``, or None."""
    base = _base(folder, slug, key)
    return {"ledger_file": base.name, **_read(base)} if base.exists() else None


def record(folder: Path, slug: str, key: str, entry: dict) -> dict:
    """Write ``entry`` once: the first entry, else the next ``-resend-N``. Returns it with
    ``resend`` and ``ledger_file``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    entry = {**entry, "resend": 0}
    n = 0
    path = _base(folder, slug, key)
    while not _write_once(path, _payload(entry)):  # a handful of resends at most
        n += 1
        path = folder / f"{slug}__{key}-resend-{n}{LEDGER_SUFFIX}"
        entry = {**entry, "resend": n}
    return {"ledger_file": path.name, **entry}


def ledger_entries(folder: Path, sha256s) -> list[dict]:
    """The ledger entries for the given content keys or attachments (the package's
    email_ledger.json), sorted."""
    wanted = set(sha256s)
    folder = Path(folder)
    if not folder.exists():
        return []
    entries = [_read(p) for p in sorted(folder.glob(f"*{LEDGER_SUFFIX}")) if not p.name.startswith(".")]
    chosen = [e for e in entries if wanted & {e["attachment"]["sha256"], e.get("content_sha256")}]
    return sorted(chosen, key=lambda e: (e["attachment"]["name"], e["to"], e["resend"]))
