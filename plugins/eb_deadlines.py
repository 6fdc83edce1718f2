"""A failed run's deadline is cleared; a cleared run gets its deadline back.

Airflow 3.3.2 removes a run's pending deadlines only when the run succeeds
(``Deadline.prune_deadlines`` in ``DagRun.update_state``): a failed run keeps its deadline as
"Upcoming" in the UI, and when the time passes the triggerer runs the callback for a run nobody
is waiting for (ours sends nothing then, but the UI says otherwise). The failed run has already
alerted the operators through its failed task.

* **Failed:** a listener deletes the run's deadlines not yet missed (with their callbacks, as
  Airflow's own pruning does). A missed one stays: the scheduler owns its queued callback.
* **Cleared and started again** (``clear_number`` > 0, nothing pending): the deadlines are created
  anew from the DAG version's alerts, measured as at the run's creation (for
  ``DAGRUN_QUEUED_AT``: from the new ``queued_at`` the clear set).

Both run in the scheduler's session, inside its transaction (flushed, never committed nor in a
savepoint: Airflow's scheduler refuses any commit it did not make, "UNEXPECTED COMMIT"); a
failure is logged, never raised.
"""

from __future__ import annotations

import logging

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

log = logging.getLogger(__name__)


def _session(dag_run, session=None):
    from sqlalchemy.orm import object_session

    return session or object_session(dag_run)


def clear_pending(dag_run, session=None) -> int:
    """Delete the run's deadlines that are not missed yet; the number deleted."""
    from airflow.models.deadline import Deadline
    from sqlalchemy import false, select

    session = _session(dag_run, session)
    pending = session.scalars(
        select(Deadline).where(Deadline.dagrun_id == dag_run.id, Deadline.missed == false())
    ).all()
    for deadline in pending:
        session.delete(deadline)  # its callback goes with it (delete-orphan)
    session.flush()
    return len(pending)


def restore(dag_run, session=None) -> int:
    """Create the deadlines of a cleared run that has none pending; the number created."""
    from airflow.models.deadline import Deadline
    from airflow.models.deadline_alert import DeadlineAlert as DeadlineAlertModel
    from airflow.models.serialized_dag import SerializedDagModel
    from sqlalchemy import false, func, select

    session = _session(dag_run, session)
    if not dag_run.clear_number:
        return 0
    pending = session.scalar(
        select(func.count())
        .select_from(Deadline)
        .where(Deadline.dagrun_id == dag_run.id, Deadline.missed == false())
    )
    if pending:
        return 0
    version = dag_run.created_dag_version_id
    serialized_dag_id = session.scalar(
        select(SerializedDagModel.id).where(SerializedDagModel.dag_version_id == version)
    )
    alerts = session.scalars(
        select(DeadlineAlertModel).where(DeadlineAlertModel.serialized_dag_id == serialized_dag_id)
    ).all()
    created = _create(dag_run, alerts, session)
    session.flush()
    return created


def _create(dag_run, alerts, session) -> int:
    from airflow.models.deadline import Deadline
    from airflow.serialization.decoders import decode_deadline_alert
    from airflow.serialization.definitions.deadline import (
        DeadlineAlertFields,
        SerializedReferenceModels,
        SerializedVariableInterval,
    )
    from airflow.serialization.enums import DagAttributeTypes, Encoding

    created = 0
    for alert in alerts:
        decoded = decode_deadline_alert(
            {
                Encoding.TYPE: DagAttributeTypes.DEADLINE_ALERT,
                Encoding.VAR: {
                    DeadlineAlertFields.REFERENCE: alert.reference,
                    DeadlineAlertFields.INTERVAL: alert.interval,
                    DeadlineAlertFields.CALLBACK: alert.callback_def,
                },
            }
        )
        if not isinstance(decoded.reference, SerializedReferenceModels.TYPES.DAGRUN):
            continue
        interval = decoded.interval
        if isinstance(interval, SerializedVariableInterval):
            interval = interval.resolve()
        when = decoded.reference.evaluate_with(
            session=session, interval=interval, dag_id=dag_run.dag_id, run_id=dag_run.run_id
        )
        if when is None:
            continue
        session.add(
            Deadline(
                deadline_time=when,
                callback=decoded.callback,
                dagrun_id=dag_run.id,
                deadline_alert_id=alert.id,
                dag_id=dag_run.dag_id,
                bundle_name=dag_run.dag_model.bundle_name,
            )
        )
        created += 1
    return created


class DeadlineListener:
    """Clears a failed run's deadlines; gives a cleared run that starts again new ones."""

    @hookimpl
    def on_dag_run_failed(self, dag_run, msg: str):
        try:
            if n := clear_pending(dag_run):
                log.info("Körningen %s misslyckades: %d tidsgräns(er) borttagna.", dag_run.run_id, n)
        except Exception:  # noqa: BLE001 - never stop the scheduler
            log.exception("Kunde inte ta bort tidsgränsen för %s", getattr(dag_run, "run_id", "?"))

    @hookimpl
    def on_dag_run_running(self, dag_run, msg: str):
        try:
            if n := restore(dag_run):
                log.info("Körningen %s rensades: %d ny(a) tidsgräns(er).", dag_run.run_id, n)
        except Exception:  # noqa: BLE001 - never stop the scheduler
            log.exception("Kunde inte ge %s en ny tidsgräns", getattr(dag_run, "run_id", "?"))


class DeadlinesPlugin(AirflowPlugin):
    name = "eb_deadlines"
    listeners = [DeadlineListener()]
