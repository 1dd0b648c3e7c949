"""Progress for long work (resolving, downloading, hashing): shown on a terminal, silent when piped.

Stages take an optional `Progress` so tests and pipes stay quiet; the CLI passes `terminal_progress()`.
"""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO


class Progress(Protocol):
    def start(self, label: str, total: int | None = None) -> None: ...
    def advance(self, amount: int = 1) -> None: ...
    def done(self) -> None: ...


class Silent:
    def start(self, label: str, total: int | None = None) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass

    def done(self) -> None:
        pass


class Terminal:
    """One rewritten status line on stderr, at most ten updates a second."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._label = ""
        self._total: int | None = None
        self._count = 0
        self._last = 0.0

    def start(self, label: str, total: int | None = None) -> None:
        self._label, self._total, self._count, self._last = label, total, 0, 0.0
        self._draw(force=True)

    def advance(self, amount: int = 1) -> None:
        self._count += amount
        self._draw()

    def done(self) -> None:
        self._draw(force=True)
        self._stream.write("\n")
        self._stream.flush()

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        if self._total:
            pct = 100 * self._count // max(self._total, 1)
            text = f"{self._label}: {_human(self._count)}/{_human(self._total)} ({pct}%)"
        else:
            text = f"{self._label}: {_human(self._count)}" if self._count else f"{self._label}..."
        self._stream.write("\r\x1b[2K" + text)
        self._stream.flush()


def _human(n: int) -> str:
    return str(n) if n < 10_000 else f"{n / 1e6:.1f}M"


def human_size(n: float) -> str:
    """A byte count as people read it: 512 B, 1.5 KiB, 3.7 GiB."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


def terminal_progress(stream: TextIO | None = None) -> Progress:
    stream = stream or sys.stderr
    return Terminal(stream) if stream.isatty() else Silent()
