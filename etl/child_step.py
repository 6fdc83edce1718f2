"""Run one heavy pipeline step in a child process, so the memory it used is returned when it ends.

The CLI runs every step in one process; pandas, Arrow and glibc keep freed memory for reuse,
so the heaviest stages (extraction, validation, statistics, workbooks) would add up instead of
each being as large as itself (6 GB at national scale). A forked child shares the parent's
imports and settings (no start-up cost), and its result or exception comes back to the caller
as if the step had run in the parent; Airflow gets the same separation from one task per step.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import pickle
import traceback
from collections.abc import Callable
from multiprocessing import connection as mp_connection
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
_OK, _ERROR = "ok", "error"


class StepProcessDied(RuntimeError):
    """The step's process ended without a result: killed (often out of memory) or crashed."""


class ChildTraceback(Exception):
    """The traceback of an exception raised in the child (the ``__cause__`` of the re-raised one)."""

    def __str__(self) -> str:
        return "\n" + str(self.args[0]).rstrip()


def available() -> bool:
    """Forking is how a child gets the parent's state cheaply (Linux; not Windows)."""
    return "fork" in mp.get_all_start_methods()


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError with its type and message."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any exception type may fail to pickle
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _child(send, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    try:
        message = (_OK, fn(*args, **kwargs), "")
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        message = (_ERROR, _portable(exc), traceback.format_exc())
    try:
        send.send(message)
    except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable result
        send.send((_ERROR, RuntimeError(f"{type(exc).__name__}: {exc}"), traceback.format_exc()))
    send.close()


def _start(label: str, fn: Callable[..., Any], args: tuple, kwargs: dict):
    ctx = mp.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, args, kwargs), name=f"etl-{label}")
    proc.start()
    send.close()
    return proc, receive


def _finish(label: str, proc, receive) -> tuple[str, Any, str]:
    """The child's message (status, value, traceback) once it has ended."""
    try:
        message = receive.recv()
    except EOFError:
        proc.join()
        died = StepProcessDied(
            f"Steget {label} avbröts utan resultat (processen avslutades med kod {proc.exitcode}; "
            "-9 betyder oftast att minnet tog slut)."
        )
        return _ERROR, died, ""
    finally:
        receive.close()
    proc.join()
    return message


def _raise(status: str, value: Any, remote: str) -> None:
    if status != _ERROR:
        return
    if isinstance(value, StepProcessDied):
        raise value from None
    raise value from ChildTraceback(remote)


def run(label: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a forked child: its return value, or its exception raised here
    (with the child's traceback as the cause). In-process where fork is not available."""
    if not available():
        return fn(*args, **kwargs)
    status, value, remote = _finish(label, *_start(label, fn, args, kwargs))
    _raise(status, value, remote)
    return value


def run_all(jobs: list[tuple[str, Callable[..., Any], tuple]], workers: int) -> list[Any]:
    """Each ``(label, fn, args)`` in a forked child of its own, at most ``workers`` at a time, in
    the order given (put the longest first); their results in that order. When one fails, no
    further job starts, those running finish, and the first failure (in the jobs' order) is
    raised here. One after another in-process where fork is not available."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if not available():
        return [fn(*args) for _, fn, args in jobs]
    messages: dict[int, tuple[str, Any, str]] = {}
    running: dict[Any, tuple[int, Any]] = {}  # a child's pipe → (its job's index, its process)
    waiting = list(enumerate(jobs))
    while waiting or running:
        failed = any(m[0] == _ERROR for m in messages.values())
        while waiting and len(running) < workers and not failed:
            index, (label, fn, args) = waiting.pop(0)
            proc, receive = _start(label, fn, args, {})
            running[receive] = (index, proc)
        if not running:
            break
        for receive in mp_connection.wait(list(running)):
            index, proc = running.pop(receive)
            messages[index] = _finish(jobs[index][0], proc, receive)
    for index in sorted(messages):
        _raise(*messages[index])
    return [messages[i][1] for i in range(len(jobs))]
