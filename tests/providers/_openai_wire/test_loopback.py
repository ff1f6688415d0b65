"""The openai and azure adapters end to end against their emulators over loopback, driven by the real
runners (SyncRunner and AsyncRunner): create -> poll -> download, remix, list, delete, retries, faults."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from starlette.applications import Starlette
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.catalog import validate
from vidgate.emulators.common import EmulatorSettings
from vidgate.errors import AuthenticationError, BadRequestError, InternalServerError, NotFoundError
from vidgate.providers.azure import emulator as azure_emulator
from vidgate.providers.azure.adapter import AzureProvider
from vidgate.providers.base import Credentials, ProviderJob
from vidgate.providers.catalogue import find_model
from vidgate.providers.openai import emulator as openai_emulator
from vidgate.providers.openai.adapter import OpenAIProvider
from vidgate.transport import AsyncRunner, RetryPolicy, SyncRunner
from vidgate.types import ImageInput, VideoRequest

KEY = "loopback-key"


@dataclass(frozen=True)
class Target:
    provider: OpenAIProvider
    model_id: str
    size: str
    make_app: Callable[[EmulatorSettings], Starlette]
    credentials: Callable[[str, str], Credentials]  # (base url, key) -> what a deployment would hold


TARGETS = {
    "openai": Target(
        OpenAIProvider(),
        "openai/sora-2",
        "720x1280",
        openai_emulator.create_app,
        lambda url, key: Credentials(api_key=key, api_base=f"{url}/v1"),
    ),
    # The dated api_version (what the seeds configure) must still reach the v1 routes, which refuse it.
    "azure": Target(
        AzureProvider(),
        "azure/sora-2",
        "1280x720",
        azure_emulator.create_app,
        lambda url, key: Credentials(api_key=key, api_base=f"{url}/", api_version="2024-02-15-preview"),
    ),
}


@dataclass
class Live:
    target: Target
    url: str
    app: Starlette
    creds: Credentials

    @property
    def provider(self) -> OpenAIProvider:
        return self.target.provider

    def request(self, prompt: str, **params: Any) -> VideoRequest:
        spec = find_model(self.target.model_id)
        assert spec is not None
        params.setdefault("seconds", "4")
        params.setdefault("size", self.target.size)
        return validate(spec, prompt=prompt, **params)

    def jobs_with_prompt(self, prompt: str) -> list[Any]:
        return [job for job in self.app.state.store.jobs.values() if job.prompt == prompt]


def _settings(render_cache: Path, processing_seconds: float = 0.3) -> EmulatorSettings:
    return EmulatorSettings(
        api_key=KEY,
        processing_seconds=processing_seconds,
        poll_after_ms=20,
        slow_seconds=0.1,
        cache_dir=render_cache,
    )


@pytest.fixture(scope="module", params=sorted(TARGETS))
def live(request: pytest.FixtureRequest, render_cache: Path) -> Iterator[Live]:
    target = TARGETS[request.param]
    app = target.make_app(_settings(render_cache))
    with live_server(app) as url:
        yield Live(target, url, app, target.credentials(url, KEY))


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def runner(sleeps: list[float]) -> Iterator[SyncRunner]:
    """Retry sleeps are recorded, not slept: the test sees the delays the policy chose."""
    sync = SyncRunner(retry=RetryPolicy(max_retries=2), sleep=sleeps.append)
    yield sync
    sync.close()


def wait(runner: SyncRunner, live: Live, native_id: str) -> ProviderJob:
    for _ in range(500):
        job = runner.run(live.provider.retrieve(native_id, live.creds), live.provider.error_for)
        if job.status in ("completed", "failed"):
            return job
        time.sleep((job.poll_after_ms or 20) / 1000)
    raise AssertionError(f"{native_id} never finished")


def download(runner: SyncRunner, live: Live, native_id: str, variant: str, target: Path) -> str:
    flow = live.provider.download(native_id, variant, live.creds)
    spec = runner.run(flow, live.provider.error_for)
    with runner.open(spec, live.provider.error_for) as stream, target.open("wb") as out:
        for chunk in stream.chunks:
            out.write(chunk)
        return stream.media_type


def test_sync_lifecycle(live: Live, runner: SyncRunner, tmp_path: Path) -> None:
    p, creds = live.provider, live.creds
    created = runner.run(p.create(live.request("a kite over dunes"), creds), p.error_for)
    assert (created.status, created.seconds, created.size) == ("queued", "4", live.target.size)
    done = wait(runner, live, created.native_id)
    assert done.status == "completed"
    assert done.progress == 100
    media = download(runner, live, created.native_id, "video", tmp_path / "v.mp4")
    assert media == "video/mp4"
    info = probe(tmp_path / "v.mp4")
    assert f"{info.width}x{info.height}" == live.target.size
    assert info.duration == pytest.approx(4.0, abs=0.15)
    assert download(runner, live, created.native_id, "spritesheet", tmp_path / "s.jpg") == "image/jpeg"
    with Image.open(tmp_path / "s.jpg") as sheet:
        assert sheet.format == "JPEG"

    remix = runner.run(p.remix(created.native_id, "a kite over dunes at dusk", creds), p.error_for)
    assert remix.remixed_from == created.native_id
    assert (remix.seconds, remix.size) == ("4", live.target.size)
    assert wait(runner, live, remix.native_id).status == "completed"

    page = runner.run(p.list(creds, after=None, limit=1, order="desc"), p.error_for)
    assert [job.native_id for job in page.jobs] == [remix.native_id]
    assert page.has_more is True
    nxt = runner.run(p.list(creds, after=remix.native_id, limit=1, order="desc"), p.error_for)
    assert [job.native_id for job in nxt.jobs] == [created.native_id]

    assert runner.run(p.delete(remix.native_id, creds), p.error_for) is True
    with pytest.raises(NotFoundError):
        runner.run(p.retrieve(remix.native_id, creds), p.error_for)


async def test_async_lifecycle(live: Live, tmp_path: Path) -> None:
    recorded: list[float] = []

    async def no_sleep(seconds: float) -> None:
        recorded.append(seconds)

    runner = AsyncRunner(retry=RetryPolicy(max_retries=2), sleep=no_sleep)
    p, creds = live.provider, live.creds
    try:
        created = await runner.run(p.create(live.request("a tram in fog [fault:429]"), creds), p.error_for)
        assert recorded == [1.0]  # the 429's Retry-After, honoured
        job = created
        for _ in range(500):
            job = await runner.run(p.retrieve(created.native_id, creds), p.error_for)
            if job.status in ("completed", "failed"):
                break
            await asyncio.sleep((job.poll_after_ms or 20) / 1000)
        assert job.status == "completed"
        spec = await runner.run(p.download(created.native_id, "video", creds), p.error_for)
        async with runner.open(spec, p.error_for) as stream:
            data = b"".join([chunk async for chunk in stream.chunks])
        info = probe(data)
        assert f"{info.width}x{info.height}" == live.target.size
        assert info.duration == pytest.approx(4.0, abs=0.15)
        remix = await runner.run(p.remix(created.native_id, "a tram in fog at night", creds), p.error_for)
        assert remix.remixed_from == created.native_id
        page = await runner.run(p.list(creds, after=None, limit=100, order="asc"), p.error_for)
        assert created.native_id in [j.native_id for j in page.jobs]
        with pytest.raises(NotFoundError):
            await runner.run(p.retrieve("video_missing", creds), p.error_for)
    finally:
        await runner.aclose()


def test_image_bytes_are_uploaded_as_multipart(live: Live, runner: SyncRunner) -> None:
    width, height = (int(v) for v in live.target.size.split("x"))
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(buf, format="PNG")
    image = buf.getvalue()
    req = live.request(
        "a harbour from a photo", input_reference=ImageInput(data=image, filename="harbour.png")
    )
    job = runner.run(live.provider.create(req, live.creds), live.provider.error_for)
    assert live.app.state.store.get(job.native_id).image == image
    assert wait(runner, live, job.native_id).status == "completed"


def test_user_and_extra_body_reach_the_provider(live: Live, runner: SyncRunner) -> None:
    req = live.request("forwarded fields", user="user-42", extra_body={"trace_tag": "t-1"})
    job = runner.run(live.provider.create(req, live.creds), live.provider.error_for)
    assert live.app.state.store.get(job.native_id).extra["fields"] == {"user": "user-42", "trace_tag": "t-1"}


def test_create_retries_on_429_and_503(live: Live, runner: SyncRunner, sleeps: list[float]) -> None:
    prompt = "retry me [fault:429] [fault:503]"
    job = runner.run(live.provider.create(live.request(prompt), live.creds), live.provider.error_for)
    assert job.status == "queued"
    assert sleeps == [1.0, 1.0]  # Retry-After of each refusal
    assert len(live.jobs_with_prompt(prompt)) == 1


def test_poll_and_download_faults_are_retried(
    live: Live, runner: SyncRunner, sleeps: list[float], tmp_path: Path
) -> None:
    prompt = "flaky [fault:poll-503] [fault:drop] [fault:download-503]"
    job = runner.run(live.provider.create(live.request(prompt), live.creds), live.provider.error_for)
    assert wait(runner, live, job.native_id).status == "completed"
    assert download(runner, live, job.native_id, "thumbnail", tmp_path / "t.webp") == "image/webp"
    # the dropped connection (jittered backoff), then the poll's and the download's 503 (Retry-After: 1)
    assert len(sleeps) == 3
    assert sleeps[1:] == [1.0, 1.0]
    with Image.open(tmp_path / "t.webp") as thumb:
        assert thumb.format == "WEBP"


def test_create_is_never_blindly_reposted_after_a_500(live: Live, runner: SyncRunner) -> None:
    prompt = "maybe created [fault:500]"
    with pytest.raises(InternalServerError):
        runner.run(live.provider.create(live.request(prompt), live.creds), live.provider.error_for)
    assert live.jobs_with_prompt(prompt) == []  # a re-POST would have succeeded and made a job


@pytest.mark.parametrize(
    ("fault", "code"),
    [("[fault:fail]", "internal_error"), ("[fault:filtered]", "moderation_blocked")],
)
def test_failed_and_filtered_jobs_surface_as_failed(
    live: Live, runner: SyncRunner, fault: str, code: str
) -> None:
    job = runner.run(
        live.provider.create(live.request(f"doomed {fault}"), live.creds), live.provider.error_for
    )
    done = wait(runner, live, job.native_id)
    assert done.status == "failed"
    assert done.error is not None
    assert done.error.code == code
    assert done.error.message
    with pytest.raises(NotFoundError):
        download(runner, live, job.native_id, "video", Path("/dev/null"))


def test_wrong_key_is_authentication_error(live: Live, runner: SyncRunner, sleeps: list[float]) -> None:
    creds = replace(live.creds, api_key="not-the-key")
    with pytest.raises(AuthenticationError):
        runner.run(live.provider.create(live.request("a cat"), creds), live.provider.error_for)
    assert sleeps == []


def test_unfinished_jobs_cannot_be_downloaded_or_deleted(
    live: Live, runner: SyncRunner, render_cache: Path
) -> None:
    app = live.target.make_app(_settings(render_cache, processing_seconds=60))
    with live_server(app) as url:
        creds = live.target.credentials(url, KEY)
        job = runner.run(live.provider.create(live.request("slow one"), creds), live.provider.error_for)
        spec = runner.run(live.provider.download(job.native_id, "video", creds), live.provider.error_for)
        with pytest.raises(NotFoundError, match="not ready"), runner.open(spec, live.provider.error_for):
            pass
        with pytest.raises(BadRequestError):
            runner.run(live.provider.delete(job.native_id, creds), live.provider.error_for)


def test_azure_unknown_deployment_is_not_found(render_cache: Path, runner: SyncRunner) -> None:
    target = TARGETS["azure"]
    with live_server(target.make_app(_settings(render_cache))) as url:
        req = VideoRequest(
            model="no-such-deployment",
            prompt="a cat",
            seconds=4,
            size="1280x720",
            aspect_ratio="16:9",
            resolution="720p",
        )
        with pytest.raises(NotFoundError) as info:
            runner.run(target.provider.create(req, target.credentials(url, KEY)), target.provider.error_for)
    assert info.value.type == "video_generation_user_error"
