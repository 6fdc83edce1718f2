"""What operators see in the Airflow UI: period runs that do what they say, named and noted.

* **Trigger with ``period``** (the UI's form, the REST API): Airflow derives a manual run's data
  interval from its logical date only (the form pre-fills *now*), so ``period=2018-T2`` would get
  today's tertial as its interval and run id. A root middleware of the api-server sees the
  trigger request of ``tertial_followup`` and, when its ``conf`` has a valid ``period`` and the
  request no explicit interval, sets the data interval to that tertial (and a logical date if
  the form left it empty). The run is then ``manual__tertial__2018-T2__<time>``, its interval
  2018-T2; ``plan`` refuses a ``period`` that still contradicts the interval (the CLI's trigger).
* **Run note**: a listener sets a note naming the period and the data interval in local dates
  when a run starts (only if the run has no note yet; an operator's note is kept).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

log = logging.getLogger(__name__)

DAG_ID = "tertial_followup"
TRIGGER_PATH = re.compile(rf"(?:.*)/api/v2/dags/{DAG_ID}/dagRuns/?")
PERIOD = re.compile(r"^\d{4}-T[123]$")


def _timezone() -> str:
    from etl.settings import settings

    return settings().timezone


def rewrite_trigger(body: bytes, now: dt.datetime | None = None) -> bytes:
    """The trigger request's body with the data interval of ``conf.period`` (else unchanged)."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return body  # let the API answer the malformed request
    if not isinstance(data, dict):
        return body
    period = (data.get("conf") or {}).get("period") if isinstance(data.get("conf"), dict) else None
    if not isinstance(period, str) or not PERIOD.match(period) or data.get("data_interval_start"):
        return body
    from tertial_timetable import TertialTimetable

    interval = TertialTimetable(timezone=_timezone()).interval_for(period)
    data["data_interval_start"] = interval.start.isoformat()
    data["data_interval_end"] = interval.end.isoformat()
    if not data.get("logical_date"):
        data["logical_date"] = (now or dt.datetime.now(dt.UTC)).isoformat()
    return json.dumps(data).encode()


class PeriodTriggerMiddleware:
    """ASGI middleware: :func:`rewrite_trigger` on ``POST /api/v2/dags/tertial_followup/dagRuns``."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if (
            scope.get("type") != "http"
            or scope.get("method") != "POST"
            or not TRIGGER_PATH.fullmatch(scope.get("path", ""))
        ):
            return await self.app(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, receive, send)
            body += message.get("body", b"")
            more = message.get("more_body", False)
        try:
            body = rewrite_trigger(body)
        except Exception:  # noqa: BLE001 - never break the trigger itself
            log.exception("Kunde inte sätta dataintervallet efter period; begäran skickas oförändrad.")
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(dict(scope, headers=headers), replay, send)


def note_for(dag_run) -> str | None:
    """The note for a run of the DAG, or None (another DAG, a note already there, no period)."""
    from etl import run_period

    if dag_run.dag_id != DAG_ID or dag_run.note:
        return None
    forced = (dag_run.conf or {}).get("period")
    tz = _timezone()
    try:
        period = run_period.choose_period(
            forced,
            tz=tz,
            interval_start=dag_run.data_interval_start,
            interval_end=dag_run.data_interval_end,
            run_after=dag_run.run_after,
        )
    except ValueError as exc:  # the plan task fails with the same message
        return f"**Fel period:** {exc}"
    return run_period.run_note(
        period,
        tz=tz,
        forced=bool(forced),
        interval_start=dag_run.data_interval_start,
        interval_end=dag_run.data_interval_end,
    )


class RunNoteListener:
    """Sets the run note when a run of the DAG starts (in the scheduler's session)."""

    @hookimpl
    def on_dag_run_running(self, dag_run, msg: str):
        try:
            note = note_for(dag_run)
            if note:
                dag_run.note = note
        except Exception:  # noqa: BLE001 - a note must never stop the scheduler
            log.exception("Kunde inte sätta anteckningen för körningen %s", getattr(dag_run, "run_id", "?"))


class OperationsPlugin(AirflowPlugin):
    name = "eb_operations"
    fastapi_root_middlewares = [{"middleware": PeriodTriggerMiddleware, "name": "Period till dataintervall"}]
    listeners = [RunNoteListener()]
