"""The Runway emulator judged by the official ``runwayml`` 5.24.0 SDK (and raw HTTP) over loopback."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import runwayml
from PIL import Image
from runwayml import RunwayML
from runwayml.lib import polling
from runwayml.types.task_retrieve_response import Failed, Succeeded
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.runway import emulator
from vidgate.providers.runway.emulator import create_app

KEY = "runway-test-secret"


def png_uri(width: int = 64, height: int = 36) -> str:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 140, 200)).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@pytest.fixture(scope="module")
def base_url(render_cache: Path) -> Iterator[str]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache)
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture
def client(base_url: str, monkeypatch: pytest.MonkeyPatch) -> RunwayML:
    # wait_for_task_output sleeps POLL_TIME (6 s) +- jitter between reads; the emulator is faster
    monkeypatch.setattr(polling, "POLL_TIME", 0.1)
    monkeypatch.setattr(polling, "POLL_JITTER", 0.0)
    return RunwayML(api_key=KEY, base_url=base_url, max_retries=0)


def wait_succeeded(client: RunwayML, task_id: str) -> list[str]:
    for _ in range(200):
        task = client.tasks.retrieve(task_id)
        if task.status == "SUCCEEDED":
            return list(task.output)
        assert task.status in ("PENDING", "THROTTLED", "RUNNING"), task
        time.sleep(0.05)
    raise AssertionError("task did not finish in 200 polls")


def credits_and_frame(client: RunwayML, task_id: str) -> tuple[int, tuple[int, int]]:
    """A succeeded task's cost in credits and its first output's width and height."""
    output = wait_succeeded(client, task_id)
    task = client.tasks.retrieve(task_id)
    assert isinstance(task, Succeeded)
    info = probe(httpx.get(output[0]).content)
    return task.cost.credits, (info.width, info.height)


def test_text_to_video_create_wait_download(client: RunwayML) -> None:
    created = client.text_to_video.create(
        model="gen4.5", prompt_text="a red kite", ratio="1280:720", duration=2
    )
    task = created.wait_for_task_output(timeout=30)
    assert task.status == "SUCCEEDED"
    assert task.cost.credits == 24  # gen4.5: 12 credits/s x 2 s
    info = probe(httpx.get(task.output[0]).content)
    assert (info.width, info.height, info.codec) == (1280, 720, "h264")
    assert info.duration == pytest.approx(2, abs=0.1)


def test_image_to_video_first_and_last_frame(client: RunwayML) -> None:
    created = client.image_to_video.create(
        model="veo3.1_fast",
        prompt_image=[{"uri": png_uri(), "position": "first"}, {"uri": png_uri(), "position": "last"}],
        prompt_text="a boat",
        ratio="720:1280",
        duration=4,
        audio=False,
    )
    output = wait_succeeded(client, created.id)
    info = probe(httpx.get(output[0]).content)
    assert (info.width, info.height) == (720, 1280)


def test_gen4_turbo_image_only(client: RunwayML) -> None:
    created = client.image_to_video.create(
        model="gen4_turbo", prompt_image=png_uri(), ratio="960:960", duration=3, prompt_text="waves"
    )
    assert wait_succeeded(client, created.id)
    with pytest.raises(runwayml.BadRequestError) as caught:
        client.post(
            "/v1/text_to_video",
            cast_to=object,
            body={"model": "gen4_turbo", "promptText": "waves", "ratio": "1280:720", "duration": 5},
        )
    assert caught.value.body == {
        "error": "Validation of body failed",
        "issues": [{"path": ["model"], "message": "gen4_turbo is not available on text_to_video."}],
    }


class Clock:
    """Stands in for the emulator's ``time`` module: the task timeline moves only when told."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now


def test_task_timeline_pending_running_succeeded(render_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(emulator, "time", clock)
    settings = EmulatorSettings(api_key=KEY, processing_seconds=10, cache_dir=render_cache)
    with live_server(create_app(settings)) as url:
        client = RunwayML(api_key=KEY, base_url=url, max_retries=0)
        created = client.text_to_video.create(
            model="gen4.5", prompt_text="slow", ratio="720:1280", duration=5
        )
        first = client.tasks.retrieve(created.id)
        assert first.status == "PENDING"
        assert first.estimated_cost.credits == 60  # 12 credits/s x 5 s
        clock.now += 2.5
        running = client.tasks.retrieve(created.id)
        assert running.status == "RUNNING"
        assert running.progress == 0.25  # a fraction, not a percentage
        clock.now += 7.5
        done = client.tasks.retrieve(created.id)
        assert done.status == "SUCCEEDED"
        assert done.cost.credits == 60


def test_delete_cancels_and_the_task_is_gone(client: RunwayML) -> None:
    created = client.text_to_video.create(
        model="gen4.5", prompt_text="cancel me", ratio="1280:720", duration=2
    )
    client.tasks.delete(created.id)
    with pytest.raises(runwayml.NotFoundError):
        client.tasks.retrieve(created.id)


def test_failed_and_filtered_tasks(client: RunwayML) -> None:
    failed = client.text_to_video.create(
        model="gen4.5", prompt_text="x [fault:fail]", ratio="1280:720", duration=2
    )
    with pytest.raises(runwayml.TaskFailedError) as caught:
        failed.wait_for_task_output(timeout=30)
    details = caught.value.task_details
    assert isinstance(details, Failed)
    assert details.failure_code == "INTERNAL.BAD_OUTPUT.CODE01"
    assert details.cost.credits == 0  # a failed task is refunded
    filtered = client.text_to_video.create(
        model="gen4.5", prompt_text="x [fault:filtered]", ratio="1280:720", duration=2
    )
    with pytest.raises(runwayml.TaskFailedError) as caught:
        filtered.wait_for_task_output(timeout=30)
    details = caught.value.task_details
    assert isinstance(details, Failed)
    assert details.failure_code == "SAFETY.INPUT.TEXT"


def test_bad_key_unknown_task_and_bad_values(base_url: str, client: RunwayML) -> None:
    bad = RunwayML(api_key="wrong", base_url=base_url, max_retries=0)
    with pytest.raises(runwayml.AuthenticationError):
        bad.tasks.retrieve("0b6f5a1e-0000-4000-8000-000000000000")
    with pytest.raises(runwayml.NotFoundError):
        client.tasks.retrieve("0b6f5a1e-0000-4000-8000-000000000000")
    with pytest.raises(runwayml.BadRequestError) as caught:
        client.text_to_video.create(model="gen4.5", prompt_text="x", ratio="1104:832", duration=5)  # type: ignore[call-overload]
    assert caught.value.body["issues"][0]["path"] == ["ratio"]  # type: ignore[index]
    with pytest.raises(runwayml.BadRequestError):
        client.text_to_video.create(model="veo3.1", prompt_text="x", ratio="1280:720", duration=5)  # type: ignore[call-overload]


def test_rate_limit_has_retry_after(client: RunwayML) -> None:
    with pytest.raises(runwayml.RateLimitError) as caught:
        client.text_to_video.create(model="gen4.5", prompt_text="x [fault:429]", ratio="1280:720", duration=2)
    assert caught.value.response.headers["retry-after"] == "1"


def test_version_header_is_required(base_url: str) -> None:
    url = f"{base_url}/v1/tasks/0b6f5a1e-0000-4000-8000-000000000000"
    reply = httpx.get(url, headers={"Authorization": f"Bearer {KEY}"})
    assert reply.status_code == 400
    assert "X-Runway-Version" in reply.json()["error"]
    reply = httpx.get(url, headers={"Authorization": f"Bearer {KEY}", "X-Runway-Version": "2023-01-01"})
    assert reply.status_code == 400


def test_output_urls_are_signed_and_expire(render_cache: Path) -> None:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.0, cache_dir=render_cache)
    with live_server(create_app(settings, url_ttl_seconds=-1)) as url:
        client = RunwayML(api_key=KEY, base_url=url, max_retries=0)
        created = client.text_to_video.create(model="gen4.5", prompt_text="old", ratio="1280:720", duration=2)
        output = wait_succeeded(client, created.id)
        expired = httpx.get(output[0])
        assert expired.status_code == 403
        assert b"expired" in expired.content
        tampered = httpx.get(output[0].replace("Signature=", "Signature=0"))
        assert tampered.status_code == 403


def test_throttled_beyond_the_concurrency(render_cache: Path) -> None:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=60, cache_dir=render_cache)
    with live_server(create_app(settings, concurrency=1)) as url:
        client = RunwayML(api_key=KEY, base_url=url, max_retries=0)
        first = client.text_to_video.create(model="gen4.5", prompt_text="a", ratio="1280:720", duration=2)
        second = client.text_to_video.create(model="gen4.5", prompt_text="b", ratio="1280:720", duration=2)
        assert client.tasks.retrieve(first.id).status == "PENDING"
        throttled = client.tasks.retrieve(second.id)
        assert throttled.status == "THROTTLED"
        assert throttled.estimated_cost.credits == 24


def test_gemini_omni_flash_takes_a_first_frame_only(client: RunwayML) -> None:
    """runwayml 5.24.0's GeminiOmniFlash: image-to-video, first frame only, 3-10 s, two ratios."""
    created = client.image_to_video.create(
        model="gemini_omni_flash",
        prompt_image=[{"uri": png_uri(), "position": "first"}],
        ratio="720:1280",
        duration=3,
        prompt_text="the kite rises",
    )
    info = probe(httpx.get(wait_succeeded(client, created.id)[0]).content)
    assert (info.width, info.height) == (720, 1280)
    for body in (
        {"ratio": "960:960", "duration": 5, "promptImage": png_uri()},
        {"ratio": "1280:720", "duration": 11, "promptImage": png_uri()},
        {"ratio": "1280:720", "duration": 5, "promptImage": [{"uri": png_uri(), "position": "last"}]},
    ):
        with pytest.raises(runwayml.BadRequestError):
            client.post(
                "/v1/image_to_video",
                cast_to=object,
                body={"model": "gemini_omni_flash", "promptText": "x", **body},
            )


def test_hailuo3_takes_an_aspect_ratio_a_resolution_and_reference_videos(client: RunwayML) -> None:
    """runwayml 5.24.0's Hailuo3: ``ratio`` an aspect ratio, ``resolution`` 768p, ``referenceVideos``
    ``{type: video, uri}`` on text_to_video only; $0.10/s = 10 credits/s."""
    created = client.text_to_video.create(
        model="hailuo3",
        prompt_text="the dancer from Video 1 on a rooftop",
        ratio="16:9",
        resolution="768p",
        duration=5,
        reference_videos=[{"type": "video", "uri": "https://cdn.example.com/dancer.mp4"}],
    )
    assert credits_and_frame(client, created.id) == (50, (1366, 768))
    framed = client.image_to_video.create(
        model="hailuo3",
        prompt_image=[{"uri": png_uri(), "position": "first"}, {"uri": png_uri(), "position": "last"}],
        prompt_text="a boat",
        ratio="9:16",
        resolution="768p",
        duration=4,
    )
    info = probe(httpx.get(wait_succeeded(client, framed.id)[0]).content)
    assert (info.width, info.height) == (768, 1366)
    for path, body in (
        ("/v1/text_to_video", {"ratio": "1366:768", "resolution": "768p"}),
        ("/v1/text_to_video", {"ratio": "16:9", "resolution": "2k"}),  # no 2k price: not offered here
        (
            "/v1/image_to_video",
            {
                "ratio": "16:9",
                "resolution": "768p",
                "promptImage": png_uri(),
                "referenceVideos": [{"type": "video", "uri": "https://cdn.example.com/a.mp4"}],
            },
        ),
    ):
        with pytest.raises(runwayml.BadRequestError):
            client.post(
                path, cast_to=object, body={"model": "hailuo3", "promptText": "x", "duration": 5, **body}
            )


def test_seedance_takes_references_and_reference_videos_on_text_to_video(client: RunwayML) -> None:
    """runwayml 5.24.0's Seedance2 text_to_video: ``references`` ``[{uri}]`` (up to 9) and
    ``referenceVideos``; seedance2 is 36 credits/s whatever the input (Runway's rw-integrate-video skill)."""
    created = client.text_to_video.create(
        model="seedance2",
        prompt_text="the hero from Image 1 dances like Video 1",
        ratio="1280:720",
        duration=5,
        references=[{"uri": png_uri()}, {"uri": "https://cdn.example.com/hero.png"}],
        reference_videos=[{"type": "video", "uri": "https://cdn.example.com/dancer.mp4"}],
    )
    assert credits_and_frame(client, created.id) == (180, (1280, 720))
    base = {"model": "seedance2", "promptText": "x", "ratio": "1280:720", "duration": 5}
    for path, body in (
        ("/v1/image_to_video", {"promptImage": png_uri(), "references": [{"uri": png_uri()}]}),
        ("/v1/text_to_video", {"references": [{"uri": png_uri()}] * 10}),
        ("/v1/text_to_video", {"references": [{"uri": "http://cdn.example.com/a.png"}]}),
        ("/v1/text_to_video", {"referenceVideos": [{"uri": "https://cdn.example.com/a.mp4"}]}),  # no type
        ("/v1/text_to_video", {"model": "gen4.5", "references": [{"uri": png_uri()}]}),
    ):
        with pytest.raises(runwayml.BadRequestError):
            client.post(path, cast_to=object, body={**base, **body})
