"""Edits, extensions and characters on OpenAI's wire: the emulator judged by the official ``openai``
package over loopback, and the adapter's flows (``VideoRequest.task``) driven against the emulator."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.catalog import validate
from vidgate.catalog.mp4 import probe as mp4_probe
from vidgate.catalog.tasks import validate_task
from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.base import Credentials
from vidgate.providers.catalogue import find_model
from vidgate.providers.openai.adapter import OpenAIProvider
from vidgate.providers.openai.emulator import create_app
from vidgate.transport import SyncRunner
from vidgate.types import SourceVideo

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the Sora shutdown notice

KEY = "sk-emulator-test-key"


@pytest.fixture(scope="module")
def url(render_cache: Path) -> Iterator[str]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.2, poll_after_ms=20, cache_dir=render_cache)
    with live_server(create_app(settings)) as base:
        yield base


@pytest.fixture
def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0)


def finished(client: openai.OpenAI, video_id: str) -> Any:
    for _ in range(200):
        video = client.videos.retrieve(video_id)
        if video.status in ("completed", "failed"):
            return video
        time.sleep(0.02)
    raise AssertionError(f"{video_id} did not finish")


def test_the_official_sdk_edits_extends_and_makes_characters(client: openai.OpenAI) -> None:
    source = client.videos.create(model="sora-2", prompt="a lighthouse", seconds="4", size="1280x720")
    assert finished(client, source.id).status == "completed"
    clip = client.videos.download_content(source.id).read()
    edited = client.videos.edit(prompt="at night", video=("lighthouse.mp4", clip, "video/mp4"))
    assert (edited.seconds, edited.size) == ("4", "1280x720")
    extended = client.videos.extend(prompt="the storm comes", seconds="4", video=("l.mp4", clip, "video/mp4"))
    for video_id, seconds in ((edited.id, 4.0), (extended.id, 8.0)):
        assert finished(client, video_id).status == "completed"
        info = probe(client.videos.download_content(video_id).read())
        assert info.duration == pytest.approx(seconds, abs=0.1)
        assert (info.width, info.height) == (1280, 720)
    by_id = client.post(
        "/videos/edits", body={"prompt": "in fog", "video": {"id": source.id}}, cast_to=openai.types.Video
    )
    assert by_id.seconds == "4"
    character = client.videos.create_character(name="Keeper", video=("k.mp4", clip, "video/mp4"))
    assert character.name == "Keeper"
    assert character.id is not None
    assert client.videos.get_character(character.id).name == "Keeper"
    with pytest.raises(openai.BadRequestError) as bad:
        client.videos.edit(prompt="x", video=("x.mp4", b"not a video", "video/mp4"))
    assert bad.value.body["param"] == "video"  # type: ignore[index]
    with pytest.raises(openai.NotFoundError):
        client.videos.get_character("char_missing")


def test_the_adapter_sends_edits_and_extensions_the_emulator_accepts(url: str) -> None:
    spec = find_model("openai/sora-2")
    assert spec is not None
    creds = Credentials(api_key=KEY, api_base=f"{url}/v1")
    adapter = OpenAIProvider()
    runner = SyncRunner(sleep=lambda _: None)
    try:
        base = validate(spec, prompt="a harbour", seconds="4", size="1280x720")
        created = runner.run(adapter.create(base, creds), adapter.error_for)
        for _ in range(200):
            job = runner.run(adapter.retrieve(created.native_id, creds), adapter.error_for)
            if job.status == "completed":
                break
            time.sleep(0.02)
        by_id = validate_task(
            spec,
            "extend",
            prompt="boats leave",
            seconds="4",
            source=SourceVideo(native_id=created.native_id, seconds=4, size="1280x720"),
        )
        extended = runner.run(adapter.create(by_id, creds), adapter.error_for)
        download = runner.run(adapter.download(created.native_id, "video", creds), adapter.error_for)
        with runner.open(download, adapter.error_for) as stream:
            clip = b"".join(stream.chunks)
        info = mp4_probe(clip)
        assert info is not None
        upload = validate_task(
            spec,
            "edit",
            prompt="at dusk",
            source=SourceVideo(data=clip, seconds=info.whole_seconds, size=info.size),
        )
        edited = runner.run(adapter.create(upload, creds), adapter.error_for)
    finally:
        runner.close()
    assert (extended.seconds, edited.seconds) == ("4", "4")
    assert extended.native_id != edited.native_id
