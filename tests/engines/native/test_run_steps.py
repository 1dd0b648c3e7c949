"""build.run: commands run over the assembled tree; additions and deletions (OCI whiteouts) form one layer."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from cognix.engines.native.build import build
from cognix.engines.native.run_steps import _removed
from cognix.lock import lock_model, write_lock
from cognix.lock.debian import build_only_packages

HELLO = Path(__file__).resolve().parents[3] / "examples" / "hello"


def test_build_only_packages() -> None:
    assert build_only_packages("3.11", sdists=False, run_steps=False) == []
    run = build_only_packages("3.11", sdists=False, run_steps=True)
    assert {"bash", "curl", "wget", "git", "dash", "coreutils", "gcc", "make"} <= set(run)
    assert "curl" not in build_only_packages("3.11", sdists=True, run_steps=False)


def test_removed_lists_topmost_deleted_paths() -> None:
    before = {p: (0,) for p in ["a", "a/b", "a/b/c", "d", "e", "tmp/x"]}
    after = {"d": (0,)}
    assert _removed(before, after) == ["a", "e"]


@pytest.mark.slow
def test_run_commands_add_and_delete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("bwrap") is None or shutil.which("umoci") is None:
        pytest.skip("bubblewrap and umoci are needed")
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    model = tmp_path / "hello"
    shutil.copytree(HELLO, model, ignore=shutil.ignore_patterns("result", "lock.json", "__pycache__"))
    (model / "cog.yaml").write_text((model / "cog.yaml").read_text().replace(
        'python_version: "3.11"',
        'python_version: "3.11"\n  system_packages: [dash, coreutils]\n'
        '  run:\n    - "echo made-by-run > /etc/run-marker && rm /usr/bin/yes"\n'
        '  pre_install:\n    - "mkdir -p /opt/pre && cp /etc/run-marker /opt/pre/"'))
    write_lock(model, lock_model(model))
    layout = tmp_path / "oci"
    result = build(model, out=tmp_path / "result", oci_layout=layout)
    run_layer = [layer for layer in result.plan.layers if any(e.name == "run" for e in layer.entries)]
    assert len(run_layer) == 1
    run_root = Path(next(e for e in run_layer[0].entries if e.name == "run").root)
    assert (run_root / "usr/bin/.wh.yes").is_file() and (run_root / "usr/bin/.wh.yes").stat().st_size == 0
    assert (run_root / "etc/run-marker").read_text() == "made-by-run\n"
    assert not (run_root / "usr/bin/dash").exists()  # only what the commands changed

    tag = json.loads((layout / "index.json").read_text())["manifests"][0]["annotations"][
        "org.opencontainers.image.ref.name"]
    bundle = tmp_path / "bundle"
    unpack = subprocess.run(["umoci", "unpack", "--rootless", "--image", f"{layout}:{tag}", str(bundle)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert unpack.returncode == 0, unpack.stderr
    rootfs = bundle / "rootfs"
    assert not (rootfs / "usr/bin/yes").exists() and not (rootfs / "usr/bin/.wh.yes").exists()
    assert (rootfs / "bin/cat").exists() or (rootfs / "usr/bin/cat").exists()
    assert (rootfs / "opt/pre/run-marker").read_text() == "made-by-run\n"  # pre_install ran after run

    # a docker-archive carries the whiteout as a tar member in the run layer
    archive = tmp_path / "image.tar"
    with archive.open("wb") as out:
        subprocess.run([str(result.result_path)], stdout=out, check=True, timeout=300)
    with tarfile.open(archive) as outer:
        names = set()
        for member in outer.getmembers():
            if member.name.endswith(".tar") and member.isfile():
                with tarfile.open(fileobj=outer.extractfile(member)) as layer:
                    names |= set(layer.getnames())
    assert "usr/bin/.wh.yes" in names and "etc/run-marker" in names


def test_assemble_applies_whiteouts(tmp_path: Path) -> None:
    from cognix.engines.native.sandbox import assemble
    from cognix.image.plan import Entry

    lower, upper, dest = tmp_path / "lower", tmp_path / "upper", tmp_path / "dest"
    (lower / "usr/bin").mkdir(parents=True)
    (lower / "usr/bin/yes").write_text("y")
    (lower / "usr/bin/cat").write_text("c")
    (lower / "opt/d").mkdir(parents=True)
    (lower / "opt/d/f").write_text("f")
    (upper / "usr/bin").mkdir(parents=True)
    (upper / "usr/bin/.wh.yes").write_bytes(b"")
    (upper / "opt").mkdir()
    (upper / "opt/.wh.d").write_bytes(b"")
    dest.mkdir()
    entries = [Entry(name=n, root=str(r), size=0, references=[], digest=n) for n, r in [("l", lower), ("u", upper)]]
    assemble(entries, dest, link=False)
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*")) == ["opt", "usr", "usr/bin", "usr/bin/cat"]


# --- build.run as on Cog: tools, network, mounts, secrets, reproducibility ----------------------------------------

def test_mount_flags_are_read_as_docker_reads_them() -> None:
    from cognix.config.model import RunStep
    from cognix.engines.native.run_steps import CacheMount, SecretMount, parse_steps
    from cognix.errors import StoreError

    (plain, cached, both) = parse_steps([
        RunStep(command="echo hi"),
        RunStep(command="--mount=type=cache,target=/root/.cache/pip pip install x==1"),
        RunStep(command="--mount=type=secret,id=tok --mount=type=cache,target=/c,id=shared curl -H @/run/secrets/tok"),
    ])
    assert (plain.command, plain.caches, plain.secrets) == ("echo hi", (), ())
    assert cached.command == "pip install x==1" and cached.caches == (CacheMount("/root/.cache/pip", "/root/.cache/pip"),)
    assert both.command == "curl -H @/run/secrets/tok"
    assert both.secrets == (SecretMount("tok", "/run/secrets/tok", False),) and both.caches == (CacheMount("/c", "shared"),)
    with pytest.raises(StoreError, match="type=bind is not supported"):
        parse_steps([RunStep(command="--mount=type=bind,target=/x true")])


def _run_model(tmp_path: Path, steps: list[str], extra: str = "") -> Path:
    model = tmp_path / "runs"
    shutil.copytree(HELLO, model, ignore=shutil.ignore_patterns("result", "lock.json", "__pycache__"))
    lines = "".join(f"    - {json.dumps(s)}\n" for s in steps)
    (model / "cog.yaml").write_text((model / "cog.yaml").read_text().replace(
        'python_version: "3.11"', f'python_version: "3.11"\n{extra}  run:\n{lines}'))
    return model


@pytest.fixture
def served(tmp_path: Path):
    from servicekit import static_files

    www = tmp_path / "www"
    www.mkdir()
    (www / "tool.sh").write_text("#!/bin/sh\necho fetched-tool\n")
    with static_files(www) as (base, _requests):
        yield base


@pytest.mark.slow
def test_steps_get_cogs_tools_network_pip_and_mounts(tmp_path: Path, served: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from cognix.engines.native.run_steps import RunContext
    from cognix.errors import StoreError
    from cognix.lock.lockfile import read_lock

    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is needed")
    secret = tmp_path / "token.txt"
    secret.write_text("s3cr3t-value\n")
    model = _run_model(tmp_path, [
        f"curl -fsSL {served}/tool.sh -o /usr/local/bin/fetched && chmod +x /usr/local/bin/fetched",
        "--mount=type=cache,target=/root/.cache/pip pip install idna==3.7",
        "--mount=type=secret,id=tok,target=/run/secrets/tok test \"$(cat /run/secrets/tok)\" = s3cr3t-value "
        "&& wget -q -O /opt/tool.copy " + served + "/tool.sh && git --version > /opt/git-version",
    ])
    write_lock(model, lock_model(model))
    ids = []
    for n in range(2):  # two builds from empty caches: the same image
        monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / f"cache{n}"))
        result = build(model, out=tmp_path / f"result{n}", run_context=RunContext(secrets={"tok": secret}))
        ids.append(result.image_id)
        run = next(e for layer in result.plan.layers for e in layer.entries if e.name == "run")
        root = Path(run.root)
        assert (root / "usr/local/bin/fetched").read_text() == "#!/bin/sh\necho fetched-tool\n"
        site = root / "usr/local/lib/python3.11/dist-packages"
        assert (site / "idna/__init__.py").is_file() and not list(site.rglob("*.pyc"))  # pip into the image
        assert not (root / "root/.cache/pip").exists() and not (root / "run/secrets").exists()
        assert not (root / "usr/bin/curl").exists() and not (root / "usr/bin/git").exists()  # tools: steps only
        text = "".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())
        assert "s3cr3t-value" not in text
        assert list((tmp_path / f"cache{n}" / "run-caches").rglob("*"))  # pip's cache, kept between builds
    assert ids[0] == ids[1]
    records = read_lock(model).run_records
    assert len(records) == 3 and "usr/local/bin/fetched" in records[0].files
    # the secret is required by cog.yaml's step; without it, a clear error
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache2"))
    model2 = _run_model(tmp_path / "m2", ["--mount=type=secret,id=tok,required=true cat /run/secrets/tok"])
    write_lock(model2, lock_model(model2))
    with pytest.raises(StoreError, match="needs the secret 'tok'"):
        build(model2, out=tmp_path / "r2")


@pytest.mark.slow
def test_a_step_that_writes_something_else_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cognix.engines.native.run_steps import RunContext
    from cognix.errors import StoreError
    from cognix.lock.lockfile import read_lock

    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is needed")
    model = _run_model(tmp_path, ["echo stable > /opt/stable", "date +%s%N > /opt/stamp"])
    write_lock(model, lock_model(model))
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "a"))
    build(model, out=tmp_path / "r1")
    first = read_lock(model).run_records
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "b"))
    with pytest.raises(StoreError) as err:
        build(model, out=tmp_path / "r2")
    assert "build.run[1] wrote something else" in err.value.what and "/opt/stamp" in err.value.what
    assert "--update-run-digests" in (err.value.fix or "")
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "c"))
    build(model, out=tmp_path / "r3", run_context=RunContext(update_records=True))
    updated = read_lock(model).run_records
    assert updated[0] == first[0] and updated[1].digest != first[1].digest


@pytest.mark.slow
def test_a_failing_step_shows_its_exit_code_and_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cognix.engines.native.run_steps import RunContext
    from cognix.errors import StoreError

    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is needed")
    secret = tmp_path / "s"
    secret.write_text("hunter2")
    model = _run_model(tmp_path, ["--mount=type=secret,id=pw cat /run/secrets/pw; echo oops >&2; exit 3"])
    write_lock(model, lock_model(model))
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(StoreError) as err:
        build(model, out=tmp_path / "r", run_context=RunContext(secrets={"pw": secret}))
    text = err.value.what
    assert "build.run[0] failed (exit 3)" in text and "oops" in text
    assert "hunter2" not in text and "**********" in text
