"""The predictor subprocess: loads the runner, runs setup, then serves predictions for the HTTP server.

The messages are cognix/runtime/protocol.py's: the parent writes Predict/Shutdown on fd `--ctrl-fd`,
Cancel/HealthCheck on `--side-fd`, and the worker writes events on fd `--event-fd` (stdout/stderr stay free for user
code; they are captured into prediction logs).

One asyncio loop runs in the main thread: async predictions are tasks on it (cancel = task.cancel()); a sync
prediction runs on it directly (the loop only admits one at a time then) and is cancelled by SIGUSR1, whose handler
raises CancelationException in the main thread, which also interrupts time.sleep and other blocking calls.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import fcntl
import gc
import importlib
import inspect
import io
import itertools
import json
import os
import select
import signal
import sys
import termios
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from cognix.runtime import protocol as wire

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "cognix_prediction", default=None
)


EARLY_CANCEL_S = 2.0  # how long a cancel for a prediction not yet started stays valid


def _forget_older(stamps: dict[str, float], now: float) -> None:
    """Drop entries older than EARLY_CANCEL_S from a dict kept in time order (oldest first)."""
    for key in list(itertools.takewhile(lambda k: now - stamps[k] >= EARLY_CANCEL_S, stamps)):
        del stamps[key]

class Channel:
    """Thread-safe writer of events to the parent."""

    def __init__(self, fd: int) -> None:
        self._out = os.fdopen(fd, "wb", buffering=1 << 16)
        self._lock = threading.Lock()

    def emit(self, event: wire.Event) -> None:
        data = wire.encode(event)
        with self._lock:
            self._out.write(data)
            self._out.flush()


class LogRouter:
    """Routes captured output lines to the prediction they belong to (or to setup logs, or to real stderr)."""

    def __init__(self, channel: Channel, real_err: int) -> None:
        self.channel = channel
        self.real_err = real_err
        self.setup_phase = True
        self.active: set[str] = set()
        self.captures: list[Any] = []

    def line(self, text: str, source: str, pid: str | None) -> None:
        if pid is None and len(self.active) == 1:
            # Output from threads the predictor started (no contextvar) or from C code: the sole running one.
            pid = next(iter(self.active))
        if pid is not None:
            self.channel.emit(wire.Log(pid, text, source))
        elif self.setup_phase:
            self.channel.emit(wire.SetupLog(text))
        else:
            os.write(self.real_err, text.encode(errors="replace"))


class LineWriter(io.TextIOBase):
    """sys.stdout/sys.stderr replacement: line-buffered, per prediction (contextvar-aware)."""

    def __init__(self, router: LogRouter, source: str) -> None:
        self.router = router
        self.source = source
        self._partial: dict[str | None, str] = {}
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return 1 if self.source == "stdout" else 2

    def write(self, s: str) -> int:
        if not s:
            return 0
        pid = _current.get()
        with self._lock:
            buf = self._partial.pop(pid, "") + s
            *lines, rest = buf.split("\n")
            if rest:
                self._partial[pid] = rest
        for line in lines:
            self.router.line(line + "\n", self.source, pid)
        return len(s)

    def flush(self, pid: str | None = ...) -> None:  # type: ignore[assignment,override]
        with self._lock:
            keys = list(self._partial) if pid is ... else [pid]
            pending = [(k, self._partial.pop(k)) for k in keys if k in self._partial]
        for key, text in pending:
            self.router.line(text, self.source, key)


class FdCapture:
    """Points fd 1 or 2 at a pipe read by a thread, so output of C code and subprocesses is captured too."""

    def __init__(self, fd: int, router: LogRouter, source: str) -> None:
        self.router = router
        self.source = source
        self.read_end, write_end = os.pipe()
        os.dup2(write_end, fd)
        os.close(write_end)
        self.busy = False
        threading.Thread(
            target=self._pump, name=f"cognix-{source}", daemon=True
        ).start()

    def _pump(self) -> None:
        pending = b""
        while True:
            # Wait for data without consuming it, and mark busy before reading: from a write until its lines
            # are routed, either the pipe holds unread bytes or `busy` is set (what drain() relies on).
            select.select([self.read_end], [], [])
            self.busy = True
            chunk = os.read(self.read_end, 65536)
            if not chunk:
                self.busy = False
                return
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self.router.line(line.decode(errors="replace") + "\n", self.source, None)
            self.busy = False

    def drain(self, timeout: float = 0.5) -> None:
        """Wait until what was written so far reached the router (a no-op when the pipe is empty)."""
        deadline = time.monotonic() + timeout
        while (self.busy or self._unread()) and time.monotonic() < deadline:
            time.sleep(0.001)

    def _unread(self) -> int:
        buf = bytearray(4)
        fcntl.ioctl(self.read_end, termios.FIONREAD, buf)
        return int.from_bytes(buf, sys.byteorder)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _cancelation_exception() -> type[BaseException]:
    """What a canceled sync prediction raises: the model's cog's CancelationException (`cog` in 0.17+ and the shim,
    `cog.server.exceptions` up to 0.16, when the model locks upstream cog), else asyncio's CancelledError."""
    for module in ("cog", "cog.server.exceptions"):
        try:
            found = getattr(importlib.import_module(module), "CancelationException", None)
        except ImportError:
            continue
        if isinstance(found, type) and issubclass(found, BaseException):
            return found
    return asyncio.CancelledError


class Worker:
    """Owns the runner(s) and runs predictions on the main-thread event loop."""

    def __init__(
        self, args: argparse.Namespace, channel: Channel, router: LogRouter
    ) -> None:
        self.args = args
        self.channel = channel
        self.router = router
        self.runners: dict[str, Any] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.tasks: dict[str, asyncio.Task] = {}
        self.sync_running: str | None = None
        self.cancel_requested: set[str] = set()
        self.early_cancels: dict[str, float] = {}  # id -> when a cancel came for a prediction not started yet
        self.finished: dict[str, float] = {}  # id -> when it finished, to drop cancels that arrive too late
        self.lock = threading.Lock()
        self.cancel_exc: type[BaseException] = asyncio.CancelledError
        self._recorder: Any = None

    # --- setup -------------------------------------------------------------------------------------------------
    def setup(self) -> bool:
        from cognix.runtime.shim import install_shim

        install_shim()
        self.cancel_exc = _cancelation_exception()
        signal.signal(signal.SIGUSR1, self._on_cancel_signal)
        cwd = Path.cwd()
        if str(cwd) not in sys.path:
            sys.path.insert(0, str(cwd))
        try:
            from cognix.runtime.predictor import load_runner

            refs = {"predict": self.args.predict_ref, "train": self.args.train_ref}
            if self.args.mode == "train":
                refs = {"predict": self.args.train_ref, "train": self.args.train_ref}
            loaded: dict[str, Any] = {}
            for kind, ref in refs.items():
                if not ref:
                    continue
                mode = (
                    "train"
                    if kind == "train" or self.args.mode == "train"
                    else "predict"
                )
                if (ref, mode) not in loaded:
                    loaded[(ref, mode)] = load_runner(ref, mode=mode, cwd=cwd)
                self.runners[kind] = loaded[(ref, mode)]
            self.channel.emit(wire.Schema(self._schema(cwd)))
            weights_file = Path(".cog/weights.json")
            if weights_file.exists():
                from cognix.runtime.weights_pull import pull_weights  # type: ignore[import-not-found]

                pull_weights(weights_file, lambda msg: print(msg, file=sys.stderr))
            weights = os.environ.get("COG_WEIGHTS") or None
            for runner in dict.fromkeys(loaded.values()):
                result = runner.setup(weights)
                if inspect.iscoroutine(result):
                    self.loop_run(result)
        except BaseException as exc:  # noqa: BLE001 - any setup failure is reported, never a crash
            sys.stderr.write(traceback.format_exc())
            sys.stdout.flush()
            sys.stderr.flush()
            for capture in self.router.captures:
                capture.drain()
            self.channel.emit(wire.SetupFailed(f"Setup failed: {_error_text(exc)}"))
            return False
        sys.stdout.flush()
        sys.stderr.flush()
        for capture in self.router.captures:
            capture.drain()
        self.router.setup_phase = False
        # the model's own healthcheck(), not the runner's wrapper (which every runner has): without one, the server
        # answers health checks itself instead of asking the worker each time
        has_hc = any(r.info.has_healthcheck for r in self.runners.values())
        gc.collect()
        gc.freeze()  # the model's weights and modules are long-lived: keep them out of every collection
        self.channel.emit(wire.Ready(healthcheck=has_hc, kinds=sorted(self.runners)))
        return True

    def loop_run(self, coro: Any) -> Any:
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
        return self.loop.run_until_complete(coro)

    def _schema(self, cwd: Path) -> dict | None:
        bundled = cwd / ".cog" / "openapi_schema.json"
        if bundled.exists():
            return json.loads(bundled.read_text())
        from cognix.runtime.schema import openapi_schema

        if self.args.mode == "train":
            return openapi_schema(None, self.runners.get("train"))
        return openapi_schema(self.runners.get("predict"), self.runners.get("train"))

    # --- cancellation ------------------------------------------------------------------------------------------
    def _on_cancel_signal(self, signum: int, frame: Any) -> None:
        pid = self.sync_running
        if pid is not None and pid in self.cancel_requested:
            raise self.cancel_exc()

    def cancel(self, pid: str) -> None:
        with self.lock:
            if pid not in self.router.active:
                # Not running. Just finished: a late cancel must not hit a later prediction reusing the id.
                # Else its predict message may still be in the pipe: honour the cancel if it starts soon.
                now = time.monotonic()
                _forget_older(self.finished, now)
                _forget_older(self.early_cancels, now)
                if pid not in self.finished:
                    self.early_cancels.pop(pid, None)  # re-insert at the end: the dict stays in time order
                    self.early_cancels[pid] = now
                return
            self.cancel_requested.add(pid)
            if self.sync_running == pid:
                signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR1)  # type: ignore[arg-type]
                return
        task = self.tasks.get(pid)
        if task is not None and self.loop is not None:
            self.loop.call_soon_threadsafe(task.cancel)

    # --- predictions -------------------------------------------------------------------------------------------
    async def predict(self, req: wire.Predict) -> None:
        pid = req.id
        _current.set(pid)
        with self.lock:
            self.router.active.add(pid)
            self.finished.pop(pid, None)
            requested = self.early_cancels.pop(pid, None)
            if requested is not None and time.monotonic() - requested < EARLY_CANCEL_S:
                self.cancel_requested.add(pid)
        runner = self.runners.get(req.kind) or self.runners["predict"]
        if req.start:
            self.channel.emit(wire.Started(pid))
        started = time.perf_counter()
        started_wall = time.time() - 1.0  # ctime has the file system's granularity
        produced: list[Path] = []
        done: dict[str, Any] = {"status": "succeeded"}  # the Done message's fields, as they become known
        cleanup = None
        scope_token = None
        from cognix.runtime.encoding import data_url, encode_output, remove_sent_outputs
        from cognix.runtime.files import InputError, InputLimits, prepare_inputs

        try:
            limits = InputLimits(
                max_bytes=self.args.max_download_bytes,
                timeout_s=self.args.download_timeout,
                allow_private=self.args.allow_private_urls,
            )
            send_file = self._uploader(pid) if self.args.upload_url else data_url

            def upload(path: Path) -> str:
                produced.append(path)  # removed once the done message carries it (remove_sent_outputs)
                return send_file(path)

            scope_token = self._enter_scope(pid, req.context or {})
            if pid in self.cancel_requested:
                raise self.cancel_exc()
            kwargs, cleanup = prepare_inputs(
                runner.info, req.input or {}, limits=limits
            )
            if pid in self.cancel_requested:  # canceled while inputs were downloading
                raise self.cancel_exc()
            result = await self._call(pid, runner, kwargs)
            if inspect.isasyncgen(result):
                done["streamed"] = True
                async for chunk in result:
                    self.channel.emit(wire.Output(pid, encode_output(chunk, upload=upload)))
            elif inspect.isgenerator(result):
                done["streamed"] = True
                while True:
                    if (
                        pid in self.cancel_requested
                    ):  # canceled between chunks: no signal was sent then
                        raise self.cancel_exc()
                    self.sync_running = pid
                    try:
                        chunk = next(result)
                    except StopIteration:
                        break
                    finally:
                        self.sync_running = None
                    self.channel.emit(wire.Output(pid, encode_output(chunk, upload=upload)))
            else:
                done.update(has_output=True, output=encode_output(result, upload=upload))
        except (asyncio.CancelledError, self.cancel_exc):
            done["status"] = "canceled"
        except InputError as exc:  # the client's input, not the model: one line, no traceback through the runtime
            done["status"] = "failed"
            done["error"] = str(exc)
            sys.stderr.write(f"{exc}\n")
        except BaseException as exc:  # noqa: BLE001 - a failing prediction never takes the worker down
            done["status"] = "failed"
            done["error"] = _error_text(exc)
            sys.stderr.write(traceback.format_exc())
        finally:
            self.sync_running = None
            if (
                len(self.router.active) == 1
            ):  # fd-level output can only be attributed to a sole prediction
                for capture in self.router.captures:
                    capture.drain()
            for stream in (sys.stdout, sys.stderr):
                if isinstance(stream, LineWriter):
                    stream.flush(pid)
            done["metrics"] = self._exit_scope(scope_token)
            done["metrics"]["predict_time"] = round(time.perf_counter() - started, 9)
            if cleanup is not None:
                try:
                    cleanup()
                except Exception as exc:  # noqa: BLE001 - temp-file cleanup failure must not fail the prediction
                    os.write(
                        self.router.real_err,
                        f"cognix: input cleanup failed: {exc}\n".encode(),
                    )
            with self.lock:
                self.router.active.discard(pid)
                self.cancel_requested.discard(pid)
                now = time.monotonic()
                self.finished.pop(pid, None)  # re-insert at the end: the dict stays in time order
                self.finished[pid] = now
                _forget_older(self.finished, now)
            self.tasks.pop(pid, None)
            self.channel.emit(wire.Done(pid, **done))
            remove_sent_outputs(produced, since=started_wall)

    @staticmethod
    def run_inline(coro: Any) -> None:
        """Drive a sync runner's prediction to completion now: it never suspends (nothing in it awaits a
        pending future), so no task and no extra event-loop turn is needed."""
        try:
            coro.send(None)
        except StopIteration:
            return
        coro.close()
        raise RuntimeError(
            "a sync prediction awaited something; run it as a task instead"
        )

    async def _call(self, pid: str, runner: Any, kwargs: dict) -> Any:
        self.sync_running = pid
        try:
            result = runner.call(kwargs)
        finally:
            self.sync_running = None
        if inspect.iscoroutine(result):
            result = await result
        return result

    def _uploader(self, pid: str):
        """PUT <upload-url><basename> for each output file; the output is the Location (query removed)."""
        import mimetypes

        import httpx

        base = (
            self.args.upload_url
            if self.args.upload_url.endswith("/")
            else self.args.upload_url + "/"
        )

        def upload(path: Path) -> str:
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            try:
                resp = httpx.put(
                    base + path.name,
                    content=path.read_bytes(),
                    headers={"Content-Type": mime, "X-Prediction-Id": pid},
                    timeout=25.0,
                    follow_redirects=True,
                )
                resp.raise_for_status()
            except httpx.HTTPError as exc:
                raise RuntimeError(f"Failed to upload output: {exc}") from exc
            url = resp.headers.get("location") or str(resp.url)
            return url.split("?", 1)[0]

        return upload

    def _enter_scope(self, pid: str, context: dict) -> Any:
        """Make a fresh cog scope current (metrics recorded also stream to SSE as `metric` events)."""
        try:
            from cog._scope import MetricsRecorder, Scope  # type: ignore[import-not-found]
            from cog._scope import _current as scope_var
        except ImportError:  # upstream cog installed by the model: no scope hooks
            return None
        if self._recorder is None:
            emit = self.channel.emit

            class Recorder(MetricsRecorder):
                def __init__(self, pid: str) -> None:
                    super().__init__()
                    self.pid = pid

                def record(
                    self, key: str, value: Any, mode: str | None = "replace"
                ) -> None:
                    super().record(key, value, mode)
                    sent = "increment" if mode in ("incr", "increment") else (mode or "replace")
                    emit(wire.Metric(self.pid, key, value, sent))

            self._recorder = Recorder
        scope = Scope(context=context, metrics=self._recorder(pid))
        return scope, scope_var.set(scope), scope_var

    def _exit_scope(self, token: Any) -> dict:
        if token is None:
            return {}
        scope, var_token, scope_var = token
        try:
            scope_var.reset(var_token)
        except (
            ValueError
        ):  # reset from another context (generator finished elsewhere): harmless
            pass
        return scope.metrics.to_dict()

    # --- command loop ------------------------------------------------------------------------------------------
    def healthcheck(self, seq: int) -> None:
        def run() -> None:
            try:
                ok = True
                for runner in self.runners.values():
                    hc = getattr(runner, "healthcheck", None)
                    if callable(hc):
                        result = hc()
                        if inspect.iscoroutine(result):
                            result = asyncio.run(result)
                        ok = ok and result is not False
                event = wire.Health(seq, ok, None if ok else
                                    "Healthcheck failed: user-defined healthcheck returned False")
            except Exception as exc:  # noqa: BLE001
                event = wire.Health(seq, False, f"Healthcheck failed: {_error_text(exc)}")
            self.channel.emit(event)

        threading.Thread(target=run, daemon=True).start()

    def serve(self, ctrl_fd: int, side_fd: int) -> None:
        """Predictions arrive on ctrl_fd, read by the loop itself (no thread hop on the hot path); cancel and
        healthcheck arrive on side_fd, read by a thread because a sync prediction blocks the loop."""
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
        loop = self.loop
        stop = loop.create_future()
        pending = bytearray()
        os.set_blocking(ctrl_fd, False)

        def finish() -> None:
            loop.remove_reader(ctrl_fd)
            if not stop.done():
                stop.set_result(None)

        def readable() -> None:
            try:
                data = os.read(ctrl_fd, 1 << 20)
            except BlockingIOError:
                return
            if not data:
                finish()
                return
            pending.extend(data)
            for line in wire.lines(pending):
                msg = wire.decode(line)
                if isinstance(msg, wire.Predict):
                    runner = self.runners.get(msg.kind) or self.runners["predict"]
                    if runner.info.is_async:
                        self.tasks[msg.id] = loop.create_task(self.predict(msg))
                    else:
                        self.run_inline(self.predict(msg))
                elif isinstance(msg, wire.Shutdown):
                    finish()
                    return

        def side_reader() -> None:
            with os.fdopen(side_fd, "rb") as side:
                for raw in side:
                    msg = wire.decode(raw)
                    if isinstance(msg, wire.Cancel):
                        self.cancel(msg.id)
                    elif isinstance(msg, wire.HealthCheck):
                        self.healthcheck(msg.seq)

        loop.add_reader(ctrl_fd, readable)
        threading.Thread(target=side_reader, name="cognix-side", daemon=True).start()
        while True:
            try:
                loop.run_until_complete(stop)
                break
            except self.cancel_exc:
                continue  # a cancel signal that arrived just after its prediction ended


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="cognix.runtime.worker")
    parser.add_argument("--ctrl-fd", type=int, required=True)
    parser.add_argument("--side-fd", type=int, required=True)
    parser.add_argument("--event-fd", type=int, required=True)
    parser.add_argument("--mode", default="predict")
    parser.add_argument("--predict-ref")
    parser.add_argument("--train-ref")
    parser.add_argument("--upload-url")
    parser.add_argument("--max-download-bytes", type=int, default=1 << 30)
    parser.add_argument("--download-timeout", type=float, default=60.0)
    parser.add_argument("--allow-private-urls", action="store_true")
    args = parser.parse_args(argv)

    channel = Channel(args.event_fd)
    real_err = os.dup(2)
    router = LogRouter(channel, real_err)
    sys.stdout.flush()
    sys.stderr.flush()
    router.captures = [FdCapture(1, router, "stdout"), FdCapture(2, router, "stderr")]
    sys.stdout = LineWriter(router, "stdout")
    sys.stderr = LineWriter(router, "stderr")
    worker = Worker(args, channel, router)
    if not worker.setup():
        os._exit(3)
    worker.serve(args.ctrl_fd, args.side_fd)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
