"""A bounded schemathesis run against the server's own /openapi.json: no request it generates (about 1,000, fixed
seed, nine of the ten operations: all but /shutdown) gets a 500, a status or content type the document doesn't
list, or a body its schema doesn't allow.

Left out, because the bundled document must stay what Cog's generator writes: `positive_data_acceptance` and
`negative_data_rejection` (Cog's Input component omits `additionalProperties: false` though extra inputs are
refused, and `"input": null` is taken as `{}`), and the stateful phase (canceling a prediction that already
finished is a correct 404). POST /shutdown is excluded: it would end the run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
])


@pytest.mark.slow
def test_schemathesis_finds_nothing(start_server, tmp_path: Path) -> None:
    server = start_server(
        "fuzz",
        env={"COG_TRAIN_TYPE_STUB": "predict.py:train", "COGNIX_DOWNLOAD_TIMEOUT": "1"},
    )
    st = Path(sys.executable).with_name("st")
    run = subprocess.run(
        [str(st), "run", f"{server.url}/openapi.json", "--exclude-path", "/shutdown", "--checks", CHECKS,
         "--phases", "examples,coverage,fuzzing", "--max-examples", "100", "--seed", "20261202",
         "--request-timeout", "10", "--no-color"],
        capture_output=True, text=True, timeout=240, cwd=tmp_path,  # its example database goes there
    )
    print(run.stdout[-1500:])  # the summary, with -s
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert counts and int(counts[1]) == int(counts[2]) >= 900, run.stdout[-3000:]  # about 1,000 with this seed
    assert "Tested: 9" in run.stdout, run.stdout[-3000:]
    assert server.proc.poll() is None  # still serving
    assert server.client.get("/health-check").json()["status"] == "READY"
