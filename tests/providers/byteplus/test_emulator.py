"""The BytePlus ModelArk emulator judged by ``byteplussdkarkruntime`` (byteplus-python-sdk-v2[ark]):
the ``dreamina-*`` ids it serves, token usage, the error class for a model this host has not
activated, and reference videos (``video_url`` items, the SDK's ``CreateTaskContentVideoParam``): read
from a URL (its own or another host's), billed with their seconds, refused where ModelArk refuses them.
(The wire itself is Ark's, judged in ``tests/providers/volcengine/test_emulator.py``.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import byteplussdkarkruntime
import httpx
import pytest
from byteplussdkarkruntime import _exceptions as errors
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers._ark_wire.emulator_app import ark_app
from vidgate.providers.byteplus.emulator import create_app

KEY = "modelark-emulator-key"
MAX_POLLS = 200
FAST = "dreamina-seedance-2-0-fast-260128"


@pytest.fixture(scope="module")
def client(render_cache: Path) -> Iterator[Any]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache)
    with live_server(create_app(settings)) as base:
        yield byteplussdkarkruntime.Ark(base_url=f"{base}/api/v3", api_key=KEY, max_retries=0)


def test_sdk_creates_polls_and_downloads_a_fast_model(client: Any) -> None:
    created = client.content_generation.tasks.create(
        model="dreamina-seedance-2-0-fast-260128",
        content=[{"type": "text", "text": "a paper boat on a pond"}],
        ratio="1:1",
        resolution="480p",
        duration=5,
    )
    for _ in range(MAX_POLLS):
        task = client.content_generation.tasks.get(task_id=created.id)
        if task.status not in ("queued", "running"):
            break
        time.sleep(0.05)
    assert (task.status, task.model, task.duration) == ("succeeded", "dreamina-seedance-2-0-fast-260128", 5)
    assert task.usage.completion_tokens == 48_400  # 640 x 640 x 121 frames / 1024
    info = probe(httpx.get(task.content.video_url).content)
    assert (info.width, info.height) == (640, 640)


def test_a_volcengine_model_id_is_not_served_here(client: Any) -> None:
    with pytest.raises(errors.ArkNotFoundError):
        client.content_generation.tasks.create(
            model="doubao-seedance-2-0-260128", content=[{"type": "text", "text": "x"}]
        )


def test_a_bad_key_is_the_sdks_authentication_error(render_cache: Path) -> None:
    with live_server(create_app(EmulatorSettings(api_key=KEY, cache_dir=render_cache))) as base:
        wrong = byteplussdkarkruntime.Ark(base_url=f"{base}/api/v3", api_key="wrong", max_retries=0)
        with pytest.raises(errors.ArkAuthenticationError):
            wrong.content_generation.tasks.get(task_id="cgt-missing")


def finished(client: Any, task_id: str) -> Any:
    for _ in range(MAX_POLLS):
        task = client.content_generation.tasks.get(task_id=task_id)
        if task.status not in ("queued", "running"):
            return task
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} did not finish")


def video(url: str) -> dict[str, Any]:
    return {"type": "video_url", "video_url": {"url": url}, "role": "reference_video"}


def clip(client: Any, seconds: int) -> str:
    """A finished task's signed output URL: a video Ark can read (a trusted prior output)."""
    created = client.content_generation.tasks.create(
        model=FAST,
        content=[{"type": "text", "text": "a source clip"}],
        ratio="16:9",
        resolution="480p",
        duration=seconds,
    )
    url: str = finished(client, created.id).content.video_url
    return url


def test_a_reference_video_is_read_and_its_seconds_are_billed(client: Any) -> None:
    source = clip(client, 5)
    created = client.content_generation.tasks.create(
        model=FAST,
        content=[{"type": "text", "text": "the same motion, at night"}, video(source)],
        ratio="16:9",
        resolution="480p",
        duration=4,
    )
    task = finished(client, created.id)
    assert (task.status, task.duration) == ("succeeded", 4)
    # 864 x 496 x (24 x (4 + 5) + 1 frames) / 1024 = 90,814 tokens: the input's 5 s count too.
    assert task.usage.completion_tokens == 90_814


def test_a_video_on_another_host_is_downloaded_and_measured(client: Any, render_cache: Path) -> None:
    other = EmulatorSettings(api_key=KEY, processing_seconds=0.1, cache_dir=render_cache)
    with live_server(create_app(other)) as base:
        elsewhere = byteplussdkarkruntime.Ark(base_url=f"{base}/api/v3", api_key=KEY, max_retries=0)
        source = clip(elsewhere, 6)
        created = client.content_generation.tasks.create(
            model=FAST,
            content=[{"type": "text", "text": "x"}, video(source)],
            ratio="16:9",
            resolution="480p",
            duration=4,
        )
    # 428,544 / 1024 x (24 x 10 + 1) = 100,858 tokens (the downloaded MP4's 6 s).
    assert finished(client, created.id).usage.completion_tokens == 100_858


@pytest.mark.parametrize(
    "content",
    [
        [video("data:video/mp4;base64,AAAAGGZ0eXBtcDQy")],  # no base64 for video
        [video("asset://asset-unknown")],  # no asset library here
        [video("http://127.0.0.1:9/unreachable.mp4")],  # Ark must be able to download it
        [video("https://cdn.example/a.mp4")] * 4,  # at most 3
        [
            {"type": "image_url", "image_url": {"url": "https://img.example/a.png"}, "role": "first_frame"},
            video("https://cdn.example/a.mp4"),
        ],  # a separate scenario from frames
        [{"type": "video_url", "video_url": {"url": "https://cdn.example/a.mp4"}, "role": "first_frame"}],
    ],
)
def test_what_modelark_refuses_is_the_sdks_bad_request(client: Any, content: list[dict[str, Any]]) -> None:
    with pytest.raises(errors.ArkBadRequestError):
        client.content_generation.tasks.create(
            model=FAST,
            content=[{"type": "text", "text": "x"}, *content],
            ratio="16:9",
            resolution="480p",
            duration=4,
        )


def test_reference_videos_longer_than_15_s_in_all_are_refused(client: Any) -> None:
    sources = [clip(client, 8), clip(client, 8)]
    with pytest.raises(errors.ArkBadRequestError, match="15 seconds in all"):
        client.content_generation.tasks.create(
            model=FAST, content=[{"type": "text", "text": "x"}, *map(video, sources)], duration=4
        )


def test_an_expired_output_url_cannot_be_a_reference(render_cache: Path) -> None:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.1, cache_dir=render_cache)
    app = ark_app(settings, "vidgate.providers.byteplus", "byteplus", url_ttl_seconds=0)
    with live_server(app) as base:
        client = byteplussdkarkruntime.Ark(base_url=f"{base}/api/v3", api_key=KEY, max_retries=0)
        source = clip(client, 5)  # signed, but expired as soon as the task finished
        with pytest.raises(errors.ArkBadRequestError, match="could not be downloaded"):
            client.content_generation.tasks.create(
                model=FAST, content=[{"type": "text", "text": "x"}, video(source)], duration=4
            )
