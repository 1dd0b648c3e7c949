"""Benchmark: a real model's edit -> image -> container loop, through the CLI (not a timed test).

    .venv/bin/python benchmarks/model_loop_bench.py [MODEL_DIR] [--cache DIR] [--registry HOST:PORT]

MODEL_DIR defaults to examples/torch-demo (torch 2.3.1 with its CUDA wheels, 2.7 GiB to download). On a copy of
it: `cognix lock`, then each figure beside its target and a plain baseline measured in the same run:
- download alone: `cognix fetch` into an empty cache (what a cold build must download), baseline for
- cold build: `cognix build` with that cache (downloads cached, nothing built yet);
- no-op rebuild; edit rebuild (a comment added to predict.py); `./result load` after the edit, beside the first
  load (the whole image) and `./result > /dev/null` (the whole image streamed, no engine);
- with --registry (e.g. a local docker-registry): `./result push` cold and after another edit, beside `docker
  push`-free plain copy: the layer bytes written to a file.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI = [str(Path(sys.executable).with_name("cognix"))]


def timed(argv: list[str], env: dict[str, str], cwd: Path, **kw) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, **kw)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{proc.stderr[-3000:]}")
    return took, proc


RUN = uuid.uuid4().hex[:12]  # edits unique to this run: the engine and the registry can't hold them already


def edit(model: Path, n: int) -> None:
    predict = model / "predict.py"
    predict.write_text(predict.read_text() + f"# edit {n} of run {RUN}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", type=Path, default=REPO / "examples" / "torch-demo")
    parser.add_argument("--cache", type=Path, help="a download cache to start from (default: an empty one)")
    parser.add_argument("--registry", help="HOST:PORT of a registry to push to")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cognix-loop-"))
    try:
        model = work / args.model.name
        shutil.copytree(args.model, model, ignore=shutil.ignore_patterns("result", "lock.json", "__pycache__"))
        cache = args.cache or (work / "cache")
        env = {**os.environ, "COGNIX_CACHE_DIR": str(cache)}
        rows: list[tuple[str, float, str, str]] = []
        timed([*CLI, "lock", str(model)], env, work)
        download, _ = timed([*CLI, "fetch", str(model)], env, work)
        cold, _ = timed([*CLI, "build", str(model)], env, work)
        rows.append(("cold build, downloads cached", cold, f"download alone {download:.1f} s", ""))
        rows.append(("download + cold build", download + cold, f"download alone {download:.1f} s",
                     f"<= {1.2 * download:.1f} s"))
        noop, _ = timed([*CLI, "build", str(model)], env, work)
        rows.append(("rebuild, nothing changed", noop, "", ""))
        result = model / "result"
        stream, _ = timed(["sh", "-c", f"'{result}' > /dev/null"], env, work)
        first_load, _ = timed([str(result), "load"], env, work)
        edit(model, 1)
        edit_build, _ = timed([*CLI, "build", str(model)], env, work)
        rows.append(("rebuild after editing predict.py", edit_build, "", "<= 1.5 s"))
        load_after, proc = timed([str(result), "load"], env, work)
        rows.append(("./result load after the edit", load_after,
                     f"first load {first_load:.1f} s*, stream to /dev/null {stream:.1f} s", "<= 3 s"))
        if args.registry:
            ref = f"{args.registry}/cognix-bench/{model.name}:{RUN}"
            copy_s = _plain_copy(result, work)
            push_cold, _ = timed([str(result), "push", "--insecure", ref], env, work)
            rows.append(("./result push, cold", push_cold, f"plain copy of the image {copy_s:.1f} s",
                         f"<= {1.5 * copy_s:.1f} s"))
            push_zstd, _ = timed([str(result), "push", "--compression", "zstd", ref + "-zstd"], env, work)
            rows.append(("./result push --compression zstd, cold", push_zstd, f"plain copy {copy_s:.1f} s",
                         f"<= {1.5 * copy_s:.1f} s"))
            edit(model, 2)
            timed([*CLI, "build", str(model)], env, work)
            push_edit, out = timed([str(result), "push", "--insecure", ref], env, work)
            rows.append(("./result push after an edit", push_edit, out.stdout.strip()[-60:], "one layer + config"))
        print(f"{args.model.name}: {_size(result)}")
        _breakdown(model, cache)
        print(f"{'figure':38} {'seconds':>8}  {'baseline (same run)':44} {'target':>12}")
        for label, value, baseline, target in rows:
            print(f"{label:38} {value:>8.2f}  {baseline:44} {target:>12}")
        print("* the first load sends what the engine lacks too: all of it only when it holds none of the layers")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _plain_copy(result: Path, work: Path) -> float:
    """The image's bytes written once to a file: what moving them costs with no protocol."""
    target = work / "image.tar"
    start = time.perf_counter()
    with target.open("wb") as out:
        subprocess.run([str(result)], stdout=out, check=True)
    took = time.perf_counter() - start
    target.unlink()
    return took


TRIMMABLE = {  # what a running model never reads, by kind
    "headers (.h .hpp .cuh)": lambda p: p.endswith((".h", ".hpp", ".cuh", ".hxx", ".inl")),
    "static archives (.a)": lambda p: p.endswith(".a"),
    "bytecode of the build machine (.pyc)": lambda p: p.endswith(".pyc"),
    "test directories": lambda p: "/tests/" in p or "/test/" in p,
    "docs, man pages, locales": lambda p: any(f"/usr/share/{d}/" in p for d in ("doc", "man", "info", "locale")),
}


def _breakdown(model: Path, cache: Path) -> None:
    """Which store entries dominate the image, and how much of it is of a kind a running model never reads."""
    proc = subprocess.run([*CLI, "path-info", str(model)], capture_output=True, text=True,
                          env={**os.environ, "COGNIX_CACHE_DIR": str(cache)})
    units = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
    rows = []
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[2] in units:
            rows.append((float(parts[1]) * units[parts[2]], f"{parts[0]} {parts[1]} {parts[2]}"))
    print("largest entries (own size):", "; ".join(text for _, text in sorted(rows, reverse=True)[:6]))
    totals = dict.fromkeys(TRIMMABLE, 0)
    everything = 0
    for tree in (cache / "entries").glob("*/tree"):
        for root, _dirs, files in os.walk(tree):
            for name in files:
                path = os.path.join(root, name)
                size = os.lstat(path).st_size
                everything += size
                for kind, matches in TRIMMABLE.items():
                    if matches(path):
                        totals[kind] += size
    print(f"not read at run time, of {everything / 2**20:.0f} MiB in the store: "
          + "; ".join(f"{kind} {size / 2**20:.1f} MiB" for kind, size in totals.items()))


def _size(result: Path) -> str:
    proc = subprocess.run([*CLI, "path-info", str(result.parent)], capture_output=True, text=True)
    return proc.stdout.strip().splitlines()[-1] if proc.returncode == 0 and proc.stdout.strip() else "size unknown"


if __name__ == "__main__":
    sys.exit(main())
