"""Index selection: options, the model's requirements, then the machine's config; never machine-local."""

from __future__ import annotations

import pytest

from cognix.errors import LockError
from cognix.lock import index as index_mod
from cognix.lock.index import choose_index, machine_index, redact


@pytest.fixture
def pip_conf(tmp_path, monkeypatch):
    for var in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_INDEX", "UV_INDEX_URL", "UV_DEFAULT_INDEX",
                "UV_EXTRA_INDEX_URL"):
        monkeypatch.delenv(var, raising=False)
    conf = tmp_path / "pip.conf"
    monkeypatch.setattr(index_mod, "_pip_config_files", lambda: [conf])
    return conf


def test_machine_config_is_read_and_local_entries_dropped(pip_conf):
    pip_conf.write_text("[global]\nfind-links = /opt/wheels\nindex-url = https://mirror.invalid/simple\n"
                        "extra-index-url = file:///opt/local https://extra.invalid/simple\n")
    cfg = machine_index()
    assert cfg.index_url == "https://mirror.invalid/simple"
    assert cfg.extra_index_urls == ["https://extra.invalid/simple"]


def test_file_index_in_machine_config_is_ignored(pip_conf):
    pip_conf.write_text("[global]\nindex-url = file:///opt/simple\n")
    assert machine_index().index_url is None


def test_env_beats_files_and_install_beats_global(pip_conf, monkeypatch):
    pip_conf.write_text("[global]\nindex-url = https://g.invalid/simple\n[install]\nindex-url = https://i.invalid/simple\n")
    assert machine_index().index_url == "https://i.invalid/simple"
    monkeypatch.setenv("PIP_INDEX_URL", "https://env.invalid/simple")
    assert machine_index().index_url == "https://env.invalid/simple"


def test_no_index_anywhere_leaves_uv_default(pip_conf):
    assert choose_index(option=None, model_index=None, model_extras=[]).index_url is None


def test_priority_option_then_model_then_machine(pip_conf, monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", "https://env.invalid/simple")
    assert choose_index(option=None, model_index=None, model_extras=[]).index_url == "https://env.invalid/simple"
    chosen = choose_index(option=None, model_index="https://model.invalid/simple",
                          model_extras=["https://cuda.invalid/whl"])
    assert chosen.index_url == "https://model.invalid/simple"
    assert chosen.extra_index_urls == ["https://cuda.invalid/whl"]
    assert choose_index(option="https://opt.invalid/simple", model_index="https://model.invalid/simple",
                        model_extras=[]).index_url == "https://opt.invalid/simple"


def test_explicit_local_index_is_refused(pip_conf):
    with pytest.raises(LockError, match="not an http"):
        choose_index(option="file:///opt/wheels", model_index=None, model_extras=[])
    with pytest.raises(LockError, match="not an http"):
        choose_index(option=None, model_index=None, model_extras=["/opt/wheels"])


def test_redact():
    assert redact("https://user:secret@host.invalid/simple") == "https://host.invalid/simple"
    assert redact("https://host.invalid/simple") == "https://host.invalid/simple"
