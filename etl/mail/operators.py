"""Alerts to operators: what failed, in which period, and what to do about it.

Built here as plain e-mail and delivered like the managers' e-mail (``etl.mail.sending``: SMTP
through ``smtp_default``, or an ``.eml`` file in the outbox in outbox mode, so the demo shows
them). The task-failure callback runs in the failed task's own process, so everything it logs,
a failed delivery included, lands in that task's log; delivery is tried three times.

Every alert names the period in its subject and first line, the task (and table or recipient
of a mapped task), the error's first line, a link to the task's log, and one specific action
per kind of failure (:data:`ACTIONS`). Deadline alerts go out only for runs still running.

One alert per run (per clearing of it) and kind of failure: an outage of the source fails every
``extract.<table>`` task and ``extract.small_tables``, and the operators get one alert naming
every table that failed or waits for a retry (the small tables by name), not six. The first
failing task claims the alert in a write-once ledger (``etl.mail.ledger``, under
``$EB_DATA_DIR/alert_ledger``) keyed on run, clear number and kind;
the others find the claim and only log that the alert has gone. A delivery that fails is
released, so the next failing task tries again.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from etl import run_period
from etl.addresses import check_allowed
from etl.periods import Period
from etl.settings import env, settings

log = logging.getLogger(__name__)

DAG_ID = "tertial_followup"
SEND_ATTEMPTS = 3
SEND_PAUSE_SECONDS = (10, 30)
"""Pauses between delivery attempts of one alert (the SMTP server may be restarting)."""
RUNNING_STATES = ("queued", "running")

# What to do, per kind of failure ({period} and {item} are filled in).
ACTIONS = {
    "source": (
        "Källdatabasen gick inte att läsa ({item}) och uppgiften har gjort om sina försök utan att lyckas. "
        "Kontrollera anslutningen eb_source (Admin → Connections) och att databasen är igång och har "
        "tabellen. När källan svarar: öppna körningen, välj uppgiften extract och tryck Clear (med "
        "Downstream, som är förvalt) – körningen fortsätter därifrån."
    ),
    "validation": (
        "Valideringen stoppade körningen: källdata bryter mot en kritisk regel (tabell och regel står i "
        "felet ovan och i loggens tabell; hela rapporten, validation.json och Data Docs, ligger i "
        "körningens staging-mapp enligt sökvägarna i felet). Be förvaltaren "
        "av verksamhetssystemet rätta uppgifterna i källan. Kör sedan om perioden: Trigger med "
        "period={period}, eller Clear på hela körningen (Clear Run, alla uppgifter) så att källan läses "
        "in på nytt. Clear på bara validate validerar de gamla uppgifterna igen."
    ),
    "plan": (
        "Körningens period gick inte att bestämma (felet ovan). Utlös en ny körning med Trigger och "
        "parametern period, t.ex. period={period}."
    ),
    "mail": (
        "E-posten till {item} gick inte iväg. Kontrollera SMTP-anslutningen smtp_default och adressen i "
        "config/recipients.yml och tryck sedan Clear på uppgiften. Ingen får samma e-post två gånger."
    ),
    "other": (
        "Ett fel i kod, konfiguration eller filsystem. Läs loggen (länken nedan) och uppgiftens "
        "beskrivning (knappen Documentation på uppgiftens sida), åtgärda felet och tryck Clear på "
        "uppgiften (med Downstream)."
    ),
    "deadline": (
        "Körningen pågår men är inte klar i tid. Öppna den och se vilken uppgift som väntar eller gör om "
        "försök: vanligast är att källdatabasen inte svarar, att poolen eb_source är full eller att ingen "
        "worker är igång. Den fortsätter av sig själv när orsaken är åtgärdad."
    ),
}
KIND_OF_TASK = {"extract": "source", "validate": "validation", "plan": "plan", "email": "mail"}
WAITING_STATES = ("up_for_retry", "up_for_reschedule")
ALERT_LEDGER_DIR = "alert_ledger"
LEADS = {
    "failure": "En uppgift i tertialuppföljningen har misslyckats och körningen står still.",
    "deadline": "En körning av tertialuppföljningen har inte blivit klar inom den utsatta tiden.",
}


def failure_kind(task_id: str) -> str:
    """The kind of failure (a key of :data:`ACTIONS`) for a failed task (``extract.<table>``: source)."""
    return KIND_OF_TASK.get(task_id.split(".")[0], "other")


def item_of(task_id: str) -> str | None:
    """The table a static per-table task is for (``extract.payment`` -> ``payment``), else None."""
    return task_id.split(".", 1)[1] if "." in task_id else None


def item_label(item: str) -> str:
    """An item as the alert names it: a task extracting several tables lists them all
    (``small_tables (district, population, …)``)."""
    from etl.source import EXTRACT_TASKS

    tables = EXTRACT_TASKS.get(item, (item,))
    return item if tables == (item,) else f"{item} ({', '.join(tables)})"


def group_items(task_id: str, states: dict[str, str]) -> tuple[list[str], list[str]]:
    """(failed, waiting for a retry): the items of the tasks of ``task_id``'s group, this one failed.

    ``states`` maps task ids of the run to their states (this task may not be marked failed yet).
    """
    group = task_id.split(".")[0] + "."
    failed = {item_of(task_id)} if item_of(task_id) else set()
    waiting = set()
    for other, state in states.items():
        if other.startswith(group) and other != task_id:
            if state == "failed":
                failed.add(item_of(other))
            elif state in WAITING_STATES:
                waiting.add(item_of(other))
    return sorted(failed), sorted(waiting)


def first_line(error: object, limit: int = 600) -> str:
    """The error's first non-empty line (the cause; no traceback, no advice), shortened to ``limit``.

    The advice our errors end with ("Gör så här: …") has its own row in the alert.
    """
    text = str(error or "").strip()
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    line = line.split(" Gör så här:")[0].strip()
    name = type(error).__name__ if isinstance(error, BaseException) else ""
    line = f"{name}: {line}" if name and name not in ("AirflowFailException",) and line else line
    return line if len(line) <= limit else line[: limit - 1] + "…"


def split_action(message: str) -> tuple[str, str]:
    """(cause, "Gör så här: …") of one of our error messages; the action empty if it has none.

    The task log gets them as two lines, so the action is not hidden at the end of a long one.
    """
    cause, sep, action = str(message).partition(" Gör så här:")
    return cause.strip(), f"Gör så här:{action}".strip() if sep else ""


def attempt_line(try_number: int, max_tries: int, retry_minutes: float, factor: float, cap: float) -> str:
    """'försök 2 av 4 misslyckades; nästa om 10–20 min' for the task's log (Airflow's backoff)."""
    total = max_tries + 1
    if try_number >= total:
        return f"Försök {try_number} av {total} misslyckades; inga fler försök: driften får ett larm."
    low = retry_minutes * factor ** (try_number - 1)
    high = min(2 * low, cap) if factor > 1 else low
    low = min(low, cap)
    when = f"{low:.0f} min" if low == high else f"{low:.0f}–{high:.0f} min"
    return f"Försök {try_number} av {total} misslyckades; Airflow försöker igen om {when}."


def build_alert(
    kind: str,
    *,
    period: Period | str | None,
    run_id: str,
    task: str | None = None,
    item: str | None = None,
    error: str = "",
    log_url: str = "",
    try_number: int | None = None,
    deadline: str | None = None,
    date: dt.datetime | None = None,
    waiting: list[str] | tuple[str, ...] = (),
) -> EmailMessage:
    """The alert as an e-mail (plain text and HTML) to the operators' address."""
    cfg = settings().mail
    for addr in cfg.operators:
        check_allowed(addr, cfg.delivery.allowed_domains)
    label = run_period.describe(Period.parse(str(period))) if period else "okänd period"
    short = str(period) if period else "okänd period"
    action_key = "deadline" if kind == "deadline" else failure_kind(task or "")
    action = ACTIONS[action_key].format(period=short, item=item or task or "")
    what = f"{task} ({item})" if task and item else (task or "")
    if kind == "deadline":
        subject = f"[{short}] Tertialuppföljningen är inte klar i tid: {run_id}"
    else:
        cause = first_line(error).split(" Rapport: ")[0]  # the staging paths only in the body
        lead = "Källan nås inte" if action_key == "source" else "Tertialuppföljningen stoppade"
        subject = f"[{short}] {lead}: {what} – {first_line(cause, 100)}"
    rows = [("Period", label), ("Körning", run_id)]
    if what:
        rows.append(("Uppgift", what))
    if waiting:
        rows.append(("Väntar på nytt försök", ", ".join(waiting)))
    if try_number:
        rows.append(("Försök", str(try_number)))
    if error:
        rows.append(("Fel", first_line(error)))
    if deadline:
        rows.append(("Skulle vara klar", deadline))
    rows.append(("Gör så här", action))
    if log_url:
        rows.append(("Logg", log_url))

    text = [f"Period: {label}", "", LEADS[kind], ""] + [f"{k}: {v}" for k, v in rows[1:]]
    cells = "".join(
        f"<tr><th align='left' valign='top'>{html.escape(k)}</th><td>"
        + (
            f"<a href='{html.escape(v, quote=True)}'>Öppna loggen i Airflow</a>"
            if k == "Logg"
            else html.escape(v)
        )
        + "</td></tr>"
        for k, v in rows
    )
    body = (
        "<!DOCTYPE html><html lang='sv'><head><meta charset='utf-8'></head>"
        "<body style='font-family:Arial,sans-serif;font-size:14px'>"
        f"<p><b>Period: {html.escape(label)}</b></p><p>{html.escape(LEADS[kind])}</p>"
        f"<table cellpadding='4'>{cells}</table></body></html>"
    )
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = cfg.delivery.sender
    message["To"] = ", ".join(cfg.operators)
    message["Date"] = formatdate((date or dt.datetime.now(dt.UTC)).timestamp(), localtime=False)
    message["Message-ID"] = make_msgid(domain=parseaddr(cfg.delivery.sender)[1].split("@")[-1] or None)
    message.set_content("\n".join(text) + "\n")
    message.add_alternative(body, subtype="html")
    return message


def outbox_dir(period: Period | str | None) -> Path:
    """Operators' alerts in outbox mode: ``$EB_DATA_DIR/outbox/drift/<period>/``."""
    return env().data_dir / "outbox" / "drift" / (str(period) if period else "okand-period")


def send_alert(message: EmailMessage, period: Period | str | None, slug: str, *, pause=time.sleep) -> bool:
    """Deliver ``message`` like the managers' e-mail, up to :data:`SEND_ATTEMPTS` times.

    Never raises: a lost alert must not change the task's outcome, but every failed attempt is
    logged (in the failed task's log, where the operator looks first). True when delivered.
    """
    from etl.mail import recipients, sending

    mode = recipients.delivery_mode()
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            if mode == recipients.OUTBOX:
                path = sending.write_outbox(message, outbox_dir(period), slug)
                log.info("Driftlarm skrivet till utkorgen: %s", path)
            else:
                sending.send_smtp(message, settings().mail.delivery.smtp.conn_id)
                log.info("Driftlarm skickat till %s", message["To"])
            return True
        except Exception as exc:  # noqa: BLE001 - any delivery failure is retried, then logged
            log.error("Driftlarmet kunde inte levereras (försök %d av %d): %s", attempt, SEND_ATTEMPTS, exc)
            if attempt < SEND_ATTEMPTS:
                pause(SEND_PAUSE_SECONDS[min(attempt - 1, len(SEND_PAUSE_SECONDS) - 1)])
    log.error("Driftlarmet gick förlorat: %s. Ämne: %s", mode, message["Subject"])
    return False


def _period_of(conf: dict | None, start, end, run_after) -> Period | None:
    try:
        return run_period.choose_period(
            (conf or {}).get("period"),
            tz=settings().timezone,
            interval_start=_aware(start),
            interval_end=_aware(end),
            run_after=_aware(run_after),
        )
    except ValueError:
        return Period.parse(conf["period"]) if (conf or {}).get("period") else None


def _aware(value) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _slug(*parts: object) -> str:
    text = "-".join(str(p) for p in parts if p not in (None, ""))
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def alert_ledger() -> Path:
    """Where alerts are claimed once per run and kind (shared by every worker, like staging)."""
    return env().data_dir / ALERT_LEDGER_DIR


def _run_states(ti, dag_id: str) -> dict[str, str]:
    """Task id -> state of the failed task's run, through the Task SDK (empty if unavailable)."""
    try:
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

        found = RuntimeTaskInstance.get_task_states(dag_id=dag_id, run_ids=[ti.run_id])
        return {k: str(v) for k, v in (found.get(ti.run_id) or {}).items()}
    except Exception as exc:  # noqa: BLE001 - the alert still names this task
        log.warning("Kunde inte läsa de andra uppgifternas status: %s", exc)
        return {}


def on_task_failure(context: dict, *, run_states=_run_states) -> None:
    """``on_failure_callback`` of every task: one alert per run and kind of failure, naming
    period, task (every failed table of an outage), error and action."""
    from etl.mail import ledger

    ti = context.get("ti")
    dag_run = context.get("dag_run")
    task_id = getattr(ti, "task_id", "") or ""
    run_id = getattr(ti, "run_id", "") or getattr(dag_run, "run_id", "")
    kind = failure_kind(task_id)
    period = _period_of(
        getattr(dag_run, "conf", None),
        getattr(dag_run, "data_interval_start", None),
        getattr(dag_run, "data_interval_end", None),
        getattr(dag_run, "run_after", None),
    )
    folder, slug = alert_ledger(), _slug(run_id)
    key = f"c{getattr(dag_run, 'clear_number', 0) or 0}-{kind}"
    if ledger.sent_before(folder, slug, key):
        log.info("Driften har redan fått larm om %s i körningen %s: inget nytt larm.", kind, run_id)
        return
    try:
        claim = ledger.begin(folder, slug, key, {"run_id": run_id, "kind": kind, "task": task_id})
    except ledger.DeliveryUncertain:
        log.info("En annan uppgift larmar redan om %s i körningen %s: inget nytt larm.", kind, run_id)
        return
    mapped = getattr(ti, "map_index", -1) is not None and getattr(ti, "map_index", -1) >= 0
    item = getattr(ti, "rendered_map_index", None) if mapped else item_of(task_id)
    waiting: list[str] = []
    if item_of(task_id):  # a static per-table task: name every table of the group that fails
        failed, waiting = group_items(task_id, run_states(ti, getattr(dag_run, "dag_id", DAG_ID)))
        item = ", ".join(map(item_label, failed))
        waiting = [item_label(w) for w in waiting]
    message = build_alert(
        "failure",
        period=period,
        run_id=run_id,
        task=task_id.split(".")[0] if item_of(task_id) else task_id,
        item=item,
        error=first_line(context.get("exception")) if context.get("exception") else "",
        log_url=getattr(ti, "log_url", ""),
        try_number=getattr(ti, "try_number", None),
        waiting=waiting,
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    if send_alert(message, period, _slug(stamp, task_id, None if item_of(task_id) else item)):
        ledger.finish(claim, {"run_id": run_id, "kind": kind, "task": task_id, "subject": message["Subject"]})
    else:  # not delivered: the next failing task of this kind tries again
        ledger.abandon(claim)


def run_url(run_id: str) -> str:
    """The run's page in the Airflow UI ([api] base_url)."""
    from urllib.parse import quote

    from airflow.configuration import conf

    base = conf.get("api", "base_url", fallback="http://localhost:8080/")
    return f"{base.rstrip('/')}/dags/{DAG_ID}/runs/{quote(run_id)}"


def deadline_message(context: dict) -> EmailMessage | None:
    """The deadline alert for the triggerer's context, or None when the run is no longer running."""
    dag_run = context.get("dag_run") or {}
    run_id = dag_run.get("dag_run_id") or dag_run.get("run_id") or ""
    state = str(dag_run.get("state") or "").lower()
    if state not in RUNNING_STATES:
        log.info("Körningen %s är %s, inte pågående: inget larm om tidsgränsen.", run_id, state or "okänd")
        return None
    period = _period_of(
        dag_run.get("conf"),
        dag_run.get("data_interval_start"),
        dag_run.get("data_interval_end"),
        dag_run.get("run_after"),
    )
    deadline = (context.get("deadline") or {}).get("deadline_time")
    return build_alert(
        "deadline", period=period, run_id=run_id, deadline=str(deadline or ""), log_url=run_url(run_id)
    )


async def deadline_alert(context: dict, **_: object) -> None:
    """The ``DeadlineAlert`` callback (runs in the triggerer): alert only if the run still runs."""
    import asyncio

    message = deadline_message(context)
    if message is None:
        return
    dag_run = context.get("dag_run") or {}
    period = message["Subject"].split("]")[0].lstrip("[")
    slug = _slug(dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S"), "deadline")
    await asyncio.to_thread(send_alert, message, None if period.startswith("okänd") else period, slug)
    log.info("Larm om tidsgränsen för %s", dag_run.get("dag_run_id"))
