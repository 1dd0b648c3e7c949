"""The server–worker wire (cognix/runtime/protocol.py), without processes: every message survives encode → decode,
the bytes are the documented JSON lines, and a line that is not a message is one ProtocolError."""

from __future__ import annotations

import pytest

from cognix.runtime import protocol as wire

MESSAGES = [
    wire.Predict("p1", kind="train", input={"x": 1, "s": "°C"}, context={"a": "b"}, start=False),
    wire.Predict("p2"),
    wire.Cancel("p1"),
    wire.HealthCheck(7),
    wire.Shutdown(),
    wire.SetupLog("loading\n"),
    wire.Schema({"openapi": "3.0.2"}),
    wire.Schema(None),
    wire.Ready(healthcheck=True, kinds=["predict", "train"]),
    wire.SetupFailed("Setup failed: boom"),
    wire.Started("p1"),
    wire.Log("p1", "step 1\n", "stderr"),
    wire.Output("p1", ["chunk", {"k": 1}]),
    wire.Metric("p1", "tokens", 3, "increment"),
    wire.Done("p1", "succeeded", metrics={"predict_time": 0.5}, has_output=True, output=None),
    wire.Done("p1", "succeeded", streamed=True),
    wire.Done("p1", "failed", error="ValueError: bad"),
    wire.Health(7, True),
    wire.Health(8, False, "Healthcheck failed: no"),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_every_message_round_trips(message: wire.Message) -> None:
    line = wire.encode(message)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert wire.decode(line) == message


def test_the_bytes_on_the_wire() -> None:
    assert wire.encode(wire.Cancel("p1")) == b'{"id":"p1","t":"cancel"}\n'
    assert wire.encode(wire.Done("p", "failed", error="E")) == (
        b'{"id":"p","status":"failed","metrics":{},"streamed":false,"error":"E","t":"done"}\n')
    # a returned None is an output; no output (streamed, failed) leaves the key out
    assert b'"output":null' in wire.encode(wire.Done("p", "succeeded", has_output=True))
    assert b'"output"' not in wire.encode(wire.Done("p", "succeeded", streamed=True))
    assert wire.decode(b'{"t":"done","id":"p","status":"succeeded","output":null}').has_output


def test_values_json_does_not_know_are_sent_as_text() -> None:
    class Odd:
        def __str__(self) -> str:
            return "odd"

    assert wire.decode(wire.encode(wire.Metric("p", "m", Odd(), "replace"))).value == "odd"


@pytest.mark.parametrize("line", [b"", b"{", b"[]", b'{"t":"nope"}', b'{"id":"x"}', b'{"t":"cancel"}',
                                  b'{"t":"cancel","id":"x","extra":1}'])
def test_what_is_not_a_message(line: bytes) -> None:
    with pytest.raises(wire.ProtocolError, match="not a worker message"):
        wire.decode(line)


def test_lines_leaves_a_partial_line_for_later() -> None:
    pending = bytearray(wire.encode(wire.Started("a")) + wire.encode(wire.Started("b")) + b'{"t":"sta')
    assert [wire.decode(line) for line in wire.lines(pending)] == [wire.Started("a"), wire.Started("b")]
    assert bytes(pending) == b'{"t":"sta'
    assert wire.lines(pending) == []
    pending.extend(b'rt","id":"c"}\n')
    assert [wire.decode(line) for line in wire.lines(pending)] == [wire.Started("c")] and not pending


def test_predictions_and_shutdown_go_on_the_control_pipe() -> None:
    assert all(isinstance(m, wire.CONTROL) == (type(m) in (wire.Predict, wire.Shutdown))
               for m in MESSAGES)
