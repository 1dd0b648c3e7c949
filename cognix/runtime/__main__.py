"""`python -m cognix.runtime`: serve the model in the current directory with Cog's HTTP API.

Flags mirror `python -m cog.server.http`: --host, --port (default $PORT, else 5000), --upload-url,
--x-mode predict|train, --await-explicit-shutdown, --threads (ignored), plus --allow-private-urls.
Environment options and limits: see cognix/runtime/config.py. Without COG_PREDICT_TYPE_STUB / COG_TRAIN_TYPE_STUB
the runner comes from cog.yaml in the working directory (`predict` or `run`, `train`), as Cog's server read it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import signal
import sys
from typing import Optional, Tuple

from cognix.runtime.config import RuntimeConfig


def _truthy(value: str) -> bool:
    # Cog parses this flag with argparse type=bool: any non-empty value means true.
    return bool(value)


def refs_from_cog_yaml(directory: str) -> Tuple[Optional[str], Optional[str]]:
    """(predict, train) runner references from DIRECTORY/cog.yaml (`run` is predict's new name); None when absent.

    PyYAML (which Cog's SDK brings) reads it when installed; otherwise the top-level `key: value` lines do.
    """
    try:
        with open(os.path.join(directory, "cog.yaml"), encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        return None, None
    data: dict = {}
    try:
        import yaml

        loaded = yaml.safe_load(text)
        data = loaded if isinstance(loaded, dict) else {}
    except ImportError:
        for match in re.finditer(r"^(predict|run|train)[ \t]*:[ \t]*[\"']?([^\"'#\s]+)", text, re.MULTILINE):
            data[match.group(1)] = match.group(2)
    except Exception:  # a cog.yaml that does not parse names no runner
        return None, None

    def ref(key: str) -> Optional[str]:
        value = data.get(key)
        return value if isinstance(value, str) and value else None

    return ref("predict") or ref("run"), ref("train")


def _log_level() -> int:
    """COG_LOG_LEVEL (debug, info, warn/warning, error; default info), as Cog's server reads it."""
    name = os.environ.get("COG_LOG_LEVEL", "").strip().upper() or "INFO"
    level = logging.getLevelName("WARNING" if name == "WARN" else name)
    return level if isinstance(level, int) else logging.INFO


def _http_impl() -> str:
    """httptools' C parser when installed (the runtime's requirements bring it): a fraction of h11's CPU per request."""
    try:
        import httptools  # noqa: F401
    except ImportError:
        return "h11"
    return "httptools"


def parse_args(argv: list[str] | None, prog: str = "python -m cognix.runtime") -> RuntimeConfig:
    cfg = RuntimeConfig.from_env()
    if not cfg.predict_ref and not cfg.train_ref:
        cfg.predict_ref, cfg.train_ref = refs_from_cog_yaml(cfg.cwd)
    parser = argparse.ArgumentParser(prog=prog, description="Serve a Cog model over HTTP.")
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
            f"error: {var} is not set; set it to the runner, e.g. {var}=predict.py:Predictor "
            f"(or name it in cog.yaml: `{cfg.mode}: predict.py:Predictor`)",
            file=sys.stderr,
        )
        return 1
    import uvicorn

    from cognix.runtime.routes import build_app

    app, rt = build_app(cfg)

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame) -> None:  # type: ignore[override]
            if sig == signal.SIGTERM and cfg.await_explicit_shutdown:
                return  # only POST /shutdown or SIGINT stop the server
            if rt.shutting_down or self.should_exit:
                super().handle_exit(sig, frame)  # a second signal: stop now (SIGINT: uvicorn's force exit)
                captured = getattr(self, "_captured_signals", None)
                if sig == signal.SIGTERM and captured and captured[-1] == sig:
                    captured.pop()  # uvicorn would re-raise it after the stop: SIGTERM must exit 0
                return
            # the handler runs in the loop's thread, between bytecodes (or while it waits in select): hand the
            # drain to the loop, waking it up
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # not serving yet
                super().handle_exit(sig, frame)
                return
            rt.begin_shutdown()
            loop.call_soon_threadsafe(rt.request_stop)

    logging.basicConfig(
        level=_log_level(), format="%(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request's full URL at INFO: webhook and upload URLs carry signatures and credentials
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, _log_level()))
    config = uvicorn.Config(
        app,
        host=cfg.host,
        port=cfg.port,
        http=_http_impl(),
        loop="asyncio",
        lifespan="on",
        access_log=False,
        log_level="warning",
        # predictions are drained before uvicorn stops (Runtime.request_stop): what is left is sending responses
        timeout_graceful_shutdown=1,
        timeout_keep_alive=30,
    )
    server = Server(config)
    rt.server = server
    server.run()
    return 0 if server.started or not rt.shutting_down else 1


def main(argv: list[str] | None = None, prog: str = "python -m cognix.runtime") -> None:
    sys.exit(serve(parse_args(argv, prog)))


if __name__ == "__main__":
    main()
