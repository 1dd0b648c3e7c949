"""Concurrency slots: the predictions in flight, at most `capacity` of them (cog.yaml's concurrency.max).

A slot is taken when a prediction is admitted and freed when it reaches a terminal state, before its response is
sent: a client that sends its next request as soon as it has the answer always finds the slot free (no 409)."""

from __future__ import annotations

from typing import Iterator

from cognix.runtime.predictions import Prediction


class Slots:
    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self._inflight: dict[str, Prediction] = {}

    def __len__(self) -> int:
        return len(self._inflight)

    def __iter__(self) -> Iterator[Prediction]:
        return iter(list(self._inflight.values()))  # a copy: callers finish predictions while iterating

    def get(self, pid: str) -> Prediction | None:
        return self._inflight.get(pid)

    @property
    def full(self) -> bool:
        return len(self._inflight) >= self.capacity

    def admit(self, pred: Prediction) -> bool:
        """Take a slot for `pred`; False when all are busy or its id is already in flight."""
        if self.full or pred.id in self._inflight:
            return False
        self._inflight[pred.id] = pred
        return True

    def release(self, pid: str) -> Prediction | None:
        return self._inflight.pop(pid, None)
