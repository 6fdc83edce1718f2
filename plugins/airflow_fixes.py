"""Work-arounds for known Airflow bugs, applied when Airflow loads the plugins.

apache/airflow#70368 (Airflow 3.3.0–3.3.2, fix in PR #70370, not yet released): clearing a
failed run or task of a DAG whose ``DeadlineAlert`` uses ``DeadlineReference.DAGRUN_QUEUED_AT``
fails with HTTP 500, ``TypeError: unsupported type for timedelta seconds component: dict``:
``_recalculate_dagrun_queued_at_deadlines`` hands the JSON-encoded interval (since migration
0117 a serde envelope such as ``{"__classname__": "datetime.timedelta", "__data__": 3600.0}``)
straight to ``timedelta(seconds=...)``. The replacement below decodes the interval as DagRun
creation does and moves the deadline to the new ``queued_at`` (what the fix does).

The patch applies only while the installed function still has the bug (its source calls
``timedelta(seconds=deadline_alert.interval)``): once Airflow ships the fix, it does nothing and
this module can be deleted. The api-server, which runs the UI's and the REST API's "Clear",
loads plugins at start, so the patch is in place before the first request.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging

from airflow.plugins_manager import AirflowPlugin

log = logging.getLogger(__name__)
BUGGY_LINE = "timedelta(seconds=deadline_alert.interval)"


def decode_interval(raw) -> dt.timedelta:
    """The stored ``deadline_alert.interval`` as a timedelta (a serde envelope, or plain seconds)."""
    if isinstance(raw, dt.timedelta):
        return raw
    if isinstance(raw, int | float):
        return dt.timedelta(seconds=raw)
    if isinstance(raw, dict) and raw.get("__classname__") == "datetime.timedelta":
        return dt.timedelta(seconds=float(raw["__data__"]))
    from airflow.serialization.decoders import decode_deadline_alert
    from airflow.serialization.definitions.deadline import DeadlineAlertFields, SerializedVariableInterval
    from airflow.serialization.enums import DagAttributeTypes as DAT
    from airflow.serialization.enums import Encoding

    alert = decode_deadline_alert(
        {
            Encoding.TYPE: DAT.DEADLINE_ALERT,
            Encoding.VAR: {
                DeadlineAlertFields.REFERENCE: {"reference_type": "DagRunQueuedAtDeadline"},
                DeadlineAlertFields.INTERVAL: raw,
                DeadlineAlertFields.CALLBACK: None,
            },
        }
    )
    interval = alert.interval
    return interval.resolve() if isinstance(interval, SerializedVariableInterval) else interval


def recalculate_queued_at_deadlines(dagrun, new_queued_at: dt.datetime, session) -> None:
    """``_recalculate_dagrun_queued_at_deadlines`` with the interval decoded (apache/airflow#70368)."""
    from airflow.models.deadline import Deadline, ReferenceModels
    from airflow.models.deadline_alert import DeadlineAlert as DeadlineAlertModel
    from sqlalchemy import false, select

    rows = session.execute(
        select(Deadline, DeadlineAlertModel)
        .join(DeadlineAlertModel, Deadline.deadline_alert_id == DeadlineAlertModel.id)
        .where(
            Deadline.dagrun_id == dagrun.id,
            Deadline.missed == false(),
            DeadlineAlertModel.reference[ReferenceModels.REFERENCE_TYPE_FIELD].as_string()
            == ReferenceModels.DagRunQueuedAtDeadline.__name__,
        )
    ).all()
    for deadline, alert in rows:
        deadline.deadline_time = new_queued_at + decode_interval(alert.interval)
        log.debug("Deadline %s for %s moved to %s", deadline.id, dagrun.run_id, deadline.deadline_time)


def apply() -> bool:
    """Replace the buggy function if the installed Airflow still has it; True if patched."""
    from airflow.models import taskinstance

    current = getattr(taskinstance, "_recalculate_dagrun_queued_at_deadlines", None)
    if current is None or current is recalculate_queued_at_deadlines:
        return current is not None
    try:
        buggy = BUGGY_LINE in inspect.getsource(current)
    except (OSError, TypeError):
        buggy = False
    if buggy:
        taskinstance._recalculate_dagrun_queued_at_deadlines = recalculate_queued_at_deadlines
        log.info("apache/airflow#70368: _recalculate_dagrun_queued_at_deadlines ersatt (Clear fungerar).")
    return buggy


PATCHED = apply()


class AirflowFixesPlugin(AirflowPlugin):
    """Loads this module in every Airflow process that loads plugins (the api-server above all)."""

    name = "eb_airflow_fixes"
