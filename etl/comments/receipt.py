"""The receipt a manager gets for a returned workbook: what was stored, as text and as an
attached CSV, sent once per file and recipient through the same delivery and write-once ledger
as the reports (etl.mail.sending; ``outbox`` mode writes .eml files)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path

from etl.comments.reader import Returned
from etl.comments.store import Stored
from etl.mail import ledger, recipients, sending
from etl.settings import Recipient, settings

RECEIPTS = "kvitton"
"""Outbox subfolder of a period's receipts (beside the reports' messages, never over them)."""
KEY_PREFIX = "kvitto-"
"""Ledger key of a receipt: this prefix and the returned file's SHA-256 (once per file)."""


REFUSALS_KEY_PREFIX = "avvisad-"


def receivers(scope: str | None, sender: str | None) -> list[Recipient]:
    """The sender when they are a configured recipient, else everyone who got this scope's
    workbook (nobody when neither is known)."""
    if sender:
        try:
            return [recipients.recipient(parseaddr(sender)[1] or sender)]
        except ValueError:
            pass  # unknown sender: the scope's recipients are told instead
    return list(settings().mail.recipients_for(scope)) if scope else []


def _text(returned: Returned, stored: Stored, recipient: Recipient) -> str:
    cfg = settings()
    scope = cfg.mail.scope_name(returned.scope)
    state = (
        f"De är sparade i arkivet (tertialuppföljningens version {stored.version.name[1:]})."
        if stored.created
        else f"Samma kommentarer fanns redan sparade (version {stored.version.name[1:]}); inget är ändrat."
    )
    lines = [
        f"Hej {recipient.name},",
        "",
        f"Vi har tagit emot arbetsboken {returned.path.name} med analys och åtgärder för "
        f"T{returned.period.tertial} {returned.period.year}, {scope}. {state}",
        "",
        f"Mål med kommentar: {len(stored.comments)}.",
    ]
    for c in stored.comments.itertuples():
        entry = cfg.catalogue.entry_for(c.indicator)
        lines.append(f"- {entry.name if entry else c.indicator}")
    lines += [
        "",
        "Texterna visas i verksamhetsberättelsen. Vill du ändra något: fyll i den senaste arbetsboken "
        "och skicka den igen; den nya versionen ersätter den här för ditt område.",
        "",
        f"Bifogat: kommentarerna som de sparades (CSV). {cfg.unit_name}",
    ]
    return "\n".join(lines) + "\n"


def build_receipt(returned: Returned, stored: Stored, recipient: Recipient, now: dt.datetime) -> EmailMessage:
    cfg = settings()
    sender = cfg.mail.delivery.sender
    data = stored.comments.to_csv(index=False, lineterminator="\n").encode("utf-8")
    name = f"kommentarer_{returned.period.year}_T{returned.period.tertial}_{returned.scope}.csv"
    digest = hashlib.sha256(f"{returned.file_sha256}\n{recipient.email.lower()}".encode()).hexdigest()
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    msg = EmailMessage()
    msg["Subject"] = (
        f"Kvitto: analys och åtgärder T{returned.period.tertial} {returned.period.year} – "
        f"{cfg.mail.scope_name(returned.scope)}"
    )
    msg["From"] = sender
    msg["To"] = Address(display_name=recipient.name, addr_spec=recipient.email)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<eb.kvitto.{digest[:32]}@{domain}>"
    msg["Auto-Submitted"] = "auto-replied"  # RFC 3834: an answer to the manager's file
    msg["X-EB-Period"] = str(returned.period)
    msg.set_content(_text(returned, stored, recipient), subtype="plain", cte="quoted-printable")
    msg.add_attachment(data, maintype="text", subtype="csv", filename=name, params={"charset": "utf-8"})
    msg.set_boundary(f"=_kvitto-{digest[:24]}_mixed")
    msg["Content-Language"] = "sv"
    return msg


def send_receipts(
    returned: Returned,
    stored: Stored,
    archive_root: Path,
    outbox_dir: Path,
    *,
    sender: str | None = None,
    now: dt.datetime | None = None,
    mode: str | None = None,
) -> list[dict]:
    """One receipt per receiver, at most once per returned file: a re-import sends nothing (the
    earlier ledger entries come back as ``already_sent``)."""
    now = now or dt.datetime.now(dt.UTC)  # the message's Date only, never a stored result
    folder = ledger.ledger_dir(Path(archive_root), returned.period)
    key = f"{KEY_PREFIX}{returned.file_sha256}"
    earlier = sorted(folder.glob(f"*__{key}{ledger.LEDGER_SUFFIX}")) if folder.is_dir() else []
    if earlier:  # this file was acknowledged before (perhaps to its sender): nobody gets another
        return [
            {"status": "already_sent", "ledger_file": p.name, **json.loads(p.read_text("utf-8"))}
            for p in earlier
        ]
    out = []
    for recipient in receivers(returned.scope, sender):
        out.append(
            sending.send_to_recipient(
                recipient,
                build_receipt(returned, stored, recipient, now),
                folder,
                mode=mode or recipients.delivery_mode(),
                outbox_dir=Path(outbox_dir) / str(returned.period) / RECEIPTS / returned.file_sha256[:12],
                content_sha256=key,
            )
        )
    return out


def send_refusal(
    path: Path,
    reasons: str,
    scope: str | None,
    ledger_folder: Path,
    outbox_dir: Path,
    *,
    sender: str | None = None,
    now: dt.datetime | None = None,
    mode: str | None = None,
) -> list[dict]:
    """Tell the sender (or the scope's recipients) why a file was refused, once per file; the
    reasons attached as text. Nothing goes to the archive: the ledger is ``ledger_folder``."""
    now = now or dt.datetime.now(dt.UTC)
    cfg = settings()
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    out = []
    for recipient in receivers(scope, sender):
        msg = EmailMessage()
        msg["Subject"] = f"Arbetsboken kunde inte läsas in: {Path(path).name}"
        msg["From"] = cfg.mail.delivery.sender
        msg["To"] = Address(display_name=recipient.name, addr_spec=recipient.email)
        msg["Date"] = format_datetime(now)
        mid = hashlib.sha256(f"{digest}\n{recipient.email.lower()}\nrefused".encode()).hexdigest()
        domain = parseaddr(cfg.mail.delivery.sender)[1].rpartition("@")[2] or "localhost"
        msg["Message-ID"] = f"<eb.avvisad.{mid[:32]}@{domain}>"
        msg["Auto-Submitted"] = "auto-replied"
        body = (
            f"Hej {recipient.name},\n\n{reasons}\n\nRätta det som står ovan i den senaste arbetsboken "
            "(fyll bara i de gula cellerna Analys och Åtgärder på Sammanfattning) och skicka den igen.\n\n"
            f"{cfg.unit_name}\n"
        )
        msg.set_content(body, subtype="plain", cte="quoted-printable")
        msg.add_attachment(
            (reasons + "\n").encode("utf-8"), maintype="text", subtype="plain", filename="fel.txt",
            params={"charset": "utf-8"},
        )  # fmt: skip
        msg.set_boundary(f"=_avvisad-{mid[:24]}_mixed")
        msg["Content-Language"] = "sv"
        out.append(
            sending.send_to_recipient(
                recipient, msg, ledger_folder, mode=mode or recipients.delivery_mode(),
                outbox_dir=Path(outbox_dir) / digest[:12], content_sha256=f"{REFUSALS_KEY_PREFIX}{digest}",
            )
        )  # fmt: skip
    return out
