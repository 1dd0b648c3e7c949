"""Uses the system packages: loads libGL and GLib, and has ffmpeg synthesise a short tone."""

import ctypes
import subprocess
import tempfile

from cog import BaseModel, BasePredictor, Input, Path


class Output(BaseModel):
    status: str
    audio: Path


class Predictor(BasePredictor):
    def setup(self) -> None:
        ctypes.CDLL("libGL.so.1")
        ctypes.CDLL("libglib-2.0.so.0")

    def predict(self, seconds: float = Input(default=0.2, ge=0.05, le=2.0)) -> Output:
        out = Path(tempfile.mkdtemp()) / "tone.wav"
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
             str(out)],
            check=True,
            timeout=60,
        )
        version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=True).stdout.split()[:2]
        return Output(status=f"{' '.join(version)} libGL ok glib ok wav {out.stat().st_size > 44}", audio=out)
