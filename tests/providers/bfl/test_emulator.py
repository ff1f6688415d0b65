"""The BFL emulator judged by BFL's documented REST calls, sent as written with ``requests``.

BFL ships no official Python SDK. The calls below are those of BFL's FLUX 3 video API quick reference
(black-forest-labs/skills, ``flux3-generate/references/api-quick-reference.md``, "Polling"): ``POST
https://api.bfl.ai/v1/flux-3-video`` with ``headers={"x-key": key}`` and a JSON body, then ``GET
task["polling_url"]`` with the same header until ``status == "Ready"``, then ``GET result["sample"]``
with no header. The documented ``while True`` loop is bounded here, and its ``time.sleep(5)`` shortened.
See ARCHITECTURE.md for what is unverified.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from tests.support.images import image_bytes
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.bfl.emulator import create_app

KEY = "bfl-emulator-key"
POLLS = 200


@pytest.fixture(scope="module")
def base(render_cache: Path) -> Iterator[str]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache)
    with live_server(create_app(settings)) as url:
        yield url


def documented_run(base: str, body: dict[str, Any], key: str = KEY) -> tuple[dict[str, Any], bytes]:
    """The documented submit-and-poll loop, with api.bfl.ai replaced by the emulator."""
    submit = requests.post(f"{base}/v1/flux-3-video", headers={"x-key": key}, json=body)
    submit.raise_for_status()
    task = submit.json()
    for _ in range(POLLS):
        response = requests.get(task["polling_url"], headers={"x-key": key})
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        status = result["status"]
        if status == "Ready":
            video = requests.get(result["result"]["sample"])
            video.raise_for_status()
            return result, video.content
        if status in {"Error", "Request Moderated", "Content Moderated", "Task not found"}:
            return result, b""
        time.sleep(0.05)
    raise AssertionError(f"task {task['id']} did not finish within {POLLS} polls")


def test_the_documented_text_to_video_call(base: str) -> None:
    body = {
        "mode": "t2v",
        "prompt": "A fox running through dawn mist.",
        "aspect_ratio": "16:9",
        "duration": 5,
        "resolution": "hd",
        "generate_audio": True,
    }
    result, mp4 = documented_run(base, body)
    assert result["status"] == "Ready"
    info = probe(mp4)
    assert (info.width, info.height, info.codec) == (1280, 720, "h264")
    assert info.duration == pytest.approx(5.0, abs=0.05)


def test_the_documented_image_to_video_call_with_an_inline_frame(base: str) -> None:
    frame = base64.b64encode(image_bytes(720, 1280, "png")).decode("ascii")
    body = {"mode": "i2v", "prompt": "The camera pushes forward.", "keyframes": frame, "duration": 6}
    body |= {"aspect_ratio": "9:16", "resolution": "hd"}
    result, mp4 = documented_run(base, body)
    assert result["status"] == "Ready"
    info = probe(mp4)
    assert (info.width, info.height) == (720, 1280)
    assert info.duration == pytest.approx(6.0, abs=0.05)


def test_the_submit_reply_is_id_and_polling_url(base: str) -> None:
    reply = requests.post(f"{base}/v1/flux-3-video", headers={"x-key": KEY}, json={"prompt": "a kite"})
    assert reply.status_code == 200
    task = reply.json()
    assert set(task) == {"id", "polling_url"}
    assert task["polling_url"] == f"{base}/v1/get_result?id={task['id']}"


def test_moderation_and_errors_end_the_documented_loop(base: str) -> None:
    moderated, _ = documented_run(base, {"prompt": "a storm [fault:filtered]"})
    assert moderated["status"] == "Content Moderated"
    failed, _ = documented_run(base, {"prompt": "a storm [fault:fail]"})
    assert failed["status"] == "Error"
    assert failed["error"]


def test_an_unknown_task_is_task_not_found(base: str) -> None:
    reply = requests.get(f"{base}/v1/get_result", params={"id": "nope"}, headers={"x-key": KEY})
    assert reply.status_code == 200
    assert reply.json()["status"] == "Task not found"


def test_keys_are_checked(base: str) -> None:
    missing = requests.post(f"{base}/v1/flux-3-video", json={"prompt": "a kite"})
    assert (missing.status_code, missing.json()) == (403, {"detail": "Not authenticated"})
    wrong = requests.post(f"{base}/v1/flux-3-video", headers={"x-key": "wrong"}, json={"prompt": "a kite"})
    assert wrong.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": "a kite", "duration": 21}, "duration"),
        ({"prompt": "a kite", "resolution": "4k"}, "resolution"),
        ({"prompt": "a kite", "keyframes": "https://example.com/a.png"}, "keyframes"),  # not in t2v
        ({"prompt": "a kite", "colour": "red"}, "colour"),
    ],
)
def test_the_schema_is_strict(base: str, body: dict[str, Any], field: str) -> None:
    reply = requests.post(f"{base}/v1/flux-3-video", headers={"x-key": KEY}, json=body)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["body", field]
