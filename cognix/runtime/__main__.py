"""`python -m cognix.runtime`: serve the model in the current directory with Cog's HTTP API.

Flags mirror `python -m cog.server.http`: --host, --port (default $PORT, else 5000), --upload-url,
--x-mode predict|train, --await-explicit-shutdown, --threads (ignored), plus --allow-private-urls.
Environment options and limits: see cognix/runtime/config.py.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from cognix.runtime.config import RuntimeConfig


def _truthy(value: str) -> bool:
    # Cog parses this flag with argparse type=bool: any non-empty value means true.
    return bool(value)


def parse_args(argv: list[str] | None) -> RuntimeConfig:
    cfg = RuntimeConfig.from_env()
    parser = argparse.ArgumentParser(
        prog="python -m cognix.runtime", description="Serve a Cog model over HTTP."
    )
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=cfg.port)
    parser.add_argument("--upload-url", default=None)
    parser.add_argument(
        "--x-mode", dest="mode", choices=["predict", "train"], default="predict"
    )
    parser.add_argument("--await-explicit-shutdown", type=_truthy, default=False)
    parser.add_argument(
        "--threads", type=int, default=None, help="accepted for compatibility; ignored"
    )
    parser.add_argument(
        "--allow-private-urls", action="store_true", default=cfg.allow_private_urls
    )
    parser.add_argument("-v", "--version", action="store_true")
    args = parser.parse_args(argv)
    if args.version:
        from cognix.runtime.server import RUNTIME_VERSION

        print(f"cognix runtime {RUNTIME_VERSION}")
        sys.exit(0)
    cfg.host, cfg.port, cfg.upload_url, cfg.mode = (
        args.host,
        args.port,
        args.upload_url,
        args.mode,
    )
    cfg.await_explicit_shutdown = args.await_explicit_shutdown
    cfg.allow_private_urls = args.allow_private_urls
    return cfg


def serve(cfg: RuntimeConfig) -> int:
    """Run the server until shutdown; the exit status."""
    if not cfg.runner_ref:
        var = "COG_TRAIN_TYPE_STUB" if cfg.mode == "train" else "COG_PREDICT_TYPE_STUB"
        print(
            f"error: {var} is not set; set it to the runner, e.g. {var}=predict.py:Predictor",
            file=sys.stderr,
        )
        return 1
    import uvicorn

    from cognix.runtime.server import build_app

    app, rt = build_app(cfg)

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame) -> None:  # type: ignore[override]
            if sig == signal.SIGTERM and cfg.await_explicit_shutdown:
                return  # only POST /shutdown or SIGINT stop the server
            super().handle_exit(sig, frame)
            captured = getattr(self, "_captured_signals", None)
            if sig == signal.SIGTERM and captured and captured[-1] == sig:
                captured.pop()  # uvicorn would re-raise it after the graceful stop: SIGTERM must exit 0

    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    config = uvicorn.Config(
        app,
        host=cfg.host,
        port=cfg.port,
        http="h11",
        loop="asyncio",
        lifespan="on",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=int(cfg.shutdown_grace) or None,
        timeout_keep_alive=30,
    )
    server = Server(config)
    rt.server = server
    server.run()
    return 0 if server.started or not rt.shutting_down else 1


def main(argv: list[str] | None = None) -> None:
    sys.exit(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
