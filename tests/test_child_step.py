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
