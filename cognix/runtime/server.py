"""The runtime's state in front of one worker: the supervisor, the concurrency slots, each prediction's events
fanned out to its waiting request, SSE stream and webhook, and shutdown. HTTP lives in routes.py.

Deliberate differences from upstream cog 0.23.1 (see also the README):
- every request is validated against the schema (also without a bundled schema file); explicit null is accepted
  for optional inputs; a bad request gets 422 naming each bad field and no prediction starts;
- POST /predictions with the id of a prediction still in flight gets 409 (no duplicate starts); PUT stays idempotent;
- Secret values are never echoed (in-flight PUT snapshots show `**********`);
- `completed` is always the last webhook and SSE event;
- a slot is free again before the response of its prediction is sent, so N clients on N slots never see 409;
- `/trainings` calls the train function whenever COG_TRAIN_TYPE_STUB is set (upstream calls predict in predict mode).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from typing import Any, Callable

from cognix.runtime import protocol as wire
from cognix.runtime.config import RuntimeConfig
from cognix.runtime.predictions import Prediction
from cognix.runtime.slots import Slots
from cognix.runtime.supervisor import State, Supervisor
from cognix.runtime.webhooks import WebhookDispatcher

log = logging.getLogger("cognix.runtime")
RUNTIME_VERSION = "0.1.0"
# SIGTERM's promise: running predictions get the grace, and the process is gone within 1 s after it. The steps
# after the grace (cancel, settle, answering, closing connections) are budgeted to end EXIT_RESERVE_S before that,
# and a watchdog ends the process at the promised time whatever a step still waits for.
EXIT_AFTER_GRACE_S = 1.0
EXIT_RESERVE_S = 0.3
CANCEL_SETTLE_S = 0.25


class Runtime:
    def __init__(self, cfg: RuntimeConfig) -> None:
        self.cfg = cfg
        self.sup = Supervisor(cfg, self.on_event, self.on_worker_lost)
        self.slots = Slots(cfg.concurrency)
        self.webhooks = WebhookDispatcher(
            token=cfg.webhook_token,
            throttle=cfg.throttle_interval,
            queue_max=cfg.webhook_queue_max,
            user_agent=f"cognix/{RUNTIME_VERSION}",
        )
        self.server: Any = None  # uvicorn.Server, to stop on POST /shutdown
        self.exit_by: float | None = None
        self._stopping: asyncio.Task | None = None
        self._schema_seen: dict | None = None
        self._derived: dict[str, Any] = {}  # what is computed once per schema (validation, secrets, served)
        self.k8s_ready_written = False

    # --- the worker's events for one prediction ---------------------------------------------------------------
    def on_event(self, msg: wire.Event) -> None:
        handler = _PREDICTION_EVENTS.get(type(msg))
        pred = self.slots.get(msg.id) if handler is not None else None  # type: ignore[union-attr]
        if pred is not None:
            handler(self, pred, msg)  # type: ignore[misc]

    def _on_log(self, pred: Prediction, msg: wire.Log) -> None:
        if not pred.add_log(msg.data):
            return
        if pred.sse is not None:
            pred.sse.publish("log", {"data": msg.data, "source": msg.source})
        if pred.webhook:
            pred.webhook.send("logs", pred.progress_snapshot)

    def _on_output(self, pred: Prediction, msg: wire.Output) -> None:
        if not pred.add_chunk(msg.chunk):
            return
        if pred.sse is not None:
            pred.sse.publish("output", {"chunk": msg.chunk, "index": len(pred.chunks) - 1})
        if pred.webhook:
            pred.webhook.send("output", pred.progress_snapshot)

    def _on_metric(self, pred: Prediction, msg: wire.Metric) -> None:
        if pred.record_metric(msg.name, msg.value, msg.mode) and pred.sse is not None:
            pred.sse.publish("metric", {"name": msg.name, "value": msg.value, "mode": msg.mode})

    def _on_started(self, pred: Prediction, msg: wire.Started) -> None:
        if not pred.start():
            return
        if pred.sse is not None:
            pred.sse.publish("start", {"id": pred.id, "status": "processing"})
        if pred.webhook:
            pred.webhook.send("start", pred.progress_snapshot)

    def finish(self, pred: Prediction, msg: wire.Done) -> None:
        """Terminal state: free the slot first, then notify webhook/SSE/the waiting request."""
        self.slots.release(pred.id)
        if not pred.finish(msg.status, error=msg.error, metrics=msg.metrics, output=msg.output,
                           has_output=msg.has_output, streamed=msg.streamed):
            return
        if pred.has_output:
            if pred.sse is not None:
                pred.sse.publish("output", {"chunk": pred.output, "index": 0})
            if pred.webhook:
                body = pred.progress_snapshot()
                body["output"] = [pred.output]
                pred.webhook.send("output", lambda: body)
        if pred.status == "succeeded":
            self.sup.succeeded_once()
        final = pred.snapshot()
        if pred.webhook:
            pred.webhook.complete(final)
        if pred.sse is not None:
            pred.sse.publish("completed", final)

    def on_worker_lost(self, how: str) -> None:
        for pred in self.slots:
            error = (f"The prediction worker exited unexpectedly ({how}); the prediction was lost and the worker "
                     "is being restarted.")
            self.finish(pred, wire.Done(pred.id, "failed", error=error))

    # --- starting and canceling -------------------------------------------------------------------------------
    def dispatch(self, pred: Prediction, cleaned: dict, context: dict) -> bool:
        """Send an admitted prediction to the worker; False (slot freed) when the worker can't take it.

        The worker reports `start` only when someone listens (webhook, SSE): one pipe round trip less."""
        wants_start = bool(pred.webhook) or pred.sse is not None
        if not wants_start:
            pred.start()
        message = wire.Predict(pred.id, kind=pred.kind, input=cleaned, context=context, start=wants_start)
        if self.sup.send(message):
            return True
        self.slots.release(pred.id)
        return False

    def cancel(self, pred: Prediction) -> None:
        if not pred.status.terminal:
            self.sup.send(wire.Cancel(pred.id))

    # --- shutdown ---------------------------------------------------------------------------------------------
    @property
    def shutting_down(self) -> bool:
        """No new work is taken, and a worker that exits now is not restarted (one flag: the supervisor's)."""
        return self.sup.stopping

    def begin_shutdown(self) -> None:
        self.sup.stopping = True

    def request_stop(self) -> None:
        """SIGTERM, SIGINT or POST /shutdown: drain, then let uvicorn close the connections and the lifespan."""
        if self._stopping is None:
            self.begin_shutdown()
            promised = self.cfg.shutdown_grace + EXIT_AFTER_GRACE_S
            self.exit_by = time.monotonic() + promised - EXIT_RESERVE_S
            _exit_at(promised - 0.05, self.sup.kill)
            self._stopping = asyncio.get_running_loop().create_task(self._drain_then_stop())

    async def _drain_then_stop(self) -> None:
        await self.drain(self.cfg.shutdown_grace)
        if self.server is not None:
            self.server.should_exit = True

    async def drain(self, grace: float) -> None:
        """Take no new work; running predictions get `grace` seconds to finish, then are canceled.

        A prediction the worker has not answered CANCEL_SETTLE_S after its cancel is ended as canceled here and
        the worker killed (a predictor stuck in native code ignores the cancel signal): every waiting client,
        SSE stream and webhook still gets the canceled prediction, and the exit stays within the grace."""
        self.begin_shutdown()
        await self._wait_idle(grace)
        if not len(self.slots):
            return
        log.warning("shutdown grace (%ss) is over: canceling %d running prediction(s)", grace, len(self.slots))
        for pred in self.slots:
            self.cancel(pred)
        await self._wait_idle(CANCEL_SETTLE_S)
        for pred in self.slots:
            self.finish(pred, wire.Done(pred.id, "canceled", metrics=pred.metrics))
        self.sup.kill()

    async def _wait_idle(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while len(self.slots) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    def time_left(self, default: float) -> float:
        """Seconds left for a shutdown step: `default`, or less when SIGTERM's deadline is nearer."""
        if self.exit_by is None:
            return default
        return max(0.05, min(default, self.exit_by - time.monotonic()))

    async def close(self) -> None:
        """The lifespan's end: drained already after request_stop (a no-op then); stop the worker, deliver the
        terminal webhooks still in flight."""
        await self.drain(self.time_left(self.cfg.shutdown_grace))
        await self.sup.stop(timeout=self.time_left(5.0) / 2)
        await self.webhooks.drain(timeout=self.time_left(10.0))
        await self.webhooks.aclose()

    # --- what handlers ask --------------------------------------------------------------------------------------
    @property
    def schema(self) -> dict | None:
        return self.sup.schema

    def health_status(self) -> str:
        if self.sup.state is State.READY and self.slots.full:
            return "BUSY"
        return self.sup.state.value

    def _once_per_schema(self, key: str, make: Callable[[dict], Any]) -> Any:
        if self._schema_seen is not self.sup.schema:
            self._schema_seen, self._derived = self.sup.schema, {}
        if key not in self._derived:
            self._derived[key] = make(self.sup.schema or {})
        return self._derived[key]

    def served_schema(self) -> dict:
        """GET /openapi.json: the bundled schema plus the routes and statuses it leaves out."""
        from cognix.runtime.openapi_served import served_document

        return self._once_per_schema("served", served_document)

    def validation_schema(self) -> dict:
        """The schema reduced to its input components with $refs already inlined (resolved once, not per request)."""
        from cognix.runtime.validation import input_component

        def make(schema: dict) -> dict:
            schemas = {"Input": input_component(schema, training=False)}
            if self.has_training():
                schemas["TrainingInput"] = input_component(schema, training=True)
            return {"components": {"schemas": schemas}}

        return self._once_per_schema("validation", make)

    def redact(self, kind: str, payload: Any) -> Any:
        """The request input with Secret values masked, for in-flight snapshots."""
        from cognix.runtime.encoding import redact, secret_fields

        if not isinstance(payload, dict):
            return payload
        training = kind == "train"
        fields = self._once_per_schema(f"secrets-{kind}", lambda s: secret_fields(s, training=training))
        return redact(payload, fields)

    def streaming(self) -> bool:
        post = (self.sup.schema or {}).get("paths", {}).get("/predictions", {}).get("post", {})
        return bool(post.get("x-cog-streaming"))

    def has_training(self) -> bool:
        return "TrainingInput" in (self.sup.schema or {}).get("components", {}).get("schemas", {})


# What each worker event of one prediction does (dropped when it is no longer in flight).
_PREDICTION_EVENTS: dict[type, Callable[[Runtime, Prediction, Any], None]] = {
    wire.Log: Runtime._on_log, wire.Output: Runtime._on_output, wire.Metric: Runtime._on_metric,
    wire.Started: Runtime._on_started, wire.Done: Runtime.finish,
}


def _exit_at(seconds: float, before: Callable[[], None]) -> None:
    """The watchdog: `seconds` from now the process ends (status 0: a stop that was asked for), whatever a
    shutdown step still waits for; a normal shutdown ends well before it and takes the timer thread with it."""

    def expire() -> None:
        log.warning("shutdown took longer than its budget: exiting now")
        before()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(0)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
