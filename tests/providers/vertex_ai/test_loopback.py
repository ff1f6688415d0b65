"""The vertex_ai adapter against the Vertex emulator over loopback, with the sync and async runners."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from tests.support.google_loopback import (
    Loopback,
    acreate_with_retries,
    afetch,
    arun_to_end,
    assert_unsupported,
    async_runner,
    failed_and_filtered,
    fetch,
    request,
    run_to_end,
    serve,
    sync_runner,
)
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.errors import AuthenticationError, BadRequestError, NotFoundError
from vidgate.providers.base import Credentials
from vidgate.providers.vertex_ai.adapter import VertexProvider
from vidgate.providers.vertex_ai.emulator import create_app
from vidgate.types import ImageInput

TOKEN = "ya29.loopback"
MODEL = "vertex_ai/veo-3.1-generate-001"
P = VertexProvider()


def _creds(url: str) -> Credentials:
    return Credentials(project="proj-1", location="us-central1", access_token=TOKEN, api_base=url)


@pytest.fixture(scope="module")
def emulator(render_cache: Path) -> Iterator[Loopback]:
    settings = EmulatorSettings(api_key=TOKEN, processing_seconds=0.3, cache_dir=render_cache)
    with serve(create_app(settings), _creds) as loopback:
        yield loopback


def test_sync_inline_output(emulator: Loopback) -> None:
    runner = sync_runner([])
    job = run_to_end(runner, P, request(MODEL, prompt="a red fox", size="1280x720"), emulator.creds)
    assert (job.status, job.outputs, job.model) == ("completed", ("inline:0",), "veo-3.1-generate-001")
    before = len(emulator.app.paths)
    info = probe(fetch(runner, P, job.native_id, emulator.creds))
    assert emulator.app.paths[before:] == [
        "/v1/projects/proj-1/locations/us-central1/publishers/google/models/veo-3.1-generate-001:fetchPredictOperation"
    ]
    assert (info.width, info.height) == (1280, 720)
    assert info.duration == pytest.approx(4.0, abs=0.1)


async def test_async_gcs_output_through_the_storage_route(emulator: Loopback) -> None:
    req = request(
        MODEL, prompt="a red fox", size="720x1280", extra_body={"storageUri": "gs://out-bucket/runs"}
    )
    runner = async_runner([])
    try:
        job = await arun_to_end(runner, P, req, emulator.creds)
        assert job.status == "completed"
        assert job.outputs[0].startswith("gs://out-bucket/runs/")
        before = len(emulator.app.paths)
        data = await afetch(runner, P, job.native_id, emulator.creds)
    finally:
        await runner.aclose()
    assert emulator.app.paths[-1].startswith("/storage/v1/b/out-bucket/o/runs/")
    assert len(emulator.app.paths) == before + 2
    info = probe(data)
    assert (info.width, info.height) == (720, 1280)


def test_veo2_with_two_samples_and_seed(emulator: Loopback) -> None:
    runner = sync_runner([])
    req = request("vertex_ai/veo-2.0-generate-001", prompt="a red fox", seconds=5, n=2, seed=11)
    job = run_to_end(runner, P, req, emulator.creds)
    assert (job.status, job.outputs) == ("completed", ("inline:0", "inline:1"))
    assert probe(fetch(runner, P, job.native_id, emulator.creds)).duration == pytest.approx(5.0, abs=0.1)


def test_failed_and_filtered(emulator: Loopback) -> None:
    _failed, filtered = failed_and_filtered(sync_runner([]), P, MODEL, emulator.creds)
    assert filtered.error is not None
    assert "Support codes" in filtered.error.message


def test_retries(emulator: Loopback) -> None:
    sleeps: list[float] = []
    runner = sync_runner(sleeps)
    req = request(
        MODEL,
        prompt="a red fox [fault:503] [fault:429] [fault:poll-429] [fault:download-503]",
        extra_body={"storageUri": "gs://b2/x"},
    )
    job = run_to_end(runner, P, req, emulator.creds)
    assert job.status == "completed"
    assert sleeps == [1.0, 1.0, 1.0]
    assert probe(fetch(runner, P, job.native_id, emulator.creds)).height == 720
    assert sleeps == [1.0, 1.0, 1.0, 1.0]


async def test_async_retries(emulator: Loopback) -> None:
    job, sleeps = await acreate_with_retries(
        P, request(MODEL, prompt="a red fox [fault:503x2]"), emulator.creds
    )
    assert (job.status, sleeps) == ("completed", [1.0, 1.0])


def test_unsupported_and_rejected_before_any_request(emulator: Loopback) -> None:
    runner = sync_runner([])
    before = len(emulator.app.paths)
    assert_unsupported(runner, P, "x", emulator.creds)
    req = request(MODEL, prompt="x", input_reference=ImageInput(url="https://example.com/cat.png"))
    with pytest.raises(BadRequestError) as caught:
        runner.run(P.create(req, emulator.creds), P.error_for)
    assert caught.value.param == "input_reference"
    assert len(emulator.app.paths) == before


def test_bad_token_and_unknown_operation(emulator: Loopback) -> None:
    runner = sync_runner([])
    with pytest.raises(AuthenticationError):
        runner.run(
            P.create(request(MODEL, prompt="x"), replace(emulator.creds, access_token="nope")), P.error_for
        )
    unknown = (
        "projects/proj-1/locations/us-central1/publishers/google/models/veo-3.1-generate-001/operations/none"
    )
    with pytest.raises(NotFoundError):
        runner.run(P.retrieve(unknown, emulator.creds), P.error_for)
