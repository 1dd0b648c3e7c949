"""Cog's HTTP prediction API (starlette on uvicorn) in front of one worker subprocess.

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
import contextlib
import functools
import gc
import html
import json
import logging
import os
import platform
import re
import signal
import subprocess
import sys
import time
import urllib.parse
from datetime import datetime, timezone
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from cognix.runtime import protocol as wire
from cognix.runtime.config import RuntimeConfig
from cognix.runtime.predictions import TERMINAL, Prediction, new_id
from cognix.runtime.sse import EventStream
from cognix.runtime.webhooks import WebhookDispatcher

log = logging.getLogger("cognix.runtime")
RUNTIME_VERSION = "0.1.0"
EVENTS = frozenset({"start", "output", "logs", "completed"})
NOT_READY = "Setup has not finished yet. Wait until it has finished, or GET /health-check for status."
# what a 503 says in the states no wait ends (Cog says NOT_READY in all of them)
NOT_READY_BECAUSE = {
    "SETUP_FAILED": "Setup failed, so this model cannot run predictions: see the setup logs (GET /health-check) and "
                    "fix the model, then start the container again.",
    "DEFUNCT": "The prediction worker stopped and was given up on after repeated crashes: restart the container.",
}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()  # noqa: UP017 - datetime.UTC is 3.11+; the runtime supports 3.8


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(
            content, separators=(",", ":"), sort_keys=True, default=str
        ).encode()


def _failed(message: str, code: int) -> JSONResponse:
    return JSONResponse({"error": message, "status": "failed"}, status_code=code)


class WorkerProcess:
    """The predictor subprocess and its two pipes (commands in, JSON-line events out)."""

    def __init__(self, cfg: RuntimeConfig, on_event: Any, on_exit: Any) -> None:
        self.cfg = cfg
        self.on_event = on_event
        self.on_exit = on_exit
        self.proc: subprocess.Popen | None = None
        self.ctrl: Any = None
        self.side: Any = None
        self.reader_task: asyncio.Task | None = None
        self.watch_task: asyncio.Task | None = None
        self.reported: subprocess.Popen | None = None  # the process whose exit was already reported

    async def start(self) -> None:
        cfg = self.cfg
        ctrl_r, ctrl_w = os.pipe()
        side_r, side_w = os.pipe()
        evt_r, evt_w = os.pipe()
        cmd = [
            sys.executable,
            "-m",
            "cognix.runtime.worker",
            "--ctrl-fd",
            str(ctrl_r),
            "--side-fd",
            str(side_r),
            "--event-fd",
            str(evt_w),
        ]
        cmd += ["--mode", cfg.mode]
        for flag, value in (
            ("--predict-ref", cfg.predict_ref),
            ("--train-ref", cfg.train_ref),
            ("--upload-url", cfg.upload_url),
        ):
            if value:
                cmd += [flag, value]
        cmd += [
            "--max-download-bytes",
            str(cfg.max_download_bytes),
            "--download-timeout",
            str(cfg.download_timeout),
        ]
        if cfg.allow_private_urls:
            cmd.append("--allow-private-urls")
        env = dict(os.environ)
        # The worker must import this very runtime even when started from another directory.
        root = os.path.dirname(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        )
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (root, env.get("PYTHONPATH", "")) if p
        )
        self.proc = subprocess.Popen(  # noqa: ASYNC220 - starting a process does not block
            cmd,
            pass_fds=(ctrl_r, side_r, evt_w),
            cwd=cfg.cwd,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # terminal signals reach the server only; it stops the worker itself
        )
        for fd in (ctrl_r, side_r, evt_w):
            os.close(fd)
        self.ctrl = os.fdopen(ctrl_w, "wb", buffering=0)
        self.side = os.fdopen(side_w, "wb", buffering=0)
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(
            lambda: _EventProtocol(self), os.fdopen(evt_r, "rb", 0)
        )
        self.watch_task = loop.create_task(self._watch(self.proc))

    async def _reap(self) -> None:
        """The event pipe closed: wait for the process to end and report it."""
        proc = self.proc
        assert proc is not None
        while proc.poll() is None:
            await asyncio.sleep(0.02)
        self._report_exit(proc)

    async def _watch(self, proc: subprocess.Popen) -> None:
        """Notice the worker's death even while a process it forked keeps the event pipe open."""
        while proc.poll() is None:
            await asyncio.sleep(0.5)
        self._report_exit(proc)

    def _report_exit(self, proc: subprocess.Popen) -> None:
        if self.reported is proc:
            return
        self.reported = proc
        self.on_exit(self, proc.returncode)

    def send(self, msg: wire.Command) -> bool:
        pipe = self.ctrl if isinstance(msg, wire.CONTROL) else self.side
        try:
            pipe.write(wire.encode(msg))
            return True
        except (OSError, ValueError):
            return False

    async def stop(self, timeout: float = 5.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.send(wire.Shutdown())
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if self.proc.poll() is None:
            self.proc.kill()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()


class _EventProtocol(asyncio.Protocol):
    """Decodes the worker's events as they arrive and dispatches them in the same loop turn."""

    def __init__(self, worker: WorkerProcess) -> None:
        self.worker = worker
        self.pending = bytearray()

    def data_received(self, data: bytes) -> None:
        self.pending.extend(data)
        for line in wire.lines(self.pending):
            self.worker.on_event(wire.decode(line))

    def connection_lost(self, exc: Exception | None) -> None:
        self.worker.reader_task = asyncio.get_running_loop().create_task(
            self.worker._reap()
        )


class Runtime:
    """Server state: health, schema, in-flight predictions and the worker."""

    def __init__(self, cfg: RuntimeConfig) -> None:
        self.cfg = cfg
        self.state = "STARTING"
        self.setup: dict[str, Any] = {}
        self.setup_logs: list[str] = []
        self.schema: dict | None = None
        self.kinds: list[str] = []
        self.has_healthcheck = False
        self.inflight: dict[str, Prediction] = {}
        self.worker: WorkerProcess | None = None
        self.shutting_down = False
        self.restarts = 0
        self.health_seq = 0
        self.health_waiters: dict[int, asyncio.Future] = {}
        self.webhooks = WebhookDispatcher(
            token=cfg.webhook_token,
            throttle=cfg.throttle_interval,
            queue_max=cfg.webhook_queue_max,
            user_agent=f"cognix/{RUNTIME_VERSION}",
        )
        self.server: Any = None  # uvicorn.Server, to stop on POST /shutdown
        self._stopping: asyncio.Task | None = None
        # SIGTERM's promise: running predictions get the grace, and the process is gone 1 s after it
        self.exit_by: float | None = None
        self._setup_timer: asyncio.TimerHandle | None = None
        self._secrets: dict[str, set[str]] = {}
        self._validation: dict | None = None
        self._served: tuple[dict | None, dict] | None = None
        self.k8s_ready_written = False

    # --- worker lifecycle --------------------------------------------------------------------------------------
    async def start_worker(self) -> None:
        self.state = "STARTING"
        self.setup = {"started_at": _now(), "status": "starting"}
        self.setup_logs = []
        self.worker = WorkerProcess(self.cfg, self.on_event, self.on_exit)
        await self.worker.start()
        if self.cfg.setup_timeout:
            worker = self.worker
            self._setup_timer = asyncio.get_running_loop().call_later(
                self.cfg.setup_timeout, self._setup_timed_out, worker
            )

    def _setup_timed_out(self, worker: WorkerProcess) -> None:
        if worker is self.worker and self.state == "STARTING":
            self.setup_logs.append(
                f"Setup failed: setup did not finish within COG_SETUP_TIMEOUT="
                f"{self.cfg.setup_timeout}s\n"
            )
            self._setup_done(False)
            worker.kill()

    def _setup_done(self, ok: bool) -> None:
        if self._setup_timer is not None:
            self._setup_timer.cancel()
        self.setup["completed_at"] = _now()
        self.setup["status"] = "succeeded" if ok else "failed"
        if ok:
            self.state = "READY"
            gc.collect()
            gc.freeze()  # long-lived startup objects leave the collector's view: shorter pauses under load
        else:
            self.state = "DEFUNCT" if self.restarts else "SETUP_FAILED"

    def on_exit(self, worker: WorkerProcess, code: int) -> None:
        if worker is not self.worker:
            return
        for pid, pred in list(self.inflight.items()):
            how = (
                f"signal {signal.Signals(-code).name}"
                if code < 0
                else f"exit code {code}"
            )
            error = (f"The prediction worker exited unexpectedly ({how}); the prediction was lost and the worker "
                     "is being restarted.")
            self.finish(pred, wire.Done(pid, "failed", error=error))
        if self.shutting_down or self.state in ("SETUP_FAILED", "DEFUNCT"):
            return
        if self.state == "STARTING":
            self.setup_logs.append(
                f"Setup failed: worker exited during setup (code {code})\n"
            )
            self._setup_done(False)
            return
        if self.restarts >= self.cfg.worker_restarts:
            log.error("worker crashed %d times; giving up (DEFUNCT)", self.restarts + 1)
            self.state = "DEFUNCT"
            return
        self.restarts += 1
        log.warning("worker exited (code %s); restarting it and re-running setup", code)
        asyncio.get_running_loop().create_task(self.start_worker())

    def on_event(self, msg: wire.Event) -> None:
        handler = _PREDICTION_EVENTS.get(type(msg))
        if handler is not None:
            pred = self.inflight.get(msg.id)  # type: ignore[union-attr]
            if pred is not None:
                handler(self, pred, msg)
        else:
            _RUNTIME_EVENTS[type(msg)](self, msg)

    def _on_log(self, pred: Prediction, msg: wire.Log) -> None:
        pred.logs.append(msg.data)
        if pred.sse is not None:
            pred.sse.publish("log", {"data": msg.data, "source": msg.source})
        if pred.webhook:
            pred.webhook.send("logs", pred.snapshot())

    def _on_output(self, pred: Prediction, msg: wire.Output) -> None:
        pred.streamed = True
        pred.chunks.append(msg.chunk)
        if pred.sse is not None:
            pred.sse.publish("output", {"chunk": msg.chunk, "index": len(pred.chunks) - 1})
        if pred.webhook:
            pred.webhook.send("output", pred.snapshot())

    def _on_metric(self, pred: Prediction, msg: wire.Metric) -> None:
        _apply_metric(pred.metrics, msg.name, msg.value, msg.mode)
        if pred.sse is not None:
            pred.sse.publish("metric", {"name": msg.name, "value": msg.value, "mode": msg.mode})

    def _on_started(self, pred: Prediction, msg: wire.Started) -> None:
        pred.status = "processing"
        if pred.sse is not None:
            pred.sse.publish("start", {"id": pred.id, "status": "processing"})
        if pred.webhook:
            pred.webhook.send("start", pred.snapshot())

    def _on_setup_log(self, msg: wire.SetupLog) -> None:
        self.setup_logs.append(msg.data)

    def _on_schema(self, msg: wire.Schema) -> None:
        self.schema = msg.schema
        self._secrets = {}
        self._validation = None

    def _on_ready(self, msg: wire.Ready) -> None:
        self.kinds = msg.kinds
        self.has_healthcheck = msg.healthcheck
        self._setup_done(True)

    def _on_setup_failed(self, msg: wire.SetupFailed) -> None:
        self.setup_logs.append(msg.error + "\n")
        self._setup_done(False)

    def _on_health(self, msg: wire.Health) -> None:
        fut = self.health_waiters.pop(msg.seq, None)
        if fut is not None and not fut.done():
            fut.set_result(msg)

    def finish(self, pred: Prediction, msg: wire.Done) -> None:
        """Terminal state: free the slot first, then notify webhook/SSE/the waiting request."""
        self.inflight.pop(pred.id, None)
        pred.status = msg.status
        pred.error = msg.error
        pred.metrics = msg.metrics or {}
        if msg.has_output and pred.status == "succeeded":
            pred.output = msg.output
            pred.has_output = True
            if pred.sse is not None:
                pred.sse.publish("output", {"chunk": msg.output, "index": 0})
            if pred.webhook:
                body = pred.snapshot()
                body.update(status="processing", output=[msg.output])
                pred.webhook.send("output", body)
        if msg.streamed:
            pred.streamed = True
        if self.restarts and pred.status == "succeeded":
            self.restarts = 0
        final = pred.snapshot()
        if pred.webhook:
            pred.webhook.complete(final)
        if pred.sse is not None:
            pred.sse.publish("completed", final)
        if not pred.done.done():
            pred.done.set_result(None)

    # --- shutdown ---------------------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """SIGTERM, SIGINT or POST /shutdown: drain, then let uvicorn close the connections and the lifespan."""
        if self._stopping is None:
            self.exit_by = time.monotonic() + self.cfg.shutdown_grace + 1.0
            self._stopping = asyncio.get_running_loop().create_task(self._drain_then_stop())

    async def _drain_then_stop(self) -> None:
        await self.drain(self.cfg.shutdown_grace)
        if self.server is not None:
            self.server.should_exit = True

    async def drain(self, grace: float, settle: float = 0.3) -> None:
        """Take no new work; running predictions get `grace` seconds to finish, then are canceled.

        A prediction the worker has not answered `settle` seconds after its cancel is ended as canceled here and
        the worker killed (a predictor stuck in native code ignores the cancel signal): every waiting client,
        SSE stream and webhook still gets the canceled prediction, and the exit stays within the grace."""
        self.shutting_down = True
        deadline = time.monotonic() + grace
        while self.inflight and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if not self.inflight:
            return
        log.warning(
            "shutdown grace (%ss) is over: canceling %d running prediction(s)", grace, len(self.inflight)
        )
        for pred in list(self.inflight.values()):
            if self.worker is not None:
                self.worker.send(wire.Cancel(pred.id))
        deadline = time.monotonic() + settle
        while self.inflight and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for pred in list(self.inflight.values()):
            self.finish(pred, wire.Done(pred.id, "canceled", metrics=pred.metrics))
        if self.worker is not None:
            self.worker.kill()

    def time_left(self, default: float) -> float:
        """Seconds left for a shutdown step: `default`, or less when SIGTERM's deadline is nearer."""
        if self.exit_by is None:
            return default
        return max(0.05, min(default, self.exit_by - time.monotonic() - 0.15))

    # --- helpers for handlers ----------------------------------------------------------------------------------
    def health_status(self) -> str:
        if self.state == "READY" and len(self.inflight) >= self.cfg.concurrency:
            return "BUSY"
        return self.state

    async def user_health(self) -> str | None:
        """Run the user's healthcheck() in the worker (5 s timeout); the error text, or None when healthy."""
        if not self.has_healthcheck or self.worker is None:
            return None
        self.health_seq += 1
        fut = asyncio.get_running_loop().create_future()
        self.health_waiters[self.health_seq] = fut
        self.worker.send(wire.HealthCheck(self.health_seq))
        try:
            msg = await asyncio.wait_for(fut, 5.0)
        except asyncio.TimeoutError:  # noqa: UP041 - not the builtin TimeoutError before Python 3.11
            self.health_waiters.pop(self.health_seq, None)
            return (
                "Healthcheck failed: user-defined healthcheck timed out after 5 seconds"
            )
        return None if msg.ok else (msg.error or "Healthcheck failed")

    def served_schema(self) -> dict:
        """GET /openapi.json: the bundled schema plus the routes and statuses it leaves out (made once per schema)."""
        if self._served is None or self._served[0] is not self.schema:
            from cognix.runtime.openapi_served import served_document

            self._served = (self.schema, served_document(self.schema or {}))
        return self._served[1]

    def validation_schema(self) -> dict:
        """The schema reduced to its input components with $refs already inlined (resolved once, not per request)."""
        if self._validation is None:
            from cognix.runtime.validation import input_component

            schemas = {"Input": input_component(self.schema or {}, training=False)}
            if self.has_training():
                schemas["TrainingInput"] = input_component(
                    self.schema or {}, training=True
                )
            self._validation = {"components": {"schemas": schemas}}
        return self._validation

    def redact(self, kind: str, payload: Any) -> Any:
        """The request input with Secret values masked, for in-flight snapshots."""
        from cognix.runtime.encoding import redact, secret_fields

        if not isinstance(payload, dict):
            return payload
        key = "train" if kind == "train" else "predict"
        if key not in self._secrets:
            self._secrets[key] = secret_fields(
                self.schema or {}, training=(key == "train")
            )
        return redact(payload, self._secrets[key])

    def streaming(self) -> bool:
        post = (
            (self.schema or {}).get("paths", {}).get("/predictions", {}).get("post", {})
        )
        return bool(post.get("x-cog-streaming"))

    def has_training(self) -> bool:
        return "TrainingInput" in (self.schema or {}).get("components", {}).get(
            "schemas", {}
        )


# What each worker event does: those of one prediction (dropped when it is no longer in flight), and the others.
_PREDICTION_EVENTS = {
    wire.Log: Runtime._on_log, wire.Output: Runtime._on_output, wire.Metric: Runtime._on_metric,
    wire.Started: Runtime._on_started, wire.Done: Runtime.finish,
}
_RUNTIME_EVENTS = {
    wire.SetupLog: Runtime._on_setup_log, wire.Schema: Runtime._on_schema, wire.Ready: Runtime._on_ready,
    wire.SetupFailed: Runtime._on_setup_failed, wire.Health: Runtime._on_health,
}


def _apply_metric(metrics: dict[str, Any], name: str, value: Any, mode: str) -> None:
    """Mirror a metric the worker recorded into the in-flight snapshot (dots make nested objects)."""
    *parents, leaf = name.split(".")
    node = metrics
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    if mode == "increment":
        node[leaf] = node.get(leaf, 0) + value
    elif mode == "append":
        old = node.get(leaf)
        node[leaf] = (
            old if isinstance(old, list) else ([] if old is None else [old])
        ) + [value]
    elif value is None:
        node.pop(leaf, None)
    else:
        node[leaf] = value


class LiteRequest:
    """What `create` needs of a request (headers, body, receive), without Starlette's per-request machinery."""

    __slots__ = ("headers", "receive")

    def __init__(self, scope: dict, receive: Any) -> None:
        # Repeated headers keep the first value, which is all these handlers read.
        headers: dict[str, str] = {}
        for key, value in scope["headers"]:
            headers.setdefault(key.decode("latin-1"), value.decode("latin-1"))
        self.headers = headers
        self.receive = receive


# Deeper JSON than this is refused up front: validation, encoding and the worker pipe all recurse over inputs
MAX_JSON_DEPTH = 128


def _too_deep(value: object) -> bool:
    """Whether value nests lists and objects deeper than MAX_JSON_DEPTH (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


async def _read_body(request: Any, limit: int) -> bytes | None:
    """The request body, or None when it exceeds `limit`."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _wants_sse(request: LiteRequest) -> bool:
    accept = request.headers.get("accept", "")
    if "event-stream" not in accept:
        return False
    return any(
        part.split(";")[0].strip().lower() == "text/event-stream"
        for part in accept.split(",")
    )


def _invalid(loc: list[str], msg: str, kind: str) -> JSONResponse:
    """A 422 with one `detail` entry, in Cog's shape (loc, msg, type)."""
    return JSONResponse({"detail": [{"loc": loc, "msg": msg, "type": kind}]}, status_code=422)


def _is_http_url(value: object) -> bool:
    """A webhook must be an absolute http(s) URL with a host; anything else would only fail later, silently."""
    if not isinstance(value, str):
        return False
    parsed = urllib.parse.urlsplit(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def docs_page(schema: dict | None) -> str:
    """/docs: the model's routes with their summaries, and a link to the OpenAPI document."""
    title = html.escape(str(((schema or {}).get("info") or {}).get("title", "Cog")))
    rows = []
    for path, item in sorted(((schema or {}).get("paths") or {}).items()):
        for method, op in sorted(item.items()):
            summary = html.escape(str(op.get("summary", ""))) if isinstance(op, dict) else ""
            rows.append(f"<tr><td>{method.upper()}</td><td><code>{html.escape(path)}</code></td><td>{summary}</td></tr>")
    return ("<!doctype html><html><head><meta charset=\"utf-8\"><title>" + title + " - API</title></head><body>"
            f"<h1>{title}</h1><p>The OpenAPI document: <a href=\"/openapi.json\">/openapi.json</a></p>"
            "<table><tr><th>Method</th><th>Path</th><th>Summary</th></tr>" + "".join(rows) + "</table></body></html>")


def build_app(cfg: RuntimeConfig) -> tuple[Any, Runtime]:
    """The starlette app and its runtime state; the worker starts with the app's lifespan."""
    rt = Runtime(cfg)

    async def index(request: Request) -> Response:
        body = {
            "cog_version": _sdk_version(),
            "docs_url": "/docs",
            "healthcheck_url": "/health-check",
            "openapi_url": "/openapi.json",
            "predictions_cancel_url": "/predictions/{prediction_id}/cancel",
            "predictions_idempotent_url": "/predictions/{prediction_id}",
            "predictions_url": "/predictions",
            "shutdown_url": "/shutdown",
        }
        if rt.has_training():
            body.update(
                trainings_url="/trainings",
                trainings_idempotent_url="/trainings/{training_id}",
                trainings_cancel_url="/trainings/{training_id}/cancel",
            )
        return JSONResponse(body)

    async def health(request: Request) -> Response:
        status = rt.health_status()
        body: dict[str, Any] = {"status": status, "version": _versions()}
        if rt.setup:
            setup = dict(rt.setup)
            logs = "".join(rt.setup_logs)
            if logs:
                setup["logs"] = logs
            body["setup"] = setup
        if (
            status in ("READY", "BUSY")
            and not rt.k8s_ready_written
            and os.environ.get("KUBERNETES_SERVICE_HOST")
        ):
            rt.k8s_ready_written = True
            try:
                os.makedirs("/var/run/cog", exist_ok=True)
                open("/var/run/cog/ready", "a").close()  # noqa: ASYNC230 - creating an empty file
            except OSError as exc:
                log.warning("could not write /var/run/cog/ready: %s", exc)
        if status in ("READY", "BUSY"):
            error = await rt.user_health()
            if error:
                body["status"] = "UNHEALTHY"
                body["user_healthcheck_error"] = error
        return JSONResponse(body)

    async def openapi(request: Request) -> Response:
        if rt.schema is None:
            return JSONResponse(
                {"error": "OpenAPI schema not available"}, status_code=503
            )
        return JSONResponse(rt.served_schema())

    async def docs(request: Request) -> Response:
        # upstream's FastAPI served Swagger UI from a CDN; a page of the routes and the schema's link needs none
        return HTMLResponse(docs_page(rt.schema))

    async def shutdown(request: Request) -> Response:
        rt.request_stop()
        return JSONResponse({})

    async def create(request: LiteRequest, kind: str, path_id: str | None) -> Response:
        noun = "training" if kind == "train" else "prediction"
        if rt.shutting_down:
            return _failed("The server is shutting down.", 503)
        if rt.state != "READY":
            return _failed(NOT_READY_BECAUSE.get(rt.state, NOT_READY), 503)
        ctype = request.headers.get("content-type", "")
        body_bytes = await _read_body(request, cfg.max_body_bytes)
        if body_bytes is None:
            return PlainTextResponse(
                "Failed to buffer the request body: length limit exceeded",
                status_code=413,
            )
        if (
            body_bytes.strip()
            and ctype.split(";")[0].strip().lower() != "application/json"
        ):
            return PlainTextResponse(
                "Expected request with `Content-Type: application/json`",
                status_code=415,
            )
        try:
            body = json.loads(body_bytes) if body_bytes.strip() else {}
            if _too_deep(body):
                raise RecursionError
        except RecursionError:  # json.loads itself gives up somewhat past 900 levels
            return PlainTextResponse(
                f"Failed to parse the request body as JSON: nested deeper than {MAX_JSON_DEPTH} levels",
                status_code=400,
            )
        except ValueError as exc:
            return PlainTextResponse(f"Failed to parse the request body as JSON: {exc}", status_code=400)
        if not isinstance(body, dict):
            return _invalid(["body"], "request body must be a JSON object", "type_error.dict")
        sse = _wants_sse(request)
        if sse and kind == "train":
            return JSONResponse(
                {"error": "Training endpoints do not support streaming responses."},
                status_code=406,
            )
        if sse and not rt.streaming():
            return JSONResponse(
                {
                    "error": "This model does not support streaming responses. Add @cog.streaming to "
                    "predict() to enable SSE."
                },
                status_code=406,
            )
        pid = path_id or body.get("id") or new_id()
        if path_id and body.get("id") not in (None, path_id):
            return _invalid(["body", "id"], f"{noun} ID must match the ID supplied in the URL", "value_error")
        if not isinstance(pid, str):
            return _invalid(["body", "id"], "id must be a string", "type_error.str")
        running = rt.inflight.get(pid)
        if running is not None:
            if path_id is None:
                return _failed(
                    f"A {noun} with id {pid!r} is already running; PUT /{noun}s/{pid} re-attaches "
                    "to it",
                    409,
                )
            if sse:
                if running.sse is None:
                    return JSONResponse(
                        {"error": "Prediction not found"}, status_code=404
                    )
                if not running.sse.can_subscribe():
                    return JSONResponse(
                        {"error": "Too many stream subscribers"}, status_code=429
                    )
                return _sse_response(running.sse, replay=True)
            return JSONResponse(running.snapshot(with_input=True), status_code=202)
        events = body.get("webhook_events_filter")
        if events is None:
            events = list(EVENTS)
        if not isinstance(events, list) or any(e not in EVENTS for e in events):
            return PlainTextResponse(
                "Failed to deserialize the JSON body: webhook_events_filter: expected a list of "
                "`start`, `output`, `logs`, `completed`",
                status_code=422,
            )
        webhook = body.get("webhook")
        if webhook is not None and not _is_http_url(webhook):
            return PlainTextResponse(
                "Failed to deserialize the JSON body: webhook: expected an http(s) URL",
                status_code=422,
            )
        context = body.get("context") or {}
        if not isinstance(context, dict):
            return PlainTextResponse(
                "Failed to deserialize the JSON body: context: expected an object",
                status_code=422,
            )
        payload = body.get("input")
        payload = {} if payload is None else payload
        if rt.schema is not None:
            from cognix.runtime.validation import validate_input

            cleaned, errors = validate_input(
                rt.validation_schema(), payload, training=(kind == "train")
            )
            if errors:
                return JSONResponse({"detail": errors}, status_code=422)
        elif not isinstance(payload, dict):
            return _invalid(["body", "input"], "Input must be a JSON object", "type_error.dict")
        else:
            cleaned = payload
        if len(rt.inflight) >= cfg.concurrency:
            return _failed("At capacity - all prediction slots busy", 409)
        trace = {
            k: v
            for k, v in request.headers.items()
            if k in ("traceparent", "tracestate")
        }
        pred = Prediction(
            id=pid,
            kind=kind if kind in rt.kinds else "predict",
            input=rt.redact(kind, payload),
            events_filter=frozenset(events),
            trace_headers=trace,
        )
        if webhook:
            pred.webhook = rt.webhooks.sender(webhook, pred.events_filter, trace)
        if sse or rt.streaming():
            # Streaming models buffer events of every prediction, so a PUT with SSE can re-attach to any of them.
            pred.sse = EventStream(cfg.stream_history)
        rt.inflight[pid] = pred
        # The worker reports `start` only when someone listens (webhook, SSE): one pipe round trip less.
        wants_start = bool(webhook) or pred.sse is not None
        if not wants_start:
            pred.status = "processing"
        if rt.worker is None or not rt.worker.send(
            wire.Predict(pid, kind=pred.kind, input=cleaned, context=context, start=wants_start)
        ):
            rt.inflight.pop(pid, None)
            return _failed("The prediction worker is not available", 503)
        if sse:
            return _sse_response(pred.sse, replay=True, cancel_on_drop=(rt, pred))
        if request.headers.get("prefer") == "respond-async":
            return JSONResponse({"id": pid, "status": "starting"}, status_code=202)
        return await _wait_sync(request, rt, pred)

    async def create_predict(request: Request) -> Response:
        return await create(
            LiteRequest(request.scope, request.receive), "predict", None
        )

    async def put_predict(request: Request) -> Response:
        return await create(
            LiteRequest(request.scope, request.receive),
            "predict",
            request.path_params["pid"],
        )

    async def create_train(request: Request) -> Response:
        return await create(LiteRequest(request.scope, request.receive), "train", None)

    async def put_train(request: Request) -> Response:
        return await create(
            LiteRequest(request.scope, request.receive),
            "train",
            request.path_params["pid"],
        )

    async def cancel(request: Request) -> Response:
        pred = rt.inflight.get(request.path_params["pid"])
        if pred is None or rt.worker is None:
            return JSONResponse({}, status_code=404)
        rt.worker.send(wire.Cancel(pred.id))
        return JSONResponse({})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        await rt.start_worker()
        yield
        # normally drained already (request_stop); a no-op then
        await rt.drain(rt.time_left(cfg.shutdown_grace))
        if rt.worker is not None:
            await rt.worker.stop(timeout=rt.time_left(5.0) / 2)
        await rt.webhooks.drain(timeout=rt.time_left(10.0))
        await rt.webhooks.aclose()

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/health-check", health, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Route("/shutdown", shutdown, methods=["POST"]),
        Route("/predictions", create_predict, methods=["POST"]),
        Route("/predictions/{pid}", put_predict, methods=["PUT"]),
        Route("/predictions/{pid}/cancel", cancel, methods=["POST"]),
        Route("/trainings", create_train, methods=["POST"]),
        Route("/trainings/{pid}", put_train, methods=["PUT"]),
        Route("/trainings/{pid}/cancel", cancel, methods=["POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)

    async def fast_path(scope: dict, receive: Any, send: Any) -> None:
        """POST /predictions skips routing and middleware: it is the hot path the benchmark measures."""
        if (
            scope["type"] == "http"
            and scope["path"] == "/predictions"
            and scope["method"] == "POST"
        ):
            response = await create(LiteRequest(scope, receive), "predict", None)
            await response(scope, receive, send)
            return
        await app(scope, receive, send)

    return fast_path, rt


async def _wait_sync(request: LiteRequest, rt: Runtime, pred: Prediction) -> Response:
    """Wait for the prediction; a client that disconnects cancels it.

    The disconnect watcher (a task blocked on receive()) starts only once the prediction ran for 50 ms: fast
    predictions then cost no extra task and event-loop turns."""
    if not pred.done.done():
        loop = asyncio.get_running_loop()
        watcher: list[asyncio.Task] = []

        def watch() -> None:
            if not pred.done.done():
                watcher.append(
                    loop.create_task(_cancel_on_disconnect(request, rt, pred))
                )

        timer = loop.call_later(0.05, watch)
        try:
            await pred.done
        finally:
            timer.cancel()
            for task in watcher:
                task.cancel()
    return JSONResponse(pred.snapshot())


async def _cancel_on_disconnect(
    request: LiteRequest, rt: Runtime, pred: Prediction
) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            if not pred.done.done() and rt.worker is not None:
                rt.worker.send(wire.Cancel(pred.id))
            return


def _sse_response(
    stream: EventStream, *, replay: bool, cancel_on_drop: tuple | None = None
) -> Response:
    async def body():
        finished = False
        try:
            async for event in stream.subscribe(replay):
                yield event
            finished = True
        finally:
            if not finished and cancel_on_drop is not None:
                rt, pred = cancel_on_drop
                if (
                    pred.status not in TERMINAL
                    and not stream.subscribers
                    and rt.worker is not None
                ):
                    rt.worker.send(wire.Cancel(pred.id))

    return StreamingResponse(
        body(), media_type="text/event-stream", headers={"cache-control": "no-cache"}
    )


@functools.lru_cache(maxsize=1)
def _sdk_version() -> str:
    """The model's cog version: upstream's when the model locks it (its installed metadata), else the shim's (read
    from its file: the server does not import cog)."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("cog")
        except PackageNotFoundError:
            pass
    except ImportError:  # pragma: no cover - importlib.metadata is 3.8+
        pass
    path = os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "_shim", "cog", "_version.py"
    )
    try:
        with open(path, encoding="utf-8") as fh:
            match = re.search(r'__version__\s*=\s*"([^"]+)"', fh.read())
        return match.group(1) if match else RUNTIME_VERSION
    except OSError:
        return RUNTIME_VERSION


def _versions() -> dict[str, str]:
    return {
        "cognix": RUNTIME_VERSION,
        "python_sdk": _sdk_version(),
        "python": platform.python_version(),
    }
