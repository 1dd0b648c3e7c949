# ruff: noqa: B008 - Input() in defaults is how Cog models declare inputs
"""Conformance model: typed inputs, logs, metrics, sleep (for cancel), crash, files, secrets."""

import os
import sys
import time
from typing import Optional

from cog import BasePredictor, Input, Path, Secret, current_scope


class Predictor(BasePredictor):
    def setup(self) -> None:
        print("setting up basic")

    def predict(
        self,
        text: str = Input(description="text", default="hi"),
        n: int = Input(default=1, ge=1, le=10),
        color: str = Input(default="red", choices=["red", "green"]),
        sleep: float = Input(default=0.0),
        crash: bool = Input(default=False),
        fail: bool = Input(default=False),
        token: Optional[Secret] = Input(default=None),
        note: Optional[str] = Input(default=None),
        file: Optional[Path] = Input(default=None),
    ) -> str:
        print(f"running text={text} n={n}")
        print("to stderr", file=sys.stderr)
        current_scope().record_metric("token_count", n)
        if text == "ctx":
            return ",".join(
                f"{k}={v}" for k, v in sorted(current_scope().context.items())
            )
        if text == "fd":
            os.write(1, b"raw fd line\n")  # as C code or a subprocess would write it
        if crash:
            os._exit(7)
        if fail:
            raise ValueError("boom requested")
        deadline = time.time() + sleep
        while time.time() < deadline:
            try:
                time.sleep(0.01)
            except BaseException:
                if text != "stubborn":  # "stubborn" ignores cancels, as a predictor stuck in native code would
                    raise
        if file is not None:
            return "file:" + Path(file).read_text()
        if token is not None:
            return "secret-len:" + str(len(token.get_secret_value()))
        return text * n
