"""Reading a prediction request: the body (size, content type, JSON, depth), the request fields (id, webhook,
events filter, context) and the headers that matter. Each step returns its value or the response that refuses the
request, in Cog's shapes; nothing here knows the runtime's state."""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Union

from starlette.responses import PlainTextResponse, Response

EVENTS = frozenset({"start", "output", "logs", "completed"})
# Deeper JSON than this is refused up front: validation, encoding and the worker pipe all recurse over inputs
MAX_JSON_DEPTH = 128


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":"), sort_keys=True, default=str).encode()


def failed(message: str, code: int) -> JSONResponse:
    return JSONResponse({"error": message, "status": "failed"}, status_code=code)


def invalid(loc: list[str], msg: str, kind: str) -> JSONResponse:
    """A 422 with one `detail` entry, in Cog's shape (loc, msg, type)."""
    return JSONResponse({"detail": [{"loc": loc, "msg": msg, "type": kind}]}, status_code=422)


def _undeserializable(what: str) -> PlainTextResponse:
    return PlainTextResponse(f"Failed to deserialize the JSON body: {what}", status_code=422)


class LiteRequest:
    """What a prediction request needs (headers, receive), without Starlette's per-request machinery."""

    __slots__ = ("headers", "receive")

    def __init__(self, scope: dict, receive: Any) -> None:
        # Repeated headers keep the first value, which is all these handlers read.
        headers: dict[str, str] = {}
        for key, value in scope["headers"]:
            headers.setdefault(key.decode("latin-1"), value.decode("latin-1"))
        self.headers = headers
        self.receive = receive

    def wants_sse(self) -> bool:
        accept = self.headers.get("accept", "")
        if "event-stream" not in accept:
            return False
        return any(part.split(";")[0].strip().lower() == "text/event-stream" for part in accept.split(","))

    def trace_headers(self) -> dict[str, str]:
        return {k: v for k, v in self.headers.items() if k in ("traceparent", "tracestate")}


def too_deep(value: object) -> bool:
    """Whether value nests lists and objects deeper than MAX_JSON_DEPTH (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


async def read_body(request: LiteRequest, limit: int) -> bytes | None:
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


async def read_json_object(request: LiteRequest, limit: int) -> Union[dict, Response]:
    """The body as a JSON object ({} when empty), or the 413/415/400/422 that refuses it."""
    raw = await read_body(request, limit)
    if raw is None:
        return PlainTextResponse("Failed to buffer the request body: length limit exceeded", status_code=413)
    empty = not raw.strip()
    ctype = request.headers.get("content-type", "")
    if not empty and ctype.split(";")[0].strip().lower() != "application/json":
        return PlainTextResponse("Expected request with `Content-Type: application/json`", status_code=415)
    try:
        body = {} if empty else json.loads(raw)
        if too_deep(body):
            raise RecursionError
    except RecursionError:  # json.loads itself gives up somewhat past 900 levels
        return PlainTextResponse(
            f"Failed to parse the request body as JSON: nested deeper than {MAX_JSON_DEPTH} levels", status_code=400
        )
    except ValueError as exc:
        return PlainTextResponse(f"Failed to parse the request body as JSON: {exc}", status_code=400)
    if not isinstance(body, dict):
        return invalid(["body"], "request body must be a JSON object", "type_error.dict")
    return body


def request_id(body: dict, path_id: str | None, noun: str, make_id: Callable[[], str]) -> Union[str, Response]:
    """The prediction's id: the URL's (PUT), the body's, or a new one."""
    if path_id and body.get("id") not in (None, path_id):
        return invalid(["body", "id"], f"{noun} ID must match the ID supplied in the URL", "value_error")
    pid = path_id or body.get("id") or make_id()
    if not isinstance(pid, str):
        return invalid(["body", "id"], "id must be a string", "type_error.str")
    return pid


def is_http_url(value: object) -> bool:
    """A webhook must be an absolute http(s) URL with a host; anything else would only fail later, silently."""
    if not isinstance(value, str):
        return False
    parsed = urllib.parse.urlsplit(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


@dataclass(frozen=True)
class Fields:
    """The request's fields besides id and input, checked."""

    events: frozenset[str]
    webhook: str | None
    context: dict


def request_fields(body: dict) -> Union[Fields, Response]:
    events = body.get("webhook_events_filter")
    if events is None:
        events = list(EVENTS)
    if not isinstance(events, list) or any(e not in EVENTS for e in events):
        return _undeserializable("webhook_events_filter: expected a list of `start`, `output`, `logs`, `completed`")
    webhook = body.get("webhook")
    if webhook is not None and not is_http_url(webhook):
        return _undeserializable("webhook: expected an http(s) URL")
    context = body.get("context") or {}
    if not isinstance(context, dict):
        return _undeserializable("context: expected an object")
    return Fields(frozenset(events), webhook or None, context)
