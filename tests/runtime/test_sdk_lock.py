"""The lock resolves, with the runtime's own requirements, the packages upstream's Cog SDK brings (cognix.lock.sdk):
per build.sdk_version, loosened so old pins still lock, and none when the model locks upstream `cog` itself.

The slow tests resolve against the configured package index, for the oldest and the newest Python.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cognix.lock import lockfile
from cognix.lock.python import Resolution
from cognix.lock.sdk import loosened, requirement_name, sdk_release, sdk_requirements

CURRENT = ["pyyaml", "requests", "structlog", "typing-extensions"]
PYDANTIC_ERA = ["PyYAML", "attrs<24", "fastapi<0.116.0", "pydantic<3", "requests<3", "structlog<25",
                "typing-extensions", "uvicorn<1"]


def test_sets_per_release() -> None:
    assert sdk_requirements(None, []) == CURRENT  # Cog's current release (0.23.1)
    assert sdk_requirements("prerelease", []) == CURRENT
    assert str(sdk_release(None).version) == "0.23.1"
    assert sdk_requirements("0.17.2", []) == CURRENT
    assert sdk_requirements("0.16.0", []) == PYDANTIC_ERA
    assert "fastapi<0.119.0" in sdk_requirements("0.16.12", [])
    assert "pydantic<2" in sdk_requirements("0.9.26", []) and "pydantic<2" in sdk_requirements("0.8.6", [])
    assert "httpx<0.28.0" in sdk_requirements("0.10.0a27", [])


def test_loosened_for_old_pins() -> None:
    assert loosened("uvicorn[standard]<1,>=0.12") == "uvicorn<1"
    assert loosened("typing-extensions>=4.4.0") == "typing-extensions"
    assert loosened('typing-compat; python_version < "3.8"') == 'typing-compat; python_version < "3.8"'
    # the model's own requirement for a package replaces the SDK's
    assert "pydantic<3" not in sdk_requirements("0.16.0", ["pydantic==1.10.13", "torch"])
    assert "requests" not in sdk_requirements(None, ["Requests[socks]>=2"])


def test_nothing_when_the_model_locks_upstream_cog() -> None:
    for line in ["cog==0.16.12", "cog", "cog @ https://example.test/cog-0.16.12-py3-none-any.whl",
                 "https://example.test/dist/cog-0.23.1-py3-none-any.whl"]:
        assert requirement_name(line) == "cog"
        assert sdk_requirements("0.16.12", [line]) == [] and sdk_requirements(None, [line]) == []


def test_lock_wheels_resolves_them_with_the_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cognix.config import load_config
    from cognix.lock.target import make_target

    (tmp_path / "cog.yaml").write_text('build:\n  python_version: "3.11"\n  sdk_version: "0.16.0"\n'
                                       '  python_packages:\n    - "pydantic==1.10.13"\npredict: "predict.py:P"\n')
    seen = {}

    def fake_resolve(model_lines, runtime_lines, target, index, **kwargs):  # noqa: ANN001, ANN003, ANN202
        seen["model"], seen["runtime"] = list(model_lines), list(runtime_lines)
        return Resolution(wheels=[], index_urls=[])

    monkeypatch.setattr(lockfile, "resolve_wheels", fake_resolve)
    config = load_config(tmp_path)
    lockfile._lock_wheels(tmp_path, config, make_target("3.11", glibc="2.36", debian_suite="bookworm"),
                          index_url="https://index.example.test/simple", torch_index=None,
                          progress=lockfile.Silent())
    assert seen["model"] == ["pydantic==1.10.13"]
    assert seen["runtime"] == lockfile.runtime_requirements() + [r for r in PYDANTIC_ERA if r != "pydantic<3"]


# ---------------------------------------------------------------------------------------------- the real index


def _resolve(model: list[str], sdk_version: str | None, python: str) -> dict:
    from cognix.lock.index import choose_index
    from cognix.lock.python import resolve_wheels
    from cognix.lock.target import make_target, python_source_for

    target = make_target(python, python_source=python_source_for(python))
    index = choose_index(option=None, model_index=None, model_extras=[])
    runtime = lockfile.runtime_requirements() + sdk_requirements(sdk_version, model)
    return {w.name: w.version for w in resolve_wheels(model, runtime, target, index).wheels}


@pytest.mark.slow
@pytest.mark.parametrize("python", ["3.8", "3.14"])
def test_current_sdk_set_locks_on_every_python(python: str) -> None:
    wheels = _resolve(["numpy"], None, python)
    assert {"requests", "pyyaml", "structlog", "typing-extensions", "starlette", "uvicorn", "httpx"} <= set(wheels)


@pytest.mark.slow
@pytest.mark.parametrize("python", ["3.8", "3.11"])
def test_pydantic_era_set_locks_with_an_old_pydantic_pin(python: str) -> None:
    from packaging.version import Version

    wheels = _resolve(["pydantic==1.10.13"], "0.16.0", python)
    assert wheels["pydantic"] == "1.10.13"
    assert Version(wheels["fastapi"]) < Version("0.116") and Version(wheels["attrs"]) < Version("24")
    assert {"uvicorn", "structlog", "requests", "pyyaml"} <= set(wheels) and "uvloop" not in wheels
