"""The Volcengine Ark emulator judged by the official Ark SDKs over loopback.

``volcenginesdkarkruntime`` (volcengine-ark-runtime, what ``volcengine-python-sdk[ark]`` installs) and
``byteplussdkarkruntime`` (byteplus-python-sdk-v2[ark]) share one wire format; both run create, poll,
download of ``content.video_url``, list and delete, and get their own error classes for a bad key and
an unknown task.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import byteplussdkarkruntime
import httpx
import pytest
import volcenginesdkarkruntime
from byteplussdkarkruntime import _exceptions as byteplus_errors
from tests.support.live import live_server
from tests.support.media import probe
from volcenginesdkarkruntime import _exceptions as volc_errors

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.volcengine.emulator import create_app

KEY = "ark-emulator-key"
MODEL = "doubao-seedance-2-0-260128"
MAX_POLLS = 200


@pytest.fixture(scope="module")
def url(render_cache: Path) -> Iterator[str]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache)
    with live_server(create_app(settings)) as base:
        yield base


def volc(url: str, key: str = KEY) -> Any:
    return volcenginesdkarkruntime.Ark(base_url=f"{url}/api/v3", api_key=key, max_retries=0)


def byteplus(url: str, key: str = KEY) -> Any:
    return byteplussdkarkruntime.Ark(base_url=f"{url}/api/v3", api_key=key, max_retries=0)


def wait(client: Any, task_id: str) -> Any:
    for _ in range(MAX_POLLS):
        task = client.content_generation.tasks.get(task_id=task_id)
        if task.status not in ("queued", "running"):
            return task
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} still running after {MAX_POLLS} polls")


@pytest.mark.parametrize("make", [volc, byteplus], ids=["volcengine", "byteplus"])
def test_sdk_creates_polls_and_downloads(url: str, make: Any) -> None:
    client = make(url)
    created = client.content_generation.tasks.create(
        model=MODEL,
        content=[{"type": "text", "text": "a paper boat on a pond"}],
        ratio="9:16",
        resolution="480p",
        duration=4,
        generate_audio=False,
        watermark=False,
        seed=7,
    )
    assert created.id.startswith("cgt-")
    first = client.content_generation.tasks.get(task_id=created.id)
    assert first.status in ("queued", "running")
    done = wait(client, created.id)
    assert (done.status, done.model, done.duration, done.ratio, done.resolution, done.seed) == (
        "succeeded",
        MODEL,
        4,
        "9:16",
        "480p",
        7,
    )
    assert done.usage.completion_tokens == 496 * 864 * 97 // 1024  # 97 frames: 24 fps x 4 s + 1
    video = httpx.get(done.content.video_url)  # signed storage: no key
    assert video.status_code == 200
    info = probe(video.content)
    assert (info.width, info.height) == (496, 864)
    assert info.duration == pytest.approx(4.0, abs=0.05)


def test_sdk_lists_filters_and_cancels(render_cache: Path) -> None:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=600, cache_dir=render_cache)
    with live_server(create_app(settings)) as base:
        check_list_and_cancel(volc(base))


def check_list_and_cancel(client: Any) -> None:
    """On a server whose tasks stay queued for a minute."""
    created = client.content_generation.tasks.create(
        model=MODEL, content=[{"type": "text", "text": "a kite"}], ratio="16:9", resolution="720p", duration=5
    )
    listed = client.content_generation.tasks.list(page_num=1, page_size=50, task_ids=[created.id])
    assert listed.total == 1
    assert [item.id for item in listed.items] == [created.id]
    # Queued: DELETE cancels, and the task stays readable as cancelled.
    client.content_generation.tasks.delete(created.id)
    assert client.content_generation.tasks.get(task_id=created.id).status == "cancelled"
    cancelled = client.content_generation.tasks.list(status="cancelled", page_size=50)
    assert created.id in [item.id for item in cancelled.items]


def test_sdk_deleting_a_finished_task_removes_it(url: str) -> None:
    client = volc(url)
    created = client.content_generation.tasks.create(
        model=MODEL, content=[{"type": "text", "text": "a lantern"}], duration=4
    )
    wait(client, created.id)
    client.content_generation.tasks.delete(created.id)
    with pytest.raises(volc_errors.ArkNotFoundError):
        client.content_generation.tasks.get(task_id=created.id)


@pytest.mark.parametrize(
    ("make", "errors"), [(volc, volc_errors), (byteplus, byteplus_errors)], ids=["volcengine", "byteplus"]
)
def test_sdk_error_classes(url: str, make: Any, errors: Any) -> None:
    with pytest.raises(errors.ArkAuthenticationError) as bad_key:
        make(url, "wrong-key").content_generation.tasks.create(
            model=MODEL, content=[{"type": "text", "text": "x"}]
        )
    assert bad_key.value.code == "AuthenticationError"
    with pytest.raises(errors.ArkNotFoundError) as unknown:
        make(url).content_generation.tasks.get(task_id="cgt-20261206000000-nope")
    assert unknown.value.code == "ResourceNotFound"
    with pytest.raises(errors.ArkNotFoundError) as model:
        make(url).content_generation.tasks.create(
            model="no-such-model", content=[{"type": "text", "text": "x"}]
        )
    assert model.value.code == "InvalidEndpointOrModel.NotFound"
    with pytest.raises(errors.ArkBadRequestError) as duration:
        make(url).content_generation.tasks.create(
            model=MODEL, content=[{"type": "text", "text": "x"}], duration=3
        )
    assert duration.value.param == "duration"


def test_a_running_task_cannot_be_deleted(render_cache: Path) -> None:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=30, cache_dir=render_cache)
    app = create_app(settings)
    with live_server(app) as base:
        client = volc(base)
        created = client.content_generation.tasks.create(
            model=MODEL, content=[{"type": "text", "text": "a slow fox"}], duration=4
        )
        task = app.state.emulator.tasks[created.id]
        task.job.created_at -= 10  # past the queued tenth of processing_seconds: running
        assert client.content_generation.tasks.get(task_id=created.id).status == "running"
        with pytest.raises(volc_errors.ArkBadRequestError):
            client.content_generation.tasks.delete(created.id)


def test_the_video_url_expires(render_cache: Path) -> None:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.1, cache_dir=render_cache)
    app = create_app(settings)
    with live_server(app) as base:
        client = volc(base)
        created = client.content_generation.tasks.create(
            model=MODEL, content=[{"type": "text", "text": "an hourglass"}], duration=4
        )
        done = wait(client, created.id)
        task = app.state.emulator.tasks[created.id]
        task.job.created_at -= 24 * 3600 + 60  # finished more than 24 h ago
        assert httpx.get(done.content.video_url).status_code == 403
        fresh = client.content_generation.tasks.get(task_id=created.id).content.video_url
        assert httpx.get(fresh).status_code == 403  # a URL signed now still expires 24 h after completion
