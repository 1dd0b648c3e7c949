"""Cancels that reach the worker when their prediction is not running: too early, or too late."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest

from cognix.runtime.cancels import EARLY_CANCEL_S, CancelAction, CancelBook, forget_older


def test_late_cancel_is_dropped() -> None:
    book = CancelBook()
    book.begin("p1")
    book.end("p1")
    # arrived just after p1 finished: a later prediction reusing "p1" must not be hit
    assert book.request("p1") is CancelAction.NOTHING
    assert book.early == {} and book.requested == set()
    book.begin("p1")
    assert not book.is_requested("p1")


def test_early_cancel_is_kept_briefly() -> None:
    book = CancelBook()
    assert book.request("p2") is CancelAction.NOTHING  # its predict message is still on its way
    assert "p2" in book.early and book.requested == set()
    book.begin("p2")
    assert book.is_requested("p2") and book.early == {}


def test_early_cancel_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    book = CancelBook()
    book.request("p2")
    book.early["p2"] -= EARLY_CANCEL_S + 0.1
    book.begin("p2")
    assert not book.is_requested("p2")


def test_running_prediction_is_canceled() -> None:
    book = CancelBook()
    book.begin("p3")
    assert book.request("p3") is CancelAction.CANCEL_TASK
    assert book.requested == {"p3"} and not book.interruptible()
    book.end("p3")
    assert book.requested == set() and book.running == set()


def test_sync_prediction_is_interrupted() -> None:
    book = CancelBook()
    book.begin("p4")
    book.sync_running = "p4"
    assert not book.interruptible()  # a stray signal, no request: not for it
    assert book.request("p4") is CancelAction.INTERRUPT
    assert book.interruptible()


def test_old_stamps_are_forgotten_in_time_order() -> None:
    now = time.monotonic()
    stamps = {"old": now - EARLY_CANCEL_S - 1, "older-but-later": now - EARLY_CANCEL_S, "new": now}
    forget_older(stamps, now)
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
