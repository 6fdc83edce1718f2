"""Period triggers and run notes (plugins/eb_operations.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
import types
from pathlib import Path

PLUGINS_DIR = Path(__file__).resolve().parents[2] / "plugins"
if str(PLUGINS_DIR) not in sys.path:
    sys.path.insert(0, str(PLUGINS_DIR))

import eb_operations  # noqa: E402

NOW = dt.datetime(2026, 11, 26, 12, 9, 32, tzinfo=dt.UTC)


def test_trigger_with_period_gets_that_tertials_interval():
    body = json.dumps({"logical_date": "2026-11-26T12:09:32Z", "conf": {"period": "2018-T2"}}).encode()
    data = json.loads(eb_operations.rewrite_trigger(body))
    # 2018-T2 = [1 May, 1 Sep) Stockholm (CEST, UTC+2); the logical date stays (it must be unique).
    assert data["data_interval_start"] == "2018-04-30T22:00:00+00:00"
    assert data["data_interval_end"] == "2018-08-31T22:00:00+00:00"
    assert data["logical_date"] == "2026-11-26T12:09:32Z"


def test_trigger_without_logical_date_gets_one_so_the_interval_counts():
    body = json.dumps({"logical_date": None, "conf": {"period": "2019-T3"}}).encode()
    data = json.loads(eb_operations.rewrite_trigger(body, now=NOW))
    assert data["logical_date"] == NOW.isoformat()
    assert (data["data_interval_start"], data["data_interval_end"]) == (
        "2019-08-31T22:00:00+00:00", "2019-12-31T23:00:00+00:00"
    )  # fmt: skip


def test_other_triggers_pass_unchanged():
    for body in (
        b"",
        b"not json",
        json.dumps({"logical_date": None, "conf": {}}).encode(),
        json.dumps({"conf": {"period": "2018-T9"}}).encode(),  # the Param check answers it
        json.dumps({"conf": {"period": "2018-T1"}, "data_interval_start": "x", "data_interval_end": "y"})
        .encode(),
    ):
        assert eb_operations.rewrite_trigger(body) == body


def test_middleware_rewrites_only_the_dags_trigger_request():
    seen = []

    async def app(scope, receive, send):
        seen.append((scope["path"], dict(scope["headers"]), (await receive())["body"]))

    body = json.dumps({"logical_date": "2026-11-26T12:00:00Z", "conf": {"period": "2018-T1"}}).encode()
    chunks = [{"type": "http.request", "body": body[:10], "more_body": True},
              {"type": "http.request", "body": body[10:], "more_body": False}]  # fmt: skip

    async def receive():
        return chunks.pop(0)

    middleware = eb_operations.PeriodTriggerMiddleware(app)
    scope = {"type": "http", "method": "POST", "path": "/api/v2/dags/tertial_followup/dagRuns",
             "headers": [(b"content-length", str(len(body)).encode())]}  # fmt: skip
    asyncio.run(middleware(scope, receive, None))
    path, headers, sent = seen[0]
    assert json.loads(sent)["data_interval_start"] == "2017-12-31T23:00:00+00:00"
    assert headers[b"content-length"] == str(len(sent)).encode()
    chunks.append({"type": "http.request", "body": body, "more_body": False})
    asyncio.run(middleware(dict(scope, path="/api/v2/dags/other/dagRuns"), receive, None))
    assert seen[1][2] == body


def test_run_note_names_the_period_and_keeps_an_operators_note():
    run = types.SimpleNamespace(
        dag_id="tertial_followup", note=None, conf={"period": "2018-T2"}, run_after=NOW,
        data_interval_start=dt.datetime(2018, 4, 30, 22, tzinfo=dt.UTC),
        data_interval_end=dt.datetime(2018, 8, 31, 22, tzinfo=dt.UTC),
    )  # fmt: skip
    note = eb_operations.note_for(run)
    assert note.startswith("**Period 2018-T2 (Tertialrapport 2, 1 jan–31 aug 2018)**")
    eb_operations.RunNoteListener().on_dag_run_running(dag_run=run, msg="")
    assert run.note == note
    run.note = "Operatören: körd om efter rättning"
    assert eb_operations.note_for(run) is None
    assert eb_operations.note_for(types.SimpleNamespace(dag_id="other", note=None)) is None
    # A contradiction is in the note too (plan fails with the same message).
    run.note, run.data_interval_start = None, dt.datetime(2026, 4, 30, 22, tzinfo=dt.UTC)
    run.data_interval_end = dt.datetime(2026, 8, 31, 22, tzinfo=dt.UTC)
    assert eb_operations.note_for(run).startswith("**Fel period:** period=2018-T2 men")
