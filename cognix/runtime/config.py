"""Runtime options read from the environment (and overridden by command-line flags).

Environment variables (Cog's, plus cognix's own limits):
- PORT (5000), COG_PREDICT_TYPE_STUB, COG_TRAIN_TYPE_STUB: what to serve (without them: cog.yaml's predict/run
  and train in the working directory, as Cog's server read them).
- COG_LOG_LEVEL (info): the server's log level (debug, info, warn/warning, error).
- COG_MAX_CONCURRENCY (1; invalid or 0 means 1): prediction slots; > 1 needs an async predictor.
- COG_SETUP_TIMEOUT (unset/0: none): seconds allowed for setup(); exceeding it gives SETUP_FAILED.
- COG_THROTTLE_RESPONSE_INTERVAL (0.5): minimum seconds between `start`/`logs` webhooks of one prediction.
- COG_STREAM_HISTORY_CAPACITY (1024; 0 disables replay): SSE events kept per prediction for re-attaching.
- WEBHOOK_AUTH_TOKEN: sent as `Authorization: Bearer <token>` on webhooks.
- COGNIX_MAX_BODY_BYTES (100 MiB): larger request bodies get 413.
- COGNIX_MAX_DOWNLOAD_BYTES (1 GiB) / COGNIX_DOWNLOAD_TIMEOUT (60 s): limits on input file URLs.
- COGNIX_WEBHOOK_QUEUE_MAX (1000): pending webhook deliveries; beyond it non-terminal webhooks are dropped
  with a logged warning (terminal `completed` webhooks are always attempted).
- COG_ALLOW_PRIVATE_URLS=1 (or --allow-private-urls): allow input URLs to loopback/link-local addresses.
- COGNIX_SHUTDOWN_GRACE (8 s): on SIGTERM, how long running predictions may take to finish (8 s: inside `docker
  stop`'s default 10 s, so they are still answered as canceled before the SIGKILL).
- COGNIX_WORKER_RESTARTS (3): consecutive worker restarts after crashes before health reports DEFUNCT.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

MIB = 1024 * 1024


def _float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError:
        return default


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class RuntimeConfig:
    """Everything the server and its worker need; built from the environment, then from flags."""

    host: str = "0.0.0.0"
    port: int = 5000
    mode: str = "predict"
    predict_ref: str | None = None
    train_ref: str | None = None
    concurrency: int = 1
    upload_url: str | None = None
    await_explicit_shutdown: bool = False
    setup_timeout: float | None = None
    throttle_interval: float = 0.5
    stream_history: int = 1024
    webhook_token: str | None = None
    max_body_bytes: int = 100 * MIB
    max_download_bytes: int = 1024 * MIB
    download_timeout: float = 60.0
    webhook_queue_max: int = 1000
    allow_private_urls: bool = False
    shutdown_grace: float = 8.0
    worker_restarts: int = 3
    cwd: str = field(default_factory=os.getcwd)

    @classmethod
    def from_env(cls) -> RuntimeConfig:
        concurrency = _int("COG_MAX_CONCURRENCY", 1)
        timeout = _float("COG_SETUP_TIMEOUT", 0.0)
        return cls(
            port=_int("PORT", 5000),
            predict_ref=os.environ.get("COG_PREDICT_TYPE_STUB") or None,
            train_ref=os.environ.get("COG_TRAIN_TYPE_STUB") or None,
            concurrency=concurrency if concurrency > 0 else 1,
            setup_timeout=timeout if timeout > 0 else None,
            throttle_interval=_float("COG_THROTTLE_RESPONSE_INTERVAL", 0.5),
            stream_history=max(0, _int("COG_STREAM_HISTORY_CAPACITY", 1024)),
            webhook_token=os.environ.get("WEBHOOK_AUTH_TOKEN") or None,
            max_body_bytes=_int("COGNIX_MAX_BODY_BYTES", 100 * MIB),
            max_download_bytes=_int("COGNIX_MAX_DOWNLOAD_BYTES", 1024 * MIB),
            download_timeout=_float("COGNIX_DOWNLOAD_TIMEOUT", 60.0),
            webhook_queue_max=_int("COGNIX_WEBHOOK_QUEUE_MAX", 1000),
            allow_private_urls=_flag("COG_ALLOW_PRIVATE_URLS"),
            shutdown_grace=_float("COGNIX_SHUTDOWN_GRACE", 8.0),
            worker_restarts=_int("COGNIX_WORKER_RESTARTS", 3),
        )

    @property
    def runner_ref(self) -> str | None:
        """The runner the worker's main slot loads: the train stub in train mode."""
        return self.train_ref if self.mode == "train" else self.predict_ref
