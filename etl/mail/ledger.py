"""What was sent: a write-once ledger, one entry file per (recipient, content hash).

At most once per recipient and figures. Before a message is handed to the server an *attempt*
marker (``<entry>.attempt``) is created exclusively; after the server accepted it (250 to DATA)
the entry is created atomically and the marker removed. A marker without its entry means the
outcome is unknown (the process was killed, or the connection dropped after DATA before the
server's answer): nothing is sent again automatically (:class:`DeliveryUncertain`); an operator
checks with the recipient and renames the marker to its entry (it arrived) or deletes it (it did
not: the next try sends). Two runs racing for the same entry: the second does not send. A marker
is removed at once when the message certainly did not go (no connection, refused before or at
DATA), so a retry sends.
``resend`` adds a ``-resend-N`` entry, never editing one. The ledger of a period lives beside its
package versions in the archive, so a new run id still sees it; ``archive.verify`` checks that
the entries each package recorded are still there unchanged. The entries form a hash chain: each
is numbered after the last one and holds that one's SHA-256 (written under the folder's lock), so
a deleted, edited or slipped-in entry is found (:func:`chain_problems`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from etl.periods import Period

LEDGER_SUFFIX = ".json"
ATTEMPT_SUFFIX = ".attempt"
EMAIL_LEDGER_DIR = "email_ledger"
"""Beside a period's versions in the archive (etl.archive): the append-only ledger of that period."""
SEQ, PREV = "chain_seq", "chain_prev_sha256"
"""An entry's place in the chain and the SHA-256 of the entry numbered before it (None for the first)."""


class DeliveryUncertain(RuntimeError):
    """An earlier attempt for this recipient and figures may or may not have been delivered."""


def ledger_dir(archive_root: Path, period: Period | str) -> Path:
    """Where the ledger of a period lives: beside its package versions, kept across runs."""
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
    """The first entry for (recipient slug, content key) with its ``ledger_file``, or None.

    A resend's entry counts too: after an uncertain first attempt was resent, that is delivery."""
    base = _base(folder, slug, key)
    found = [base] if base.exists() else sorted(
        Path(folder).glob(f"{slug}__{key}-resend-*{LEDGER_SUFFIX}"),
        key=lambda p: int(p.name[: -len(LEDGER_SUFFIX)].rsplit("-", 1)[1]),
    )
    return {"ledger_file": found[0].name, **_read(found[0])} if found else None


def _numbered(folder: Path, slug: str, key: str, n: int) -> Path:
    return _base(folder, slug, key) if n == 0 else folder / f"{slug}__{key}-resend-{n}{LEDGER_SUFFIX}"


def _marker(path: Path) -> Path:
    return path.with_name(path.name[: -len(LEDGER_SUFFIX)] + ATTEMPT_SUFFIX)


def unresolved(folder: Path, slug: str, key: str) -> list[Path]:
    """Attempt markers without their entry: deliveries whose outcome is unknown."""
    folder = Path(folder)
    markers = sorted(folder.glob(f"{slug}__{key}*{ATTEMPT_SUFFIX}")) if folder.exists() else []
    return [m for m in markers if not m.with_name(m.name[: -len(ATTEMPT_SUFFIX)] + LEDGER_SUFFIX).exists()]


def begin(folder: Path, slug: str, key: str, what: dict, *, resend: bool = False) -> Path:
    """Reserve the entry with an attempt marker, created exclusively before anything is sent;
    returns the entry's path (not yet written). The first entry, or with ``resend`` the next
    ``-resend-N``. Without ``resend``, a first marker that exists (another run sending the same
    figures to the same recipient at this moment) is :class:`DeliveryUncertain`, never a second
    message."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    while True:  # a handful of resends at most
        path = _numbered(folder, slug, key, n)
        if not path.exists() and _write_once(_marker(path), _payload({**what, "resend": n})):
            return path
        if not resend:
            raise DeliveryUncertain(
                f"Oklart om levererat: e-posten till {what.get('to', slug)} skickas eller har skickats "
                f"av en annan körning (markering {_marker(path).name}); den skickas inte en gång till."
            )
        n += 1


def abandon(path: Path) -> None:
    """The message certainly did not go: drop the attempt marker so a retry sends."""
    _marker(path).unlink(missing_ok=True)


@contextlib.contextmanager
def _chain_lock(folder: Path) -> Iterator[None]:
    """One writer at a time per ledger folder (mapped e-mail tasks finish concurrently)."""
    fd = os.open(folder, os.O_RDONLY)  # the folder itself: no lock file among the entries
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _entries(folder: Path) -> Iterator[Path]:
    return (p for p in sorted(folder.glob(f"*{LEDGER_SUFFIX}")) if not p.name.startswith("."))


def _chained(folder: Path, entry: dict) -> dict:
    """``entry`` numbered after the folder's last chained entry, holding that entry's SHA-256."""
    last: tuple[int, Path] | None = None
    for p in _entries(folder):
        seq = _read(p).get(SEQ)
        if isinstance(seq, int) and (last is None or seq > last[0]):
            last = (seq, p)
    if last is None:
        return {**entry, SEQ: 1, PREV: None}
    return {**entry, SEQ: last[0] + 1, PREV: hashlib.sha256(last[1].read_bytes()).hexdigest()}


def chain_problems(folder: Path) -> list[str]:
    """Breaks in the folder's hash chain: a number missing or taken twice, or an entry that does not
    hold the SHA-256 of the one before it (edited, deleted and written anew). Entries from before
    the chain (no number) are not part of it."""
    folder = Path(folder)
    numbered: dict[int, list[Path]] = {}
    for p in _entries(folder) if folder.is_dir() else ():
        try:
            seq = _read(p).get(SEQ)
        except (OSError, ValueError):
            return [f"{p}: utskicksloggens post går inte att läsa"]
        if isinstance(seq, int):
            numbered.setdefault(seq, []).append(p)
    problems = []
    for seq in range(1, max(numbered, default=0) + 1):
        found = numbered.get(seq, [])
        if len(found) != 1:
            what = "saknas" if not found else f"finns {len(found)} gånger"
            problems.append(f"{folder}: utskicksloggens kedja är bruten: post {seq} {what}")
            continue
        before = numbered.get(seq - 1, [])
        want = hashlib.sha256(before[0].read_bytes()).hexdigest() if len(before) == 1 else None
        if (seq == 1 or len(before) == 1) and _read(found[0]).get(PREV) != want:
            problems.append(
                f"{folder}: utskicksloggens kedja är bruten: {found[0].name} stämmer inte med post {seq - 1}"
                " (ändrad eller ersatt)"
            )
    return problems


def finish(path: Path, entry: dict) -> dict:
    """The server accepted the message: write the entry once (chained), then drop the marker."""
    stem = path.name[: -len(LEDGER_SUFFIX)]
    n = int(stem.rsplit("-resend-", 1)[1]) if "-resend-" in stem else 0
    with _chain_lock(path.parent):
        entry = _chained(path.parent, {**entry, "resend": n})
        _write_once(path, _payload(entry))
    abandon(path)
    return {"ledger_file": path.name, **entry}


def record(folder: Path, slug: str, key: str, entry: dict) -> dict:
    """Write ``entry`` once: the first entry, else the next ``-resend-N``. Returns it with
    ``resend`` and ``ledger_file``."""
    return finish(begin(folder, slug, key, entry, resend=True), entry)


def ledger_entries(folder: Path, sha256s) -> list[dict]:
    """The ledger entries for the given content keys or attachments (the package's
    email_ledger.json), sorted."""
    wanted = set(sha256s)
    folder = Path(folder)
    if not folder.exists():
        return []
    entries = [_read(p) for p in _entries(folder)]
    chosen = [e for e in entries if wanted & {e["attachment"]["sha256"], e.get("content_sha256")}]
    return sorted(chosen, key=lambda e: (e["attachment"]["name"], e["to"], e["resend"]))
