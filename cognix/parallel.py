"""Bounded side-by-side work (downloads, store trees, layer uploads): one helper for every stage that needs it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_bounded(fn: Callable[[T], R], items: Sequence[T], *, workers: int) -> list[R]:
    """fn(item) for each item, at most `workers` at once; the results in the items' order.

    The first failure cancels the calls not started yet and is raised once the running ones have ended (each
    leaves its own work complete or removed), so a failed download does not wait for every other one."""
    if len(items) < 2:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items)))) as pool:
        futures = [pool.submit(fn, item) for item in items]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise
