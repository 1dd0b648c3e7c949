"""Fixtures for cognix.image tests: a private layer cache per test, a small plan."""

from __future__ import annotations

from pathlib import Path

import pytest
from image_trees import make_plan, make_src_tree, make_system_tree

from cognix.image.plan import ImagePlan


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def plan(tmp_path: Path) -> ImagePlan:
    return make_plan(make_system_tree(tmp_path / "system"), make_src_tree(tmp_path / "srcentry"))
