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


def run(label: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a forked child: its return value, or its exception raised here
    (with the child's traceback as the cause). In-process where fork is not available."""
    if not available():
        return fn(*args, **kwargs)
    ctx = mp.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, args, kwargs), name=f"etl-{label}")
    proc.start()
    send.close()
    try:
        status, value, remote = receive.recv()
    except EOFError:
        proc.join()
        raise StepProcessDied(
            f"Steget {label} avbröts utan resultat (processen avslutades med kod {proc.exitcode}; "
            "-9 betyder oftast att minnet tog slut)."
        ) from None
    finally:
        receive.close()
    proc.join()
    if status == _ERROR:
        raise value from ChildTraceback(remote)
    return value
