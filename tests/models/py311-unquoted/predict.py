import sys

import yaml
from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, name: str = Input(description="A name"), count: int = Input(default=2)) -> str:
        doc = {"name": name, "count": count, "python": f"{sys.version_info.major}.{sys.version_info.minor}"}
        return yaml.safe_dump(doc, sort_keys=True)
