"""The marker that tells the native engine a model is Nix-only."""

from __future__ import annotations

from pathlib import Path

from cognix.engines.nix import NIX_ONLY_MARKER, nix_only_reason

REPO = Path(__file__).resolve().parents[2]


def test_ebsynth_is_nix_only() -> None:
    reason = nix_only_reason(REPO / "examples" / "ebsynth-cpu")
    assert reason is not None
    assert "needs the Nix engine" in reason and "nix build .#ebsynth-cpu" in reason


def test_plain_cog_models_are_not() -> None:
    assert nix_only_reason(REPO / "examples" / "hello") is None
    assert nix_only_reason(REPO / "examples" / "torch-demo") is None


def test_marker_is_a_file(tmp_path: Path) -> None:
    (tmp_path / NIX_ONLY_MARKER).mkdir()
    assert nix_only_reason(tmp_path) is None
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / NIX_ONLY_MARKER).write_text("{ }\n")
    assert nix_only_reason(tmp_path / "m") is not None
