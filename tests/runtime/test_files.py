"""File inputs (data: and http URLs, limits, private-address refusal), output encoding, secret redaction."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import enum
import io
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator, List

import pytest

from cognix.runtime.encoding import REDACTED, encode_output, redact, secret_fields
from cognix.runtime.files import InputError, InputLimits, check_host, derived_filename, prepare_inputs
from cognix.runtime.predictor import RunnerInfo, load_runner
from cognix.runtime.schema import openapi_schema

MODEL = """
from typing import List, Optional
from cog import BasePredictor, File, Input, Path, Secret

class Predictor(BasePredictor):
    def predict(self, image: Path, images: List[Path] = Input(default=[]), doc: File = Input(default=None),
                token: Secret = Input(default=None), keys: List[Secret] = Input(default=[]),
                other: str = "x", maybe: Optional[Path] = None) -> str:
        return ""
"""


@pytest.fixture(scope="module")
def info(tmp_path_factory: pytest.TempPathFactory) -> RunnerInfo:
    tmp = tmp_path_factory.mktemp("files")
    (tmp / "predict.py").write_text(textwrap.dedent(MODEL))
    return load_runner("predict.py:Predictor", cwd=tmp).info


class _Handler(BaseHTTPRequestHandler):
    files = {"/dir/hello%20world.txt": b"hello", "/big.bin": b"x" * 5000}

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/dir/hello%20world.txt")
            self.end_headers()
            return
        data = self.files.get(self.path)
        self.send_response(200 if data is not None else 404)
        self.send_header("content-length", str(len(data or b"")))
        self.end_headers()
        self.wfile.write(data or b"")


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


DATA_URL = "data:text/plain;base64," + base64.b64encode(b"hi there").decode()
OPEN = InputLimits(max_bytes=1 << 20, timeout_s=10, allow_private=True)
STRICT = InputLimits(max_bytes=1 << 20, timeout_s=10, allow_private=False)


def test_data_url_becomes_named_temp_file_and_cleanup_removes_it(info: RunnerInfo) -> None:
    import cog

    values, cleanup = prepare_inputs(info, {"image": DATA_URL, "images": [DATA_URL, DATA_URL], "other": "y",
                                            "maybe": None}, limits=STRICT)
    image = values["image"]
    assert isinstance(image, cog.Path) and image.name.endswith("file.txt") and image.read_bytes() == b"hi there"
    assert [p.read_bytes() for p in values["images"]] == [b"hi there", b"hi there"]
    assert values["other"] == "y" and values["maybe"] is None
    cleanup()
    assert not image.exists() and not any(p.exists() for p in values["images"])


def test_secret_and_file_values(info: RunnerInfo) -> None:
    import cog

    values, cleanup = prepare_inputs(info, {"image": "/local/path", "doc": DATA_URL, "token": "s3cret",
                                            "keys": ["a", "b"]}, limits=STRICT)
    assert isinstance(values["token"], cog.Secret) and values["token"].get_secret_value() == "s3cret"
    assert values["keys"] == ["a", "b"]  # list[Secret] arrives as plain strings, like cog
    assert isinstance(values["doc"], io.IOBase) and values["doc"].read() == b"hi there"
    assert values["image"] == "/local/path" and not isinstance(values["image"], cog.Path)  # passed through
    cleanup()


def test_bad_data_url(info: RunnerInfo) -> None:
    with pytest.raises(InputError, match="invalid base64"):
        prepare_inputs(info, {"image": "data:text/plain;base64,@@@"}, limits=STRICT)


def test_loopback_url_refused_unless_allowed(info: RunnerInfo, http_url: str) -> None:
    url = f"{http_url}/dir/hello%20world.txt"
    with pytest.raises(InputError, match="loopback, link-local or metadata"):
        prepare_inputs(info, {"image": url}, limits=STRICT)
    values, cleanup = prepare_inputs(info, {"image": url}, limits=OPEN)
    assert values["image"].name.endswith("hello world.txt") and values["image"].read_bytes() == b"hello"
    cleanup()


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data", "http://[::1]/x", "http://0.0.0.0/x",
                                 "http://localhost/x", "http://[fe80::1]/x"])
def test_private_hosts_refused(url: str) -> None:
    with pytest.raises(InputError, match="refusing"):
        check_host(url, allow_private=False)


def test_download_follows_redirects_and_fails_cleanly(info: RunnerInfo, http_url: str) -> None:
    values, cleanup = prepare_inputs(info, {"image": f"{http_url}/redirect"}, limits=OPEN)
    assert values["image"].read_bytes() == b"hello"
    cleanup()
    with pytest.raises(InputError, match="HTTP 404"):
        prepare_inputs(info, {"image": f"{http_url}/missing.png"}, limits=OPEN)
    with pytest.raises(InputError, match="over the limit"):
        prepare_inputs(info, {"image": f"{http_url}/big.bin"},
                       limits=InputLimits(max_bytes=100, timeout_s=10, allow_private=True))


def test_derived_filenames() -> None:
    assert derived_filename("data:text/plain;base64,aGk=") == "file.txt"
    assert derived_filename("data:application/x-unknown-zz;base64,aGk=") == "file"
    assert derived_filename("https://h/a/b%2Fc.png?x=1") == "b_c.png"
    long = derived_filename("https://h/" + "a" * 300 + ".txt")
    assert long.endswith("~.txt") and len(long.encode()) == 200


# ------------------------------------------------------------------------------------------- outputs


def test_encode_paths_lists_and_nesting(tmp_path: Path) -> None:
    import cog

    files = []
    for name, body in [("thing0.txt", b"zero"), ("thing1.json", b"{}"), ("thing2.bin", b"\x00")]:
        path = tmp_path / name
        path.write_bytes(body)
        files.append(cog.Path(path))

    class Out(cog.BaseModel):
        items: list
        card: cog.Path

    encoded = encode_output({"out": Out(items=files, card=files[0]), "t": (1, 2)})
    items = encoded["out"]["items"]
    assert items[0] == "data:text/plain;base64," + base64.b64encode(b"zero").decode()
    assert items[1].startswith("data:application/json;base64,")
    assert items[2].startswith("data:application/octet-stream;base64,")
    assert encoded["out"]["card"] == items[0] and encoded["t"] == [1, 2]

    uploaded: list[str] = []

    def upload(path: Path) -> str:
        uploaded.append(path.name)
        return f"https://store.example/{path.name}"

    assert encode_output(files, upload=upload) == [f"https://store.example/thing{i}{p.suffix}"
                                                   for i, p in enumerate(files)]
    assert uploaded == ["thing0.txt", "thing1.json", "thing2.bin"]


def test_encode_other_values() -> None:
    import cog

    class Color(enum.Enum):
        RED = "red"

    @dataclasses.dataclass
    class Plain:
        when: datetime.date

    class FakeArray:  # numpy-like duck type
        __module__ = "numpy"

        def tolist(self) -> list:
            return [1, 2]

        def item(self) -> int:
            return 1

    def gen() -> Iterator[int]:
        yield from (3, 4)

    assert encode_output(Color.RED) == "red"
    assert encode_output(Plain(datetime.date(2024, 1, 2))) == {"when": "2024-01-02"}
    assert encode_output(FakeArray()) == [1, 2]
    assert encode_output(gen()) == [3, 4]
    assert encode_output(io.BytesIO(b"ab")) == "data:application/octet-stream;base64,YWI="
    assert encode_output(cog.Secret("nope")) == REDACTED
    with pytest.raises(TypeError, match="cannot encode output of type object"):
        encode_output(object())


def test_pydantic_model_output() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Out(pydantic.BaseModel):
        a: int
        b: List[str]

    assert encode_output(Out(a=1, b=["x"])) == {"a": 1, "b": ["x"]}


def test_secrets_redacted(info: RunnerInfo, tmp_path: Path) -> None:
    import cog

    (tmp_path / "predict.py").write_text(textwrap.dedent(MODEL))
    schema = openapi_schema(load_runner("predict.py:Predictor", cwd=tmp_path), None)
    names = secret_fields(schema)
    assert names == {"token", "keys"}
    payload = {"token": "s3cret", "keys": ["a", "b"], "other": "visible", "nested": {"s": cog.Secret("x")},
               "maybe": None}
    assert redact(payload, names) == {"token": REDACTED, "keys": [REDACTED, REDACTED], "other": "visible",
                                      "nested": {"s": REDACTED}, "maybe": None}
    assert payload["token"] == "s3cret"  # a copy, the original is untouched


def test_connect_time_guard_catches_rebinding(info: RunnerInfo, http_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # the name check passed (as if DNS first answered a public address); the dialled address is still checked
    monkeypatch.setattr("cognix.runtime.files.check_host", lambda url, allow_private: None)
    with pytest.raises(InputError, match="refusing to download"):
        prepare_inputs(info, {"image": f"{http_url}/dir/hello%20world.txt"}, limits=STRICT)


def test_sent_outputs_removed_only_when_made_in_temp_during_the_prediction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import tempfile
    import time

    from cognix.runtime.encoding import remove_sent_outputs

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    kept_asset = tmp_path / "src" / "asset.png"  # the model's own file: outside the temp directory
    kept_asset.parent.mkdir()
    kept_asset.write_bytes(b"x")
    old = temp / "from-setup.png"  # made before the prediction started
    old.write_bytes(b"x")
    since = time.time() + 0.5
    time.sleep(0.6)
    made_dir = Path(tempfile.mkdtemp())
    out = made_dir / "out.png"
    out.write_bytes(b"x")
    shared = temp / "outputs"
    shared.mkdir()
    loose = shared / "a.png"
    loose.write_bytes(b"x")
    remove_sent_outputs([out, loose, kept_asset, old, temp / "missing.png"], since=since)
    assert not out.exists() and not made_dir.exists()  # a mkdtemp() directory left empty goes with its file
    assert not loose.exists() and shared.is_dir()  # any other directory stays: the model may write there again
    assert kept_asset.exists() and old.exists()
    assert sorted(os.listdir(temp)) == ["from-setup.png", "outputs"]

