"""The worker's supervisor: the predictor subprocess and its pipes, setup (with COG_SETUP_TIMEOUT), and restarts
after crashes; the model facts the worker reports (schema, kinds, healthcheck) and the runtime's state.

Events of one prediction go to the `on_prediction_event` callback (the server's), every other event is handled
here; a worker's death is reported to `on_worker_lost` with a sentence saying how it died, then the restart policy
runs: restart and re-run setup, up to COG_MAX_WORKER_RESTARTS times in a row, else DEFUNCT.
"""

from __future__ import annotations

import asyncio
import enum
import gc
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from typing import Any, Callable

from cognix.runtime import protocol as wire
from cognix.runtime.config import RuntimeConfig

log = logging.getLogger("cognix.runtime")


class State(str, enum.Enum):
    """The runtime's state as /health-check reports it (BUSY and UNHEALTHY are added there)."""

    STARTING = "STARTING"
    READY = "READY"
    SETUP_FAILED = "SETUP_FAILED"
    DEFUNCT = "DEFUNCT"

    def __str__(self) -> str:
        return self.value


def now_rfc3339() -> str:
    return datetime.now(timezone.utc).isoformat()  # noqa: UP017 - datetime.UTC is 3.11+; the runtime supports 3.8


def worker_command(cfg: RuntimeConfig, ctrl_fd: int, side_fd: int, event_fd: int) -> list[str]:
    cmd = [sys.executable, "-m", "cognix.runtime.worker", "--ctrl-fd", str(ctrl_fd), "--side-fd", str(side_fd),
           "--event-fd", str(event_fd), "--mode", cfg.mode]
    for flag, value in (("--predict-ref", cfg.predict_ref), ("--train-ref", cfg.train_ref),
                        ("--upload-url", cfg.upload_url)):
        if value:
            cmd += [flag, value]
    cmd += ["--max-download-bytes", str(cfg.max_download_bytes), "--download-timeout", str(cfg.download_timeout)]
    if cfg.allow_private_urls:
        cmd.append("--allow-private-urls")
    return cmd


def _worker_env() -> dict[str, str]:
    """The server's environment; the worker must import this very runtime even when started from elsewhere."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


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
        ctrl_r, ctrl_w = os.pipe()
        side_r, side_w = os.pipe()
        evt_r, evt_w = os.pipe()
        self.proc = subprocess.Popen(  # noqa: ASYNC220 - starting a process does not block
            worker_command(self.cfg, ctrl_r, side_r, evt_w),
            pass_fds=(ctrl_r, side_r, evt_w),
            cwd=self.cfg.cwd,
            stdin=subprocess.DEVNULL,
            env=_worker_env(),
            start_new_session=True,  # terminal signals reach the server only; it stops the worker itself
        )
        for fd in (ctrl_r, side_r, evt_w):
            os.close(fd)
        self.ctrl = os.fdopen(ctrl_w, "wb", buffering=0)
        self.side = os.fdopen(side_w, "wb", buffering=0)
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: _EventProtocol(self), os.fdopen(evt_r, "rb", 0))
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


class Supervisor:
    def __init__(self, cfg: RuntimeConfig, on_prediction_event: Callable[[wire.Event], None],
                 on_worker_lost: Callable[[str], None]) -> None:
        self.cfg = cfg
        self.on_prediction_event = on_prediction_event
        self.on_worker_lost = on_worker_lost
        self.state = State.STARTING
        self.setup: dict[str, Any] = {}
        self.setup_logs: list[str] = []
        self.schema: dict | None = None
        self.kinds: list[str] = []
        self.has_healthcheck = False
        self.worker: WorkerProcess | None = None
        self.restarts = 0
        self.stopping = False  # set at shutdown: a worker that exits then is not restarted
        self._health_seq = 0
        self._health_waiters: dict[int, asyncio.Future] = {}
        self._setup_timer: asyncio.TimerHandle | None = None

    # --- lifecycle --------------------------------------------------------------------------------------------
    async def start(self) -> None:
        self.state = State.STARTING
        self.setup = {"started_at": now_rfc3339(), "status": "starting"}
        self.setup_logs = []
        self.worker = WorkerProcess(self.cfg, self._on_event, self._on_exit)
        await self.worker.start()
        if self.cfg.setup_timeout:
            self._setup_timer = asyncio.get_running_loop().call_later(
                self.cfg.setup_timeout, self._setup_timed_out, self.worker
            )

    def send(self, msg: wire.Command) -> bool:
        return self.worker is not None and self.worker.send(msg)

    def kill(self) -> None:
        if self.worker is not None:
            self.worker.kill()

    async def stop(self, timeout: float) -> None:
        self.stopping = True
        if self.worker is not None:
            await self.worker.stop(timeout=timeout)

    def succeeded_once(self) -> None:
        """A prediction succeeded: the crash streak is over (restarts count crashes in a row)."""
        self.restarts = 0

    def _setup_timed_out(self, worker: WorkerProcess) -> None:
        if worker is self.worker and self.state is State.STARTING:
            self.setup_logs.append(
                f"Setup failed: setup did not finish within COG_SETUP_TIMEOUT={self.cfg.setup_timeout}s\n"
            )
            self._setup_done(False)
            worker.kill()

    def _setup_done(self, ok: bool) -> None:
        if self._setup_timer is not None:
            self._setup_timer.cancel()
        self.setup["completed_at"] = now_rfc3339()
        self.setup["status"] = "succeeded" if ok else "failed"
        if ok:
            self.state = State.READY
            gc.collect()
            gc.freeze()  # long-lived startup objects leave the collector's view: shorter pauses under load
        else:
            self.state = State.DEFUNCT if self.restarts else State.SETUP_FAILED

    def _on_exit(self, worker: WorkerProcess, code: int) -> None:
        if worker is not self.worker:
            return
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        self.on_worker_lost(how)
        if self.stopping or self.state in (State.SETUP_FAILED, State.DEFUNCT):
            return
        if self.state is State.STARTING:
            self.setup_logs.append(f"Setup failed: worker exited during setup (code {code})\n")
            self._setup_done(False)
            return
        if self.restarts >= self.cfg.worker_restarts:
            log.error("worker crashed %d times; giving up (DEFUNCT)", self.restarts + 1)
            self.state = State.DEFUNCT
            return
        self.restarts += 1
        log.warning("worker exited (code %s); restarting it and re-running setup", code)
        asyncio.get_running_loop().create_task(self.start())

    # --- events -----------------------------------------------------------------------------------------------
    def _on_event(self, msg: wire.Event) -> None:
        handler = _EVENTS.get(type(msg))
        if handler is None:
            self.on_prediction_event(msg)
        else:
            handler(self, msg)

    def _on_setup_log(self, msg: wire.SetupLog) -> None:
        self.setup_logs.append(msg.data)

    def _on_schema(self, msg: wire.Schema) -> None:
        self.schema = msg.schema

    def _on_ready(self, msg: wire.Ready) -> None:
        self.kinds = msg.kinds
        self.has_healthcheck = msg.healthcheck
        self._setup_done(True)

    def _on_setup_failed(self, msg: wire.SetupFailed) -> None:
        self.setup_logs.append(msg.error + "\n")
        self._setup_done(False)

    def _on_health(self, msg: wire.Health) -> None:
        fut = self._health_waiters.pop(msg.seq, None)
        if fut is not None and not fut.done():
            fut.set_result(msg)

    async def user_health(self) -> str | None:
        """Run the user's healthcheck() in the worker (5 s timeout); the error text, or None when healthy."""
        if not self.has_healthcheck or self.worker is None:
            return None
        self._health_seq += 1
        seq = self._health_seq
        fut = asyncio.get_running_loop().create_future()
        self._health_waiters[seq] = fut
        self.send(wire.HealthCheck(seq))
        try:
            msg = await asyncio.wait_for(fut, 5.0)
        except asyncio.TimeoutError:  # noqa: UP041 - not the builtin TimeoutError before Python 3.11
            self._health_waiters.pop(seq, None)
            return "Healthcheck failed: user-defined healthcheck timed out after 5 seconds"
        return None if msg.ok else (msg.error or "Healthcheck failed")


# the events that are not one prediction's
_EVENTS: dict[type, Callable[[Supervisor, Any], None]] = {
    wire.SetupLog: Supervisor._on_setup_log, wire.Schema: Supervisor._on_schema, wire.Ready: Supervisor._on_ready,
    wire.SetupFailed: Supervisor._on_setup_failed, wire.Health: Supervisor._on_health,
}
