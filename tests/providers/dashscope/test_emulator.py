"""The DashScope emulator judged by the official ``dashscope`` SDK (2.0.2): ``VideoSynthesis.async_call``,
``fetch``, ``wait`` and ``cancel`` pointed at it through ``dashscope.base_http_api_url``.

The SDK does not raise for HTTP errors: it returns a response whose ``status_code``, ``code`` and
``message`` carry them, and an unknown task id is a 200 with ``task_status`` ``UNKNOWN``; both are
asserted as the SDK reports them.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import dashscope
import pytest
import requests
from dashscope import VideoSynthesis
from tests.support.images import image_bytes
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.dashscope.emulator import create_app

KEY = "sk-dashscope-emulator"
# ``VideoSynthesis.list`` (dashscope 2.0.2); mypy does not see the classmethod that shadows ``list``.
list_tasks: Callable[..., Any] = VideoSynthesis.list  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def fast(render_cache: Path) -> Iterator[str]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache)
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def slow(render_cache: Path) -> Iterator[str]:
    """Tasks stay PENDING for 3 s of a 30 s run: long enough to cancel."""
    settings = EmulatorSettings(api_key=KEY, processing_seconds=30.0, cache_dir=render_cache)
    with live_server(create_app(settings)) as url:
        yield url


def point_at(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setattr(dashscope, "base_http_api_url", f"{url}/api/v1")


def test_async_call_fetch_wait_and_download(fast: str, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(monkeypatch, fast)
    created = VideoSynthesis.async_call(
        model="wan3.0-video", prompt="a lantern festival", size="832*480", duration=5, seed=7, api_key=KEY
    )
    assert created.status_code == HTTPStatus.OK, created
    assert created.output.task_status == "PENDING"
    fetched = VideoSynthesis.fetch(created, api_key=KEY)
    assert fetched.status_code == HTTPStatus.OK
    assert fetched.output.task_status in ("PENDING", "RUNNING", "SUCCEEDED")
    done = VideoSynthesis.wait(created, api_key=KEY, wait_timeout=60)
    assert done.output.task_status == "SUCCEEDED"
    assert done.usage.video_count == 1
    assert done.usage.duration == 5
    video = requests.get(done.output.video_url)
    assert video.status_code == 200
    info = probe(video.content)
    assert (info.width, info.height) == (832, 480)
    assert info.duration == pytest.approx(5.0, abs=0.05)


def test_image_to_video_with_a_data_uri_and_resolution(fast: str, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(monkeypatch, fast)
    png = base64.b64encode(image_bytes(1280, 720, "png")).decode()
    created = VideoSynthesis.async_call(
        model="wan2.7-i2v",
        prompt="the lantern rises",
        img_url=f"data:image/png;base64,{png}",
        resolution="720P",
        duration=5,
        api_key=KEY,
    )
    assert created.status_code == HTTPStatus.OK, created
    done = VideoSynthesis.wait(created, api_key=KEY, wait_timeout=60)
    assert done.output.task_status == "SUCCEEDED"
    assert probe(requests.get(done.output.video_url).content).width == 1280


def test_a_bad_key_is_reported_not_raised(fast: str, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(monkeypatch, fast)
    refused = VideoSynthesis.async_call(model="wan2.7-t2v", prompt="x", size="1280*720", api_key="sk-wrong")
    assert (refused.status_code, refused.code, refused.message) == (
        401,
        "InvalidApiKey",
        "Invalid API-key provided.",
    )
    assert refused.output is None


def test_an_unknown_task_is_a_200_with_status_unknown(fast: str, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(monkeypatch, fast)
    unknown = VideoSynthesis.fetch("00000000-0000-0000-0000-000000000000", api_key=KEY)
    assert unknown.status_code == HTTPStatus.OK
    assert unknown.output.task_status == "UNKNOWN"


def test_an_unsupported_value_is_a_400_invalid_parameter(fast: str, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(monkeypatch, fast)
    refused = VideoSynthesis.async_call(
        model="wan2.7-t2v", prompt="x", size="1280*720", duration=7, api_key=KEY
    )
    assert (refused.status_code, refused.code) == (400, "InvalidParameter")
    assert "duration" in refused.message


def test_cancel_works_on_pending_tasks_only(slow: str, fast: str, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(monkeypatch, slow)
    created = VideoSynthesis.async_call(model="wan2.7-t2v", prompt="to cancel", size="1280*720", api_key=KEY)
    cancelled = VideoSynthesis.cancel(created, api_key=KEY)
    assert cancelled.status_code == HTTPStatus.OK, cancelled
    assert VideoSynthesis.fetch(created, api_key=KEY).output.task_status == "CANCELED"
    again = VideoSynthesis.cancel(created, api_key=KEY)
    assert (again.status_code, again.code) == (400, "UnsupportedOperation")


def test_the_create_needs_the_async_header(fast: str) -> None:
    body = {"model": "wan2.7-t2v", "input": {"prompt": "x"}, "parameters": {"size": "1280*720"}}
    reply = requests.post(
        f"{fast}/api/v1/services/aigc/video-generation/video-synthesis",
        json=body,
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert reply.status_code == 403
    assert reply.json()["code"] == "AccessDenied"


def test_list_pages_the_tasks_newest_first(fast: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``VideoSynthesis.list`` (``GET /tasks``): ``data``, ``total``, ``page_no``, ``page_size``; the
    SDK moves everything but ``request_id`` into ``output``."""
    point_at(monkeypatch, fast)
    first = VideoSynthesis.async_call(model="wan2.7-t2v", prompt="one", size="1280*720", api_key=KEY)
    assert VideoSynthesis.wait(first, api_key=KEY, wait_timeout=60).output.task_status == "SUCCEEDED"
    second = VideoSynthesis.async_call(model="wan3.0-video", prompt="two", size="832*480", api_key=KEY)
    listed = list_tasks(page_no=1, page_size=1, api_key=KEY)
    assert listed.status_code == HTTPStatus.OK, listed
    assert listed.request_id
    assert (listed.output["page_no"], listed.output["page_size"]) == (1, 1)
    assert listed.output["total"] >= 2
    (newest,) = listed.output["data"]
    assert (newest["task_id"], newest["model_name"]) == (second.output.task_id, "wan3.0-video")
    assert isinstance(newest["gmt_create"], int)

    def ids(**filters: object) -> list[str]:
        found = list_tasks(page_size=100, api_key=KEY, **filters)
        return [entry["task_id"] for entry in found.output["data"]]

    assert first.output.task_id in ids(model_name="wan2.7-t2v", status="SUCCEEDED")
    assert first.output.task_id not in ids(status="PENDING")
    assert second.output.task_id not in ids(model_name="wan2.7-t2v")
    assert ids(start_time="20991231000000") == []


@pytest.mark.parametrize(
    ("params", "code"),
    [({"page_size": 0}, "InvalidParameter"), ({"status": "DONE"}, "InvalidParameter")],
)
def test_list_refuses_bad_parameters(
    fast: str, monkeypatch: pytest.MonkeyPatch, params: dict[str, object], code: str
) -> None:
    point_at(monkeypatch, fast)
    refused = list_tasks(api_key=KEY, **params)
    assert (refused.status_code, refused.code) == (400, code)
    unauthorized = list_tasks(api_key="wrong")
    assert (unauthorized.status_code, unauthorized.code) == (401, "InvalidApiKey")
