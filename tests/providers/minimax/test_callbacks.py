"""MiniMax calling the gateway back (``callback_url``) over loopback: the URL check (the challenge is
echoed, while the create is still running), then the task's end delivered: at most one upstream poll
per job, duplicates harmless, forged deliveries refused with nothing changed, charged once.

Price by hand: MiniMax-H3 at 768P is $0.08/s, so 4 s = $0.32.
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
from vidgate.providers.minimax.emulator import create_app as minimax_app

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")
KEY = "minimax-callbacks-key"


@pytest.fixture(scope="module")
def setup(render_cache: Path) -> Iterator[tuple[CallbackGateway, Any]]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache)
    app = minimax_app(settings)
    with callback_gateway(app, "hailuo", {"model": "minimax/MiniMax-H3", "api_key": KEY}) as gateway:
        yield gateway, app.state.emulator


def task_of(emulator: Any, prompt: str) -> Any:
    (task,) = [t for t in emulator.tasks.values() if t.job.prompt == prompt]
    return task


def test_challenge_then_completion_by_callback(setup: tuple[CallbackGateway, Any]) -> None:
    gateway, emulator = setup
    key = gateway.new_key()
    client = gateway.client(key)
    prompt = "a kite called back [fault:callback-dupx2]"
    video = client.videos.create(model="hailuo", prompt=prompt, seconds="4")
    assert finished(client, video.id).status == "completed"
    task = task_of(emulator, prompt)  # the create passed MiniMax's challenge
    wait_for(lambda: len([a for a in emulator.callbacks.deliveries if a.job_id == task.job.id]) == 3)
    assert [a.status for a in emulator.callbacks.deliveries if a.job_id == task.job.id] == [200] * 3
    assert gateway.polls_of(task.job.id) <= 1
    assert gateway.spend(key) == 0.32


def test_forged_deliveries_change_nothing(setup: tuple[CallbackGateway, Any]) -> None:
    gateway, emulator = setup
    key = gateway.new_key()
    client = gateway.client(key)
    prompt = "a kite whose callback is lost [fault:callback-drop]"
    video = client.videos.create(model="hailuo", prompt=prompt, seconds="4")
    task = task_of(emulator, prompt)
    wait_for(lambda: task.job.state()[0] == "completed")
    url = str(task.callback_url)

    class Base:
        base_url = gateway.upstream_url + "/"

    body = json.dumps({"task": emulator.task_json(Base(), task), "base_resp": {"status_code": 0}}).encode()
    other = json.dumps({"task": {**json.loads(body)["task"], "id": "another-task"}}).encode()
    codes = {
        "wrong token": httpx.post(url.partition("?")[0] + "?token=guess", content=body).status_code,
        "another task": httpx.post(url, content=other).status_code,
        "not json": httpx.post(url, content=b"{").status_code,
    }
    assert all(400 <= code < 500 for code in codes.values()), codes
    challenge = httpx.post(url, json={"challenge": "c-123"})
    assert (challenge.status_code, challenge.json()) == (200, {"challenge": "c-123"})
    assert client.videos.retrieve(video.id).status in ("queued", "in_progress")
    assert gateway.spend(key) == 0.0
    assert httpx.post(url, content=body).status_code == 200
    assert client.videos.retrieve(video.id).status == "completed"
    assert httpx.post(url, content=body).status_code == 200  # replayed: nothing changes
    assert gateway.spend(key) == 0.32
    assert gateway.polls_of(task.job.id) == 0
