"""The prediction state machine and the concurrency slots, without a server or a worker."""

from __future__ import annotations

import asyncio
import json

import pytest

from cognix.runtime import protocol as wire
from cognix.runtime.config import RuntimeConfig
from cognix.runtime.predictions import Prediction, Status
from cognix.runtime.server import Runtime
from cognix.runtime.slots import Slots


def _run(coro_fn):
    return asyncio.run(coro_fn())


def test_statuses_and_terminal_states() -> None:
    assert [s.value for s in Status] == ["starting", "processing", "succeeded", "failed", "canceled"]
    assert {s.value for s in Status if s.terminal} == {"succeeded", "failed", "canceled"}
    assert json.dumps({"status": Status.CANCELED}) == '{"status": "canceled"}'
    assert Status("failed") is Status.FAILED
    with pytest.raises(ValueError):
        Status("done")


def test_a_prediction_goes_forward_only() -> None:
    async def go() -> None:
        pred = Prediction(id="p", kind="predict", input={})
        assert pred.status is Status.STARTING and not pred.done.done()
        assert pred.start() and pred.status is Status.PROCESSING
        assert not pred.start()  # already processing
        assert pred.add_log("a\n") and pred.add_chunk(1)
        assert not pred.finish(Status.PROCESSING)  # not a terminal state: no change
        assert pred.finish("succeeded", output=None, has_output=False, streamed=True, metrics={"predict_time": 1})
        assert pred.done.done()
        # terminal is final: late events and a second Done change nothing
        assert not pred.finish("failed", error="late")
        assert not pred.add_log("late\n") and not pred.add_chunk(2) and not pred.start()
        assert not pred.record_metric("x", 1, "replace")
        assert pred.snapshot() == {"id": "p", "status": "succeeded", "logs": "a\n", "metrics": {"predict_time": 1},
                                   "output": [1]}

    _run(go)


def test_output_counts_only_when_it_succeeded() -> None:
    async def go() -> None:
        pred = Prediction(id="p", kind="predict", input={"x": 1})
        pred.finish("failed", error="boom", output="half", has_output=True)
        assert pred.snapshot(with_input=True) == {"id": "p", "status": "failed", "logs": "", "metrics": {},
                                                  "error": "boom", "input": {"x": 1}}
        ok = Prediction(id="q", kind="predict", input={})
        ok.finish("succeeded", output="out", has_output=True)
        assert ok.snapshot()["output"] == "out"

    _run(go)


def test_a_canceled_prediction_can_skip_processing() -> None:
    async def go() -> None:
        pred = Prediction(id="p", kind="predict", input={})
        assert pred.finish(Status.CANCELED)
        assert pred.snapshot()["status"] == "canceled" and "output" not in pred.snapshot()

    _run(go)


def test_metrics_mirror_nested_and_modes() -> None:
    async def go() -> None:
        pred = Prediction(id="p", kind="predict", input={})
        pred.record_metric("tokens", 2, "increment")
        pred.record_metric("tokens", 3, "increment")
        pred.record_metric("a.b", 1, "append")
        pred.record_metric("a.b", 2, "append")
        pred.record_metric("gone", 1, "replace")
        pred.record_metric("gone", None, "replace")
        assert pred.metrics == {"tokens": 5, "a": {"b": [1, 2]}}

    _run(go)


def test_slots_admit_up_to_capacity_and_free_on_release() -> None:
    async def go() -> None:
        slots = Slots(2)
        a, b, c = (Prediction(id=i, kind="predict", input={}) for i in "abc")
        assert slots.admit(a) and not slots.full and slots.admit(b) and slots.full
        assert not slots.admit(c)  # all busy
        assert not slots.admit(Prediction(id="a", kind="predict", input={}))  # same id in flight
        assert slots.release("a") is a and slots.release("a") is None and not slots.full
        assert slots.admit(c) and [p.id for p in slots] == ["b", "c"] and len(slots) == 2
        assert Slots(0).capacity == 1

    _run(go)


def _runtime() -> Runtime:
    cfg = RuntimeConfig.from_env()
    cfg.concurrency = 1
    return Runtime(cfg)


def test_the_slot_is_free_before_anyone_hears_of_the_end() -> None:
    """Runtime.finish frees the slot before webhooks, SSE and the waiting request learn the prediction ended."""

    async def go() -> None:
        rt = _runtime()
        heard: list[tuple[str, int]] = []

        class Hook:
            def send(self, event: str, body: dict) -> None:
                heard.append((event, len(rt.slots)))

            def complete(self, body: dict) -> None:
                heard.append(("completed:" + body["status"], len(rt.slots)))

        pred = Prediction(id="p", kind="predict", input={})
        pred.webhook = Hook()
        assert rt.slots.admit(pred)
        rt.on_event(wire.Started("p"))
        rt.on_event(wire.Output("p", "chunk"))
        rt.on_event(wire.Done("p", "succeeded", streamed=True))
        rt.on_event(wire.Log("p", "late\n", "stdout"))  # no longer in flight: dropped
        assert heard == [("start", 1), ("output", 1), ("completed:succeeded", 0)]
        assert pred.snapshot()["output"] == ["chunk"] and pred.logs == []

    _run(go)


def test_a_lost_worker_fails_what_was_in_flight() -> None:
    async def go() -> None:
        rt = _runtime()
        pred = Prediction(id="p", kind="predict", input={})
        rt.slots.admit(pred)
        rt.on_worker_lost("signal SIGKILL")
        assert pred.status is Status.FAILED and "signal SIGKILL" in (pred.error or "") and not len(rt.slots)

    _run(go)


def test_a_progress_snapshot_never_looks_terminal() -> None:
    """A webhook body made after the end (a waiting delivery) reports processing; `completed` carries the end."""

    async def go() -> None:
        pred = Prediction(id="p", kind="predict", input={})
        pred.start()
        pred.add_chunk("a")
        assert pred.progress_snapshot() == pred.snapshot()
        pred.finish("failed", error="boom", streamed=True)
        assert pred.progress_snapshot() == {"id": "p", "status": "processing", "logs": "", "metrics": {},
                                            "output": ["a"]}

    _run(go)
