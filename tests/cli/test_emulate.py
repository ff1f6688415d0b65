"""``vidgate emulate``: each emulator starts on the given port and answers in its provider's wire format."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest
from tests.support.cli import VIDGATE, free_port
from typer.testing import CliRunner

from vidgate.cli.main import app
from vidgate.providers.registry import get_spec

# provider -> (a request with the wrong credential, the status that provider answers it with)
PROBES: dict[str, tuple[str, str, dict[str, str], int]] = {
    "openai": ("GET", "/v1/videos", {"Authorization": "Bearer wrong"}, 401),
    "azure": ("GET", "/openai/v1/videos?api-version=preview", {"api-key": "wrong"}, 401),
    "gemini": (
        "GET",
        "/v1beta/models/veo-3.1-generate-preview/operations/x",
        {"x-goog-api-key": "wrong"},
        400,
    ),
    "vertex": (
        "POST",
        "/v1/projects/p/locations/us-central1/publishers/google/models/veo-3.1-generate-001:fetchPredictOperation",
        {"Authorization": "Bearer wrong"},
        401,
    ),
}


@pytest.mark.parametrize("provider", sorted(PROBES))
def test_emulate_starts_and_answers(provider: str, tmp_path: Path) -> None:
    port = free_port()
    args = [
        str(VIDGATE),
        "emulate",
        provider,
        "--port",
        str(port),
        "--api-key",
        "right",
        "--processing-seconds",
        "0.5",
    ]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        method, path, headers, status = PROBES[provider]
        url = f"http://127.0.0.1:{port}{path}"
        reply = None
        deadline = time.monotonic() + 30
        while reply is None:
            try:
                reply = httpx.request(method, url, headers=headers, json={} if method == "POST" else None)
            except httpx.ConnectError:
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "emulator did not start"
                time.sleep(0.1)
        assert reply.status_code == status
        assert "error" in reply.json()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=15)
    assert f"{get_spec(provider).name} emulator on http://127.0.0.1:{port}" in err


def test_help_shows_the_fault_tokens_literally() -> None:
    result = CliRunner().invoke(app, ["emulate", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for token in ("[fault:429]", "[fault:503x2]", "[fault:fail]", "[fault:filtered]"):
        assert token in result.output
    listing = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert "[fault:429]" in listing.output
