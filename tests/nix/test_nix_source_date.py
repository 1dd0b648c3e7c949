"""SOURCE_DATE_EPOCH in the Nix engine (nix/lib/source-date.nix through cognix.sourceDateEpoch): the same
image time as the native engine's image_created() for the same value, config `created`, its label and the
layers' mtime alike."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from nixeval import needs_nix, nix_eval, nix_eval_error

from cognix.engines.native.build import image_created
from cognix.errors import CognixError

pytestmark = needs_nix

# the option's default as the module system takes it when no module defines it (the stub lib's mkOption returns
# its argument, so .default is the declared value: SOURCE_DATE_EPOCH, read by getEnv), through mkCognixImage with
# nixpkgs stubbed (nix/tests/stub-pkgs.nix): what reaches streamLayeredImage
THROUGH_THE_OPTION = (
    "let stubs = import ./nix/tests/stub-pkgs.nix; "
    'cognixLib = import ./nix/lib { inherit (stubs) pkgs dream2nix; cognixSrc = "/cognix-src"; }; '
    "option = (import ./nix/modules/cognix.nix { lib = { mkOption = o: o; types = { }; }; }).options.cognix.sourceDateEpoch; "
    'args = (cognixLib.mkCognixImage { modelDir = ./nix/tests/fixtures/nix-model; name = "nix-model"; '
    "modules = [ { cognix.sourceDateEpoch = option.default; } ]; }).env.passthru; "
    "in { inherit (args.base.args) created; tar = builtins.head (builtins.split \"\\n\" args.base.args.fakeRootCommands); "
    "spec = builtins.head (builtins.match \".*'--epoch' '([0-9]+)'.*\" args.spec.script); }"
)


def _label(epoch: str, tmp_path: Path) -> str:
    """The created label `cognix image-spec --epoch` writes (what the conf derivation runs)."""
    from click.testing import CliRunner

    from cognix.cli.main import cli

    (tmp_path / "lock.json").write_text('{"cognix": {"config": {}}}')
    out = CliRunner().invoke(cli, ["image-spec", str(tmp_path), "--epoch", epoch], catch_exceptions=False).output
    return json.loads(out)["config"]["Labels"]["org.opencontainers.image.created"]

# the brief's values (leap days of 2000, 1980's stdenv default...), day and year edges, and a deterministic spread
EPOCHS = [0, 1, 59, 86399, 86400, 68169600, 315532800, 951782400, 951868799, 951868800, 978307199,
          1700000000, 1800000000, 4107456000, 4107542400, 253402300799]
EPOCHS += random.Random(12).sample(range(253402300800), 200)


def _native(monkeypatch: pytest.MonkeyPatch, stamp: str | None) -> str:
    if stamp is None:
        monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    else:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", stamp)
    return image_created()


def test_nix_dates_are_the_native_engines(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    got = nix_eval(f"map (import ./nix/lib/source-date.nix).rfc3339 [ {' '.join(map(str, EPOCHS))} ]", tmp_path)
    assert got == [_native(monkeypatch, str(e)) for e in EPOCHS]
    assert got[:2] == ["1970-01-01T00:00:00Z", "1970-01-01T00:00:01Z"] and got[7] == "2000-02-29T00:00:00Z"


def test_source_date_epoch_sets_the_nix_image_time(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Unset and two values: created, its label and the layers' mtime follow, as the native engine's."""
    seen = {}
    for stamp in (None, "1700000000", "1800000000"):
        native = _native(monkeypatch, stamp)  # nix-instantiate inherits this environment (nixeval._env)
        got = nix_eval(THROUGH_THE_OPTION, tmp_path)
        assert got == {"created": native, "spec": stamp or "1", "tar": f"SOURCE_DATE_EPOCH={stamp or 1}"}
        assert _label(got["spec"], tmp_path) == native
        seen[stamp] = got["created"]
    assert seen == {None: "1970-01-01T00:00:01Z", "1700000000": "2023-11-14T22:13:20Z", "1800000000": "2027-01-15T08:00:00Z"}


def test_a_bad_source_date_epoch_is_the_same_error_in_both_engines(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for stamp in ("yesterday", "-5", "1.5", "253402300800"):
        with pytest.raises(CognixError) as native:
            _native(monkeypatch, stamp)
        err = nix_eval_error(THROUGH_THE_OPTION, tmp_path)
        for part in (f"SOURCE_DATE_EPOCH={stamp!r}", "is not a time: it must be whole seconds since 1970-01-01 UTC"):
            assert part in str(native.value) and part in err, (part, err)
        assert "cognix.sourceDateEpoch" in err
