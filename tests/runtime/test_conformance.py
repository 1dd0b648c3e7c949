"""Conformance: a real `python -m cognix.runtime` process driven over 127.0.0.1 (cog-standard.md section 1)."""

from __future__ import annotations

import base64
import json
import signal
import threading
import time
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from conftest import ServerProcess, Sink


JSON = {"content-type": "application/json"}


def post(
    server: ServerProcess, body: dict, path: str = "/predictions", **headers: str
) -> httpx.Response:
    return server.client.post(
        path, content=json.dumps(body), headers={**JSON, **headers}
    )


def parse_sse(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith(":")]
        if not lines:
            continue
        name = next(line[7:] for line in lines if line.startswith("event: "))
        data = json.loads(next(line[6:] for line in lines if line.startswith("data: ")))
        events.append((name, data))
    return events


# --- discovery, health, schema ---------------------------------------------------------------------------------
def test_index_health_openapi(basic_server: ServerProcess) -> None:
    index = basic_server.client.get("/").json()
    assert (
        index["predictions_url"] == "/predictions"
        and index["shutdown_url"] == "/shutdown"
    )
    assert "trainings_url" not in index
    health = basic_server.client.get("/health-check").json()
    assert health["status"] == "READY"
    assert health["setup"]["status"] == "succeeded"
    assert "setting up basic" in health["setup"]["logs"]
    assert health["setup"]["started_at"] <= health["setup"]["completed_at"]
    assert health["version"]["python"]
    schema = basic_server.client.get("/openapi.json").json()
    assert "text" in schema["components"]["schemas"]["Input"]["properties"]


def test_unknown_path_and_method(basic_server: ServerProcess) -> None:
    assert basic_server.client.get("/nope").status_code == 404
    resp = basic_server.client.get("/predictions")
    assert resp.status_code == 405 and "POST" in resp.headers["allow"]


# --- sync predictions --------------------------------------------------------------------------------------------
def test_sync_prediction(basic_server: ServerProcess) -> None:
    resp = post(basic_server, {"input": {"text": "ab", "n": 2}})
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "succeeded" and body["output"] == "abab"
    assert body["id"].startswith("pred_")
    assert "running text=ab n=2\n" in body["logs"] and "to stderr\n" in body["logs"]
    assert body["metrics"]["token_count"] == 2 and body["metrics"]["predict_time"] > 0
    assert list(body) == sorted(body)


def test_empty_body_means_defaults(basic_server: ServerProcess) -> None:
    resp = basic_server.client.post("/predictions")
    assert resp.status_code == 200 and resp.json()["output"] == "hi"


def test_failure_keeps_server_ready(basic_server: ServerProcess) -> None:
    body = post(basic_server, {"input": {"fail": True}}).json()
    assert body["status"] == "failed" and "ValueError: boom requested" in body["error"]
    assert basic_server.client.get("/health-check").json()["status"] == "READY"
    assert post(basic_server, {"input": {}}).json()["status"] == "succeeded"


def test_explicit_null_for_optional(basic_server: ServerProcess) -> None:
    body = post(basic_server, {"input": {"note": None, "text": "x"}}).json()
    assert body["status"] == "succeeded" and body["output"] == "x"


def test_secret_is_used_but_never_echoed(basic_server: ServerProcess) -> None:
    body = post(
        basic_server, {"id": "sec1", "input": {"token": "hunter2hunter2"}}
    ).json()
    assert body["output"] == "secret-len:14"
    assert "hunter2" not in json.dumps(body)


# --- request errors ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("payload", "field", "kind"),
    [
        ({"n": "5"}, "n", "value_error"),
        ({"n": 50}, "n", "value_error"),
        ({"n": 0}, "n", "value_error"),
        ({"color": "blue"}, "color", "value_error"),
        ({"bogus": 1}, "bogus", None),
        ({"text": 3}, "text", "value_error"),
    ],
)
def test_422_names_the_bad_field(
    basic_server: ServerProcess, payload: dict, field: str, kind: str | None
) -> None:
    resp = post(basic_server, {"id": "bad", "input": payload})
    assert resp.status_code == 422
    detail = resp.json()["detail"]
    assert [d["loc"] for d in detail] == [["body", "input", field]]
    if kind:
        assert detail[0]["type"] == kind
    assert isinstance(detail[0]["msg"], str) and detail[0]["msg"]


def test_422_lists_every_bad_field(basic_server: ServerProcess) -> None:
    detail = post(basic_server, {"input": {"n": 99, "color": "blue"}}).json()["detail"]
    assert sorted(d["loc"][-1] for d in detail) == ["color", "n"]


def test_422_non_object_input_and_filter(basic_server: ServerProcess) -> None:
    assert post(basic_server, {"input": [1, 2]}).status_code == 422
    resp = post(basic_server, {"input": {}, "webhook_events_filter": ["bogus"]})
    assert resp.status_code == 422 and "webhook_events_filter" in resp.text
    for bad_webhook in ("not a url", "ftp://host/hook", 42):
        resp = post(basic_server, {"input": {}, "webhook": bad_webhook})
        assert resp.status_code == 422 and "webhook" in resp.text


def test_415_400_413(start_server) -> None:
    server = start_server("basic", env={"COGNIX_MAX_BODY_BYTES": "1000"})
    resp = server.client.post(
        "/predictions", content=b'{"input":{}}', headers={"content-type": "text/plain"}
    )
    assert resp.status_code == 415 and "application/json" in resp.text
    resp = server.client.post("/predictions", content=b"{nope", headers=JSON)
    assert resp.status_code == 400
    resp = post(server, {"input": {"text": "x" * 2000}})
    assert resp.status_code == 413 and "length limit exceeded" in resp.text


@pytest.mark.parametrize("depth", [129, 990, 100_000])
def test_json_nested_too_deep_is_400_without_a_traceback(basic_server: ServerProcess, depth: int) -> None:
    body = '{"input": {"text": ' + "[" * depth + "]" * depth + "}}"
    for method, path in (("POST", "/predictions"), ("PUT", "/predictions/deep1")):
        resp = basic_server.client.request(method, path, content=body, headers=JSON)
        assert resp.status_code == 400, resp.text
        assert "nested deeper than 128 levels" in resp.text
    resp = basic_server.client.post("/predictions", content=body, headers={**JSON, "prefer": "respond-async"})
    assert resp.status_code == 400
    assert basic_server.client.get("/health-check").json()["status"] == "READY"


def test_put_id_mismatch(basic_server: ServerProcess) -> None:
    resp = basic_server.client.put(
        "/predictions/a1", content=json.dumps({"id": "b2"}), headers=JSON
    )
    assert resp.status_code == 422
    assert (
        resp.json()["detail"][0]["msg"]
        == "prediction ID must match the ID supplied in the URL"
    )


def test_sse_refused_without_streaming(basic_server: ServerProcess) -> None:
    resp = post(basic_server, {"input": {}}, accept="text/event-stream")
    assert resp.status_code == 406


# --- async, webhooks, idempotent PUT, cancel ---------------------------------------------------------------------
def test_async_webhooks_in_order(basic_server: ServerProcess, sink: Sink) -> None:
    resp = post(
        basic_server,
        {"id": "w1", "input": {"text": "zz"}, "webhook": sink.url + "/hook"},
        prefer="respond-async",
        traceparent="00-abc-def-01",
    )
    assert resp.status_code == 202 and resp.json() == {"id": "w1", "status": "starting"}
    hooks = sink.wait_for(lambda w: any(h["status"] == "succeeded" for h in w))
    assert hooks[0]["status"] == "processing"
    assert hooks[-1]["status"] == "succeeded" and hooks[-1]["output"] == "zz"
    assert "predict_time" in hooks[-1]["metrics"]
    assert all(h["id"] == "w1" for h in hooks)
    assert sink.headers[0].get("traceparent") == "00-abc-def-01"


def test_webhook_filter_and_auth(start_server, sink: Sink) -> None:
    server = start_server("basic", env={"WEBHOOK_AUTH_TOKEN": "tok"})
    post(
        server,
        {"input": {}, "webhook": sink.url, "webhook_events_filter": ["completed"]},
        prefer="respond-async",
    )
    sink.wait_for(lambda w: len(w) >= 1)
    time.sleep(0.3)
    assert [h["status"] for h in sink.webhooks] == ["succeeded"]
    assert sink.headers[0]["Authorization"] == "Bearer tok"


@pytest.mark.parametrize("model, request_input", [("asyncgen", {"n": 4, "delay": 0.05}), ("fuzz", None)])
def test_webhooks_arrive_in_event_order(start_server, sink: Sink, model: str, request_input) -> None:
    """The first webhook (start) answered slowly: the later ones (output, logs, completed) still arrive after it,
    in the order of their events, also for a model with a Secret input."""
    server = start_server(model, env={"COG_THROTTLE_RESPONSE_INTERVAL": "0"})
    sink.slow_first = 0.5
    if request_input is None:  # the fuzz model: a Secret input
        request_input = {"text": "p", "token": "s3cret"}
    post(server, {"input": request_input, "webhook": sink.url}, prefer="respond-async")
    hooks = sink.wait_for(lambda w: any(h["status"] in ("succeeded", "failed") for h in w))
    assert hooks[0]["status"] == "processing" and hooks[0].get("output") in (None, []), hooks[0]
    assert hooks[-1]["status"] in ("succeeded", "failed")
    lengths = [len(h.get("output") or []) if isinstance(h.get("output") or [], list) else 1 for h in hooks]
    assert lengths == sorted(lengths), [(h["status"], h.get("output")) for h in hooks]
    logs = [len(h.get("logs") or "") for h in hooks]
    assert logs == sorted(logs), logs


def test_webhook_urls_are_redacted_in_logs(start_server, sink: Sink) -> None:
    # a short grace: stop() then waits about 2 s, not 10, for the failing webhook's retries
    server = start_server("basic", env={"COG_LOG_LEVEL": "debug", "COGNIX_SHUTDOWN_GRACE": "1"})
    hook = sink.url.replace("http://", "http://user:hunter2@") + "/hook?sig=SIGNATURE123"
    post(server, {"id": "r1", "input": {}, "webhook": hook}, prefer="respond-async")
    sink.wait_for(lambda w: any(h["status"] == "succeeded" for h in w))
    # one that fails: the warning names the URL, redacted
    post(server, {"id": "r2", "input": {}, "webhook": "http://u:pw@127.0.0.1:9/x?token=TOKEN456"},
         prefer="respond-async")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.client.get("/health-check").json()["status"] != "READY":
        time.sleep(0.1)
    time.sleep(2)  # the failing webhook's retries
    server.stop()
    logs = server.proc.stdout.read().decode()
    for secret in ("hunter2", "SIGNATURE123", "TOKEN456", ":pw@"):
        assert secret not in logs, logs[-3000:]


def test_webhook_logs_throttled_and_terminal_retried(start_server, sink: Sink) -> None:
    server = start_server("asyncgen", env={"COG_THROTTLE_RESPONSE_INTERVAL": "10"})
    sink.fail_first = 0
    post(
        server,
        {
            "input": {"n": 5},
            "webhook": sink.url,
            "webhook_events_filter": ["start", "logs", "completed"],
        },
        prefer="respond-async",
    )
    hooks = sink.wait_for(lambda w: any(h["status"] == "succeeded" for h in w))
    # start went out, every logs event fell inside the 10 s interval, completed carries all logs.
    assert [h["status"] for h in hooks] == ["processing", "succeeded"]
    assert hooks[-1]["logs"].count("step") == 5
    sink.webhooks.clear()
    sink.fail_first = 2  # the terminal webhook is retried on 503
    post(
        server,
        {
            "input": {"n": 1},
            "webhook": sink.url,
            "webhook_events_filter": ["completed"],
        },
        prefer="respond-async",
    )
    hooks = sink.wait_for(lambda w: len(w) == 1)
    assert hooks[0]["status"] == "succeeded"


def test_idempotent_put_and_duplicate_post(basic_server: ServerProcess) -> None:
    resp = basic_server.client.put(
        "/predictions/p1",
        content=json.dumps({"input": {"sleep": 1.0, "token": "s3cr3t"}}),
        headers={**JSON, "prefer": "respond-async"},
    )
    assert resp.status_code == 202
    time.sleep(0.2)
    again = basic_server.client.put(
        "/predictions/p1", content=json.dumps({"input": {"sleep": 1.0}}), headers=JSON
    )
    assert again.status_code == 202
    snap = again.json()
    assert snap["id"] == "p1" and snap["status"] == "processing"
    assert snap["input"]["token"] == "**********" and snap["input"]["sleep"] == 1.0
    dup = post(basic_server, {"id": "p1", "input": {}})
    assert dup.status_code == 409 and "already running" in dup.json()["error"]
    _wait_idle(basic_server)


def _wait_idle(server: ServerProcess, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while server.client.get("/health-check").json()["status"] != "READY":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_cancel_sync_prediction(basic_server: ServerProcess) -> None:
    result: dict = {}

    def run() -> None:
        result["resp"] = post(basic_server, {"id": "c1", "input": {"sleep": 20}})

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.5)
    assert basic_server.client.post("/predictions/c1/cancel").json() == {}
    thread.join(10)
    body = result["resp"].json()
    assert body["status"] == "canceled" and body["metrics"]["predict_time"] < 10
    assert basic_server.client.post("/predictions/c1/cancel").status_code == 404
    assert post(basic_server, {"input": {}}).json()["status"] == "succeeded"


def test_cancel_async_prediction(start_server, sink: Sink) -> None:
    server = start_server("asyncgen")
    post(
        server,
        {"id": "ac", "input": {"n": 100, "delay": 0.2}, "webhook": sink.url},
        prefer="respond-async",
    )
    time.sleep(0.5)
    assert server.client.post("/predictions/ac/cancel").status_code == 200
    hooks = sink.wait_for(lambda w: any(h["status"] == "canceled" for h in w))
    assert hooks[-1]["status"] == "canceled" and len(hooks[-1]["output"]) < 100


# --- SSE ---------------------------------------------------------------------------------------------------------
def test_sse_events(start_server) -> None:
    server = start_server("asyncgen")
    resp = post(server, {"id": "s1", "input": {"n": 3}}, accept="text/event-stream")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith(
        "text/event-stream"
    )
    events = parse_sse(resp.text)
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "completed"
    assert [d["chunk"] for n, d in events if n == "output"] == [
        "chunk0 ",
        "chunk1 ",
        "chunk2 ",
    ]
    assert [d["index"] for n, d in events if n == "output"] == [0, 1, 2]
    assert {"data": "step 0\n", "source": "stdout"} in [
        d for n, d in events if n == "log"
    ]
    assert {"name": "tokens", "value": 1, "mode": "increment"} in [
        d for n, d in events if n == "metric"
    ]
    final = events[-1][1]
    assert final["status"] == "succeeded" and final["output"] == [
        "chunk0 ",
        "chunk1 ",
        "chunk2 ",
    ]
    assert final["metrics"]["tokens"] == 3


def test_sse_attach_to_async_prediction(start_server) -> None:
    server = start_server("asyncgen")
    post(server, {"id": "a2", "input": {"n": 3, "delay": 0.2}}, prefer="respond-async")
    time.sleep(0.3)
    resp = server.client.put(
        "/predictions/a2",
        content=json.dumps({"input": {}}),
        headers={**JSON, "accept": "text/event-stream"},
    )
    events = parse_sse(resp.text)
    assert (
        events[0] == ("start", {"id": "a2", "status": "processing"})
        and events[-1][0] == "completed"
    )
    assert events[-1][1]["output"] == ["chunk0 ", "chunk1 ", "chunk2 "]
    unknown = server.client.post("/predictions/nope/cancel")
    assert unknown.status_code == 404 and unknown.json() == {}


def test_sse_reattach_replays(start_server) -> None:
    server = start_server("asyncgen")
    chunks: list[str] = []

    def first() -> None:
        with server.client.stream(
            "POST",
            "/predictions",
            content=json.dumps({"id": "r1", "input": {"n": 4, "delay": 0.2}}),
            headers={**JSON, "accept": "text/event-stream"},
        ) as resp:
            chunks.extend(resp.iter_text())

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(0.5)
    resp = server.client.put(
        "/predictions/r1",
        content=json.dumps({"input": {"n": 4, "delay": 0.2}}),
        headers={**JSON, "accept": "text/event-stream"},
    )
    thread.join(10)
    replayed = parse_sse(resp.text)
    assert replayed[0][0] == "start" and replayed[-1][0] == "completed"
    assert len([1 for n, _ in replayed if n == "output"]) == 4
    assert parse_sse("".join(chunks))[-1][0] == "completed"


# --- concurrency -------------------------------------------------------------------------------------------------
def test_concurrency_no_409_within_slots_then_409(start_server) -> None:
    server = start_server("asyncgen", env={"COG_MAX_CONCURRENCY": "4"})
    codes: list[int] = []

    def client() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            for _ in range(10):
                codes.append(
                    c.post(
                        "/predictions",
                        content=json.dumps({"input": {"n": 2}}),
                        headers=JSON,
                    ).status_code
                )

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert codes == [200] * 40
    for i in range(4):
        post(
            server,
            {"id": f"busy{i}", "input": {"n": 50, "delay": 0.1}},
            prefer="respond-async",
        )
    assert server.client.get("/health-check").json()["status"] == "BUSY"
    resp = post(server, {"input": {}})
    assert (
        resp.status_code == 409
        and resp.json()["error"] == "At capacity - all prediction slots busy"
    )
    for i in range(4):
        server.client.post(f"/predictions/busy{i}/cancel")


# --- files -------------------------------------------------------------------------------------------------------
def test_file_inputs_data_and_http_urls(start_server, sink: Sink) -> None:
    server = start_server("basic", env={"COG_ALLOW_PRIVATE_URLS": "1"})
    data_url = "data:text/plain;base64," + base64.b64encode(b"inline text").decode()
    assert (
        post(server, {"input": {"file": data_url}}).json()["output"]
        == "file:inline text"
    )
    body = post(server, {"input": {"file": sink.url + "/hello.txt"}}).json()
    assert body["output"] == "file:hello from url", body


def test_private_urls_refused_by_default(
    basic_server: ServerProcess, sink: Sink
) -> None:
    body = post(basic_server, {"input": {"file": sink.url + "/hello.txt?sig=SECRET"}}).json()
    assert body["status"] == "failed" and body["error"].startswith("input file: refusing to download http://127.0.0.1")
    assert "SECRET" not in body["error"]


@pytest.mark.parametrize("url, says", [
    ("data:text/plain;base64,%%%", "input file: invalid base64 in data URL"),
    ("http://127.0.0.1:99999/x", "input file: "),
    ("http://127.0.0.1:abc/x", "input file: invalid URL 'http://127.0.0.1:abc/x'"),
    ("http://[::1/x", "input file: invalid URL"),
])
def test_a_failed_file_input_is_one_line(start_server, url: str, says: str) -> None:
    server = start_server("basic", env={"COG_ALLOW_PRIVATE_URLS": "1"})
    body = post(server, {"input": {"file": url}}).json()
    assert body["status"] == "failed" and body["error"].startswith(says), body
    assert "Traceback" not in body["logs"] and "worker.py" not in body["logs"], body["logs"]
    assert body["logs"].strip().count("\n") == 0


def test_file_outputs_data_urls(start_server) -> None:
    server = start_server("files")
    out = post(server, {"input": {"count": 2}}).json()["output"]
    assert [o.split(",")[0] for o in out] == ["data:text/plain;base64"] * 2
    assert base64.b64decode(out[1].split(",", 1)[1]).startswith(b"content 1")


def test_upload_url_keeps_order(start_server, sink: Sink) -> None:
    server = start_server("files", args=["--upload-url", sink.url + "/upload"])
    body = post(server, {"input": {"count": 3}}).json()
    assert body["output"] == [f"{sink.url}/stored/thing{i}.txt" for i in range(3)], body
    assert sink.uploads["thing0.txt"].startswith(b"content 0")


@pytest.mark.parametrize("upload", [False, True])
def test_output_files_removed_once_sent(start_server, sink: Sink, tmp_path, upload: bool) -> None:
    """A long-running container's temp directory does not fill up: 8 predictions leave nothing behind."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    args = ["--upload-url", sink.url + "/upload"] if upload else []
    server = start_server("files", env={"TMPDIR": str(temp)}, args=args)
    for _ in range(8):
        body = post(server, {"input": {"count": 2}}).json()
        assert body["status"] == "succeeded" and len(body["output"]) == 2, body
    deadline = time.monotonic() + 5  # the worker removes them just after it sends the result, not before
    while list(temp.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(p.name for p in temp.iterdir()) == []


# --- training ----------------------------------------------------------------------------------------------------
def test_training(start_server) -> None:
    server = start_server("trainer", env={"COG_TRAIN_TYPE_STUB": "predict.py:train"})
    assert server.client.get("/").json()["trainings_url"] == "/trainings"
    body = post(server, {"input": {"steps": 3}}, path="/trainings").json()
    assert body["status"] == "succeeded" and body["logs"] == "training 3\n"
    assert (
        body["output"]
        == "data:application/octet-stream;base64," + base64.b64encode(b"www").decode()
    )
    assert post(server, {"input": {"x": 4}}).json()["output"] == 8
    assert (
        post(
            server, {"input": {}}, path="/trainings", accept="text/event-stream"
        ).status_code
        == 406
    )


def test_train_mode(start_server) -> None:
    server = start_server(
        "trainer",
        env={"COG_TRAIN_TYPE_STUB": "predict.py:train"},
        args=["--x-mode", "train"],
    )
    body = post(server, {"input": {"steps": 2}}, path="/trainings").json()
    assert body["status"] == "succeeded" and body["logs"] == "training 2\n"
    # POST /predictions runs train() too, its input checked against the train schema (upstream does the same)
    body = post(server, {"input": {"steps": 4}}).json()
    assert body["status"] == "succeeded" and body["logs"] == "training 4\n", body
    assert post(server, {"input": {"x": 4}}).status_code == 422  # predict's input is not train's
    assert (
        "steps"
        in server.client.get("/openapi.json").json()["components"]["schemas"][
            "TrainingInput"
        ]["properties"]
    )


def test_context_reaches_the_model(basic_server: ServerProcess) -> None:
    body = post(
        basic_server, {"input": {"text": "ctx"}, "context": {"a": "1", "b": "2"}}
    ).json()
    assert body["output"] == "a=1,b=2"


def test_inflight_snapshot_has_live_metrics(basic_server: ServerProcess) -> None:
    post(
        basic_server,
        {"id": "m1", "input": {"n": 3, "sleep": 0.6}},
        prefer="respond-async",
    )
    time.sleep(0.3)
    snap = basic_server.client.put(
        "/predictions/m1", content=json.dumps({"input": {}}), headers=JSON
    ).json()
    assert snap["metrics"] == {"token_count": 3} and snap["status"] == "processing"
    _wait_idle(basic_server)


def test_fd_level_output_is_captured(basic_server: ServerProcess) -> None:
    body = post(basic_server, {"input": {"text": "fd"}}).json()
    assert "raw fd line\n" in body["logs"]


# --- failures and lifecycle --------------------------------------------------------------------------------------
def test_setup_failure(start_server) -> None:
    server = start_server("setupfail", wait=("SETUP_FAILED",))
    health = server.client.get("/health-check").json()
    assert health["setup"]["status"] == "failed"
    assert (
        "about to fail" in health["setup"]["logs"]
        and "setup exploded" in health["setup"]["logs"]
    )
    resp = post(server, {"input": {}})
    assert resp.status_code == 503 and resp.json()["status"] == "failed"
    assert "Setup failed" in resp.json()["error"] and "setup logs" in resp.json()["error"]


@pytest.mark.slow
def test_worker_crash_and_recovery(start_server) -> None:
    server = start_server("basic")
    body = post(server, {"input": {"crash": True}}).json()
    assert body["status"] == "failed" and "worker exited unexpectedly" in body["error"]
    health = server.wait(("READY",), timeout=30)
    assert "setting up basic" in health["setup"]["logs"]
    assert post(server, {"input": {"text": "ok"}}).json()["output"] == "ok"


@pytest.mark.slow
def test_sigterm_lets_running_prediction_finish(start_server, sink: Sink) -> None:
    server = start_server("basic")
    post(
        server,
        {
            "input": {"sleep": 1.0},
            "webhook": sink.url,
            "webhook_events_filter": ["completed"],
        },
        prefer="respond-async",
    )
    time.sleep(0.3)
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(20) == 0
    assert [h["status"] for h in sink.webhooks] == ["succeeded"]


def test_shutdown_endpoint(start_server) -> None:
    server = start_server("basic")
    assert server.client.post("/shutdown").json() == {}
    assert server.proc.wait(20) == 0


def test_unhealthy_user_healthcheck(start_server) -> None:
    server = start_server("unhealthy", wait=("UNHEALTHY",))
    health = server.client.get("/health-check").json()
    assert (
        health["user_healthcheck_error"]
        == "Healthcheck failed: user-defined healthcheck returned False"
    )


def test_health_checks_ask_the_worker_only_for_a_user_healthcheck(start_server) -> None:
    import os
    import subprocess

    server = start_server("basic")
    children = subprocess.run(["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True).stdout.split()
    assert children, "no worker process"
    for pid in children:
        os.kill(int(pid), signal.SIGSTOP)  # a worker that can't answer: the server must not need it
    try:
        started = time.monotonic()
        health = server.client.get("/health-check").json()
        assert health["status"] == "READY" and "user_healthcheck_error" not in health
        assert time.monotonic() - started < 1.0
    finally:
        for pid in children:
            os.kill(int(pid), signal.SIGCONT)


def test_docs_is_served(basic_server: ServerProcess) -> None:
    assert basic_server.client.get("/").json()["docs_url"] == "/docs"
    page = basic_server.client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<a href="/openapi.json">' in page.text and "<code>/predictions</code>" in page.text


def test_setup_timeout(start_server) -> None:
    server = start_server(
        "slowsetup", env={"COG_SETUP_TIMEOUT": "0.5"}, wait=("SETUP_FAILED",)
    )
    assert (
        "COG_SETUP_TIMEOUT"
        in server.client.get("/health-check").json()["setup"]["logs"]
    )


@pytest.mark.slow
def test_defunct_when_restart_fails(start_server, tmp_path) -> None:
    server = start_server("crashonce", env={"CRASH_MARKER": str(tmp_path / "marker")})
    body = post(server, {"input": {}}).json()
    assert body["status"] == "failed" and "exit code 9" in body["error"]
    health = server.wait(("DEFUNCT",), timeout=30)
    assert "cannot start again" in health["setup"]["logs"]
    resp = post(server, {"input": {}})
    assert resp.status_code == 503 and "restart the container" in resp.json()["error"]


def test_worker_death_noticed_while_its_child_holds_the_pipes(start_server) -> None:
    server = start_server("forkcrash")
    started = time.monotonic()
    body = post(server, {"input": {}}).json()
    assert body["status"] == "failed" and "exit code 7" in body["error"]
    assert time.monotonic() - started < 10  # not stuck until the forked child exits (20 s)
    server.wait(("READY",), timeout=30)  # restarted


def test_webhook_queue_bound(start_server, sink: Sink) -> None:
    server = start_server("asyncgen", env={"COGNIX_WEBHOOK_QUEUE_MAX": "0"})
    post(server, {"input": {"n": 3}, "webhook": sink.url}, prefer="respond-async")
    hooks = sink.wait_for(lambda w: any(h["status"] == "succeeded" for h in w))
    time.sleep(0.3)
    assert [h["status"] for h in sink.webhooks] == [
        "succeeded"
    ]  # non-terminal ones dropped, terminal kept
    assert hooks[0]["output"] == ["chunk0 ", "chunk1 ", "chunk2 "]


@pytest.mark.slow
def test_sigterm_waits_for_sync_request(start_server) -> None:
    server = start_server("basic")
    result: dict = {}

    def run() -> None:
        result["body"] = post(server, {"input": {"sleep": 1.0, "text": "done"}}).json()

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.3)
    server.proc.send_signal(signal.SIGTERM)
    thread.join(20)
    assert result["body"]["output"] == "done"
    assert server.proc.wait(20) == 0


@pytest.mark.parametrize(
    "text,how", [("slow", "sync"), ("stubborn", "sync"), ("slow", "webhook"), ("stubborn", "webhook")]
)
def test_sigterm_cancels_what_outlives_the_grace(start_server, sink: Sink, text: str, how: str) -> None:
    """Past COGNIX_SHUTDOWN_GRACE running predictions are canceled: the sync client or the webhook gets the
    canceled prediction (not a 500), even from a predictor that ignores the cancel; the process is gone within
    grace + 1 s of the signal."""
    grace = 1.0
    server = start_server("basic", env={"COGNIX_SHUTDOWN_GRACE": str(grace)})
    result: dict = {}
    request = {"input": {"sleep": 8.0, "text": text}}

    def run() -> None:
        resp = post(server, request)
        result["code"], result["body"] = resp.status_code, resp.json()

    thread = threading.Thread(target=run)
    if how == "sync":
        thread.start()
    else:
        request.update(webhook=sink.url, webhook_events_filter=["completed"])
        assert post(server, request, prefer="respond-async").status_code == 202
    time.sleep(0.5)
    signaled = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(20) == 0
    took = time.monotonic() - signaled
    assert grace <= took <= grace + 1.0, took
    if how == "sync":
        thread.join(5)
        assert result["code"] == 200 and result["body"]["status"] == "canceled", result
    else:
        assert [h["status"] for h in sink.webhooks] == ["canceled"]
    log = server.proc.stdout.read().decode()
    assert "Traceback" not in log and "CancelledError" not in log, log


def test_no_new_predictions_while_draining(start_server) -> None:
    server = start_server("basic", env={"COGNIX_SHUTDOWN_GRACE": "5"})
    post(server, {"input": {"sleep": 1.0}}, prefer="respond-async")
    time.sleep(0.3)
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    resp = post(server, {"input": {}})
    assert resp.status_code == 503 and "shutting down" in resp.json()["error"]
    assert server.proc.wait(20) == 0


def test_await_explicit_shutdown_ignores_sigterm(start_server) -> None:
    server = start_server("basic", args=["--await-explicit-shutdown", "true"])
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert server.proc.poll() is None
    assert server.client.get("/health-check").json()["status"] == "READY"
    server.client.post("/shutdown")
    assert server.proc.wait(20) == 0


def test_download_size_limit(start_server, sink: Sink) -> None:
    server = start_server("basic", env={"COG_ALLOW_PRIVATE_URLS": "1", "COGNIX_MAX_DOWNLOAD_BYTES": "5"})
    body = post(server, {"input": {"file": sink.url + "/hello.txt"}}).json()
    assert body["status"] == "failed" and body["error"], body
