"""The predictor subprocess: loads the runner, runs setup, then serves predictions for the HTTP server.

The messages are cognix/runtime/protocol.py's: the parent writes Predict/Shutdown on fd `--ctrl-fd`,
Cancel/HealthCheck on `--side-fd`, and the worker writes events on fd `--event-fd` (stdout/stderr stay free for user
code; they are captured into prediction logs: capture.py).

One asyncio loop runs in the main thread: async predictions are tasks on it (cancel = task.cancel()); a sync
prediction runs on it directly (the loop only admits one at a time then) and is cancelled by SIGUSR1, whose handler
raises CancelationException in the main thread, which also interrupts time.sleep and other blocking calls. Which
cancel is for which prediction: cancels.py.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import inspect
import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from cognix.runtime import protocol as wire
from cognix.runtime.cancels import CancelAction, CancelBook
from cognix.runtime.capture import Channel, FdCapture, LineWriter, LogRouter, current
from cognix.runtime.scopes import Scopes


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

    def __init__(self, args: argparse.Namespace, channel: Channel, router: LogRouter, book: CancelBook) -> None:
        self.args = args
        self.channel = channel
        self.router = router
        self.book = book
        self.runners: dict[str, Any] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.tasks: dict[str, asyncio.Task] = {}
        self.cancel_exc: type[BaseException] = asyncio.CancelledError
        self.scopes = Scopes(channel.emit)

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
            loaded = self._load_runners(cwd)
            self.channel.emit(wire.Schema(self._schema(cwd)))
            weights_file = Path(".cog/weights.json")
            if weights_file.exists():
                from cognix.runtime.weights_pull import pull_weights  # type: ignore[import-not-found]

                pull_weights(weights_file, lambda msg: print(msg, file=sys.stderr))
            weights = os.environ.get("COG_WEIGHTS") or None
            for runner in loaded:
                result = runner.setup(weights)
                if inspect.iscoroutine(result):
                    self.loop_run(result)
        except BaseException as exc:  # noqa: BLE001 - any setup failure is reported, never a crash
            sys.stderr.write(traceback.format_exc())
            self.router.settle()
            self.channel.emit(wire.SetupFailed(f"Setup failed: {_error_text(exc)}"))
            return False
        self.router.settle()
        self.router.setup_phase = False
        # the model's own healthcheck(), not the runner's wrapper (which every runner has): without one, the server
        # answers health checks itself instead of asking the worker each time
        has_hc = any(r.info.has_healthcheck for r in self.runners.values())
        gc.collect()
        gc.freeze()  # the model's weights and modules are long-lived: keep them out of every collection
        self.channel.emit(wire.Ready(healthcheck=has_hc, kinds=sorted(self.runners)))
        return True

    def _load_runners(self, cwd: Path) -> list[Any]:
        """Load the predict/train runners (train mode serves train() under both names); each distinct one once."""
        from cognix.runtime.predictor import load_runner

        refs = {"predict": self.args.predict_ref, "train": self.args.train_ref}
        if self.args.mode == "train":
            refs = {"predict": self.args.train_ref, "train": self.args.train_ref}
        loaded: dict[tuple[str, str], Any] = {}
        for kind, ref in refs.items():
            if not ref:
                continue
            mode = "train" if kind == "train" or self.args.mode == "train" else "predict"
            if (ref, mode) not in loaded:
                loaded[(ref, mode)] = load_runner(ref, mode=mode, cwd=cwd)
            self.runners[kind] = loaded[(ref, mode)]
        return list(loaded.values())

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
        if self.book.interruptible():
            raise self.cancel_exc()

    def _raise_if_canceled(self, pid: str) -> None:
        if self.book.is_requested(pid):
            raise self.cancel_exc()

    def cancel(self, pid: str) -> None:
        action = self.book.request(pid)
        if action is CancelAction.INTERRUPT:
            signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR1)  # type: ignore[arg-type]
        elif action is CancelAction.CANCEL_TASK:
            task = self.tasks.get(pid)
            if task is not None and self.loop is not None:
                self.loop.call_soon_threadsafe(task.cancel)

    # --- predictions -------------------------------------------------------------------------------------------
    async def predict(self, req: wire.Predict) -> None:
        """Run one prediction and send its Done (always, whatever happens in it)."""
        from cognix.runtime.encoding import remove_sent_outputs
        from cognix.runtime.files import InputError

        pid = req.id
        current.set(pid)
        self.book.begin(pid)
        if req.start:
            self.channel.emit(wire.Started(pid))
        started = time.perf_counter()
        started_wall = time.time() - 1.0  # ctime has the file system's granularity
        produced: list[Path] = []  # output files, removed once the Done message carries them
        done: dict[str, Any] = {"status": "succeeded"}  # the Done message's fields, as they become known
        cleanup: list[Callable[[], None]] = []
        scope_token = None
        try:
            scope_token = self.scopes.enter(pid, req.context or {})
            await self._run(req, done, produced, cleanup)
        except (asyncio.CancelledError, self.cancel_exc):
            done["status"] = "canceled"
        except InputError as exc:  # the client's input, not the model: one line, no traceback through the runtime
            done.update(status="failed", error=str(exc))
            sys.stderr.write(f"{exc}\n")
        except BaseException as exc:  # noqa: BLE001 - a failing prediction never takes the worker down
            done.update(status="failed", error=_error_text(exc))
            sys.stderr.write(traceback.format_exc())
        finally:
            self.book.sync_running = None
            self._flush_logs(pid)
            done["metrics"] = self.scopes.exit(scope_token)
            done["metrics"]["predict_time"] = round(time.perf_counter() - started, 9)
            self._clean_inputs(cleanup)
            self.book.end(pid)
            self.tasks.pop(pid, None)
            self.channel.emit(wire.Done(pid, **done))
            remove_sent_outputs(produced, since=started_wall)

    async def _run(self, req: wire.Predict, done: dict[str, Any], produced: list[Path],
                   cleanup: list[Callable[[], None]]) -> None:
        """Inputs prepared, the model called, its output (or each streamed chunk) encoded into `done` / sent."""
        from cognix.runtime.encoding import data_url, encode_output
        from cognix.runtime.files import InputLimits, prepare_inputs

        pid = req.id
        runner = self.runners.get(req.kind) or self.runners["predict"]
        limits = InputLimits(max_bytes=self.args.max_download_bytes, timeout_s=self.args.download_timeout,
                             allow_private=self.args.allow_private_urls)
        if self.args.upload_url:
            from cognix.runtime.uploads import uploader

            send_file = uploader(self.args.upload_url, pid)
        else:
            send_file = data_url

        def encode(value: Any) -> Any:
            def upload(path: Path) -> str:
                produced.append(path)
                return send_file(path)

            return encode_output(value, upload=upload)

        self._raise_if_canceled(pid)
        kwargs, clean = prepare_inputs(runner.info, req.input or {}, limits=limits)
        if clean is not None:
            cleanup.append(clean)
        self._raise_if_canceled(pid)  # canceled while inputs were downloading
        result = await self._call(pid, runner, kwargs)
        if inspect.isasyncgen(result):
            done["streamed"] = True
            async for chunk in result:
                self.channel.emit(wire.Output(pid, encode(chunk)))
        elif inspect.isgenerator(result):
            done["streamed"] = True
            for chunk in self._sync_chunks(pid, result):
                self.channel.emit(wire.Output(pid, encode(chunk)))
        else:
            done.update(has_output=True, output=encode(result))

    def _sync_chunks(self, pid: str, result: Any) -> Any:
        """A sync generator's chunks, each computed with the cancel signal armed (between chunks none is sent)."""
        while True:
            self._raise_if_canceled(pid)
            self.book.sync_running = pid
            try:
                chunk = next(result)
            except StopIteration:
                return
            finally:
                self.book.sync_running = None
            yield chunk

    def _flush_logs(self, pid: str) -> None:
        if len(self.book.running) == 1:  # fd-level output can only be attributed to a sole prediction
            for capture in self.router.captures:
                capture.drain()
        for stream in (sys.stdout, sys.stderr):
            if isinstance(stream, LineWriter):
                stream.flush(pid)

    def _clean_inputs(self, cleanup: list[Callable[[], None]]) -> None:
        for clean in cleanup:
            try:
                clean()
            except Exception as exc:  # noqa: BLE001 - temp-file cleanup failure must not fail the prediction
                os.write(self.router.real_err, f"cognix: input cleanup failed: {exc}\n".encode())

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
        self.book.sync_running = pid
        try:
            result = runner.call(kwargs)
        finally:
            self.book.sync_running = None
        if inspect.iscoroutine(result):
            result = await result
        return result

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
    book = CancelBook()
    router = LogRouter(channel, real_err, book.running)
    sys.stdout.flush()
    sys.stderr.flush()
    router.captures = [FdCapture(1, router, "stdout"), FdCapture(2, router, "stderr")]
    sys.stdout = LineWriter(router, "stdout")
    sys.stderr = LineWriter(router, "stderr")
    worker = Worker(args, channel, router, book)
    if not worker.setup():
        os._exit(3)
    worker.serve(args.ctrl_fd, args.side_fd)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
