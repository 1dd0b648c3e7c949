"""Reports what the build.run steps put in the image: the fetched binary and the pip-installed package."""

import subprocess

import six
from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        pget = subprocess.run(["pget"], capture_output=True, text=True, check=True).stdout.strip()
        return f"{pget}; six {six.__version__}"
