"""What GET /openapi.json serves: the bundled document plus every route and status this server answers.

The bundled document (`/src/.cog/openapi_schema.json`, the `run.cog.openapi_schema` label) stays byte for byte
what Cog's generator writes, because platforms read it. Cog's generator lists only the create and cancel operations
with 200 and 422; the served copy adds the routes it leaves out (PUT re-attach, /shutdown, /openapi.json, /docs) and
each status the handlers in server.py return, so a client or a schema-driven tester sees the whole surface.
Additions only: nothing the bundled document says is changed.
"""

from __future__ import annotations

import copy
from typing import Any

_REF = "#/components/schemas/"


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _text(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}


_ERROR = {"type": "object", "properties": {"error": {"type": "string"}, "status": {"type": "string"}}}
_EMPTY = {"type": "object"}
_NOT_READY = _json("Setup has not finished, failed, or the server is shutting down (the error says which)", _ERROR)
_BUSY = _json("Every slot is busy, or a prediction with this id is already running", _ERROR)
_NOT_ACCEPTABLE = _json("A streaming (text/event-stream) response was asked of a model or route without one", _ERROR)


def _create_responses(response: str, *, streaming: bool, reattach: bool) -> dict[str, Any]:
    ok = _json("The finished prediction (sync), or its event stream (Accept: text/event-stream)",
               {"$ref": _REF + response})
    if streaming:
        ok["content"]["text/event-stream"] = {"schema": {"type": "string"}}
    responses: dict[str, Any] = {
        "200": ok,
        "202": _json("Started (Prefer: respond-async), or the running prediction of this id (PUT)",
                     {"$ref": _REF + response}),
        "400": _text("The body is not JSON, or is nested too deeply"),
        "406": _NOT_ACCEPTABLE,
        "409": _BUSY,
        "413": _text("The body is over the size limit"),
        "415": _text("The body is not sent as application/json"),
        "503": _NOT_READY,
    }
    if reattach:
        responses["404"] = _json("No event stream to re-attach to for this id", _ERROR)
        responses["429"] = _json("Too many event-stream subscribers for this prediction", _ERROR)
    return responses


def _add_responses(operation: dict[str, Any], responses: dict[str, Any]) -> None:
    table = operation.setdefault("responses", {})
    for code, response in responses.items():
        table.setdefault(code, response)
    if "422" in table:
        # a request the body parser refuses before validation (webhook, context, events filter) is text
        table["422"] = copy.deepcopy(table["422"])
        table["422"].setdefault("content", {}).setdefault("text/plain", {"schema": {"type": "string"}})


def _kind_routes(paths: dict[str, Any], base: str, param: str, response: str, *, streaming: bool) -> None:
    create = paths.get(base, {}).get("post")
    if create is None:
        return
    _add_responses(create, _create_responses(response, streaming=streaming, reattach=False))
    put = copy.deepcopy(create)
    put.pop("x-cog-streaming", None)
    put["summary"] = put.get("summary", "") + " (idempotent)"
    put["operationId"] = put.get("operationId", base.strip("/")) + "_idempotent_put"
    put["parameters"] = [{"required": True, "schema": {"type": "string"}, "name": param, "in": "path"}]
    put["responses"] = {}
    _add_responses(put, {**create["responses"], **_create_responses(response, streaming=streaming, reattach=True)})
    paths.setdefault(f"{base}/{{{param}}}", {}).setdefault("put", put)
    cancel = paths.get(f"{base}/{{{param}}}/cancel", {}).get("post")
    if cancel is not None:
        _add_responses(cancel, {"404": _json("No running prediction has this id", _EMPTY)})


def served_document(bundled: dict[str, Any]) -> dict[str, Any]:
    """The bundled document with this server's other routes and statuses added (a copy; `bundled` is untouched)."""
    doc = copy.deepcopy(bundled)
    paths: dict[str, Any] = doc.setdefault("paths", {})
    create = paths.get("/predictions", {}).get("post", {})
    _kind_routes(paths, "/predictions", "prediction_id", "PredictionResponse",
                 streaming=bool(create.get("x-cog-streaming")))
    _kind_routes(paths, "/trainings", "training_id", "TrainingResponse", streaming=False)
    paths.setdefault("/openapi.json", {"get": {
        "summary": "OpenAPI document", "operationId": "openapi_json_get",
        "responses": {"200": _json("This document", _EMPTY)},
    }})
    paths.setdefault("/docs", {"get": {
        "summary": "Docs", "operationId": "docs_get",
        "responses": {"200": {"description": "A page of the routes",
                              "content": {"text/html": {"schema": {"type": "string"}}}}},
    }})
    paths.setdefault("/shutdown", {"post": {
        "summary": "Start Shutdown", "operationId": "start_shutdown_shutdown_post",
        "responses": {"200": _json("Shutting down: running predictions get the grace", _EMPTY)},
    }})
    return doc
