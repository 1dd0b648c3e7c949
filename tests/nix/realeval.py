"""Evaluate cognix's flake for real: dream2nix's own source at flake.lock's pin and nixpkgs' real
`lib` (module system, types, merging), with nix/tests/stand-in-nixpkgs for the packages themselves.

Nothing is built and nothing is fetched: the flake inputs are overridden with local paths
(`--override-input`), and Nix runs offline without substituters. What it checks is what the
stub-based suite (nix/tests) cannot: that the modules cognix hands to dream2nix merge with
dream2nix's own (its community overrides, option types) under the real `lib.evalModules`.

Inputs: a checkout of dream2nix at flake.lock's rev (its NAR hash is checked against flake.lock)
and of nixpkgs' lib (a nixpkgs or nixpkgs.lib tree with lib/default.nix, or the lib directory
itself). scripts/nix-real-eval prepares both from git mirrors and runs this.

Nix gets its own store: /nix inside a bubblewrap sandbox is a directory of the work dir (the
machine's / is untouched). A chroot store (`--store DIR`) would do for drvPaths, but Nix 2.8 then
sees flake sources at their real path outside /nix/store and `nix flake check` rejects the
template's path.

    python tests/nix/realeval.py DREAM2NIX NIXPKGS_LIB   # prints every command and its result
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SYSTEM = "x86_64-linux"
NIX = shutil.which("nix")
BWRAP = shutil.which("bwrap")

STAND_IN_NIXPKGS = REPO / "nix" / "tests" / "stand-in-nixpkgs"
STAND_IN_INPUTS = REPO / "nix" / "tests" / "stand-in-inputs"

# a model that uses the flake as `cognix init`'s template does: CPU torch (dream2nix's torch
# override meets cognix's CPU wheel module)
USER_COG_YAML = 'build:\n  python_version: "3.11"\n  python_packages:\n    - "torch==2.3.1"\npredict: "predict.py:Predictor"\n'


def flake_lock() -> dict:
    return json.loads((REPO / "flake.lock").read_text())


def dream2nix_pin() -> dict:
    return flake_lock()["nodes"]["dream2nix"]["locked"]


def lib_dir(nixpkgs_lib: Path) -> Path:
    """The directory holding nixpkgs lib's default.nix, from a nixpkgs/nixpkgs.lib tree or lib itself."""
    for cand in (nixpkgs_lib / "lib", nixpkgs_lib):
        if (cand / "default.nix").is_file() and (cand / "modules.nix").is_file():
            return cand
    raise ValueError(f"{nixpkgs_lib}: no nixpkgs lib here (expected lib/default.nix and lib/modules.nix)")


def nar_hash(tree: Path) -> str:
    """`nix hash path --sri`: the NAR hash flake.lock records for a source tree (no store needed)."""
    proc = subprocess.run([NIX or "nix", "--extra-experimental-features", "nix-command", "hash", "path", "--sri", str(tree)],
                          text=True, capture_output=True, check=True)
    return proc.stdout.strip()


def check_pin(dream2nix: Path) -> None:
    """Refuse a dream2nix tree that is not flake.lock's (Nix itself would reuse a store path it has)."""
    pin = dream2nix_pin()
    got = nar_hash(dream2nix)
    if got != pin["narHash"]:
        raise ValueError(f"{dream2nix}: NAR hash {got}, but flake.lock pins dream2nix {pin['rev']} with {pin['narHash']}; "
                         f"check out that rev (git archive {pin['rev']})")


def _copy_tree(src: Path, dest: Path) -> None:
    shutil.copytree(src, dest, symlinks=True, ignore=shutil.ignore_patterns(".git"))


def _repo_files() -> list[str]:
    """The working tree as the flake sees it: tracked files and untracked ones git does not ignore."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, check=True, capture_output=True, text=True,
    ).stdout
    return sorted(p for p in out.split("\0") if p and (REPO / p).is_file())


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def command(self) -> str:
        return "nix " + " ".join(self.args)


@dataclass
class RealEval:
    """A prepared work dir: the cognix flake copy with example locks, the inputs, a private /nix."""

    work: Path
    log: list[Result] = field(default_factory=list)

    @property
    def cognix(self) -> str:
        return f"path:{self.work / 'cognix'}"

    @property
    def user(self) -> str:
        return f"path:{self.work / 'user'}"

    def overrides(self, prefix: str = "") -> list[str]:
        inputs = self.work / "inputs"
        narhash = dream2nix_pin()["narHash"]
        pairs = [
            ("nixpkgs", f"path:{inputs / 'nixpkgs'}"),
            # the NAR hash makes Nix refuse a dream2nix tree that is not flake.lock's
            ("dream2nix", f"path:{inputs / 'dream2nix'}?narHash={narhash}"),
            ("dream2nix/pyproject-nix", f"path:{inputs / 'pyproject-nix'}"),
            ("dream2nix/purescript-overlay", f"path:{inputs / 'purescript-overlay'}"),
        ]
        args: list[str] = []
        if prefix:
            args += ["--override-input", prefix.rstrip("/"), self.cognix]
        for name, url in pairs:
            args += ["--override-input", prefix + name, url]
        return args

    def _sandbox(self) -> list[str]:
        """bwrap: the host's /usr and /etc read-only, the work dir, and the work dir's nix/ as /nix."""
        args = [BWRAP or "bwrap", "--die-with-parent", "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
        for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            p = Path("/") / top
            if p.is_symlink():
                args += ["--symlink", os.readlink(p), str(p)]
            elif p.is_dir():
                args += ["--ro-bind", str(p), str(p)]
        args += ["--bind", str(self.work), str(self.work), "--bind", str(self.work / "nix"), "/nix",
                 "--proc", "/proc", "--dev", "/dev", "--"]
        return args

    def nix(self, *args: str, check: bool = True, timeout: int = 300, env_extra: dict[str, str] | None = None) -> Result:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.work / "home"),
            "TMPDIR": str(self.work / "tmp"),
            "NIX_CONFIG": "\n".join([
                "experimental-features = nix-command flakes",
                "build-users-group =",
                "substituters =",
                "flake-registry =",
                "sandbox = false",
            ]),
            **(env_extra or {}),
        }
        proc = subprocess.run(
            [*self._sandbox(), NIX or "nix", *args],
            cwd=self.work, env=env, text=True, capture_output=True, timeout=timeout, check=False,
        )
        result = Result(list(args), proc.returncode, proc.stdout, proc.stderr)
        self.log.append(result)
        if check and proc.returncode != 0:
            raise AssertionError(f"{result.command} failed ({proc.returncode}):\n{proc.stderr[-6000:]}")
        return result

    def flake_args(self, *args: str, user: bool = False) -> list[str]:
        return [*args, "--offline", "--no-write-lock-file", *self.overrides("cognix/" if user else "")]

    def eval_json(self, attr: str, *, user: bool = False, apply: str | None = None):
        flake = self.user if user else self.cognix
        extra = ["--apply", apply] if apply else []
        return json.loads(self.nix(*self.flake_args("eval", "--json", f"{flake}#{attr}", *extra, user=user)).stdout)

    def drv_path(self, attr: str, *, user: bool = False) -> str:
        return self.eval_json(f"{attr}.drvPath", user=user)

    def package_names(self) -> list[str]:
        return self.eval_json(f"packages.{SYSTEM}", apply="builtins.attrNames")

    def show_derivation(self, drv: str) -> dict:
        return json.loads(self.nix("show-derivation", "--recursive", drv).stdout)

    def wheel_envs(self, env_drv: str, var: str) -> dict[str, str | None]:
        """name -> value of `var` for every python3.X-* wheel derivation in the env's closure."""
        out: dict[str, str | None] = {}
        for d in self.show_derivation(env_drv).values():
            name = d["env"].get("name", "")
            if name.startswith("python3.") and "-env" not in name:
                out[name] = d["env"].get(var)
        return out


def sandbox_problem() -> str | None:
    """Why bwrap cannot give Nix a private /nix here (e.g. no user or mount namespaces), or None."""
    if BWRAP is None:
        return "bwrap is not installed (Debian package bubblewrap): it gives Nix a private /nix"
    with tempfile.TemporaryDirectory() as tmp:
        probe = RealEval(Path(tmp))
        (probe.work / "nix").mkdir()
        proc = subprocess.run([*probe._sandbox(), "true"], capture_output=True, text=True, check=False)
    return None if proc.returncode == 0 else f"bwrap cannot make a sandbox here: {proc.stderr.strip()}"


def prepare(work: Path, dream2nix: Path, nixpkgs_lib: Path) -> RealEval:
    """Lay out the work dir: inputs/ (stand-in nixpkgs + real lib, dream2nix, stand-in inputs),
    cognix/ (this working tree plus the examples' locks), user/ (a template flake), nix/, home/, tmp/."""
    if not (dream2nix / "modules" / "dream2nix" / "pip").is_dir():
        raise ValueError(f"{dream2nix}: not a dream2nix checkout (no modules/dream2nix/pip)")
    lib = lib_dir(nixpkgs_lib)
    for d in ("nix", "home", "tmp", "inputs"):
        (work / d).mkdir(parents=True, exist_ok=True)
    inputs = work / "inputs"
    _copy_tree(STAND_IN_NIXPKGS, inputs / "nixpkgs")
    _copy_tree(lib, inputs / "nixpkgs" / "lib")
    _copy_tree(dream2nix, inputs / "dream2nix")
    check_pin(inputs / "dream2nix")
    for name in ("pyproject-nix", "purescript-overlay"):
        _copy_tree(STAND_IN_INPUTS / name, inputs / name)

    cognix = work / "cognix"
    for rel in _repo_files():
        dest = cognix / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, dest)
    examples = sorted(p.name for p in (REPO / "examples").iterdir() if (p / "cog.yaml").is_file())
    user = work / "user"
    user.mkdir()
    shutil.copy2(REPO / "nix" / "template" / "flake.nix", user / "flake.nix")
    (user / "cog.yaml").write_text(USER_COG_YAML)
    (user / "predict.py").write_text("")
    # the locks are made now, by `cognix lock` against the machine's configured index and mirror: the repository
    # commits none made against a real index (evaluation fetches nothing they name)
    for model in [*(cognix / "examples" / e for e in examples), user]:
        cognix_lock(model)
    return RealEval(work)


def cognix_lock(model: Path) -> None:
    script = Path(sys.executable).with_name("cognix")  # pyproject's [project.scripts] entry in the venv
    cli = [str(script)] if script.exists() else [sys.executable, "-c", "from cognix.cli.main import main; main()"]
    proc = subprocess.run([*cli, "lock", str(model)], capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"cognix lock {model.name} failed:\n{proc.stderr[-3000:]}")


def quiet(stderr: str) -> list[str]:
    """stderr without the lock-file diff every overridden input causes ("not writing modified lock file")."""
    skip = ("warning: not writing modified lock file", "\u2022 ", "    '", "  \u2192 ")
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith(skip)]


def env_checkouts() -> tuple[Path, Path] | None:
    d2n, lib = os.environ.get("COGNIX_DREAM2NIX"), os.environ.get("COGNIX_NIXPKGS_LIB")
    if not d2n or not lib:
        return None
    return Path(d2n), Path(lib)


def main(argv: list[str]) -> int:
    if len(argv) == 2:
        dream2nix, nixpkgs_lib = Path(argv[0]), Path(argv[1])
    elif (pair := env_checkouts()) is not None:
        dream2nix, nixpkgs_lib = pair
    else:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="cognix-real-eval-") as tmp:
        ev = prepare(Path(tmp), dream2nix.resolve(), nixpkgs_lib.resolve())
        failed = False
        steps = [(f"packages.{SYSTEM}.{name}.drvPath", lambda n=name: ev.drv_path(f"packages.{SYSTEM}.{n}")) for name in ev.package_names()]
        steps += [
            (f"checks.{SYSTEM}.nix-unit.drvPath", lambda: ev.drv_path(f"checks.{SYSTEM}.nix-unit")),
            (f"template flake, CPU torch: packages.{SYSTEM}.model.drvPath", lambda: ev.drv_path(f"packages.{SYSTEM}.model", user=True)),
            ("nix flake show", lambda: ev.nix(*ev.flake_args("flake", "show", ev.cognix)).stdout.strip()),
            ("nix flake check --no-build", lambda: "ok; " + " ".join(quiet(ev.nix(*ev.flake_args("flake", "check", "--no-build", ev.cognix)).stderr))),
        ]
        for label, step in steps:
            try:
                print(f"{label}: {step()}")
            except AssertionError as exc:
                failed = True
                print(f"{label}: FAILED\n{exc}")
        return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
