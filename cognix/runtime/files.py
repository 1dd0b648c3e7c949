"""Turn validated JSON inputs into the Python values run() expects: Secret, Path (downloaded), File.

URL downloads are bounded (size, time) and refuse hosts on loopback, link-local (cloud metadata) or unspecified
addresses unless allowed, so a request can't make the server read its own private endpoints.
"""

from __future__ import annotations

import base64
import binascii
import io
import ipaddress
import os
import socket
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable

from cognix.runtime.filenames import derived_filename
from cognix.runtime.specs import InputSpec, RunnerInfo
from cognix.runtime.typetable import Convert

MAX_REDIRECTS = 10
# cloud metadata endpoints outside the link-local range (AWS's IPv6 one)
_METADATA_ADDRESSES = {ipaddress.ip_address("fd00:ec2::254")}


class InputError(Exception):
    """An input can't be turned into a value (bad data URL, refused or failed download): fails the prediction."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class InputLimits:
    max_bytes: int = 1 << 30  # per input file
    timeout_s: float = 60.0  # per download, whole transfer
    allow_private: bool = False  # allow loopback / link-local / metadata hosts


def is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("data:", "http://", "https://"))


def safe_url(url: str) -> str:
    """A URL for messages and logs: data URLs shortened, credentials (user:password@) and query strings (signatures,
    tokens) replaced by "***"."""
    if url.startswith("data:"):
        return url[:40] + ("..." if len(url) > 40 else "")
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0].rsplit("@", 1)[-1][:200]
    netloc = ("***@" + parts.netloc.rsplit("@", 1)[1]) if "@" in parts.netloc else parts.netloc
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", ""))


def decode_data_url(url: str, max_bytes: int) -> bytes:
    header, sep, payload = url[len("data:"):].partition(",")
    if not sep:
        raise InputError(f"invalid data URL {safe_url(url)!r}: missing ','")
    if header.endswith(";base64"):
        if len(payload) * 3 // 4 > max_bytes + 3:
            raise InputError(f"data URL is larger than the limit of {max_bytes} bytes")
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as err:
            raise InputError(f"invalid base64 in data URL {safe_url(url)!r}: {err}") from None
    else:
        data = urllib.parse.unquote_to_bytes(payload)
    if len(data) > max_bytes:
        raise InputError(f"data URL is larger than the limit of {max_bytes} bytes")
    return data


def _refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip in _METADATA_ADDRESSES


def _refuse_addresses(host: str, infos: list, url: str) -> None:
    for info in infos:
        address = info[4][0]
        if _refused_address(address):
            raise InputError(
                f"refusing to download {safe_url(url)}: {host} resolves to {address}, a loopback, link-local or "
                "metadata address (allow private input URLs in the server's options to permit it)"
            )


def _guarded_transport(url: str, limits: InputLimits) -> Any:
    """An httpx transport whose connections re-check the address actually dialled, so a DNS answer that changes
    between check_host() and the connection (DNS rebinding) can't reach a private address."""
    import httpcore
    import httpx

    transport = httpx.HTTPTransport()
    pool = getattr(transport, "_pool", None)
    if limits.allow_private or pool is None or not hasattr(pool, "_network_backend"):
        return transport  # an httpx without this hook: check_host() alone guards

    class GuardedBackend(httpcore.SyncBackend):
        def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                        local_address: str | None = None, socket_options: Any = None) -> Any:
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except socket.gaierror as err:
                raise httpcore.ConnectError(f"cannot resolve {host}: {err.strerror}") from None
            _refuse_addresses(host, infos, url)
            last: Exception | None = None
            for info in infos:  # dial the checked addresses themselves, not the name again
                try:
                    return super().connect_tcp(info[4][0], port, timeout, local_address, socket_options)
                except httpcore.ConnectError as err:
                    last = err
            raise last or httpcore.ConnectError(f"cannot connect to {host}")

    pool._network_backend = GuardedBackend()
    return transport


def check_host(url: str, *, allow_private: bool) -> None:
    """InputError if the URL's host resolves to a loopback, link-local, unspecified or metadata address."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname
    if not host:
        raise InputError(f"invalid URL {safe_url(url)!r}: no host")
    if allow_private:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as err:
        raise InputError(f"failed to download {safe_url(url)}: cannot resolve {host}: {err.strerror}") from None
    _refuse_addresses(host, infos, url)


def download(url: str, limits: InputLimits, sink: io.BufferedIOBase | Any) -> None:
    """GET `url` into `sink`, following redirects (each hop checked), within the size and time limits."""
    import httpx

    try:
        _download(url, limits, sink)
    except httpx.InvalidURL as err:  # not an HTTPError: raised before any request (a bad port, host or scheme)
        raise InputError(f"invalid URL {safe_url(url)!r}: {err}") from None


def _download(url: str, limits: InputLimits, sink: io.BufferedIOBase | Any) -> None:
    import httpx

    headers = {}
    if os.environ.get("COG_USER_AGENT"):
        headers["User-Agent"] = os.environ["COG_USER_AGENT"]
    deadline = time.monotonic() + limits.timeout_s
    current = url
    transport = _guarded_transport(url, limits)
    with httpx.Client(timeout=limits.timeout_s, follow_redirects=False, headers=headers,
                      transport=transport) as client:
        for _ in range(MAX_REDIRECTS + 1):
            check_host(current, allow_private=limits.allow_private)
            try:
                with client.stream("GET", current) as response:
                    if response.is_redirect and "location" in response.headers:
                        current = str(response.url.join(response.headers["location"]))
                        if not current.startswith(("http://", "https://")):
                            raise InputError(f"failed to download {safe_url(url)}: redirect to a non-http URL")
                        continue
                    if response.status_code >= 400:
                        raise InputError(f"failed to download {safe_url(url)}: HTTP {response.status_code} "
                                         f"{response.reason_phrase}")
                    declared = response.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > limits.max_bytes:
                        raise InputError(f"input file {safe_url(url)} is {declared} bytes, over the limit of "
                                         f"{limits.max_bytes} bytes")
                    size = 0
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > limits.max_bytes:
                            raise InputError(f"input file {safe_url(url)} is over the limit of {limits.max_bytes} bytes")
                        if time.monotonic() > deadline:
                            raise InputError(f"downloading {safe_url(url)} took longer than {limits.timeout_s:g}s")
                        sink.write(chunk)
                    return
            except httpx.TimeoutException:
                raise InputError(f"downloading {safe_url(url)} took longer than {limits.timeout_s:g}s") from None
            except httpx.HTTPError as err:
                raise InputError(f"failed to download {safe_url(url)}: {err}") from None
    raise InputError(f"failed to download {safe_url(url)}: too many redirects")


def _cog() -> Any:
    import cog  # the model's cog: our shim, or upstream's when the model locks it

    return cog


class _Preparer:
    def __init__(self, limits: InputLimits) -> None:
        self.limits = limits
        self.temp_files: list[str] = []

    def cleanup(self) -> None:
        for name in self.temp_files:
            try:
                os.unlink(name)
            except FileNotFoundError:
                pass
        self.temp_files.clear()

    def path(self, value: Any) -> Any:
        if not is_url(value):
            return value  # other strings (local paths, ftp://) pass through unchanged, as with cog
        handle = tempfile.NamedTemporaryFile(suffix=derived_filename(value), delete=False)
        self.temp_files.append(handle.name)
        with handle:
            if value.startswith("data:"):
                handle.write(decode_data_url(value, self.limits.max_bytes))
            else:
                download(value, self.limits, handle)
        return _cog().Path(handle.name)

    def file(self, value: Any) -> Any:
        if not is_url(value):
            return value
        if value.startswith("data:"):
            data = decode_data_url(value, self.limits.max_bytes)
        else:
            buffer = io.BytesIO()
            download(value, self.limits, buffer)
            data = buffer.getvalue()
        stream = io.BytesIO(data)
        stream.name = derived_filename(value)  # type: ignore[attr-defined]
        return stream

    def value(self, spec: InputSpec, value: Any) -> Any:
        how = spec.type.kind.rule.convert
        if value is None:
            return None
        if how is Convert.SECRET and not spec.type.repeated:
            return _cog().Secret(value)
        convert: Callable[[Any], Any] | None = {Convert.DOWNLOAD_PATH: self.path,
                                                 Convert.DOWNLOAD_FILE: self.file}.get(how)
        if convert is None:
            return value
        if spec.type.repeated and isinstance(value, list):
            return [convert(v) for v in value]
        return convert(value)


def prepare_inputs(runner_info: RunnerInfo, cleaned: dict, *, limits: InputLimits) -> tuple[dict, Callable[[], None]]:
    """Python values for run() and a cleanup callable that deletes downloaded temp files; InputError on failure."""
    preparer = _Preparer(limits)
    out: dict[str, Any] = {}
    for name, value in cleaned.items():
        spec = runner_info.input(name)
        try:
            out[name] = preparer.value(spec, value) if spec is not None else value
        except (InputError, ValueError, OSError) as err:
            preparer.cleanup()
            raise InputError(f"input {name}: {_input_problem(value, err)}") from None
    return out, preparer.cleanup


def _input_problem(value: Any, err: Exception) -> str:
    if isinstance(err, InputError):
        return str(err)
    if isinstance(err, OSError):
        return f"cannot store the file: {err.strerror or err}"
    # a ValueError: what URL parsing raises for a bad port or host ("http://h:99999/", "http://[::1/x")
    return f"invalid URL {safe_url(str(value))!r}: {err}"

