"""A pipeline step in a child process (etl.child_step): the caller sees its result or its error."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from etl import child_step
from etl.validation.report import ValidationStop

pytestmark = pytest.mark.skipif(not child_step.available(), reason="fork is not available here")


def _add(a: int, b: int = 0) -> dict:
    return {"sum": a + b, "pid": os.getpid()}


def _stop() -> None:
    raise ValidationStop("Valideringen stoppade körningen: payment: tabellen saknas.")


class _Odd(Exception):
    def __init__(self, a: int, b: int):  # two required arguments: cannot be unpickled from args
        super().__init__(f"{a} och {b}")


def _odd() -> None:
    raise _Odd(1, 2)


def _killed() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _big() -> int:
    block = b"x" * (400 * 2**20)  # touched: 400 MB resident in the child
    return len(block)


def test_the_result_comes_back_from_another_process():
    out = child_step.run("add", _add, 2, b=3)
    assert out["sum"] == 5 and out["pid"] != os.getpid()


def test_an_exception_is_raised_in_the_caller_as_it_was_with_the_childs_traceback():
    with pytest.raises(ValidationStop) as raised:
        child_step.run("validate", _stop)
    assert str(raised.value).startswith("Valideringen stoppade körningen: payment: tabellen saknas.")
    assert isinstance(raised.value.__cause__, child_step.ChildTraceback)
    assert "in _stop" in str(raised.value.__cause__)


def test_an_exception_that_cannot_travel_keeps_its_type_name_and_message():
    with pytest.raises(RuntimeError, match="_Odd: 1 och 2"):
        child_step.run("odd", _odd)


def test_a_killed_child_is_named_in_swedish():
    with pytest.raises(child_step.StepProcessDied, match=r"Steget statistics avbröts .* kod -9"):
        child_step.run("statistics", _killed)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_the_childs_memory_is_not_the_callers():
    before = _vm_hwm_mb()
    assert child_step.run("big", _big) == 400 * 2**20
    assert _vm_hwm_mb() - before < 100


def _meet(mine: Path, theirs: Path, seconds: int = 30) -> int:
    """Leave a mark and wait for the other job's: only two jobs running at once meet."""
    import time

    mine.touch()
    for _ in range(seconds * 100):
        if theirs.exists():
            return os.getpid()
        time.sleep(0.01)
    raise TimeoutError(f"{theirs.name} never came")


def _mark(path: Path) -> str:
    path.touch()
    return path.name


def test_run_all_runs_two_at_a_time_and_returns_the_results_in_the_jobs_order(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    jobs = [("a", _meet, (a, b)), ("b", _meet, (b, a)), ("c", _mark, (c,))]
    pid_a, pid_b, name = child_step.run_all(jobs, workers=2)
    assert len({pid_a, pid_b, os.getpid()}) == 3 and name == "c" and c.exists()


def test_run_all_one_at_a_time_runs_each_alone(tmp_path):
    # With one worker the first job waits for a mark the second leaves only once it has started.
    a, b = tmp_path / "a", tmp_path / "b"
    with pytest.raises(TimeoutError, match="b never came"):
        child_step.run_all([("a", _meet, (a, b, 1)), ("b", _mark, (b,))], workers=1)
    assert not b.exists()  # after a failure no further job starts


def test_run_all_raises_the_first_failure_in_the_jobs_order_after_the_running_ones_end(tmp_path):
    late = tmp_path / "late"
    jobs = [("ok", _add, (1,)), ("validate", _stop, ()), ("odd", _odd, ()), ("late", _mark, (late,))]
    with pytest.raises(ValidationStop) as raised:
        child_step.run_all(jobs, workers=2)
    assert "in _stop" in str(raised.value.__cause__)
    assert not late.exists()


def test_run_all_names_a_killed_job():
    with pytest.raises(child_step.StepProcessDied, match=r"Steget extract-application avbröts .* kod -9"):
        child_step.run_all([("extract-application", _killed, ()), ("ok", _add, (1,))], workers=2)


def test_run_all_needs_a_worker():
    with pytest.raises(ValueError, match="at least 1"):
        child_step.run_all([("ok", _add, (1,))], workers=0)
