"""The work-around for apache/airflow#70368 (plugins/airflow_fixes.py); Clear end to end: e2e."""

from __future__ import annotations

import datetime as dt
import inspect
import sys
from pathlib import Path

PLUGINS_DIR = Path(__file__).resolve().parents[2] / "plugins"
if str(PLUGINS_DIR) not in sys.path:
    sys.path.insert(0, str(PLUGINS_DIR))

import airflow_fixes  # noqa: E402


def test_interval_decoded_from_the_json_envelope_airflow_stores():
    # The stored form since migration 0117 (the bug report's example).
    envelope = {"__classname__": "datetime.timedelta", "__version__": 2, "__data__": 3600.0}
    assert airflow_fixes.decode_interval(envelope) == dt.timedelta(hours=1)
    assert airflow_fixes.decode_interval(172800) == dt.timedelta(hours=48)  # before 0117: seconds


def test_patch_applies_while_the_installed_airflow_has_the_bug():
    from airflow.models import taskinstance

    installed_source = inspect.getsource(airflow_fixes.recalculate_queued_at_deadlines)
    assert airflow_fixes.BUGGY_LINE not in installed_source
    current = taskinstance._recalculate_dagrun_queued_at_deadlines
    if airflow_fixes.PATCHED:
        assert current is airflow_fixes.recalculate_queued_at_deadlines
        assert airflow_fixes.apply() is True  # idempotent
    else:  # a fixed Airflow: the module can go (its docstring says so)
        assert airflow_fixes.BUGGY_LINE not in inspect.getsource(current)
