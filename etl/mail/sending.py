"""Sending a message once: by SMTP (the provider's SmtpHook) or into the outbox as .eml.

One retry layer: the Airflow task's (``retries`` on the e-mail task). The hook tries once
(``retry_limit`` 0) and there is no loop here, so a failed send raises and Airflow retries the
task; the ledger makes sure a retry after a successful send sends nothing.

At most once (etl.mail.ledger): the server's 250 to DATA is what counts as sent, whatever happens
to the connection afterwards; a connection lost during DATA, before that answer, leaves the
outcome unknown and is never retried automatically (:class:`ledger.DeliveryUncertain`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import smtplib
import tempfile
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

from etl.mail import ledger, recipients
from etl.mail.message import attachment, build_message
from etl.mail.recipients import MODES, OUTBOX, SMTP
from etl.periods import Period
from etl.published import read_published
from etl.settings import Recipient, settings

if TYPE_CHECKING:
    import pandas as pd


class MailDeliveryError(RuntimeError):
    """The SMTP server could not be reached or refused the message (one attempt; Airflow retries)."""


DeliveryUncertain = ledger.DeliveryUncertain


def _uncertain_text(to: str, detail: str) -> str:
    return (
        f"Oklart om levererat: e-posten till {to} kan ha kommit fram, men det är inte bekräftat "
        f"({detail}). Den skickas inte igen automatiskt. Kontrollera med mottagaren eller i "
        "e-postserverns logg; kom den inte fram, skicka om med --resend (eller uppgiftens resend)."
    )


def _smtp_hook(conn_id: str, smtp):
    """The provider's SmtpHook: timeout from the connection's extras, else our config; one attempt."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    class _Hook(SmtpHook):
        @property
        def timeout(self) -> int:
            return int(self.conn.extra_dejson.get("timeout", smtp.timeout_seconds))

        @property
        def smtp_retry_limit(self) -> int:
            return 0  # whatever the connection says: the task's retries are the only retries

    return _Hook(smtp_conn_id=conn_id)


def _close_quietly(hook) -> None:
    """Drop a half-open client (``__exit__`` does not run when logging in failed)."""
    client, hook._smtp_client = hook._smtp_client, None
    if client is not None:
        with contextlib.suppress(OSError):
            client.close()


def send_smtp(message: EmailMessage, conn_id: str) -> None:
    """Send the prepared MIME message through the hook's SMTP client, once.

    The hook's ``send_email_smtp`` builds its own message (HTML only, wall-clock Date), so we
    use the client the hook logged in (``_smtp_client``) and ``send_message`` the one we built.
    """
    from airflow.providers.common.compat.sdk import AirflowException

    hook = _smtp_hook(conn_id, settings().mail.delivery.smtp)
    try:
        hook.smtp_connection = hook.get_connection(conn_id)
    except Exception as exc:  # noqa: BLE001 - the SDK raises several not-found types
        raise MailDeliveryError(
            f"Airflow-anslutningen {conn_id!r} för e-post saknas eller kan inte läsas ({exc}). Lägg upp "
            f"den (t.ex. AIRFLOW_CONN_{conn_id.upper()}) eller kör med EB_MAIL_MODE=outbox."
        ) from exc
    target = f"{hook.host}:{hook.port}"
    phase = {"at": "before"}  # before DATA → data sent, no answer yet → accepted (250)
    try:
        with hook:
            client = hook._smtp_client
            data = client.data

            def data_watched(msg):
                phase["at"] = "data"
                reply = data(msg)  # SMTPDataError, or a code other than 250: refused, certainly not sent
                phase["at"] = "accepted" if reply[0] == 250 else "refused"
                return reply

            client.data = data_watched
            client.send_message(message)
            with contextlib.suppress(OSError, smtplib.SMTPException):
                client.quit()  # accepted: a connection dropped now changes nothing
    except (AirflowException, OSError, smtplib.SMTPException) as exc:  # the hook's "cannot connect"
        _close_quietly(hook)
        if phase["at"] == "accepted":
            return
        to = ", ".join(recipients.message_addresses(message))
        if phase["at"] == "data" and not isinstance(exc, smtplib.SMTPDataError):
            detail = f"förbindelsen med {target} bröts efter DATA innan servern svarat: {type(exc).__name__}"
            raise DeliveryUncertain(_uncertain_text(to, detail)) from exc
        raise MailDeliveryError(
            f"E-posten till {to} kunde inte skickas via SMTP-servern "
            f"{target} (anslutningen {conn_id!r}): {type(exc).__name__}: {exc}. Inget är skickat och "
            "inget har förts in i utskicksloggen; kör om uppgiften när servern svarar."
        ) from exc


def write_outbox(message: EmailMessage, outbox_dir: Path, slug: str) -> Path:
    """``<outbox>/<slug>.eml``, replaced atomically (the same message gives the same bytes)."""
    outbox = Path(outbox_dir)
    outbox.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=outbox)
    with os.fdopen(fd, "wb") as f:
        f.write(message.as_bytes())
    path = outbox / f"{slug}.eml"
    os.replace(tmp, path)
    return path


def send_to_recipient(
    recipient: Recipient,
    message: EmailMessage,
    ledger_dir: Path,
    *,
    mode: str,
    resend: bool = False,
    smtp_conn_id: str | None = None,
    outbox_dir: Path | None = None,
    content_sha256: str | None = None,
) -> dict:
    """Send ``message`` to ``recipient`` once (ledger), by SMTP or into the outbox.

    The ledger is keyed by ``content_sha256`` (the run's published figures, so a re-run of the
    tertial whose workbook differs only in its run id sends nothing new), else by the
    attachment's SHA-256. Returns the ledger entry with ``status`` ``sent`` or ``already_sent``
    and ``ledger_file``. ``smtp_conn_id`` defaults to delivery.smtp.conn_id (``smtp_default``).
    """
    if mode not in MODES:
        raise ValueError(f"Okänt leveranssätt {mode!r}: ska vara smtp eller outbox.")
    if mode == OUTBOX and outbox_dir is None:
        raise ValueError("Leveranssättet outbox kräver en utkorg (outbox_dir).")
    email = recipients.check_addressed(recipient, message)
    name, sha = attachment(message)
    key = content_sha256 or sha

    earlier = ledger.sent_before(ledger_dir, recipient.slug, key)
    if earlier is not None and not resend:
        return {"status": "already_sent", **earlier}
    pending = ledger.unresolved(ledger_dir, recipient.slug, key)
    if pending and not resend:
        detail = f"ett tidigare försök avbröts; markering {pending[0].name} i utskicksloggen"
        raise DeliveryUncertain(_uncertain_text(email, detail))

    entry = {
        "to": email,
        "subject": str(message["Subject"]),
        "message_id": str(message["Message-ID"]),
        "attachment": {"name": name, "sha256": sha},
        "content_sha256": key,
        "mode": mode,
    }
    # The marker holds the entry as it will be written: renamed to .json it records a delivery
    # an operator confirmed (docs/deployment.md).
    path = ledger.begin(ledger_dir, recipient.slug, key, entry, resend=resend)
    try:
        if mode == SMTP:
            send_smtp(message, smtp_conn_id or settings().mail.delivery.smtp.conn_id)
        else:
            write_outbox(message, outbox_dir, recipient.slug)
    except DeliveryUncertain:
        raise  # the marker stays: an operator decides
    except Exception:  # an interrupt (BaseException) keeps the marker: the outcome is unknown
        ledger.abandon(path)  # certainly not sent: a retry may send
        raise

    return {"status": "sent", **ledger.finish(path, entry)}


def deliver(
    address: str,
    *,
    period: Period | str,
    published: pd.DataFrame | Path,
    workbooks: Path | list[Path],
    archive_root: Path,
    outbox_dir: Path | None = None,
    resend: bool = False,
    mode: str | None = None,
    date: dt.datetime | None = None,
    content_sha256: str | None = None,
    comparison: pd.DataFrame | Path | None = None,
) -> dict:
    """One recipient's whole delivery (the DAG's mapped e-mail task): find, build, send once.

    ``workbooks`` is the folder of the run's workbooks or a list of paths; the recipient's is
    the one named ``…_<scope>.xlsx``. ``published`` is the published table or published.csv;
    ``comparison`` the published comparison figures (table or file; None or a missing file: none).
    The ledger is :func:`ledger.ledger_dir` under ``archive_root``; ``mode`` defaults to
    :func:`recipients.delivery_mode`. Returns the ledger entry with ``status`` (XCom-safe).
    """
    recipient = recipients.recipient(address)
    paths = sorted(Path(workbooks).glob("*.xlsx")) if isinstance(workbooks, str | Path) else list(workbooks)
    mine = [Path(w) for w in paths if Path(w).name.endswith(f"_{recipient.scope}.xlsx")]
    if len(mine) != 1:
        raise FileNotFoundError(
            f"Hittar {'ingen' if not mine else 'mer än en'} arbetsbok för omfattningen {recipient.scope} "
            f"(mottagare {recipient.email}) bland {[Path(w).name for w in paths]}."
        )
    table = read_published(Path(published)) if isinstance(published, str | Path) else published
    if isinstance(comparison, str | Path):
        comparison = read_published(Path(comparison)) if Path(comparison).exists() else None
    message = build_message(recipient, period, None, table, mine[0], date=date, comparison=comparison)
    return send_to_recipient(
        recipient,
        message,
        ledger.ledger_dir(archive_root, period),
        mode=mode or recipients.delivery_mode(),
        resend=resend,
        outbox_dir=outbox_dir,
        content_sha256=content_sha256,
    )
