"""Importing returned workbooks: one file (the CLI) or every file in ``$EB_DATA_DIR/inbox/``
(the DAG ``manager_comments``).

A file is checked (etl.comments.reader), its comments stored as a new package version
(etl.comments.store) and the receipt sent (etl.comments.receipt). From the inbox a processed
file moves to ``inbox/done/`` with a ``.kvitto.txt``, or to ``inbox/refused/`` with a
``.fel.txt`` that names every problem's sheet and cell; the same reasons go by e-mail to the
sender (or the scope's recipients when the file says its scope), once per file. A file still
being copied (changed in the last ``comments.settle_seconds``) waits for the next look.
``<file>.avsandare`` beside a file may hold the sender's address (the receipt goes there when it
is a configured recipient).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from etl.comments.reader import CommentsRefused, Returned, identify, read_returned
from etl.comments.receipt import send_receipts, send_refusal
from etl.comments.store import Stored, period_comments, store
from etl.mail.ledger import DeliveryUncertain
from etl.mail.sending import MailDeliveryError
from etl.settings import env, settings

log = logging.getLogger(__name__)

INBOX, DONE, REFUSED = "inbox", "done", "refused"
SENDER_SUFFIX = ".avsandare"
REASON_SUFFIX, RECEIPT_SUFFIX = ".fel.txt", ".kvitto.txt"
LEDGER, OUTBOX = ".utskick", ".utkorg"
"""Under refused/: the write-once ledger of refusal notices, and their .eml files in outbox mode."""


@dataclass(frozen=True)
class Imported:
    returned: Returned
    stored: Stored
    receipts: list[dict]

    def summary(self) -> str:
        r, s = self.returned, self.stored
        what = (
            f"ny version {s.version.name}"
            if s.created
            else f"redan sparat i {s.version.name}, ingen ny version"
        )
        sent = sum(1 for x in self.receipts if x["status"] == "sent")
        earlier = len(self.receipts) - sent
        note = f" ({earlier} hade redan fått kvitto på samma fil)" if earlier else ""
        return (
            f"{r.path.name}: {len(s.comments)} mål med kommentar för {r.scope} {r.period} ({what}); "
            f"kvitto skickat till {sent} mottagare{note}."
        )


def _data_dir(data_dir: Path | None) -> Path:
    return Path(data_dir) if data_dir is not None else env().data_dir


def import_file(
    path: Path, data_dir: Path | None = None, *, sender: str | None = None, now: dt.datetime | None = None
) -> Imported:
    """Check, store and acknowledge one returned workbook; CommentsRefused (nothing stored) if bad."""
    base = _data_dir(data_dir)
    root = base / "archive"
    returned = read_returned(Path(path), root)
    if (
        not returned.comments
        and not (period_comments(root, returned.period)[0]["scope"] == returned.scope).any()
    ):
        raise CommentsRefused(
            Path(path), ["Sammanfattning: inga kommentarer är ifyllda i kolumnerna Analys och Åtgärder."]
        )  # an empty return that clears earlier comments of its scope is stored
    stored = store(root, returned)
    receipts = send_receipts(returned, stored, root, base / "outbox", sender=sender, now=now)
    return Imported(returned, stored, receipts)


def _free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``name`` with ``-2``, ``-3`` … before the suffix when taken."""
    target = folder / name
    n = 2
    while target.exists():
        target = folder / f"{Path(name).stem}-{n}{Path(name).suffix}"
        n += 1
    return target


def _move(file: Path, folder: Path, note_suffix: str, note: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_name(folder, file.name)
    os.replace(file, target)
    sidecar = file.with_name(file.name + SENDER_SUFFIX)
    if sidecar.exists():
        os.replace(sidecar, target.with_name(target.name + SENDER_SUFFIX))
    target.with_name(target.name + note_suffix).write_text(note + "\n", encoding="utf-8")
    return target


def _refuse(file: Path, inbox: Path, exc: CommentsRefused, sender: str | None, now: dt.datetime) -> None:
    """Tell the sender (or the scope's recipients) why, then move the file to refused/ with the
    reasons. The notice's ledger lives in refused/ (nothing of a refused file goes to the archive)."""
    log.warning("%s", exc)
    known = identify(file)
    try:
        send_refusal(
            file, str(exc), known[1] if known else None, inbox / REFUSED / LEDGER, inbox / REFUSED / OUTBOX,
            sender=sender, now=now,
        )  # fmt: skip
    except (DeliveryUncertain, MailDeliveryError) as err:  # the reason file still says it
        log.error("Avvisningen av %s kunde inte skickas: %s", file.name, err)
    _move(file, inbox / REFUSED, REASON_SUFFIX, str(exc))


def _ready(file: Path, now: dt.datetime, settle: int) -> bool:
    changed = dt.datetime.fromtimestamp(file.stat().st_mtime, dt.UTC)
    return (now - changed).total_seconds() >= settle


def import_inbox(data_dir: Path | None = None, now: dt.datetime | None = None) -> dict[str, list[str]]:
    """Import every file in the inbox; one Swedish line per file: ``imported``, ``refused``,
    ``waiting`` (still being copied) or ``undelivered`` (stored, but the receipt could not be sent:
    the file stays and the next look sends it, or an operator resolves an uncertain delivery)."""
    now = now or dt.datetime.now(dt.UTC)  # only to leave a file still being copied alone
    inbox = _data_dir(data_dir) / INBOX
    inbox.mkdir(parents=True, exist_ok=True)
    settle = settings().pipeline.comments.settle_seconds
    out: dict[str, list[str]] = {"imported": [], "refused": [], "waiting": [], "undelivered": []}
    for file in sorted(p for p in inbox.iterdir() if p.is_file()):
        if file.name.startswith(".") or file.name.endswith(SENDER_SUFFIX):
            continue
        if not _ready(file, now, settle):
            out["waiting"].append(file.name)
            continue
        sidecar = file.with_name(file.name + SENDER_SUFFIX)
        sender = sidecar.read_text(encoding="utf-8").strip() if sidecar.is_file() else None
        try:
            done = import_file(file, data_dir, sender=sender, now=now)
        except CommentsRefused as exc:
            _refuse(file, inbox, exc, sender, now)
            out["refused"].append(str(exc))
            continue
        except (DeliveryUncertain, MailDeliveryError) as exc:  # stored; the receipt waits, the file stays
            log.error("%s: %s", file.name, exc)
            out["undelivered"].append(f"{file.name}: {exc}")
            continue
        _move(file, inbox / DONE, RECEIPT_SUFFIX, done.summary())
        log.info("%s", done.summary())
        out["imported"].append(done.summary())
    return out
