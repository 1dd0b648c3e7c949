"""`cognix serve` (run the runtime for a model directory on the host) and `cognix predict` (one prediction)."""

from __future__ import annotations

import base64
import json
import mimetypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

from cognix.errors import CognixError


class PredictError(CognixError):
    """A prediction could not be run or did not succeed."""


def _model_env(model_dir: Path) -> dict[str, str]:
    """Environment for the runtime: cog.yaml's predict/train/concurrency/environment over the caller's."""
    env = dict(os.environ)
    cog_yaml = model_dir / "cog.yaml"
    if cog_yaml.exists():
        from cognix.config import load_config

        env.update(load_config(model_dir).runtime_env())
    if not env.get("COG_PREDICT_TYPE_STUB") and not env.get("COG_TRAIN_TYPE_STUB"):
        raise PredictError(
            "no predictor to serve",
            where=str(cog_yaml),
            fix='add `predict: "predict.py:Predictor"` to cog.yaml (or set COG_PREDICT_TYPE_STUB)',
        )
    return env


def _runtime_cmd(host: str, port: int, extra: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "cognix.runtime",
        "--host",
        host,
        "--port",
        str(port),
        *extra,
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _default_port() -> int:
    try:
        return int(os.environ.get("PORT", "") or 5000)
    except ValueError:
        return 5000


@click.command("serve")
@click.argument(
    "model_dir",
    default=".",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@click.option(
    "--port", type=int, default=None, help="Port (default: $PORT, else 5000)."
)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on."
)
@click.option(
    "--upload-url",
    default=None,
    help="PUT output files to this URL prefix instead of data URLs.",
)
@click.option(
    "--x-mode",
    "mode",
    type=click.Choice(["predict", "train"]),
    default="predict",
    show_default=True,
)
@click.option(
    "--allow-private-urls",
    is_flag=True,
    help="Allow input URLs to loopback/link-local addresses.",
)
def serve(
    model_dir: Path,
    port: int | None,
    host: str,
    upload_url: str | None,
    mode: str,
    allow_private_urls: bool,
) -> None:
    """Serve MODEL_DIR with Cog's HTTP API on this host (no image)."""
    env = _model_env(model_dir)
    extra = ["--x-mode", mode]
    if upload_url:
        extra += ["--upload-url", upload_url]
    if allow_private_urls:
        extra.append("--allow-private-urls")
    port = port or _default_port()
    click.echo(f"Serving {model_dir.resolve().name} on http://{host}:{port}", err=True)
    proc = subprocess.Popen(_runtime_cmd(host, port, extra), cwd=model_dir, env=env)
    signal.signal(signal.SIGTERM, lambda *_: proc.send_signal(signal.SIGTERM))
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait()
    sys.exit(code if code >= 0 else 1)


def _file_data_url(path: Path) -> str:
    if not path.is_file():
        raise PredictError(
            f"input file {path} does not exist", fix="check the path after `@`"
        )
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _coerce(raw: str, prop: dict[str, Any]) -> Any:
    """A `-i key=value` string as the type the schema declares (files given as @path become data URLs)."""
    if raw.startswith("@"):
        return _file_data_url(Path(raw[1:]))
    kind = prop.get("type")
    if kind is None:
        for alt in prop.get("anyOf", []) + prop.get("allOf", []):
            kind = kind or alt.get("type")
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
        if kind == "boolean":
            return raw.strip().lower() in {"1", "true", "yes", "y", "on"}
        if kind == "array":
            return json.loads(raw) if raw.lstrip().startswith("[") else [raw]
        if kind == "object":
            return json.loads(raw)
    except ValueError:
        return raw  # the server's 422 names the field and the problem
    return raw


def _parse_inputs(pairs: tuple[str, ...], schema: dict | None) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if schema:
        comp = schema.get("components", {}).get("schemas", {}).get("Input", {})
        props = comp.get("properties", {})
    inputs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.UsageError(f"-i expects key=value, got {pair!r}")
        inputs[key] = _coerce(value, props.get(key, {}))
    return inputs


def _write_files(value: Any, outdir: Path, stem: str, written: list[Path]) -> Any:
    """Write data-URL outputs to outdir as `<stem>.<ext>`; returns the value with their paths."""
    if isinstance(value, str) and value.startswith("data:") and ";base64," in value:
        header, payload = value.split(",", 1)
        mime = header[5:].split(";")[0]
        ext = mimetypes.guess_extension(mime) or ".bin"
        path = outdir / f"{stem}{ext}"
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(base64.b64decode(payload))
        tmp.replace(path)
        written.append(path)
        return str(path)
    if isinstance(value, list):
        return [
            _write_files(v, outdir, f"{stem}.{i}", written) for i, v in enumerate(value)
        ]
    if isinstance(value, dict):
        return {
            k: _write_files(v, outdir, f"{stem}.{k}", written) for k, v in value.items()
        }
    return value


def _wait_ready(
    client: Any, proc: subprocess.Popen | None, timeout: float = 300.0
) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise PredictError(
                f"the runtime exited during startup (status {proc.returncode})"
            )
        try:
            health = client.get("/health-check").json()
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        if health["status"] in ("READY", "BUSY", "UNHEALTHY"):
            return
        if health["status"] in ("SETUP_FAILED", "DEFUNCT"):
            logs = health.get("setup", {}).get("logs", "")
            raise PredictError(
                f"setup failed:\n{logs.rstrip()}",
                fix="fix the model's setup() and try again",
            )
        time.sleep(0.1)
    raise PredictError(f"the model was not ready within {timeout:.0f}s")


def _run_prediction(
    url: str, pairs: tuple[str, ...], proc: subprocess.Popen | None
) -> dict:
    import httpx

    with httpx.Client(base_url=url, timeout=None) as client:
        _wait_ready(client, proc)
        schema = None
        resp = client.get("/openapi.json")
        if resp.status_code == 200:
            schema = resp.json()
        inputs = _parse_inputs(pairs, schema)
        resp = client.post("/predictions", json={"input": inputs})
    if resp.status_code == 422:
        problems = [
            f"{'.'.join(str(p) for p in d['loc'][2:]) or 'input'}: {d['msg']}"
            for d in resp.json()["detail"]
        ]
        raise PredictError(
            "invalid input:\n  " + "\n  ".join(problems),
            fix="see the model's inputs with `cognix schema`",
        )
    if resp.status_code != 200:
        raise PredictError(
            f"the server answered {resp.status_code}: {resp.text.strip()}"
        )
    return resp.json()


@click.command("predict")
@click.argument(
    "model_dir",
    default=".",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@click.option(
    "-i",
    "--input",
    "pairs",
    multiple=True,
    help="Input as key=value; key=@file sends a file.",
)
@click.option(
    "--url",
    default=None,
    help="Predict against a running server instead of starting one.",
)
@click.option(
    "-o",
    "--output-dir",
    "outdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where file outputs are written.",
)
def predict(
    model_dir: Path, pairs: tuple[str, ...], url: str | None, outdir: Path
) -> None:
    """Run one prediction, like `cog predict`: locally for MODEL_DIR, or against --url."""
    proc = None
    try:
        if url is None:
            port = _free_port()
            env = _model_env(model_dir)
            proc = subprocess.Popen(
                _runtime_cmd("127.0.0.1", port, []),
                cwd=model_dir,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            url = f"http://127.0.0.1:{port}"
        body = _run_prediction(url.rstrip("/"), pairs, proc)
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    if body.get("logs"):
        click.echo(body["logs"].rstrip("\n"), err=True)
    if body["status"] != "succeeded":
        raise PredictError(
            f"prediction {body['status']}: {body.get('error') or ''}".rstrip(": ")
        )
    outdir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    output = _write_files(body.get("output"), outdir, "output", written)
    for path in written:
        click.echo(f"Written output to {path}", err=True)
    if isinstance(output, str):
        click.echo(output)
    else:
        click.echo(json.dumps(output, indent=2, sort_keys=True))


def register(cli: click.Group) -> None:
    cli.add_command(serve)
    cli.add_command(predict)
