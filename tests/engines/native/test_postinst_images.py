"""Integration: Debian packages work in built images as after `apt-get install` (the system/postinst layer), with real
packages from the Debian mirror and wheels from the package index, run in Docker.

ffmpeg needs libblas.so.3, which only an update-alternatives link of libblas3's postinst provides; opencv-python's
cv2 needs libGL.so.1 and GLib from system_packages; fontconfig's caches are made at build time and valid in the
image. Two builds from empty caches give the same image."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import dockerkit
import httpx
import pytest

from cognix.engines.native.build import build
from cognix.errors import StoreError
from cognix.lock import lock_model, write_lock

pytestmark = pytest.mark.slow
MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def _model(root: Path, name: str, cog_yaml: str, predict: str) -> Path:
    model = root / name
    model.mkdir()
    (model / "cog.yaml").write_text(textwrap.dedent(cog_yaml))
    (model / "predict.py").write_text(textwrap.dedent(predict))
    return model


def _build(model: Path, out: Path):
    write_lock(model, lock_model(model))
    return build(model, out=out)


def _docker(tag: str, *args: str, entrypoint: str | None = None, env: dict[str, str] | None = None) -> str:
    cmd = ["docker", "run", "--rm", *(["--entrypoint", entrypoint] if entrypoint else [])]
    for k, v in (env or {}).items():
        cmd += ["-e", f"{k}={v}"]
    proc = subprocess.run([*cmd, tag, *args], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def _predict(tag: str, inputs: dict) -> dict:
    with dockerkit.running(tag) as (base, _cid):
        dockerkit.wait_ready(base)
        body = httpx.post(f"{base}/predictions", json={"input": inputs}, timeout=120).json()
    assert body["status"] == "succeeded", body
    return body


def test_ffmpeg_runs_and_two_clean_builds_are_identical(tmp_path: Path, cache: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    dockerkit.docker_or_skip()
    model = tmp_path / "py311-ffmpeg-libgl"
    shutil.copytree(MODELS / "py311-ffmpeg-libgl", model, ignore=shutil.ignore_patterns("lock.json", "result"))
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(cache))
    result = _build(model, tmp_path / "result")
    lock = json.loads((model / "lock.json").read_text())["cognix"]
    assert "libc-bin" in [d["package"] for d in lock["build_debs"]]  # ldconfig: at build time only
    assert "libc-bin" not in [d["package"] for d in lock["debs"]]
    assert "system/postinst" in [e.name for layer in result.plan.layers for e in layer.entries]
    tag = result.plan.repo_tag
    dockerkit.load(result.result_path)
    try:
        assert _docker(tag, "-version", entrypoint="/usr/bin/ffmpeg").startswith("ffmpeg version")
        listed = _docker(tag, "--list", "/usr/bin/ffmpeg", entrypoint="/lib64/ld-linux-x86-64.so.2")
        assert "libblas.so.3 => /" in listed and "not found" not in listed
        assert _docker(tag, "-c", "import os; print(os.path.realpath('/usr/lib/x86_64-linux-gnu/libblas.so.3'))",
                       entrypoint="python").strip() == "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0"
        body = _predict(tag, {"seconds": 0.2})
        assert "libGL ok glib ok wav True" in body["output"]["status"]
        assert body["output"]["audio"].startswith("data:audio/")
    finally:
        dockerkit.remove_image(tag)
    # again from an empty cache (same lock, same directory name): the same image, byte for byte
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache2"))
    again = build(model, out=tmp_path / "result2")
    assert again.image_id == result.image_id
    assert [(layer.comment, [e.digest for e in layer.entries]) for layer in again.plan.layers] == \
        [(layer.comment, [e.digest for e in layer.entries]) for layer in result.plan.layers]


CV2_YAML = """\
build:
  python_version: "3.11"
  system_packages:
{packages}
  python_packages:
    - "opencv-python==4.10.0.84"
predict: "predict.py:Predictor"
"""
CV2_PREDICT = """\
import cv2
import numpy as np
from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, size: int = 8) -> str:
        img = np.zeros((size, size, 3), np.uint8)
        img[:, : size // 2] = (255, 0, 0)
        ok, buf = cv2.imencode(".png", cv2.GaussianBlur(img, (3, 3), 0))
        return f"cv2 {cv2.__version__} png {ok} {len(buf) > 0}"
"""


def test_cv2_imports_with_libgl1_mesa_glx_and_glib(tmp_path: Path, cache: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    dockerkit.docker_or_skip()
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(cache))
    packages = '    - "libgl1-mesa-glx"\n    - "libglib2.0-0"'
    model = _model(tmp_path, "cv2-model", CV2_YAML.format(packages=packages), CV2_PREDICT)
    result = _build(model, tmp_path / "result")
    lock = json.loads((model / "lock.json").read_text())["cognix"]
    assert {"libgl1-mesa-glx", "libgl1", "libglib2.0-0"} <= {d["package"] for d in lock["debs"]}  # bookworm's
    dockerkit.load(result.result_path)  # libgl1-mesa-glx is a transitional package there, pulling in libgl1
    try:
        assert _predict(result.plan.repo_tag, {})["output"] == "cv2 4.10.0 png True True"
    finally:
        dockerkit.remove_image(result.plan.repo_tag)


def test_cv2_without_libgl_fails_the_build_naming_the_package(tmp_path: Path, cache: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(cache))
    model = _model(tmp_path, "cv2-nogl", CV2_YAML.format(packages='    - "libglib2.0-0"'), CV2_PREDICT)
    with pytest.raises(StoreError) as err:
        _build(model, tmp_path / "result")
    text = err.value.message
    assert "libGL.so.1, needed by /usr/lib/python3/dist-packages/" in text and "Debian package libgl1" in text
    assert "add libgl1 to build.system_packages" in text


FONTS_YAML = """\
build:
  python_version: "3.11"
  system_packages:
    - "fontconfig"
    - "fonts-dejavu-core"
  python_packages:
    - "pillow==11.0.0"
predict: "predict.py:Predictor"
"""
FONTS_PREDICT = """\
import subprocess

from cog import BasePredictor
from PIL import Image, ImageDraw, ImageFont


class Predictor(BasePredictor):
    def predict(self, text: str = "cognix") -> str:
        path = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans:bold"], capture_output=True, text=True,
                              check=True).stdout
        font = ImageFont.truetype(path, 32)
        img = Image.new("L", (400, 60))
        ImageDraw.Draw(img).text((5, 5), text, font=font, fill=255)
        return f"{path} {img.getbbox() is not None}"
"""


def test_fontconfig_finds_fonts_through_caches_made_at_build_time(tmp_path: Path, cache: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    dockerkit.docker_or_skip()
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(cache))
    model = _model(tmp_path, "fonts-model", FONTS_YAML, FONTS_PREDICT)
    result = _build(model, tmp_path / "result")
    postinst = next(e for layer in result.plan.layers for e in layer.entries if e.name == "system/postinst")
    caches = sorted(p.name for p in (Path(postinst.root) / "var/cache/fontconfig").iterdir())
    assert "CACHEDIR.TAG" in caches and any(c.endswith(".cache-8") for c in caches)
    tag = result.plan.repo_tag
    dockerkit.load(result.result_path)
    try:
        # as the image's user, who can't write the system cache: every directory is served from it, none rescanned
        debug = _docker(tag, entrypoint="/usr/bin/fc-list", env={"FC_DEBUG": "16"})
        assert 'FcCacheTimeValid dir "/usr/share/fonts/truetype/dejavu" cache checksum 1.0 dir checksum 1.0' in debug
        assert "DejaVuSans-Bold.ttf" in debug and "scanning" not in debug.lower()
        output = _predict(tag, {"text": "hello"})["output"]
        assert output == "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf True"
    finally:
        dockerkit.remove_image(tag)
