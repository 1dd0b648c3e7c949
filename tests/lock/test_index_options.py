"""Index options written inside requirements (--extra-index-url, --index-url, -f/--find-links) are honoured and
recorded in the lock, for python_requirements files and python_packages entries alike.

A local index on 127.0.0.1 serves packages the real package index does not have; the runtime's own requirements
still resolve from the machine's configured index.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from indexkit import World, wheel_bytes, write_page
from servicekit import static_files

from cognix.lock import lock_model

HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello"
pytestmark = pytest.mark.slow


@pytest.fixture
def world(tmp_path: Path):
    root = tmp_path / "www"
    world = World(root)
    world.package("cognix-probe-extra", "1.0")
    filename, data = wheel_bytes("cognix-probe-links", "2.0", "py3-none-any")
    (root / "links").mkdir(parents=True)
    (root / "links" / filename).write_bytes(data)
    write_page(root / "links", [(filename, filename)])
    with static_files(root) as (base, requests):
        world.url = base
        yield world, requests


def _model(tmp_path: Path, build_lines: str, files: dict[str, str] | None = None) -> Path:
    model = tmp_path / "m"
    shutil.copytree(HELLO, model, ignore=shutil.ignore_patterns("result", "lock.json", "__pycache__"))
    (model / "cog.yaml").write_text((model / "cog.yaml").read_text().replace("build:\n", f"build:\n{build_lines}", 1))
    for name, text in (files or {}).items():
        (model / name).write_text(text)
    return model


def test_requirements_file_options(tmp_path: Path, world) -> None:
    w, requests = world
    model = _model(tmp_path, "  python_requirements: requirements.txt\n", {"requirements.txt": (
        f"--extra-index-url {w.simple}\n-f {w.url}/links/\ncognix-probe-extra==1.0\ncognix-probe-links==2.0\nidna\n")})
    lock = lock_model(model)
    extra, links = lock.wheel("cognix-probe-extra"), lock.wheel("cognix-probe-links")
    assert extra is not None and extra.url.startswith(w.url + "/") and extra.requested
    assert links is not None and links.url.startswith(f"{w.url}/links/")
    assert w.simple in lock.index_urls and lock.find_links == [f"{w.url}/links/"]
    idna = lock.wheel("idna")
    assert idna is not None and not idna.url.startswith(w.url)  # the rest from the configured index
    assert any(r.startswith("/simple/cognix-probe-extra") for r in requests)


def test_python_packages_entries_with_options(tmp_path: Path, world) -> None:
    w, _requests = world
    model = _model(tmp_path, f'  python_packages:\n    - "--extra-index-url {w.simple}"\n'
                             f'    - "--find-links {w.url}/links/"\n    - "cognix-probe-extra==1.0"\n'
                             f'    - "cognix-probe-links"\n')
    lock = lock_model(model)
    assert lock.wheel("cognix-probe-extra") is not None and lock.wheel("cognix-probe-links") is not None
    assert w.simple in lock.index_urls and f"{w.url}/links/" in lock.find_links
