"""vidgate's SDK in direct mode against the Replicate emulator: an open model (no catalogue row: the
template row, nothing charged) with its native input passed through, and a cancel of a running one."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.env import clear_provider_env
from tests.support.live import live_server
from tests.support.media import probe

from vidgate import Client
from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.replicate.emulator import create_app

TOKEN = "r8_loopback"


def test_open_model_create_wait_download(
    render_cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clear_provider_env(monkeypatch)
    app = create_app(EmulatorSettings(api_key=TOKEN, processing_seconds=0.3, cache_dir=render_cache))
    with live_server(app) as url, Client(api_key=TOKEN, api_base=url) as client:
        video = client.videos.create(
            "replicate/minimax/h3-lite",
            "an h3 cat",
            seconds="2",
            size="720x1280",
            extra_body={"prompt_optimizer": False},
        )
        assert client.videos.wait(video.id, timeout=60).status == "completed"
        path = client.videos.stream_content(video.id, tmp_path / "v.mp4")
    assert (probe(path).width, probe(path).height) == (720, 1280)
    (sent,) = [p.job.extra for p in app.state.emulator.predictions.values()]
    assert (sent["prompt_optimizer"], sent["duration"]) == (False, 2)


def test_delete_cancels_a_running_prediction(render_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_provider_env(monkeypatch)
    app = create_app(EmulatorSettings(api_key=TOKEN, processing_seconds=60, cache_dir=render_cache))
    with live_server(app) as url, Client(api_key=TOKEN, api_base=url) as client:
        video = client.videos.create("replicate/minimax/h3-lite", "cancel me", seconds="1")
        assert client.videos.delete(video.id).deleted is True
        cancelled = client.videos.retrieve(video.id)
    assert cancelled.status == "failed"
    assert cancelled.error is not None
    assert cancelled.error.code == "cancelled"
