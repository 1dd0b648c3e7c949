"""Cog's HTTP API over the runtime: each route parses, admits, dispatches and responds, in small steps; the state
they act on is server.Runtime's. POST /predictions skips Starlette's routing (the hot path)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import html
import os
import platform
import re
from typing import Any, Union

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from cognix.runtime.config import RuntimeConfig
from cognix.runtime.http_input import (
    Fields,
    JSONResponse,
    LiteRequest,
    failed,
    invalid,
    read_json_object,
    request_fields,
    request_id,
)
from cognix.runtime.predictions import Prediction, new_id
from cognix.runtime.server import RUNTIME_VERSION, Runtime, log
from cognix.runtime.sse import EventStream
from cognix.runtime.supervisor import State

NOT_READY = "Setup has not finished yet. Wait until it has finished, or GET /health-check for status."
# what a 503 says in the states no wait ends (Cog says NOT_READY in all of them)
NOT_READY_BECAUSE = {
    State.SETUP_FAILED: "Setup failed, so this model cannot run predictions: see the setup logs (GET /health-check) "
                        "and fix the model, then start the container again.",
    State.DEFUNCT: "The prediction worker stopped and was given up on after repeated crashes: restart the container.",
}
NO_STREAMING = "This model does not support streaming responses. Add @cog.streaming to predict() to enable SSE."


# --- creating a prediction: parse -> admit -> dispatch -> respond ---------------------------------------------
async def create(rt: Runtime, request: LiteRequest, kind: str, path_id: str | None) -> Response:
    noun = "training" if kind == "train" else "prediction"
    refusal = _unavailable(rt)
    if refusal is not None:
        return refusal
    body = await read_json_object(request, rt.cfg.max_body_bytes)
    if isinstance(body, Response):
        return body
    sse = request.wants_sse()
    if sse and kind == "train":
        return JSONResponse({"error": "Training endpoints do not support streaming responses."}, status_code=406)
    if sse and not rt.streaming():
        return JSONResponse({"error": NO_STREAMING}, status_code=406)
    pid = request_id(body, path_id, noun, new_id)
    if isinstance(pid, Response):
        return pid
    running = rt.slots.get(pid)
    if running is not None:
        return _running_already(running, noun, put=path_id is not None, sse=sse)
    fields = request_fields(body)
    if isinstance(fields, Response):
        return fields
    payload = {} if body.get("input") is None else body["input"]
    cleaned = _validated(rt, kind, payload)
    if isinstance(cleaned, Response):
        return cleaned
    pred = _new_prediction(rt, request, pid, kind, payload, fields, sse)
    if not rt.slots.admit(pred):
        return failed("At capacity - all prediction slots busy", 409)
    if not rt.dispatch(pred, cleaned, fields.context):
        return failed("The prediction worker is not available", 503)
    if sse:
        return _sse_response(pred.sse, replay=True, cancel_on_drop=(rt, pred))
    if request.headers.get("prefer") == "respond-async":
        return JSONResponse({"id": pid, "status": "starting"}, status_code=202)
    return await _wait_sync(request, rt, pred)


def _unavailable(rt: Runtime) -> Response | None:
    if rt.shutting_down:
        return failed("The server is shutting down.", 503)
    if rt.sup.state is not State.READY:
        return failed(NOT_READY_BECAUSE.get(rt.sup.state, NOT_READY), 503)
    return None


def _running_already(running: Prediction, noun: str, *, put: bool, sse: bool) -> Response:
    """A request for an id in flight: POST is a conflict; PUT re-attaches (its snapshot, or its SSE stream)."""
    if not put:
        return failed(f"A {noun} with id {running.id!r} is already running; PUT /{noun}s/{running.id} re-attaches "
                      "to it", 409)
    if not sse:
        return JSONResponse(running.snapshot(with_input=True), status_code=202)
    if running.sse is None:
        return JSONResponse({"error": "Prediction not found"}, status_code=404)
    if not running.sse.can_subscribe():
        return JSONResponse({"error": "Too many stream subscribers"}, status_code=429)
    return _sse_response(running.sse, replay=True)


def _validated(rt: Runtime, kind: str, payload: Any) -> Union[dict, Response]:
    if rt.schema is None:
        if not isinstance(payload, dict):
            return invalid(["body", "input"], "Input must be a JSON object", "type_error.dict")
        return payload
    from cognix.runtime.validation import validate_input

    cleaned, errors = validate_input(rt.validation_schema(), payload, training=(kind == "train"))
    if errors:
        return JSONResponse({"detail": errors}, status_code=422)
    return cleaned


def _new_prediction(rt: Runtime, request: LiteRequest, pid: str, kind: str, payload: Any, fields: Fields,
                    sse: bool) -> Prediction:
    trace = request.trace_headers()
    pred = Prediction(id=pid, kind=kind if kind in rt.sup.kinds else "predict", input=rt.redact(kind, payload),
                      events_filter=fields.events, trace_headers=trace)
    if fields.webhook:
        pred.webhook = rt.webhooks.sender(fields.webhook, pred.events_filter, trace)
    if sse or rt.streaming():
        # Streaming models buffer events of every prediction, so a PUT with SSE can re-attach to any of them.
        pred.sse = EventStream(rt.cfg.stream_history)
    return pred


async def _wait_sync(request: LiteRequest, rt: Runtime, pred: Prediction) -> Response:
    """Wait for the prediction; a client that disconnects cancels it.

    The disconnect watcher (a task blocked on receive()) starts only once the prediction ran for 50 ms: fast
    predictions then cost no extra task and event-loop turns."""
    if not pred.done.done():
        loop = asyncio.get_running_loop()
        watcher: list[asyncio.Task] = []

        def watch() -> None:
            if not pred.done.done():
                watcher.append(loop.create_task(_cancel_on_disconnect(request, rt, pred)))

        timer = loop.call_later(0.05, watch)
        try:
            await pred.done
        finally:
            timer.cancel()
            for task in watcher:
                task.cancel()
    return JSONResponse(pred.snapshot())


async def _cancel_on_disconnect(request: LiteRequest, rt: Runtime, pred: Prediction) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            rt.cancel(pred)
            return


def _sse_response(stream: EventStream, *, replay: bool, cancel_on_drop: tuple | None = None) -> Response:
    async def body():
        finished = False
        try:
            async for event in stream.subscribe(replay):
                yield event
            finished = True
        finally:
            if not finished and cancel_on_drop is not None:
                rt, pred = cancel_on_drop
                if not stream.subscribers:
                    rt.cancel(pred)

    return StreamingResponse(body(), media_type="text/event-stream", headers={"cache-control": "no-cache"})


# --- the other routes ----------------------------------------------------------------------------------------
def index_body(rt: Runtime) -> dict[str, str]:
    body = {
        "cog_version": sdk_version(),
        "docs_url": "/docs",
        "healthcheck_url": "/health-check",
        "openapi_url": "/openapi.json",
        "predictions_cancel_url": "/predictions/{prediction_id}/cancel",
        "predictions_idempotent_url": "/predictions/{prediction_id}",
        "predictions_url": "/predictions",
        "shutdown_url": "/shutdown",
    }
    if rt.has_training():
        body.update(trainings_url="/trainings", trainings_idempotent_url="/trainings/{training_id}",
                    trainings_cancel_url="/trainings/{training_id}/cancel")
    return body


async def health_body(rt: Runtime) -> dict[str, Any]:
    status = rt.health_status()
    body: dict[str, Any] = {"status": status, "version": versions()}
    if rt.sup.setup:
        setup = dict(rt.sup.setup)
        logs = "".join(rt.sup.setup_logs)
        if logs:
            setup["logs"] = logs
        body["setup"] = setup
    if status in ("READY", "BUSY"):
        _write_k8s_ready(rt)
        error = await rt.sup.user_health()
        if error:
            body["status"] = "UNHEALTHY"
            body["user_healthcheck_error"] = error
    return body


def _write_k8s_ready(rt: Runtime) -> None:
    """On Kubernetes, Cog's readiness file once READY."""
    if rt.k8s_ready_written or not os.environ.get("KUBERNETES_SERVICE_HOST"):
        return
    rt.k8s_ready_written = True
    try:
        os.makedirs("/var/run/cog", exist_ok=True)
        open("/var/run/cog/ready", "a").close()  # noqa: ASYNC230 - creating an empty file
    except OSError as exc:
        log.warning("could not write /var/run/cog/ready: %s", exc)


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
    """The ASGI app and its runtime state; the worker starts with the app's lifespan."""
    rt = Runtime(cfg)

    async def index(request: Request) -> Response:
        return JSONResponse(index_body(rt))

    async def health(request: Request) -> Response:
        return JSONResponse(await health_body(rt))

    async def openapi(request: Request) -> Response:
        if rt.schema is None:
            return JSONResponse({"error": "OpenAPI schema not available"}, status_code=503)
        return JSONResponse(rt.served_schema())

    async def docs(request: Request) -> Response:
        # upstream's FastAPI served Swagger UI from a CDN; a page of the routes and the schema's link needs none
        return HTMLResponse(docs_page(rt.schema))

    async def shutdown(request: Request) -> Response:
        rt.request_stop()
        return JSONResponse({})

    def creating(kind: str, put: bool) -> Any:
        async def handler(request: Request) -> Response:
            path_id = request.path_params["pid"] if put else None
            return await create(rt, LiteRequest(request.scope, request.receive), kind, path_id)

        return handler

    async def cancel(request: Request) -> Response:
        pred = rt.slots.get(request.path_params["pid"])
        if pred is None or rt.sup.worker is None:
            return JSONResponse({}, status_code=404)
        rt.cancel(pred)
        return JSONResponse({})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        await rt.sup.start()
        yield
        await rt.close()

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/health-check", health, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Route("/shutdown", shutdown, methods=["POST"]),
        Route("/predictions", creating("predict", put=False), methods=["POST"]),
        Route("/predictions/{pid}", creating("predict", put=True), methods=["PUT"]),
        Route("/predictions/{pid}/cancel", cancel, methods=["POST"]),
        Route("/trainings", creating("train", put=False), methods=["POST"]),
        Route("/trainings/{pid}", creating("train", put=True), methods=["PUT"]),
        Route("/trainings/{pid}/cancel", cancel, methods=["POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)

    async def fast_path(scope: dict, receive: Any, send: Any) -> None:
        """POST /predictions skips routing and middleware: it is the hot path the benchmark measures."""
        if scope["type"] == "http" and scope["path"] == "/predictions" and scope["method"] == "POST":
            response = await create(rt, LiteRequest(scope, receive), "predict", None)
            await response(scope, receive, send)
            return
        await app(scope, receive, send)

    return fast_path, rt


@functools.lru_cache(maxsize=1)
def sdk_version() -> str:
    """The model's cog version: upstream's when the model locks it (its installed metadata), else the shim's (read
    from its file: the server does not import cog)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cog")
    except PackageNotFoundError:
        pass
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_shim", "cog", "_version.py")
    try:
        with open(path, encoding="utf-8") as fh:
            match = re.search(r'__version__\s*=\s*"([^"]+)"', fh.read())
        return match.group(1) if match else RUNTIME_VERSION
    except OSError:
        return RUNTIME_VERSION


def versions() -> dict[str, str]:
    return {"cognix": RUNTIME_VERSION, "python_sdk": sdk_version(), "python": platform.python_version()}
