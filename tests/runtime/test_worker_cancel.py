"""Cancels that reach the worker when their prediction is not running: too early, or too late."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from types import SimpleNamespace

import pytest

from cognix.runtime.worker import EARLY_CANCEL_S, Worker, _forget_older


def _idle_worker() -> Worker:
    worker = Worker.__new__(Worker)  # only the cancel bookkeeping, no subprocess plumbing
    worker.lock = threading.Lock()
    worker.router = SimpleNamespace(active=set())
    worker.cancel_requested, worker.early_cancels, worker.finished = set(), {}, {}
    worker.sync_running, worker.tasks, worker.loop = None, {}, None
    return worker


def test_late_cancel_is_dropped() -> None:
    worker = _idle_worker()
    worker.finished["p1"] = time.monotonic()
    worker.cancel("p1")  # arrived just after p1 finished: a later prediction reusing "p1" must not be hit
    assert worker.early_cancels == {} and worker.cancel_requested == set()


def test_early_cancel_is_kept_briefly() -> None:
    worker = _idle_worker()
    worker.cancel("p2")  # its predict message is still on its way
    assert "p2" in worker.early_cancels and worker.cancel_requested == set()


def test_running_prediction_is_canceled() -> None:
    worker = _idle_worker()
    worker.router.active.add("p3")
    worker.cancel("p3")
    assert worker.cancel_requested == {"p3"}


def test_old_stamps_are_forgotten_in_time_order() -> None:
    now = time.monotonic()
    stamps = {"old": now - EARLY_CANCEL_S - 1, "older-but-later": now - EARLY_CANCEL_S, "new": now}
    _forget_older(stamps, now)
    assert stamps == {"new": now}


def test_cancelation_exception_of_an_upstream_cog_0_16(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model locking upstream cog <= 0.16: CancelationException lives in cog.server.exceptions there."""
    import types

    from cognix.runtime.worker import _cancelation_exception

    class CancelationException(Exception):  # cog 0.16's is an Exception
        pass

    old = types.ModuleType("cog")
    exceptions = types.ModuleType("cog.server.exceptions")
    exceptions.CancelationException = CancelationException  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cog", old)
    monkeypatch.setitem(sys.modules, "cog.server", types.ModuleType("cog.server"))
    monkeypatch.setitem(sys.modules, "cog.server.exceptions", exceptions)
    assert _cancelation_exception() is CancelationException
    monkeypatch.delitem(sys.modules, "cog.server.exceptions")
    monkeypatch.setitem(sys.modules, "cog.server.exceptions", None)  # not importable at all
    assert _cancelation_exception() is asyncio.CancelledError
