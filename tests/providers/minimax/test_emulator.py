"""MiniMax ships no Python SDK, and its V2 reference pages were not readable here, so public V2 clients'
request bodies are the judge, sent byte for byte with httpx against the emulator: a text-to-video body
from a public adapter's test fixture (``MiniMax-H3``, ``content`` with one text item, ``resolution``,
``duration``, ``ratio``, ``aigc_watermark``) and a first-frame body as a public stdlib V2 client builds
it ("API contract checked 2026-09-12"). Both are secondary sources (see ARCHITECTURE.md)."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.images import image_bytes
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.minimax.emulator import RETENTION_SECONDS, create_app

KEY = "mm-emulator-key"
POLLS = 200

T2V_BODY = (
    b'{"model":"MiniMax-H3","content":[{"type":"text","text":"rain on glass, neon city behind"}],'
    b'"resolution":"768P","duration":5,"ratio":"9:16","aigc_watermark":false}'
)


def i2v_body(image: bytes) -> bytes:
    data = base64.b64encode(image).decode("ascii")
    return (
        '{"model": "MiniMax-H3", "content": [{"type": "text", "text": "the kite rises"}, '
        '{"type": "image_url", "image_url": '
        f'{{"url": "data:image/png;base64,{data}"}}, "role": "first_frame"}}], '
        '"duration": 5, "resolution": "768P", "ratio": "adaptive"}'
    ).encode()


@pytest.fixture(scope="module")
def server(render_cache: Path) -> Iterator[tuple[str, Any]]:
    app = create_app(EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache))
    with live_server(app) as url:
        yield url, app.state.emulator


@pytest.fixture(scope="module")
def url(server: tuple[str, Any]) -> str:
    return server[0]


def headers(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


def create(url: str, body: bytes, key: str = KEY) -> httpx.Response:
    return httpx.post(url + "/v2/video_generation", content=body, headers=headers(key))


def query(url: str, task_id: str) -> httpx.Response:
    return httpx.get(f"{url}/v2/query/video_generation/{task_id}", headers=headers())


def finish(url: str, task_id: str) -> dict[str, Any]:
    for _ in range(POLLS):
        task: dict[str, Any] = query(url, task_id).json()["task"]
        if task["status"] not in ("queued", "running"):
            return task
        time.sleep(0.05)
    raise AssertionError("the task did not finish")


@pytest.mark.parametrize(
    ("body", "size"),
    [(T2V_BODY, (768, 1366)), (i2v_body(image_bytes(1366, 768, "png")), (1366, 768))],
    ids=["text", "first-frame"],
)
def test_public_bodies_create_query_and_download(
    url: str, body: bytes, size: tuple[int, int], tmp_path: Path
) -> None:
    created = create(url, body)
    assert created.status_code == 200
    assert created.json()["base_resp"] == {"status_code": 0, "status_msg": "success"}
    task = finish(url, created.json()["task_id"])
    assert (task["status"], task["duration"], task["resolution"]) == ("succeeded", 5, "768P")
    video = httpx.get(task["content"]["url"], timeout=120)  # time-limited URL, no key
    assert video.status_code == 200
    (tmp_path / "v.mp4").write_bytes(video.content)
    info = probe(tmp_path / "v.mp4")
    assert (info.width, info.height) == size
    assert info.duration == pytest.approx(5.0, abs=0.05)
    listed = httpx.get(url + "/v2/query/video_generation?page_num=1&page_size=20", headers=headers()).json()
    assert task["id"] in [t["id"] for t in listed["tasks"]]


@pytest.mark.parametrize(
    ("key", "body", "code"),
    [
        ("wrong-key", T2V_BODY, 1004),
        (KEY, T2V_BODY.replace(b"neon city", b"neon city [minimax:1008]"), 1008),
        (KEY, T2V_BODY.replace(b"neon city", b"neon city [minimax:1002]"), 1002),
        (KEY, T2V_BODY.replace(b"neon city", b"neon city [minimax:1026]"), 1026),
        (KEY, T2V_BODY.replace(b'"768P"', b'"1080P"'), 2013),
        (KEY, T2V_BODY.replace(b'"duration":5', b'"duration":"5"'), 2013),
        (KEY, T2V_BODY.replace(b'"content":[', b'"content":[{"type":"text","text":"two"},'), 2013),
    ],
)
def test_failures_come_as_http_200_with_base_resp(url: str, key: str, body: bytes, code: int) -> None:
    reply = create(url, body, key)
    assert reply.status_code == 200
    assert reply.json()["base_resp"]["status_code"] == code
    assert "task_id" not in reply.json()


def test_unknown_task_cancel_and_delete(url: str) -> None:
    missing = query(url, "000000")
    assert (missing.status_code, missing.json()["base_resp"]["status_code"]) == (404, 2013)
    slow = create(url, T2V_BODY.replace(b"neon", b"neon cancel me")).json()["task_id"]
    assert (
        httpx.delete(f"{url}/v2/video_generation/{slow}", headers=headers()).json()["base_resp"][
            "status_code"
        ]
        == 0
    )
    assert query(url, slow).json()["task"]["status"] == "cancelled"
    done = finish(url, create(url, T2V_BODY).json()["task_id"])
    assert httpx.delete(f"{url}/v2/video_generation/{done['id']}", headers=headers()).status_code == 200
    assert query(url, done["id"]).status_code == 404


def test_output_urls_expire_and_a_new_query_signs_a_fresh_one(server: tuple[str, Any]) -> None:
    url, emulator = server
    task = finish(url, create(url, T2V_BODY).json()["task_id"])
    first = task["content"]["url"]
    clock = emulator.urls.clock
    emulator.urls.clock = lambda: clock() + 7200
    try:
        assert httpx.get(first).status_code == 403
        fresh = query(url, task["id"]).json()["task"]["content"]["url"]
        assert fresh != first
        assert httpx.get(fresh, timeout=120).status_code == 200
    finally:
        emulator.urls.clock = clock
    emulator.clock = lambda: clock() + RETENTION_SECONDS + 60
    try:
        assert query(url, task["id"]).json()["task"]["status"] == "expired"
    finally:
        emulator.clock = time.time


def test_shared_faults(url: str) -> None:
    body = T2V_BODY.replace(b"neon city", b"neon city [fault:429]")
    refused = create(url, body)
    assert (refused.status_code, refused.headers["retry-after"]) == (429, "1")
    assert create(url, body).json()["base_resp"]["status_code"] == 0
    filtered = create(url, T2V_BODY.replace(b"neon city", b"neon city [fault:filtered]")).json()["task_id"]
    task = finish(url, filtered)
    assert (task["status"], task["error"]["code"]) == ("failed", "1027")


R2V_BODY = (
    b'{"model":"MiniMax-H3","content":[{"type":"text","text":"the dancer from Video 1, in the rain"},'
    b'{"type":"video_url","video_url":{"url":"https://cdn.example/dance.mp4"},"role":"reference_video"}],'
    b'"duration":5,"resolution":"768P","ratio":"16:9"}'
)


def test_a_reference_video_body_is_accepted(url: str) -> None:
    created = create(url, R2V_BODY)
    assert created.json()["base_resp"]["status_code"] == 0
    assert finish(url, created.json()["task_id"])["status"] == "succeeded"


@pytest.mark.parametrize(
    "body",
    [
        R2V_BODY.replace(b"https://cdn.example", b"data:video/mp4;base64,AAAA"),
        R2V_BODY.replace(b'"MiniMax-H3"', b'"MiniMax-H3-Max"'),
        R2V_BODY.replace(
            b'"role":"reference_video"}',
            b'"role":"reference_video"},'
            + b",".join(
                [
                    b'{"type":"video_url","video_url":{"url":'
                    b'"https://cdn.example/b.mp4"},"role":"reference_video"}'
                ]
                * 3
            ),
        ),
        R2V_BODY.replace(
            b'"role":"reference_video"}',
            b'"role":"reference_video"},{"type":"image_url","image_url":{"url":"https://img.example/a.png"},'
            b'"role":"first_frame"}',
        ),
    ],
    ids=["base64", "h3-max", "four", "with-a-frame"],
)
def test_reference_videos_it_cannot_take_are_2013_at_http_200(url: str, body: bytes) -> None:
    reply = create(url, body)
    assert (reply.status_code, reply.json()["base_resp"]["status_code"]) == (200, 2013)
