"""Helpers for cognix.weights tests: GCS-like local handlers, a cutting proxy, small locks."""

from __future__ import annotations

import hashlib
import json
import socket
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx

from cognix.lock.model import Lock, Target, WeightFile, WeightSet


def forbidden(handler: BaseHTTPRequestHandler, _rec: Any) -> None:
    """Answer like GCS does for a bucket the caller may not read or write."""
    body = json.dumps({"error": {"code": 403, "message": "anonymous caller does not have storage.objects.get access",
                                 "errors": [{"reason": "forbidden"}]}}).encode()
    handler.send_response(403)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


def make_proxy(upstream: str, *, drop_after: int | None = None, drops: int = 0):
    """A handler forwarding GETs to upstream; the first `drops` responses are cut after drop_after bytes."""
    state = {"drops": drops}

    def respond(handler: BaseHTTPRequestHandler, rec: Any) -> None:
        headers = {"range": handler.headers["range"]} if handler.headers.get("range") else {}
        r = httpx.get(upstream + handler.path, headers=headers, timeout=30)
        handler.send_response(r.status_code)
        for name in ("content-type", "content-range"):
            if name in r.headers:
                handler.send_header(name, r.headers[name])
        handler.send_header("content-length", str(len(r.content)))
        handler.end_headers()
        body = r.content
        with rec.lock:
            cut = drop_after is not None and state["drops"] > 0 and len(body) > drop_after
            if cut:
                state["drops"] -= 1
        if cut:
            handler.wfile.write(body[:drop_after])
            handler.wfile.flush()
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        handler.wfile.write(body)

    return respond


def make_lock(*sets: WeightSet) -> Lock:
    return Lock(input_hash="0" * 64, config={}, weights=list(sets),
                target=Target(python_version="3.11", abi="cp311", platform_tags=["linux_x86_64"], glibc="2.36"))


def weight_file(path: str, data: bytes, source: str, **kw: object) -> WeightFile:
    return WeightFile(path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest(), source=source, **kw)
