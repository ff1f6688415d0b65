"""vidgate's SDK in direct mode against the fal emulator over loopback: an open model path (no catalogue
row: the template row, nothing charged) with its native input passed through, then a cancel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.env import clear_provider_env
from tests.support.live import live_server
from tests.support.media import probe

from vidgate import Client
from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.fal.emulator import create_app

KEY = "fal-loopback-key"


@pytest.fixture
def emulator(render_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, object]]:
    clear_provider_env(monkeypatch)
    app = create_app(EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache))
    with live_server(app) as url:
        yield url, app.state.emulator


def test_open_path_create_wait_download(emulator: tuple[str, object], tmp_path: Path) -> None:
    url, upstream = emulator
    with Client(api_key=KEY, api_base=url) as client:
        video = client.videos.create(
            "fal/some-owner/new-app/v1",
            "an open path cat",
            seconds="2",
            size="480x854",
            extra_body={"motion_bucket": 7},
        )
        done = client.videos.wait(video.id, timeout=60)
        assert done.status == "completed"
        path = client.videos.stream_content(video.id, tmp_path / "v.mp4")
    info = probe(path)
    assert (info.width, info.height) == (480, 854)
    assert info.duration == pytest.approx(2.0, abs=0.05)
    (sent,) = [q.job.extra for q in upstream.requests.values()]  # type: ignore[attr-defined]
    assert sent["motion_bucket"] == 7
    assert sent["duration"] == "2"


def test_delete_cancels_a_running_request(render_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_provider_env(monkeypatch)
    app = create_app(EmulatorSettings(api_key=KEY, processing_seconds=60, cache_dir=render_cache))
    with live_server(app) as url, Client(api_key=KEY, api_base=url) as client:
        video = client.videos.create("fal/some-owner/new-app", "cancel me", seconds="1")
        assert client.videos.delete(video.id).deleted is True
        cancelled = client.videos.retrieve(video.id)
    assert cancelled.status == "failed"
    assert cancelled.error is not None
    assert cancelled.error.code == "cancelled"
