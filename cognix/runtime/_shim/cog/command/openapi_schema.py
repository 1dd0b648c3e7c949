"""`python -m cog.command.openapi_schema`: print the model's OpenAPI schema, as cog <= 0.16 builds ran it.

The runner comes from COG_PREDICT_TYPE_STUB / COG_TRAIN_TYPE_STUB, else from cog.yaml's predict/train in the
working directory (read with PyYAML, which Cog's SDK brings).
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional


def _refs() -> List[str]:
    predict, train = os.environ.get("COG_PREDICT_TYPE_STUB"), os.environ.get("COG_TRAIN_TYPE_STUB")
    if not predict and not train:
        from cognix.runtime.__main__ import refs_from_cog_yaml

        predict, train = refs_from_cog_yaml(os.getcwd())
    args: List[str] = []
    if predict:
        args += ["--predict", predict]
    if train:
        args += ["--train", train]
    return args


def main(argv: Optional[List[str]] = None) -> int:
    from cognix.runtime.schema import main as schema_main

    return schema_main(_refs() + list(argv or []))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
