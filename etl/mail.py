"""E-mail to managers (the workbook with a short summary) and to operators (failures).

Why it looks like this:
- Only published (suppressed) figures go into a message; ``..`` stays ``..``.
- Statistics must not leave the organisation: every address is checked against an
  allow-list of domains before anything is connected to or written (:func:`check_allowed`).
- Sending is idempotent. A write-once ledger file per (recipient, attachment SHA-256) is
  created atomically, and only after the server accepted the message; a retried or cleared
  task finds it and sends nothing. ``resend=True`` sends again and adds a ``-resend-N`` file.
  (At-least-once: a crash between the server's acceptance and the ledger write would send
  again on retry. That is the safe side: a lost report is worse than a duplicate.)
- Messages are deterministic: Message-ID from (period, recipient, attachment hash), Date from
  the period (the day the run is due, config ``date_day_of_month``), fixed MIME boundaries. So
  an outbox ``.eml`` is byte-identical across re-runs of the same data.

This module is imported by the DAG file at parse time: no pandas and no Airflow at module
level (both are imported inside the functions that need them).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import html
import json
import math
import os
import smtplib
import tempfile
import time
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from etl import targets
from etl.addresses import check_allowed
from etl.periods import Period
from etl.settings import Mail, Recipient, env, settings
from etl.settings.mail import MODES
from etl.vocabulary import SEXES
from reports.swedish import MONTHS, NBSP, date_text, format_number

if TYPE_CHECKING:
    import pandas as pd

SMTP, OUTBOX = MODES
XLSX_MIME = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
LEDGER_SUFFIX = ".json"


class MailDeliveryError(RuntimeError):
    """The SMTP server could not be reached or refused the message (after the retries)."""


def recipient_addresses() -> list[str]:
    """Every recipient's address, in config order (the DAG maps the e-mail task over these)."""
    return [r.email for r in settings().mail.recipients]


def delivery_mode(cfg: Mail | None = None) -> str:
    """$EB_MAIL_MODE if set (the demo uses outbox), else delivery.mode in the config."""
    return env().mail_mode or (cfg or settings().mail).delivery.mode


# --------------------------------------------------------------------------------------------
# Summary from the published table
# --------------------------------------------------------------------------------------------


def _format(value: float, unit: str, decimals: int | None = None) -> str:
    """Swedish number text: thousands separated by a no-break space, decimal comma.

    Counts and kronor without decimals, everything else with one (as in the workbook).
    """
    if decimals is None:
        decimals = 0 if unit in ("antal", "kr") else 1
    text = format_number(value, decimals, space=NBSP, real_minus=False)
    suffix = {"procent": f"{NBSP}%", "kr": f"{NBSP}kr", "dagar": f"{NBSP}dagar"}.get(unit, "")
    return text + suffix


def _cell(value, suppressed: bool, unit: str) -> str:
    disclosure = settings().pipeline.disclosure
    if suppressed:
        return disclosure.suppressed_symbol
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return disclosure.nothing_symbol
    return _format(float(value), unit)


def _scope_rows(published: pd.DataFrame, scope: str, ids: list[str]) -> pd.DataFrame:
    """The rows of ``ids`` for ``scope`` with ``suppressed`` as a real bool and value as float."""
    import pandas as pd

    missing = {"indicator_id", "period", "district_code", "sex", "value", "unit", "suppressed"} - set(
        published.columns
    )
    if missing:
        raise ValueError(f"Den publicerade tabellen saknar kolumnerna {sorted(missing)}.")
    rows = published[(published["district_code"] == scope) & published["indicator_id"].isin(ids)].copy()
    flag = rows["suppressed"]
    if flag.dtype == bool:
        rows["suppressed"] = flag
    else:
        rows["suppressed"] = flag.astype("string").str.lower().isin(["true", "1"]).astype(bool)
    rows["value"] = pd.to_numeric(rows["value"], errors="coerce").astype(float)
    # Never show a figure the disclosure step suppressed, even if a value slipped through.
    rows.loc[rows["suppressed"], "value"] = float("nan")
    return rows


def _period_of(published: pd.DataFrame) -> Period:
    periods = published["period"].dropna().unique()
    if len(periods) != 1:
        raise ValueError(f"Den publicerade tabellen ska gälla en period, har {sorted(map(str, periods))}.")
    return Period.parse(str(periods[0]))


def _cells(rows: pd.DataFrame, indicator_id: str) -> tuple[dict, str, float | None]:
    """(texts by sex, unit, total value) for one indicator from the scope's rows."""
    ind = rows[rows["indicator_id"] == indicator_id].set_index("sex")
    unit = str(ind["unit"].iloc[0])
    texts = {
        sex: (
            _cell(ind.at[sex, "value"], bool(ind.at[sex, "suppressed"]), unit) if sex in ind.index else None
        )
        for sex in SEXES
    }
    total = float(ind.at["T", "value"]) if "T" in ind.index else None
    return texts, unit, total


def summary_rows(published: pd.DataFrame, scope: str) -> list[dict]:
    """The catalogue's e-mail summary indicators for ``scope``, as published text.

    Each row: indicator_id, label, unit, T, K, M (text; None where the indicator has no such
    sex), judgement (måluppfyllelse word via etl.targets.judge, None without an årsmål).
    Indicators absent from the table are left out.
    """
    cfg = settings()
    entries = cfg.catalogue.email_summary()
    rows = _scope_rows(published, scope, [e.id for e in entries])
    period = _period_of(published)
    plan = cfg.plan(period.year)
    out = []
    for entry in entries:  # a handful of indicators
        if not (rows["indicator_id"] == entry.id).any():
            continue
        texts, unit, total = _cells(rows, entry.id)
        judgement = targets.judge(entry, plan, total, period.months, scope) if entry.goal else None
        out.append(
            {"indicator_id": entry.id, "label": entry.name, "unit": unit, **texts, "judgement": judgement}
        )
    return out


def goal_rows(published: pd.DataFrame, scope: str) -> list[dict]:
    """Måluppfyllelse for every indicator with an årsmål in the year's plan, judged for ``scope``.

    Each row: indicator_id, name, outcome (published total), target (årsmål text), judgement.
    Indicators without an årsmål for the scope, or absent from the table, are left out; a year
    without a plan has none.
    """
    cfg = settings()
    period = _period_of(published)
    plan = cfg.plan(period.year)
    goals = [e for e in cfg.catalogue.goals() if plan is not None and plan.target(e.id, scope) is not None]
    rows = _scope_rows(published, scope, [e.id for e in goals])
    out = []
    for entry in goals:  # the plan's ~17 indicators
        if not (rows["indicator_id"] == entry.id).any():
            continue
        texts, _, total = _cells(rows, entry.id)
        target_text = _format(plan.target(entry.id, scope), entry.unit)
        if entry.is_count and period.months < 12:
            # Counts are judged against the årsmål pro-rated to the period: show both.
            pro_rated = targets.period_target(entry, plan, period.months, scope)
            decimals = 0 if float(pro_rated).is_integer() else 1
            target_text += f" ({_format(pro_rated, entry.unit, decimals)} för perioden)"
        out.append(
            {
                "indicator_id": entry.id,
                "name": entry.name,
                "outcome": texts["T"],
                "target": target_text,
                "judgement": targets.judge(entry, plan, total, period.months, scope),
            }
        )
    return out


# --------------------------------------------------------------------------------------------
# The message
# --------------------------------------------------------------------------------------------


def _as_period(period: Period | str) -> Period:
    return period if isinstance(period, Period) else Period.parse(str(period))


def subject(period: Period | str, scope_name: str) -> str:
    """ "Tertialuppföljning T1 2018 – Försörjningsstödsenheten (Östermalm)"; T3: Verksamhetsberättelse."""
    p = _as_period(period)
    report = (
        f"Verksamhetsberättelse {p.year}" if p.tertial == 3 else f"Tertialuppföljning T{p.tertial} {p.year}"
    )
    return f"{report} – {settings().unit_name} ({scope_name})"


def message_date(period: Period | str, cfg: Mail | None = None) -> dt.datetime:
    """The day the run is due (config day of the month after the tertial), local time."""
    cfg = (cfg or settings().mail).delivery
    end = _as_period(period).end_exclusive
    day = dt.date(end.year, end.month, cfg.date_day_of_month)
    return dt.datetime.combine(day, cfg.date_time, tzinfo=ZoneInfo(settings().timezone))


def message_id(period: Period | str, recipient_email: str, attachment_sha256: str, sender: str) -> str:
    """Deterministic Message-ID: the same report to the same person is the same message."""
    digest = hashlib.sha256(
        f"{_as_period(period)}\n{recipient_email.lower()}\n{attachment_sha256}".encode()
    ).hexdigest()
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<eb.{_as_period(period)}.{digest[:32]}@{domain}>"


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _period_text(p: Period) -> str:
    return f"januari–{MONTHS[p.months - 1]} {p.year}"


def _summary_line(row: dict) -> str:
    line = f"- {row['label']}: {row.get('T') or ''}"
    if row.get("K") is not None and row.get("M") is not None:
        line += f" (kvinnor {row['K']}, män {row['M']})"
    if row.get("judgement"):
        line += f" – {row['judgement']}"
    return line


def _bodies(
    recipient: Recipient, p: Period, scope_name: str, rows: list[dict], goals: list[dict], workbook: str
):
    """(plain text, HTML) bodies; every piece of data is escaped in the HTML."""
    disclosure = settings().pipeline.disclosure
    report = "Verksamhetsberättelse" if p.tertial == 3 else f"Tertialuppföljning T{p.tertial}"
    intro = (
        f"Här kommer {report} {p.year} för {settings().unit_name} ({scope_name}): "
        f"{_period_text(p)}, uppgifter till och med {date_text(p.end)}. "
        f"Arbetsboken {workbook} är bifogad."
    )
    symbols = (
        f'"{disclosure.suppressed_symbol}" betyder att uppgiften vilar på färre än '
        f'{disclosure.min_persons} personer och inte redovisas. "{disclosure.nothing_symbol}" '
        "betyder att det inte finns något att redovisa."
    )
    footer = (
        f"Meddelandet är skickat automatiskt av tertialuppföljningen. Du får det som {recipient.role}. "
        "Alla siffror är desamma som i arbetsboken."
    )
    text = [f"Hej {recipient.name},", "", intro, "", "Nyckeltal (totalt, kvinnor, män)"]
    text += [_summary_line(r) for r in rows] or ["- Inga nyckeltal för perioden."]
    if goals:
        text += ["", "Måluppfyllelse (nämndens årsmål)"]
        text += [
            f"- {g['name']}: utfall {g['outcome']}, årsmål {g['target']} – {g['judgement']}" for g in goals
        ]
    text += ["", symbols, "", footer, ""]

    e = html.escape
    th = 'style="text-align:left;border-bottom:1px solid #999;padding:2px 8px"'
    td = 'style="padding:2px 8px"'
    tdr = 'style="padding:2px 8px;text-align:right"'
    key_rows = "".join(
        f"<tr><td {td}>{e(r['label'])}</td>"
        + "".join(f"<td {tdr}>{e(r[s]) if r.get(s) is not None else ''}</td>" for s in SEXES)
        + f"<td {td}>{e(r['judgement'] or '')}</td></tr>"
        for r in rows
    )
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="sv"><head><meta charset="utf-8"><title>{e(subject(p, scope_name))}</title></head>',
        '<body style="font-family:Arial,sans-serif;font-size:14px">',
        f"<p>Hej {e(recipient.name)},</p>",
        f"<p>{e(intro)}</p>",
        "<h3>Nyckeltal</h3>",
        '<table style="border-collapse:collapse">',
        f"<tr><th {th}>Indikator</th><th {th}>Totalt</th><th {th}>Kvinnor</th><th {th}>Män</th>"
        f"<th {th}>Måluppfyllelse</th></tr>",
        key_rows,
        "</table>",
    ]
    if goals:
        goal_html = "".join(
            f"<tr><td {td}>{e(g['name'])}</td><td {tdr}>{e(g['outcome'])}</td>"
            f"<td {tdr}>{e(g['target'])}</td><td {td}>{e(g['judgement'])}</td></tr>"
            for g in goals
        )
        parts += [
            "<h3>Måluppfyllelse (nämndens årsmål)</h3>",
            '<table style="border-collapse:collapse">',
            f"<tr><th {th}>Indikator</th><th {th}>Utfall</th><th {th}>Årsmål</th>"
            f"<th {th}>Bedömning</th></tr>",
            goal_html,
            "</table>",
        ]
    parts += [f"<p>{e(symbols)}</p>", f'<p style="color:#555">{e(footer)}</p>', "</body></html>", ""]
    return "\n".join(text), "\n".join(parts)


def build_message(
    recipient: Recipient,
    period: Period | str,
    scope_name: str | None,
    summary: pd.DataFrame | dict | list,
    workbook: Path,
    sender: str | None = None,
    *,
    date: dt.datetime | None = None,
) -> EmailMessage:
    """The e-mail for one recipient: text + HTML summary and the workbook attached.

    ``summary`` is the published table (rows are picked for ``recipient.scope``), or a dict
    ``{"rows": summary_rows(...), "goals": goal_rows(...)}``. ``scope_name`` defaults to the
    configured name of the recipient's scope; ``sender`` to ``delivery.from``; ``date`` to
    :func:`message_date` (pass the DAG run's ``run_after`` to date it by the run instead).
    """
    cfg = settings().mail
    p = _as_period(period)
    scope_name = scope_name or cfg.scope_name(recipient.scope)
    sender = sender or cfg.delivery.sender
    if hasattr(summary, "columns"):
        rows, goals = summary_rows(summary, recipient.scope), goal_rows(summary, recipient.scope)
    elif isinstance(summary, dict):
        rows, goals = list(summary.get("rows", [])), list(summary.get("goals", []))
    else:
        rows, goals = list(summary), []
    workbook = Path(workbook)
    data = workbook.read_bytes()
    attachment_sha = _sha256_bytes(data)
    text, html_body = _bodies(recipient, p, scope_name, rows, goals, workbook.name)

    msg = EmailMessage()
    msg["Subject"] = subject(p, scope_name)
    msg["From"] = sender
    msg["To"] = Address(display_name=recipient.name, addr_spec=recipient.email)
    msg["Date"] = format_datetime(date or message_date(p, cfg))
    mid = message_id(p, recipient.email, attachment_sha, sender)
    msg["Message-ID"] = mid
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
    msg["X-EB-Period"] = str(p)
    msg["X-EB-Attachment-SHA256"] = attachment_sha
    msg.set_content(text, subtype="plain", cte="quoted-printable")
    msg.add_alternative(html_body, subtype="html", cte="quoted-printable")
    msg.add_attachment(data, maintype=XLSX_MIME[0], subtype=XLSX_MIME[1], filename=workbook.name)
    # Fixed boundaries (random by default) keep the bytes identical for the same input.
    token = mid.strip("<>").split("@")[0].replace(".", "-")
    msg.set_boundary(f"=_{token}_mixed")
    msg.get_payload()[0].set_boundary(f"=_{token}_alt")
    msg["Content-Language"] = "sv"  # after set_content, which drops Content-* headers
    return msg


# --------------------------------------------------------------------------------------------
# Sending and the ledger
# --------------------------------------------------------------------------------------------


def ledger_dir(archive_root: Path, period: Period | str) -> Path:
    """Where the ledger of a period lives: beside its package versions, kept across runs."""
    p = _as_period(period)
    from etl.archive import EMAIL_LEDGER_DIR

    return Path(archive_root) / str(p.year) / f"T{p.tertial}" / EMAIL_LEDGER_DIR


def _attachment(message: EmailMessage) -> tuple[str, str]:
    """(file name, SHA-256) of the message's one attachment."""
    found = list(message.iter_attachments())
    if len(found) != 1:
        raise ValueError(f"Meddelandet ska ha exakt en bilaga (arbetsboken), har {len(found)}.")
    part = found[0]
    return part.get_filename(), _sha256_bytes(part.get_content())


def _message_addresses(message: EmailMessage) -> list[str]:
    return [
        addr
        for _, addr in getaddresses([str(v) for h in ("To", "Cc", "Bcc") for v in message.get_all(h, [])])
    ]


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


def _ledger_payload(entry: dict) -> bytes:
    return (json.dumps(entry, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _smtp_hook(conn_id: str, smtp):
    """The provider's SmtpHook with our configured timeout/retries as defaults for the extras."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    class _Hook(SmtpHook):
        @property
        def timeout(self) -> int:
            return int(self.conn.extra_dejson.get("timeout", smtp.timeout_seconds))

        @property
        def smtp_retry_limit(self) -> int:
            return int(self.conn.extra_dejson.get("retry_limit", smtp.retry_limit))

    return _Hook(smtp_conn_id=conn_id)


def _permanent(exc: Exception) -> bool:
    """A refusal the server will repeat (5xx, refused addresses): retrying cannot help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused):
        return True
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _close_quietly(hook) -> None:
    """Drop a half-open client (``__exit__`` does not run when logging in failed)."""
    client, hook._smtp_client = hook._smtp_client, None
    if client is not None:
        with contextlib.suppress(OSError):
            client.close()


def _send_smtp(message: EmailMessage, conn_id: str, retry_delay: float | None) -> None:
    """Send the prepared MIME message through the hook's SMTP client, retrying transient errors.

    The hook's ``send_email_smtp`` builds its own message (HTML only, wall-clock Date), so we
    use the client the hook logged in (``_smtp_client``) and ``send_message`` the one we built.
    The hook itself retries a dropped connection (``retry_limit``); a refused or timed-out
    connection (OSError) is retried here the same number of times.
    """
    from airflow.providers.common.compat.sdk import AirflowException

    smtp = settings().mail.delivery.smtp
    delay = smtp.retry_delay_seconds if retry_delay is None else retry_delay
    hook = _smtp_hook(conn_id, smtp)
    try:
        hook.smtp_connection = hook.get_connection(conn_id)
    except Exception as exc:  # noqa: BLE001 - the SDK raises several not-found types
        raise MailDeliveryError(
            f"Airflow-anslutningen {conn_id!r} för e-post saknas eller kan inte läsas ({exc}). Lägg upp "
            f"den (t.ex. AIRFLOW_CONN_{conn_id.upper()}) eller kör med EB_MAIL_MODE=outbox."
        ) from exc
    target = f"{hook.host}:{hook.port}"
    attempts = hook.smtp_retry_limit + 1
    last: Exception | None = None
    for attempt in range(1, attempts + 1):
        try:
            with hook:
                hook._smtp_client.send_message(message)
                hook._smtp_client.quit()
            return
        except AirflowException as exc:  # the hook already retried a dropped connection
            last = exc
            break
        except (OSError, smtplib.SMTPException) as exc:
            last = exc
            _close_quietly(hook)
            if _permanent(exc):
                break
            if attempt < attempts and delay:
                time.sleep(delay)
    raise MailDeliveryError(
        f"E-posten till {', '.join(_message_addresses(message))} kunde inte skickas via SMTP-servern "
        f"{target} (anslutningen {conn_id!r}): {type(last).__name__}: {last}. Inget är skickat och "
        "inget har förts in i utskicksloggen; kör om uppgiften när servern svarar."
    ) from last


def send_to_recipient(
    recipient: Recipient,
    message: EmailMessage,
    ledger_dir: Path,
    *,
    mode: str,
    resend: bool = False,
    smtp_conn_id: str | None = None,
    outbox_dir: Path | None = None,
    retry_delay: float | None = None,
    content_sha256: str | None = None,
) -> dict:
    """Send ``message`` to ``recipient`` once (ledger), by SMTP or into the outbox.

    The ledger is keyed by ``content_sha256`` (the run's published figures, so a re-run of the
    tertial whose workbook differs only in its run id sends nothing new), else by the
    attachment's SHA-256.

    Returns the ledger entry with ``status`` ``sent`` or ``already_sent`` and ``ledger_file``.
    ``smtp_conn_id`` defaults to delivery.smtp.conn_id (``smtp_default``); ``retry_delay``
    overrides delivery.smtp.retry_delay_seconds (tests).
    """
    if mode not in MODES:
        raise ValueError(f"Okänt leveranssätt {mode!r}: ska vara smtp eller outbox.")
    if mode == OUTBOX and outbox_dir is None:
        raise ValueError("Leveranssättet outbox kräver en utkorg (outbox_dir).")
    domains = settings().mail.delivery.allowed_domains
    email = check_allowed(recipient.email, domains)
    addresses = _message_addresses(message)
    for addr in addresses:
        check_allowed(addr, domains)
    if [a.lower() for a in addresses] != [email.lower()]:
        raise ValueError(f"Meddelandet är adresserat till {addresses}, inte till mottagaren {email}.")
    name, sha = _attachment(message)
    key = content_sha256 or sha

    ledger_dir = Path(ledger_dir)
    ledger_dir.mkdir(parents=True, exist_ok=True)
    base = ledger_dir / f"{recipient.slug}__{key}{LEDGER_SUFFIX}"
    if base.exists() and not resend:
        return {"status": "already_sent", "ledger_file": base.name, **_read_json(base)}

    if mode == SMTP:
        _send_smtp(message, smtp_conn_id or settings().mail.delivery.smtp.conn_id, retry_delay)
    else:
        outbox = Path(outbox_dir)
        outbox.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=outbox)
        with os.fdopen(fd, "wb") as f:
            f.write(message.as_bytes())
        os.replace(tmp, outbox / f"{recipient.slug}.eml")

    entry = {
        "to": email,
        "subject": str(message["Subject"]),
        "message_id": str(message["Message-ID"]),
        "attachment": {"name": name, "sha256": sha},
        "content_sha256": key,
        "mode": mode,
        "resend": 0,
    }
    n = 0
    path = base
    while not _write_once(path, _ledger_payload(entry)):  # a handful of resends at most
        n += 1
        path = ledger_dir / f"{recipient.slug}__{key}-resend-{n}{LEDGER_SUFFIX}"
        entry = {**entry, "resend": n}
    return {"status": "sent", "ledger_file": path.name, **entry}


def _read_published(path: Path) -> pd.DataFrame:
    import pandas as pd

    df = pd.read_csv(path, dtype={"published": "string"}, keep_default_na=False)
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    return df


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
) -> dict:
    """One recipient's whole delivery (the DAG's mapped e-mail task): find, build, send once.

    ``workbooks`` is the folder of the run's workbooks or a list of paths; the recipient's is
    the one named ``…_<scope>.xlsx``. ``published`` is the published table or published.csv.
    The ledger is :func:`ledger_dir` under ``archive_root``; ``mode`` defaults to
    :func:`delivery_mode`. Returns the ledger entry with ``status`` (XCom-safe).
    """
    recipient = settings().mail.recipient(address)
    paths = sorted(Path(workbooks).glob("*.xlsx")) if isinstance(workbooks, str | Path) else list(workbooks)
    mine = [Path(w) for w in paths if Path(w).name.endswith(f"_{recipient.scope}.xlsx")]
    if len(mine) != 1:
        raise FileNotFoundError(
            f"Hittar {'ingen' if not mine else 'mer än en'} arbetsbok för omfattningen {recipient.scope} "
            f"(mottagare {recipient.email}) bland {[Path(w).name for w in paths]}."
        )
    table = _read_published(Path(published)) if isinstance(published, str | Path) else published
    message = build_message(recipient, period, None, table, mine[0], date=date)
    return send_to_recipient(
        recipient,
        message,
        ledger_dir(archive_root, period),
        mode=mode or delivery_mode(),
        resend=resend,
        outbox_dir=outbox_dir,
        content_sha256=content_sha256,
    )


def ledger_entries(ledger_dir: Path, sha256s) -> list[dict]:
    """The ledger entries for the given content keys or attachments (the package's
    email_ledger.json), sorted."""
    wanted = set(sha256s)
    folder = Path(ledger_dir)
    if not folder.exists():
        return []
    entries = [_read_json(p) for p in sorted(folder.glob(f"*{LEDGER_SUFFIX}")) if not p.name.startswith(".")]
    chosen = [e for e in entries if wanted & {e["attachment"]["sha256"], e.get("content_sha256")}]
    return sorted(chosen, key=lambda e: (e["attachment"]["name"], e["to"], e["resend"]))


# --------------------------------------------------------------------------------------------
# Operators
# --------------------------------------------------------------------------------------------

# Context differs by callback: a task failure has ``ti``, ``exception`` and a DagRun object; a
# DAG failure has ``dag_run`` and ``reason``; a deadline alert (triggerer) has ``dag_run`` as a
# dict (``dag_run_id``) and ``deadline``. The prelude reads whichever is there.
_PRELUDE = (
    "{% set eb_dr = dag_run if dag_run is defined and dag_run else none %}"
    "{% set eb_dag = eb_dr.dag_id if eb_dr is not none and eb_dr.dag_id is defined else 'tertial_followup' %}"
    "{% set eb_run = eb_dr.run_id if eb_dr is not none and eb_dr.run_id is defined else "
    "(eb_dr.dag_run_id if eb_dr is not none and eb_dr.dag_run_id is defined else '') %}"
)
OPERATOR_SUBJECTS = {
    "failure": _PRELUDE + "Tertialuppföljningen stoppade: {{ eb_dag }} {{ eb_run }}"
    "{% if ti is defined and ti %} ({{ ti.task_id }}){% endif %}",
    "deadline": _PRELUDE + "Tertialuppföljningen är inte klar i tid: {{ eb_dag }} {{ eb_run }}",
}
OPERATOR_LEADS = {
    "failure": "En körning av tertialuppföljningen har stoppats eller misslyckats.",
    "deadline": "En körning av tertialuppföljningen har inte blivit klar inom den utsatta tiden.",
}
OPERATOR_HINTS = {
    "failure": (
        "Stoppades körningen av valideringen (ValidationStop) finns orsaken i valideringsrapporten "
        "(validation.json och Data Docs i körningens staging-mapp) och i docs/validation.md: rätta "
        "källdata och rensa (Clear) uppgiften. Annars: läs uppgiftens logg och dess beskrivning i "
        "Airflow (doc_md), åtgärda felet och rensa uppgiften. E-post skickas aldrig två gånger."
    ),
    "deadline": (
        "Öppna körningen i Airflow och se vilken uppgift som väntar eller gör om försök: vanliga "
        "orsaker är att källdatabasen inte svarar, att poolen för källdatabasen är full eller att "
        "ingen worker är igång. Körningen fortsätter av sig själv när orsaken är åtgärdad."
    ),
}
OPERATOR_HTML = """<!DOCTYPE html>
<html lang="sv"><head><meta charset="utf-8"></head>
<body style="font-family:Arial,sans-serif;font-size:14px">
<p>__LEAD__</p>
<table>
<tr><td>DAG</td><td>{{ eb_dag | e }}</td></tr>
<tr><td>Körning</td><td>{{ eb_run | e }}</td></tr>
{% if ti is defined and ti %}<tr><td>Uppgift</td><td>{{ ti.task_id | e }}</td></tr>
<tr><td>Försök</td><td>{{ ti.try_number | e }}</td></tr>
<tr><td>Logg</td><td>{{ (ti.log_url if ti.log_url is defined else '') | e }}</td></tr>{% endif %}
{% if exception is defined and exception %}<tr><td>Fel</td>
<td>{{ exception | string | truncate(400) | e }}</td></tr>{% endif %}
{% if reason is defined and reason %}<tr><td>Orsak</td>
<td>{{ reason | string | truncate(400) | e }}</td></tr>{% endif %}
{% if deadline is defined and deadline %}<tr><td>Skulle vara klar</td>
<td>{{ deadline.deadline_time | string | e }}</td></tr>{% endif %}
</table>
<p>__HINT__</p>
</body></html>
"""


def _jinja_inert(text: str) -> str:
    """HTML-escaped text that Jinja cannot read as a template."""
    return html.escape(text).replace("{", "&#123;").replace("}", "&#125;").replace("%", "&#37;")


def operator_alert(kind: str = "failure", hint: str | None = None) -> dict:
    """Keyword arguments for the SMTP provider's ``SmtpNotifier`` (failure callback or deadline).

    ``kind`` is ``failure`` (on_failure_callback: validation stop or any error) or ``deadline``
    (DeadlineAlert). Subject and HTML are Jinja templates the notifier renders with the
    callback's context; every value is escaped. ``hint`` replaces the default advice.
    """
    if kind not in OPERATOR_SUBJECTS:
        raise ValueError(f"Okänd sorts driftlarm {kind!r}: ska vara {' eller '.join(OPERATOR_SUBJECTS)}.")
    cfg = settings().mail
    for addr in cfg.operators:
        check_allowed(addr, cfg.delivery.allowed_domains)
    body = OPERATOR_HTML.replace("__LEAD__", _jinja_inert(OPERATOR_LEADS[kind]))
    return {
        "to": list(cfg.operators),
        "from_email": cfg.delivery.sender,
        "subject": OPERATOR_SUBJECTS[kind],
        "html_content": _PRELUDE + body.replace("__HINT__", _jinja_inert(hint or OPERATOR_HINTS[kind])),
        "smtp_conn_id": cfg.delivery.smtp.conn_id,
    }


def operator_notifier(kind: str = "failure", hint: str | None = None):
    """A ready ``SmtpNotifier`` (imports the provider lazily)."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    return SmtpNotifier(**operator_alert(kind, hint))
