"""The worker's cancel bookkeeping: which predictions run, which were asked to stop, and cancels that came early
or late.

Cancels arrive on the side pipe's thread while predictions start and end on the main thread, so the two can pass
each other: a cancel may arrive before its Predict message (kept for EARLY_CANCEL_S, honoured when it starts) or
just after the prediction ended (dropped, so a later prediction reusing the id is not hit). One lock guards it all.
"""

from __future__ import annotations

import enum
import itertools
import threading
import time

EARLY_CANCEL_S = 2.0  # how long a cancel for a prediction not yet started stays valid


class CancelAction(enum.Enum):
    """What the worker must do for a cancel request."""

    NOTHING = "nothing"  # not running: kept as an early cancel, or dropped as a late one
    INTERRUPT = "interrupt"  # a sync prediction runs on the main thread now: signal it
    CANCEL_TASK = "cancel_task"  # running, not inside a sync call: cancel its task if it has one (a sync generator
    # between chunks has none and sees the request before its next chunk)


def forget_older(stamps: dict[str, float], now: float) -> None:
    """Drop entries older than EARLY_CANCEL_S from a dict kept in time order (oldest first)."""
    for key in list(itertools.takewhile(lambda k: now - stamps[k] >= EARLY_CANCEL_S, stamps)):
        del stamps[key]


def _stamp(stamps: dict[str, float], key: str, now: float) -> None:
    stamps.pop(key, None)  # re-insert at the end: the dict stays in time order
    stamps[key] = now


class CancelBook:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: set[str] = set()
        self.requested: set[str] = set()
        self.early: dict[str, float] = {}  # id -> when a cancel came for a prediction not started yet
        self.finished: dict[str, float] = {}  # id -> when it finished, to drop cancels that arrive too late
        self.sync_running: str | None = None  # the sync prediction the main thread is inside right now

    def begin(self, pid: str) -> None:
        """`pid` starts: it is canceled already if a cancel came for it shortly before."""
        with self.lock:
            self.running.add(pid)
            self.finished.pop(pid, None)
            asked = self.early.pop(pid, None)
            if asked is not None and time.monotonic() - asked < EARLY_CANCEL_S:
                self.requested.add(pid)

    def end(self, pid: str) -> None:
        with self.lock:
            self.running.discard(pid)
            self.requested.discard(pid)
            now = time.monotonic()
            _stamp(self.finished, pid, now)
            forget_older(self.finished, now)

    def request(self, pid: str) -> CancelAction:
        """Record a cancel for `pid`; what the caller must do to stop it."""
        with self.lock:
            if pid not in self.running:
                now = time.monotonic()
                forget_older(self.finished, now)
                forget_older(self.early, now)
                if pid not in self.finished:
                    _stamp(self.early, pid, now)
                return CancelAction.NOTHING
            self.requested.add(pid)
            if self.sync_running == pid:
                return CancelAction.INTERRUPT
            return CancelAction.CANCEL_TASK

    def is_requested(self, pid: str) -> bool:
        return pid in self.requested

    def interruptible(self) -> bool:
        """Whether a cancel signal arriving now is meant for the sync prediction the main thread runs."""
        pid = self.sync_running
        return pid is not None and pid in self.requested
