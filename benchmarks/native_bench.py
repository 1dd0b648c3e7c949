"""Native engine figures: hello image size, warm and edit rebuild times, numpy layer sharing between two models."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from cognix.engines.native.build import build
from cognix.lock import lock_model, write_lock

HELLO = Path(__file__).resolve().parents[1] / "examples" / "hello"


def _model(root: Path, name: str, requirements: str | None = None) -> Path:
    model = root / name
    shutil.copytree(HELLO, model, ignore=shutil.ignore_patterns("result", "lock.json", "__pycache__"))
    if requirements:
        (model / "requirements.txt").write_text(requirements)
        text = (model / "cog.yaml").read_text().replace(
            'python_version: "3.11"', 'python_version: "3.11"\n  python_requirements: requirements.txt')
        (model / "cog.yaml").write_text(text)
    write_lock(model, lock_model(model))
    return model


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="cognix-bench-"))
    os.environ.setdefault("COGNIX_CACHE_DIR", str(root / "cache"))
    hello = _model(root, "hello")
    t = time.monotonic(); first = build(hello); cold = time.monotonic() - t
    t = time.monotonic(); build(hello); warm = time.monotonic() - t
    predict = hello / "predict.py"
    predict.write_text(predict.read_text().replace('"!"', '"?"'))
    t = time.monotonic(); build(hello); edit = time.monotonic() - t
    size = sum(e.size for layer in first.plan.layers for e in layer.entries)
    print(f"{'figure':<40} {'cognix':>12} {'target/anchor':>28}")
    print(f"{'hello image size (uncompressed files)':<40} {size / 1e6:>10.1f}MB {'<= 70 MB; python:3.11-slim ~130 MB':>28}")
    print(f"{'build, cold download cache':<40} {cold:>11.2f}s {'-':>28}")
    print(f"{'build, warm cache':<40} {warm:>11.2f}s {'<= 10 s':>28}")
    print(f"{'rebuild after editing predict.py':<40} {edit:>11.2f}s {'<= 2 s':>28}")
    print(f"{'layers':<40} {len(first.plan.layers):>12} {'<= 100':>28}")
    if "--no-numpy" not in sys.argv:
        a = build(_model(root, "a", "numpy==2.2.6\n")).plan
        b = build(_model(root, "b", "numpy==2.2.6\nidna\n")).plan
        digests = lambda plan: {e.digest: e.size for layer in plan.layers for e in layer.entries}  # noqa: E731
        da, db = digests(a), digests(b)
        shared = sum(size for d, size in db.items() if d in da)
        numpy_shared = all(e.digest in da for layer in b.layers for e in layer.entries if "numpy" in e.name)
        print(f"{'two numpy models: bytes shared / total':<40} {shared / 1e6:>6.1f}/{sum(db.values()) / 1e6:.1f}MB"
              f" {'numpy entry shared: ' + str(numpy_shared):>28}")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
