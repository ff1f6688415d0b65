"""schemathesis against the gateway's own /openapi.json: every documented operation, with the master key.

The gateway serves the local provider's model and Veo on the Gemini API and Vertex AI emulators, on
in-memory stores over loopback; schemathesis's CLI runs its default phases (examples, coverage, fuzzing,
stateful over the inferred links) in deterministic mode, so a run is reproducible, with the checks the
document promises: no 5xx, every status documented, every content type documented, every JSON body valid
against its schema. Path and body ``model`` values and the Google API versions are drawn mostly from the
served ones (a schemathesis dictionary), so the fuzzing reaches the pass-through and the providers rather
than stopping at 404. To reproduce by hand: ``schemathesis_command`` below, against a running gateway.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.google_gateway import (
    GEMINI_KEY,
    MASTER,
    VERTEX_LOCATION,
    VERTEX_PROJECT,
    VERTEX_TOKEN,
    google_emulators,
)
from tests.support.live import live_server

from vidgate.gateway.config import GatewayConfig, parse_config
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
MIN_CASES = 1000
EXAMPLES_PER_OPERATION = 10
SERVED = ("local-1", "veo-fast", "veo-vertex")
# Values drawn most of the time (else schemathesis's own): served models, and each surface's versions.
SCHEMATHESIS_CONFIG = f"""
[dictionaries.models]
values = {list(SERVED)!r}

[dictionaries.gemini_models]
values = ["veo-fast"]

[dictionaries.gemini_versions]
values = ["v1beta", "v1"]

[dictionaries.vertex_models]
values = ["veo-vertex"]

[dictionaries.vertex_versions]
values = ["v1", "v1beta1"]

[parameters]
"body.model" = {{ dictionary = "models", probability = 0.6 }}

[[operations]]
include-path-regex = "^/gemini/"
parameters = {{ "path.model" = {{ dictionary = "gemini_models", probability = 0.8 }}, \
"path.version" = {{ dictionary = "gemini_versions", probability = 0.9 }} }}

[[operations]]
include-path-regex = "^/vertex_ai/"
parameters = {{ "path.model" = {{ dictionary = "vertex_models", probability = 0.8 }}, \
"path.version" = {{ dictionary = "vertex_versions", probability = 0.9 }} }}
"""


def fuzz_config(local_root: Path, gemini_url: str, vertex_url: str) -> GatewayConfig:
    local = {
        "model": "local/local-1",
        "api_base": str(local_root),
        "output_cost_per_second": 0.1,
    }
    gemini = {
        "model": "gemini/veo-3.0-fast-generate-001",
        "allow_retired": True,
        "api_key": GEMINI_KEY,
        "api_base": gemini_url,
    }
    vertex = {
        "model": "vertex_ai/veo-3.0-fast-generate-001",
        "allow_retired": True,
        "api_base": vertex_url,
        "vertex_project": VERTEX_PROJECT,
        "vertex_location": VERTEX_LOCATION,
        "access_token": VERTEX_TOKEN,
    }
    entries = [
        {"model_name": name, "litellm_params": p}
        for name, p in zip(SERVED, (local, gemini, vertex), strict=True)
    ]
    return parse_config({"model_list": entries, "general_settings": {"master_key": MASTER}}, environ={})


def schemathesis_command(url: str, report_dir: Path, config_file: Path) -> list[str]:
    return [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(config_file),
        "run",
        f"{url}/openapi.json",
        "--checks",
        CHECKS,
        "--header",
        f"Authorization: Bearer {MASTER}",
        "--header",
        f"x-goog-api-key: {MASTER}",  # the pass-through reads it before Authorization
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--generation-deterministic",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--report",
        "json",
        "--report-dir",
        str(report_dir),
    ]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_schemathesis_finds_no_5xx_and_no_schema_violation(
    local_root: Path, render_cache: Path, tmp_path: Path
) -> None:
    config_file = tmp_path / "schemathesis.toml"
    config_file.write_text(SCHEMATHESIS_CONFIG)
    with google_emulators(render_cache) as (gemini_url, vertex_url):
        app = create_app(
            fuzz_config(local_root, gemini_url, vertex_url), stores=MemoryStores(), run_worker=False
        )
        with live_server(app) as url:
            run = subprocess.run(
                schemathesis_command(url, tmp_path / "report", config_file),
                cwd=tmp_path,  # schemathesis keeps a cache directory in its working directory
                capture_output=True,
                text=True,
                timeout=540,
                check=False,
            )
    reports = list((tmp_path / "report").glob("*.json"))
    assert len(reports) == 1, run.stdout[-4000:] + run.stderr[-4000:]
    report = json.loads(reports[0].read_text())
    assert report["failures"] == [], run.stdout[-8000:]
    assert report["errors"] == [], run.stdout[-8000:]
    assert report["complete"] is True
    assert report["exit_code"] == 0, run.stdout[-8000:]
    assert report["operations"]["errored"] == 0
    assert report["operations"]["tested"] == report["operations"]["total"]
    assert report["test_cases"]["generated"] >= MIN_CASES
    assert report["test_cases"]["with_failures"] == 0
