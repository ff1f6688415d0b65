"""The gemini adapter against the Gemini emulator over loopback, with the sync and async runners."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from tests.support.google_loopback import (
    CountingApp,
    afetch,
    arun_to_end,
    async_runner,
    fetch,
    request,
    run_to_end,
    sync_runner,
)
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.emulators.gemini import create_app
from vidgate.errors import AuthenticationError, BadRequestError, UnsupportedOperationError
from vidgate.providers.base import Credentials
from vidgate.providers.gemini import GeminiProvider
from vidgate.types import ImageInput, VideoRequest

KEY = "loopback-gemini-key"
MODEL = "gemini/veo-3.1-generate-preview"
P = GeminiProvider()


@dataclass
class Emulator:
    url: str
    app: CountingApp

    @property
    def creds(self) -> Credentials:
        return Credentials(api_key=KEY, api_base=self.url)


@pytest.fixture(scope="module")
def emulator(render_cache: Path) -> Iterator[Emulator]:
    app = CountingApp(
        create_app(EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache))
    )
    with live_server(app) as url:
        yield Emulator(url, app)


def test_sync_create_poll_download(emulator: Emulator) -> None:
    runner = sync_runner([])
    job = run_to_end(runner, P, request(MODEL, prompt="a red fox", size="1280x720"), emulator.creds)
    assert (job.status, job.progress, job.model) == ("completed", 100, "veo-3.1-generate-preview")
    assert job.outputs[0].startswith("https://generativelanguage.googleapis.com/v1beta/files/")
    info = probe(fetch(runner, P, job.native_id, emulator.creds))
    assert (info.width, info.height, info.codec) == (1280, 720, "h264")
    assert info.duration == pytest.approx(4.0, abs=0.1)


async def test_async_create_poll_download_with_image(emulator: Emulator) -> None:
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


def test_veo2_without_resolution(emulator: Emulator) -> None:
    runner = sync_runner([])
    job = run_to_end(
        runner, P, request("gemini/veo-2.0-generate-001", prompt="a red fox", seconds=5), emulator.creds
    )
    assert job.status == "completed"
    assert probe(fetch(runner, P, job.native_id, emulator.creds)).duration == pytest.approx(5.0, abs=0.1)


def test_failed_and_filtered_surface_as_failed_with_the_reason(emulator: Emulator) -> None:
    runner = sync_runner([])
    failed = run_to_end(runner, P, request(MODEL, prompt="x [fault:fail]"), emulator.creds)
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.code == "internal"
    assert "failed" in failed.error.message
    filtered = run_to_end(runner, P, request(MODEL, prompt="x [fault:filtered]"), emulator.creds)
    assert filtered.status == "failed"
    assert filtered.error is not None
    assert filtered.error.code == "moderation_blocked"
    assert filtered.error.message.startswith("Veo could not generate 1 videos")
    with pytest.raises(BadRequestError, match="Veo could not generate"):
        runner.run(P.download(filtered.native_id, "video", emulator.creds), P.error_for)


def test_retries_on_429_503_poll_faults_drops_and_download_503(emulator: Emulator) -> None:
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


async def test_async_retries(emulator: Emulator) -> None:
    sleeps: list[float] = []
    runner = async_runner(sleeps)
    try:
        job = await arun_to_end(runner, P, request(MODEL, prompt="a red fox [fault:429x2]"), emulator.creds)
    finally:
        await runner.aclose()
    assert (job.status, sleeps) == ("completed", [1.0, 1.0])


def test_unsupported_operations(emulator: Emulator) -> None:
    runner = sync_runner([])
    before = len(emulator.app.paths)
    for flow in (
        P.remix("models/m/operations/x", "again", emulator.creds),
        P.list(emulator.creds, after=None, limit=10, order="desc"),
        P.delete("models/m/operations/x", emulator.creds),
    ):
        with pytest.raises(UnsupportedOperationError):
            runner.run(flow, P.error_for)
    assert len(emulator.app.paths) == before


def test_https_image_is_rejected_before_any_request(emulator: Emulator) -> None:
    before = len(emulator.app.paths)
    req = request(MODEL, prompt="x", input_reference=ImageInput(url="https://example.com/cat.png"))
    with pytest.raises(BadRequestError) as caught:
        sync_runner([]).run(P.create(req, emulator.creds), P.error_for)
    assert caught.value.param == "input_reference"
    assert len(emulator.app.paths) == before


def test_bad_key_and_out_of_range_duration(emulator: Emulator) -> None:
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
