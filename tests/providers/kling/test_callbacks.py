"""Kling calling the gateway back (``callback_url``) over loopback: at most one upstream poll per job,
duplicates harmless, forged deliveries refused (Kling does not sign: the per-job secret in the URL is
the proof) with nothing changed, and the catalogue price charged once.

Price by hand: kling-v3-0 std (720p) with sound is $0.126/s, so 3 s = $0.378.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.callbacks import CallbackGateway, callback_gateway, finished, wait_for

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.kling.emulator import create_app as kling_app

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")
KEY = "kling-callbacks-key"
SIZE = "1280x720"


@pytest.fixture(scope="module")
def setup(render_cache: Path) -> Iterator[tuple[CallbackGateway, Any]]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache)
    app = kling_app(settings)
    params = {"model": "kling/kling-v3-0", "api_key": KEY, "secret_key": KEY}
    with callback_gateway(app, "kling-fox", params) as gateway:
        yield gateway, app.state.emulator


def task_of(emulator: Any, prompt: str) -> Any:
    (task,) = [t for t in emulator.tasks.values() if t.job.prompt == prompt]
    return task


def test_a_job_completes_by_callback_and_duplicates_change_nothing(
    setup: tuple[CallbackGateway, Any],
) -> None:
    gateway, emulator = setup
    key = gateway.new_key()
    client = gateway.client(key)
    prompt = "a fox called back twice [fault:callback-dupx1]"
    video = client.videos.create(model="kling-fox", prompt=prompt, seconds="3", size=SIZE)  # type: ignore[arg-type]
    assert finished(client, video.id).status == "completed"
    task = task_of(emulator, prompt)
    assert str(task.callback_url).startswith(f"{gateway.url}/provider_callbacks/{video.id}?token=")
    wait_for(lambda: len([a for a in emulator.callbacks.deliveries if a.job_id == task.job.id]) == 2)
    assert [a.status for a in emulator.callbacks.deliveries if a.job_id == task.job.id] == [200, 200]
    assert gateway.polls_of(task.job.id) <= 1
    assert client.videos.download_content(video.id).content[4:8] == b"ftyp"
    assert gateway.spend(key) == 0.378


def test_forged_deliveries_change_nothing(setup: tuple[CallbackGateway, Any]) -> None:
    gateway, emulator = setup
    key = gateway.new_key()
    client = gateway.client(key)
    prompt = "a fox whose callback is lost [fault:callback-drop]"
    video = client.videos.create(model="kling-fox", prompt=prompt, seconds="3", size=SIZE)  # type: ignore[arg-type]
    task = task_of(emulator, prompt)
    wait_for(lambda: task.job.state()[0] == "completed")
    url = str(task.callback_url)

    class Base:
        base_url = gateway.upstream_url + "/"

    body = json.dumps(emulator.task_json(Base(), task)).encode()
    other = json.dumps({**json.loads(body), "task_id": "another-task"}).encode()
    codes = {
        "wrong token": httpx.post(url.partition("?")[0] + "?token=guess", content=body).status_code,
        "another task": httpx.post(url, content=other).status_code,
        "not json": httpx.post(url, content=b"[").status_code,
    }
    assert all(400 <= code < 500 for code in codes.values()), codes
    assert client.videos.retrieve(video.id).status in ("queued", "in_progress")
    assert gateway.spend(key) == 0.0
    assert httpx.post(url, content=body).status_code == 200
    assert client.videos.retrieve(video.id).status == "completed"
    assert httpx.post(url, content=body).status_code == 200  # replayed: nothing changes
    assert gateway.spend(key) == 0.378
    assert gateway.polls_of(task.job.id) == 0
