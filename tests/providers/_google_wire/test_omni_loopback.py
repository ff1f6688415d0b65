"""Gemini Omni: the gemini and vertex_ai adapters against their emulators' Interactions routes over
loopback (create, poll, download, remix, delete, faults, the Vertex empty-completion quirk)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.google_loopback import Loopback, fetch, request, run_to_end, serve, sync_runner
from tests.support.media import probe

from vidgate.catalog import Usage
from vidgate.emulators.common import EmulatorSettings
from vidgate.errors import AuthenticationError, NotFoundError, RateLimitError
from vidgate.providers.base import Credentials, HttpReply, Provider, ProviderJob
from vidgate.providers.gemini.adapter import GeminiProvider
from vidgate.providers.gemini.emulator import create_app as gemini_app
from vidgate.providers.vertex_ai.adapter import VertexProvider
from vidgate.providers.vertex_ai.emulator import create_app as vertex_app
from vidgate.transport.sync_runner import SyncRunner

KEY = "omni-key"
GEMINI = GeminiProvider()
VERTEX = VertexProvider()


@pytest.fixture(scope="module")
def gemini(render_cache: Path) -> Iterator[Loopback]:
    app = gemini_app(EmulatorSettings(api_key=KEY, processing_seconds=0.2, cache_dir=render_cache))
    with serve(app, lambda url: Credentials(api_key=KEY, api_base=url)) as loopback:
        yield loopback


@pytest.fixture(scope="module")
def vertex(render_cache: Path) -> Iterator[Loopback]:
    app = vertex_app(EmulatorSettings(api_key=KEY, processing_seconds=0.2, cache_dir=render_cache))
    with serve(
        app, lambda url: Credentials(project="p1", location="us-central1", access_token=KEY, api_base=url)
    ) as lb:
        yield lb


def remix_to_end(
    runner: SyncRunner, provider: Provider, native_id: str, prompt: str, creds: Credentials
) -> ProviderJob:
    job = runner.run(provider.remix(native_id, prompt, creds), provider.error_for)
    for _ in range(600):
        if job.status in ("completed", "failed"):
            return job
        job = runner.run(provider.retrieve(job.native_id, creds), provider.error_for)
    raise AssertionError("remix never finished")


def test_gemini_create_poll_download_remix_delete(gemini: Loopback) -> None:
    runner = sync_runner([])
    req = request("gemini/gemini-omni-1.2-flash", prompt="a red fox", seconds=3, size="640x360")
    job = run_to_end(runner, GEMINI, req, gemini.creds)
    assert (job.status, job.usage) == ("completed", Usage(output_tokens=5760 * 3))
    assert job.native_id.startswith("interactions/v1_")
    info = probe(fetch(runner, GEMINI, job.native_id, gemini.creds))
    assert (info.width, info.height) == (640, 360)
    assert info.duration == pytest.approx(3.0, abs=0.1)
    remixed = remix_to_end(runner, GEMINI, job.native_id, "at night", gemini.creds)
    assert (remixed.status, remixed.remixed_from) == ("completed", job.native_id)
    assert probe(fetch(runner, GEMINI, remixed.native_id, gemini.creds)).duration == pytest.approx(
        3.0, abs=0.1
    )
    assert runner.run(GEMINI.delete(remixed.native_id, gemini.creds), GEMINI.error_for) is True
    with pytest.raises(NotFoundError):
        runner.run(GEMINI.retrieve(remixed.native_id, gemini.creds), GEMINI.error_for)


def test_vertex_inline_output_after_the_empty_completion_quirk(vertex: Loopback) -> None:
    runner = sync_runner([])
    req = request("vertex_ai/gemini-omni-1.2-flash", prompt="a boat", seconds=3, size="360x640")
    job = run_to_end(runner, VERTEX, req, vertex.creds)
    assert job.status == "completed"  # the first completed read had no output: it was read as running
    assert job.usage == Usage(output_tokens=5760 * 3)
    assert any(p.endswith("/locations/global/interactions") for p in vertex.app.paths)
    info = probe(fetch(runner, VERTEX, job.native_id, vertex.creds))
    assert (info.width, info.height) == (360, 640)


def test_failed_interaction(gemini: Loopback) -> None:
    runner = sync_runner([])
    req = request("gemini/gemini-omni-1.2-flash", prompt="x [fault:fail]")
    failed = run_to_end(runner, GEMINI, req, gemini.creds)
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.code == "internal"


def test_delete_cancels_a_running_interaction(render_cache: Path) -> None:
    app = gemini_app(EmulatorSettings(api_key=KEY, processing_seconds=600, cache_dir=render_cache))
    with serve(app, lambda url: Credentials(api_key=KEY, api_base=url)) as slow:
        runner = sync_runner([])
        job = runner.run(
            GEMINI.create(request("gemini/gemini-omni-1.2-flash", prompt="a"), slow.creds), GEMINI.error_for
        )
        assert job.status == "queued"
        assert runner.run(GEMINI.delete(job.native_id, slow.creds), GEMINI.error_for) is True
        assert [p for p in slow.app.paths if p.endswith("/cancel")] == [f"/v1/{job.native_id}/cancel"]


def test_faults_and_errors(gemini: Loopback) -> None:
    runner = sync_runner([])
    job = run_to_end(
        runner, GEMINI, request("gemini/gemini-omni-1.2-flash", prompt="a [fault:429]"), gemini.creds
    )
    assert job.status == "completed"  # 429 on a create is retried: the provider did not act on it
    job = run_to_end(
        runner, GEMINI, request("gemini/gemini-omni-1.2-flash", prompt="a [fault:poll-503]"), gemini.creds
    )
    assert job.status == "completed"
    bad = Credentials(api_key="bad", api_base=gemini.url)
    with pytest.raises(AuthenticationError):
        runner.run(GEMINI.create(request("gemini/gemini-omni-1.2-flash", prompt="a"), bad), GEMINI.error_for)
    with pytest.raises(NotFoundError):
        runner.run(GEMINI.retrieve("interactions/v1_missing", gemini.creds), GEMINI.error_for)
    reply = httpx.post(
        f"{gemini.url}/v1beta/interactions",
        headers={"x-goog-api-key": KEY},
        json={"model": "gemini-omni-1.2-flash", "input": "x [fault:429x9]", "background": True},
    )
    assert reply.status_code == 429
    mapped = GEMINI.error_for(HttpReply(reply.status_code, dict(reply.headers), reply.content))
    assert isinstance(mapped, RateLimitError)
