"""The Runway adapter against its emulator over loopback: expiring output URLs, throttled tasks."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.catalog import validate
from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.base import Credentials
from vidgate.providers.catalogue import find_model
from vidgate.providers.runway import emulator
from vidgate.providers.runway.adapter import RunwayProvider
from vidgate.transport.sync_runner import SyncRunner
from vidgate.types import VideoRequest

KEY = "runway-loopback-secret"
provider = RunwayProvider()


class Clock:
    """Stands in for the emulator's ``time`` module: tasks and URL expiry move only when told."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now


def gen45(prompt: str) -> VideoRequest:
    spec = find_model("runway/gen4.5")
    assert spec is not None
    return validate(spec, prompt=prompt, seconds=2, size="1280x720")


def test_download_after_the_completion_url_expired_uses_a_fresh_one(
    render_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(emulator, "time", clock)
    settings = EmulatorSettings(api_key=KEY, processing_seconds=1, cache_dir=render_cache)
    with live_server(emulator.create_app(settings, url_ttl_seconds=60)) as url:
        creds = Credentials(api_key=KEY, api_base=url)
        runner = SyncRunner(sleep=lambda _: None)
        job = runner.run(provider.create(gen45("an old harbour"), creds), provider.error_for)
        clock.now += 5
        done = runner.run(provider.retrieve(job.native_id, creds), provider.error_for)
        assert done.status == "completed"
        first_url = done.outputs[0]
        clock.now += 3600  # the URL seen at completion has expired
        assert httpx.get(first_url).status_code == 403
        download = runner.run(provider.download(job.native_id, "video", creds), provider.error_for)
        assert download.call is not None
        assert download.call.url != first_url
        with runner.open(download, provider.error_for) as stream:
            data = b"".join(stream.chunks)
    info = probe(data)
    assert (info.width, info.height) == (1280, 720)
    assert info.duration == pytest.approx(2, abs=0.05)


def test_a_throttled_task_reads_as_queued_then_runs(
    render_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(emulator, "time", clock)
    settings = EmulatorSettings(api_key=KEY, processing_seconds=10, cache_dir=render_cache)
    with live_server(emulator.create_app(settings, concurrency=1)) as url:
        creds = Credentials(api_key=KEY, api_base=url)
        runner = SyncRunner(sleep=lambda _: None)
        runner.run(provider.create(gen45("first"), creds), provider.error_for)
        second = runner.run(provider.create(gen45("second"), creds), provider.error_for)
        clock.now += 5
        waiting = runner.run(provider.retrieve(second.native_id, creds), provider.error_for)
        assert (waiting.status, waiting.raw["status"]) == ("queued", "THROTTLED")
        clock.now += 10  # the first finished; the second has been running for 5 of its 10 s
        running = runner.run(provider.retrieve(second.native_id, creds), provider.error_for)
        assert (running.status, running.progress) == ("in_progress", 50)
