"""The gemini adapter against the Gemini emulator over loopback, with the sync and async runners."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
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
from vidgate.errors import AuthenticationError, BadRequestError
from vidgate.providers.base import Credentials
from vidgate.providers.gemini.adapter import GeminiProvider
from vidgate.providers.gemini.emulator import create_app
from vidgate.types import ImageInput, VideoRequest

KEY = "loopback-gemini-key"
MODEL = "gemini/veo-3.1-generate-preview"
P = GeminiProvider()


@pytest.fixture(scope="module")
def emulator(render_cache: Path) -> Iterator[Loopback]:
    app = create_app(EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache))
    with serve(app, lambda url: Credentials(api_key=KEY, api_base=url)) as loopback:
        yield loopback


def test_sync_create_poll_download(emulator: Loopback) -> None:
    runner = sync_runner([])
    job = run_to_end(runner, P, request(MODEL, prompt="a red fox", size="1280x720"), emulator.creds)
    assert (job.status, job.progress, job.model) == ("completed", 100, "veo-3.1-generate-preview")
    assert job.outputs[0].startswith("https://generativelanguage.googleapis.com/v1beta/files/")
    info = probe(fetch(runner, P, job.native_id, emulator.creds))
    assert (info.width, info.height, info.codec) == (1280, 720, "h264")
    assert info.duration == pytest.approx(4.0, abs=0.1)


async def test_async_create_poll_download_with_image(emulator: Loopback) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (36, 64), (10, 200, 30)).save(buffer, format="JPEG")
    req = request(
        MODEL, prompt="a green door", size="720x1280", input_reference=ImageInput(data=buffer.getvalue())
    )
    runner = async_runner([])
    try:
        job = await arun_to_end(runner, P, req, emulator.creds)
        assert job.status == "completed"
        info = probe(await afetch(runner, P, job.native_id, emulator.creds))
    finally:
        await runner.aclose()
    assert (info.width, info.height) == (720, 1280)
    assert info.duration == pytest.approx(4.0, abs=0.1)


def test_veo2_without_resolution(emulator: Loopback) -> None:
    runner = sync_runner([])
    job = run_to_end(
        runner, P, request("gemini/veo-2.0-generate-001", prompt="a red fox", seconds=5), emulator.creds
    )
    assert job.status == "completed"
    assert probe(fetch(runner, P, job.native_id, emulator.creds)).duration == pytest.approx(5.0, abs=0.1)


def test_failed_and_filtered_surface_as_failed_with_the_reason(emulator: Loopback) -> None:
    runner = sync_runner([])
    failed, filtered = failed_and_filtered(runner, P, MODEL, emulator.creds)
    assert failed.error is not None
    assert "failed" in failed.error.message
    assert filtered.error is not None
    assert filtered.error.message.startswith("Veo could not generate 1 videos")
    with pytest.raises(BadRequestError, match="Veo could not generate"):
        runner.run(P.download(filtered.native_id, "video", emulator.creds), P.error_for)


def test_retries_on_429_503_poll_faults_drops_and_download_503(emulator: Loopback) -> None:
    sleeps: list[float] = []
    runner = sync_runner(sleeps)
    prompt = "a red fox [fault:429] [fault:503] [fault:poll-503] [fault:drop] [fault:download-503]"
    job = run_to_end(runner, P, request(MODEL, prompt=prompt), emulator.creds)
    assert job.status == "completed"
    assert sleeps[:2] == [1.0, 1.0]  # the create was refused twice, each with Retry-After: 1
    assert len(sleeps) == 4  # + one poll 503 (Retry-After: 1) + one dropped poll connection
    data = fetch(runner, P, job.native_id, emulator.creds)
    assert len(sleeps) == 5  # the download's 503 was retried
    assert probe(data).width == 1280


async def test_async_retries(emulator: Loopback) -> None:
    job, sleeps = await acreate_with_retries(
        P, request(MODEL, prompt="a red fox [fault:429x2]"), emulator.creds
    )
    assert (job.status, sleeps) == ("completed", [1.0, 1.0])


def test_unsupported_operations(emulator: Loopback) -> None:
    runner = sync_runner([])
    before = len(emulator.app.paths)
    assert_unsupported(runner, P, "models/m/operations/x", emulator.creds)
    assert len(emulator.app.paths) == before


def test_https_image_is_rejected_before_any_request(emulator: Loopback) -> None:
    before = len(emulator.app.paths)
    req = request(MODEL, prompt="x", input_reference=ImageInput(url="https://example.com/cat.png"))
    with pytest.raises(BadRequestError) as caught:
        sync_runner([]).run(P.create(req, emulator.creds), P.error_for)
    assert caught.value.param == "input_reference"
    assert len(emulator.app.paths) == before


def test_bad_key_and_out_of_range_duration(emulator: Loopback) -> None:
    runner = sync_runner([])
    with pytest.raises(AuthenticationError, match="API key not valid"):
        runner.run(
            P.create(request(MODEL, prompt="x"), Credentials(api_key="wrong", api_base=emulator.url)),
            P.error_for,
        )
    unchecked = VideoRequest(
        model="veo-3.1-generate-preview",
        prompt="x",
        seconds=20,
        size="1280x720",
        aspect_ratio="16:9",
        resolution="720p",
    )
    with pytest.raises(BadRequestError) as caught:
        runner.run(P.create(unchecked, emulator.creds), P.error_for)
    assert (caught.value.param, caught.value.code) == ("seconds", "invalid_argument")
