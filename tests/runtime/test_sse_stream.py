"""EventStream: a subscriber that falls too far behind gets Cog's "lagged" error and its stream ends."""

from __future__ import annotations

import asyncio
import json

from cognix.runtime import sse


def test_slow_subscriber_gets_lagged_error(monkeypatch) -> None:
    monkeypatch.setattr(sse, "SUBSCRIBER_BACKLOG", 3)

    async def scenario() -> list[bytes]:
        stream = sse.EventStream(capacity=16)
        events = stream.subscribe(replay=False)
        first = asyncio.ensure_future(events.__anext__())  # subscribes, then waits for the first event
        await asyncio.sleep(0)
        for i in range(8):  # the client reads nothing meanwhile: 3 fit, 5 are dropped
            stream.publish("output", {"chunk": i, "index": i})
        received = [await first]
        received += [event async for event in events]
        return received

    received = asyncio.run(scenario())
    names = [e.split(b"\n", 1)[0] for e in received]
    assert names[0] == b"event: output"
    assert names[-1] == b"event: error" and len(received) <= 4
    error = json.loads(received[-1].split(b"data: ", 1)[1])
    assert error == {"error": "SSE stream lagged; events were dropped", "skipped": 5}


def test_subscriber_that_keeps_up_sees_every_event() -> None:
    async def scenario() -> list[bytes]:
        stream = sse.EventStream(capacity=16)
        events = stream.subscribe(replay=False)
        first = asyncio.ensure_future(events.__anext__())
        await asyncio.sleep(0)
        stream.publish("output", {"chunk": 0, "index": 0})
        stream.publish("completed", {"status": "succeeded"})
        return [await first] + [event async for event in events]

    received = b"".join(asyncio.run(scenario()))  # events queued together are sent in one write
    events = [e for e in received.split(b"\n\n") if e]
    assert [e.split(b"\n", 1)[0] for e in events] == [b"event: output", b"event: completed"]


def test_a_burst_is_sent_in_batches_and_never_lags_a_reader_that_keeps_up() -> None:
    """10,000 events published in one loop turn (as one read of the worker's pipe can deliver) all arrive."""

    async def scenario() -> list[bytes]:
        stream = sse.EventStream(capacity=0)
        events = stream.subscribe(replay=False)
        first = asyncio.ensure_future(events.__anext__())
        await asyncio.sleep(0)
        for i in range(10_000):
            stream.publish("output", {"chunk": "tok ", "index": i})
        stream.publish("completed", {"status": "succeeded"})
        return [await first] + [event async for event in events]

    writes = asyncio.run(scenario())
    received = b"".join(writes)
    assert received.count(b"event: output") == 10_000 and received.endswith(b"event: completed\ndata: "
                                                                          b'{"status":"succeeded"}\n\n')
    assert b"lagged" not in received and len(writes) <= 10_000 // sse.BATCH + 3
