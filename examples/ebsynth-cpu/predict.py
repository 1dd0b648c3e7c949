"""ebsynth-cpu: example-based image synthesis by shelling out to the `ebsynth` binary (built in Nix)."""

import shutil
import subprocess
import tempfile

from cog import BasePredictor, Input, Path


class Predictor(BasePredictor):
    def setup(self) -> None:
        if shutil.which("ebsynth") is None:
            raise RuntimeError("ebsynth is not on PATH: build this model with the Nix engine (default.nix adds it)")

    def predict(
        self,
        style: Path = Input(description="Style exemplar image"),
        source_guide: Path = Input(description="Guide image aligned with the style"),
        target_guide: Path = Input(description="Guide image for the output"),
        weight: float = Input(description="Guide weight", default=1.0, ge=0.0),
    ) -> Path:
        out = Path(tempfile.mkdtemp()) / "output.png"
        subprocess.run(
            ["ebsynth", "-style", str(style), "-guide", str(source_guide), str(target_guide),
             "-weight", str(weight), "-output", str(out)],
            check=True,
        )
        return out
