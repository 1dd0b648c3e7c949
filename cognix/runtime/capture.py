"""The worker's output capture: events to the parent, and the model's stdout/stderr routed into prediction logs.

Python-level writes go through LineWriter (per prediction, by contextvar); fd-level writes (C code, subprocesses)
through FdCapture's pipes, attributed to the sole running prediction when there is one."""

from __future__ import annotations

import contextvars
import fcntl
import io
import os
import select
import sys
import termios
import threading
import time
from typing import Any

from cognix.runtime import protocol as wire

#: the prediction the running code belongs to (None in setup and in threads the model started)
current: contextvars.ContextVar[str | None] = contextvars.ContextVar("cognix_prediction", default=None)


class Channel:
    """Thread-safe writer of events to the parent."""

    def __init__(self, fd: int) -> None:
        self._out = os.fdopen(fd, "wb", buffering=1 << 16)
        self._lock = threading.Lock()

    def emit(self, event: wire.Event) -> None:
        data = wire.encode(event)
        with self._lock:
            self._out.write(data)
            self._out.flush()


class LogRouter:
    """Routes captured output lines to the prediction they belong to (or to setup logs, or to real stderr)."""

    def __init__(self, channel: Channel, real_err: int, running: set[str]) -> None:
        self.channel = channel
        self.real_err = real_err
        self.setup_phase = True
        self.active = running  # the predictions running now (the cancel book's set, shared)
        self.captures: list[Any] = []

    def settle(self) -> None:
        """Everything written so far (Python and fd level) routed: before setup's outcome is reported."""
        sys.stdout.flush()
        sys.stderr.flush()
        for capture in self.captures:
            capture.drain()

    def line(self, text: str, source: str, pid: str | None) -> None:
        if pid is None and len(self.active) == 1:
            # Output from threads the predictor started (no contextvar) or from C code: the sole running one.
            pid = next(iter(self.active))
        if pid is not None:
            self.channel.emit(wire.Log(pid, text, source))
        elif self.setup_phase:
            self.channel.emit(wire.SetupLog(text))
        else:
            os.write(self.real_err, text.encode(errors="replace"))


class LineWriter(io.TextIOBase):
    """sys.stdout/sys.stderr replacement: line-buffered, per prediction (contextvar-aware)."""

    def __init__(self, router: LogRouter, source: str) -> None:
        self.router = router
        self.source = source
        self._partial: dict[str | None, str] = {}
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return 1 if self.source == "stdout" else 2

    def write(self, s: str) -> int:
        if not s:
            return 0
        pid = current.get()
        with self._lock:
            buf = self._partial.pop(pid, "") + s
            *lines, rest = buf.split("\n")
            if rest:
                self._partial[pid] = rest
        for line in lines:
            self.router.line(line + "\n", self.source, pid)
        return len(s)

    def flush(self, pid: str | None = ...) -> None:  # type: ignore[assignment,override]
        with self._lock:
            keys = list(self._partial) if pid is ... else [pid]
            pending = [(k, self._partial.pop(k)) for k in keys if k in self._partial]
        for key, text in pending:
            self.router.line(text, self.source, key)


class FdCapture:
    """Points fd 1 or 2 at a pipe read by a thread, so output of C code and subprocesses is captured too."""

    def __init__(self, fd: int, router: LogRouter, source: str) -> None:
        self.router = router
        self.source = source
        self.read_end, write_end = os.pipe()
        os.dup2(write_end, fd)
        os.close(write_end)
        self.busy = False
        threading.Thread(
            target=self._pump, name=f"cognix-{source}", daemon=True
        ).start()

    def _pump(self) -> None:
        pending = b""
        while True:
            # Wait for data without consuming it, and mark busy before reading: from a write until its lines
            # are routed, either the pipe holds unread bytes or `busy` is set (what drain() relies on).
            select.select([self.read_end], [], [])
            self.busy = True
            chunk = os.read(self.read_end, 65536)
            if not chunk:
                self.busy = False
                return
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self.router.line(line.decode(errors="replace") + "\n", self.source, None)
            self.busy = False

    def drain(self, timeout: float = 0.5) -> None:
        """Wait until what was written so far reached the router (a no-op when the pipe is empty)."""
        deadline = time.monotonic() + timeout
        while (self.busy or self._unread()) and time.monotonic() < deadline:
            time.sleep(0.001)

    def _unread(self) -> int:
        buf = bytearray(4)
        fcntl.ioctl(self.read_end, termios.FIONREAD, buf)
        return int.from_bytes(buf, sys.byteorder)
