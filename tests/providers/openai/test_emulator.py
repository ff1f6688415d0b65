"""The OpenAI emulator judged by the official ``openai`` package over loopback."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from PIL import Image
from tests.support.images import mpo_jpeg
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.openai.emulator import create_app

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning"
)  # videos.* carry the Sora shutdown notice

KEY = "sk-emulator-test-key"


def settings(render_cache: Path, **overrides: Any) -> EmulatorSettings:
    values: dict[str, Any] = {
        "api_key": KEY,
        "processing_seconds": 0.3,
        "poll_after_ms": 20,
        "slow_seconds": 0.2,
        "cache_dir": render_cache,
    }
    values.update(overrides)
    return EmulatorSettings(**values)


@pytest.fixture(scope="module")
def server(render_cache: Path) -> Iterator[tuple[str, Any]]:
    app = create_app(settings(render_cache))
    with live_server(app) as url:
        yield url, app


@pytest.fixture
def url(server: tuple[str, Any]) -> str:
    return server[0]


@pytest.fixture
def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0)


def png(width: int, height: int, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 90)).save(out, format=fmt)
    return out.getvalue()


def test_create_poll_download_video(client: openai.OpenAI, tmp_path: Path) -> None:
    raw = client.videos.with_raw_response.create(
        model="sora-2", prompt="a red fox in snow", seconds="4", size="720x1280"
    )
    assert raw.headers["openai-poll-after-ms"] == "20"
    created = raw.parse()
    assert created.status == "queued"
    assert (created.model, created.seconds, created.size, created.prompt) == (
        "sora-2",
        "4",
        "720x1280",
        "a red fox in snow",
    )
    assert created.id.startswith("video_")
    done = client.videos.poll(created.id)
    assert done.status == "completed"
    assert done.progress == 100
    assert done.completed_at is not None
    assert done.expires_at == done.completed_at + 3600
    content = client.videos.download_content(created.id, variant="video")
    assert content.response.headers["content-type"] == "video/mp4"
    target = tmp_path / "out.mp4"
    content.write_to_file(target)
    info = probe(target)
    assert (info.width, info.height) == (720, 1280)
    assert info.duration == pytest.approx(4.0, abs=0.15)


def test_thumbnail_and_spritesheet_decode(client: openai.OpenAI) -> None:
    video = client.videos.create_and_poll(
        model="sora-2", prompt="a red fox in snow", seconds="4", size="720x1280"
    )
    thumb = client.videos.download_content(video.id, variant="thumbnail")
    assert thumb.response.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(thumb.content)) as image:
        assert image.format == "WEBP"
    sheet = client.videos.download_content(video.id, variant="spritesheet")
    assert sheet.response.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(sheet.content)) as image:
        assert image.format == "JPEG"
        image.load()


def test_content_supports_range_requests(client: openai.OpenAI, url: str) -> None:
    video = client.videos.create_and_poll(
        model="sora-2", prompt="a red fox in snow", seconds="4", size="720x1280"
    )
    reply = httpx.get(
        f"{url}/v1/videos/{video.id}/content",
        headers={"Authorization": f"Bearer {KEY}", "Range": "bytes=0-99"},
    )
    assert reply.status_code == 206
    assert len(reply.content) == 100


def test_create_with_an_input_reference_file(
    client: openai.OpenAI, server: tuple[str, Any], tmp_path: Path
) -> None:
    image = png(1280, 720)
    video = client.videos.create(
        model="sora-2",
        prompt="a lighthouse from a photo",
        seconds="4",
        size="1280x720",
        input_reference=("ref.png", image, "image/png"),
    )
    assert server[1].state.store.get(video.id).image == image
    done = client.videos.poll(video.id)
    assert done.status == "completed"
    target = tmp_path / "ref.mp4"
    client.videos.download_content(video.id).write_to_file(target)
    info = probe(target)
    assert (info.width, info.height) == (1280, 720)
    assert info.duration == pytest.approx(4.0, abs=0.15)


def test_a_camera_jpeg_with_more_pictures_is_accepted_as_jpeg(client: openai.OpenAI) -> None:
    """Pillow names it MPO; OpenAI takes the file by its type, image/jpeg."""
    video = client.videos.create(
        model="sora-2",
        prompt="from a phone photo",
        seconds="4",
        size="1280x720",
        input_reference=("photo.jpg", mpo_jpeg(1280, 720), "image/jpeg"),
    )
    assert video.status == "queued"


def test_input_reference_object_is_sent_with_brackets(client: openai.OpenAI, server: tuple[str, Any]) -> None:
    image = png(720, 1280, "JPEG")
    data_url = "data:image/jpeg;base64," + base64.b64encode(image).decode()
    # openai 3.x refuses a dict for ``input_reference=`` (extract_files wants file content), so the
    # object goes through extra_body, which the SDK flattens into the multipart form with brackets.
    with pytest.raises(RuntimeError, match="input_reference"):
        client.videos.create(prompt="sdk refuses", input_reference={"image_url": data_url})
    video = client.videos.create(
        prompt="from a data url", extra_body={"input_reference": {"image_url": data_url}}
    )
    assert server[1].state.store.get(video.id).image == image
    by_file = client.videos.create(
        prompt="from a file id", extra_body={"input_reference": {"file_id": "file-abc"}}
    )
    assert by_file.status == "queued"
    with pytest.raises(openai.BadRequestError) as info:
        client.videos.create(
            prompt="both", extra_body={"input_reference": {"file_id": "f", "image_url": data_url}}
        )
    assert info.value.body["param"] == "input_reference"  # type: ignore[index]


def test_reference_image_must_match_the_size(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.videos.create(
            prompt="wrong size", size="720x1280", input_reference=("a.png", png(64, 64), "image/png")
        )
    assert "must match the requested width and height" in info.value.message
    with pytest.raises(openai.BadRequestError):
        client.videos.create(prompt="not an image", input_reference=("a.png", b"hello", "image/png"))


def test_unsupported_seconds_is_bad_request(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.videos.create(model="sora-2", prompt="a cat", seconds="7")  # type: ignore[arg-type]
    body = info.value.body
    assert isinstance(body, dict)
    assert body["param"] == "seconds"
    assert body["type"] == "invalid_request_error"
    assert body["message"] == "Invalid value: '7'. Supported values are: '4', '8', '12', '16', and '20'."


def test_unsupported_size_and_model_are_bad_requests(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.videos.create(model="sora-2", prompt="a cat", size="1792x1024")
    assert isinstance(info.value.body, dict)
    assert info.value.body["param"] == "size"
    assert (
        info.value.body["message"]
        == "Invalid value: '1792x1024'. Supported values are: '720x1280' and '1280x720'."
    )
    with pytest.raises(openai.BadRequestError) as info:
        client.videos.create(model="sora-3", prompt="a cat")
    assert info.value.body["param"] == "model"  # type: ignore[index]
    assert "'sora-2-pro'" in info.value.message
    pro = client.videos.create(model="sora-2-pro", prompt="a cat", size="1792x1024", seconds="12")
    assert (pro.model, pro.size, pro.seconds) == ("sora-2-pro", "1792x1024", "12")


def test_json_create_and_integer_seconds(url: str) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    good = httpx.post(f"{url}/v1/videos", headers=headers, json={"prompt": "json body", "seconds": "8"})
    assert good.status_code == 200
    assert good.json()["seconds"] == "8"
    bad = httpx.post(f"{url}/v1/videos", headers=headers, json={"prompt": "json body", "seconds": 8})
    assert bad.status_code == 400
    assert bad.json() == {
        "error": {
            "message": "Invalid type for 'seconds': expected one of '4', '8', '12', '16', or '20', "
            "but got an integer instead.",
            "type": "invalid_request_error",
            "param": "seconds",
            "code": "invalid_type",
        }
    }
    missing = httpx.post(f"{url}/v1/videos", headers=headers, json={"seconds": "4"})
    assert missing.status_code == 400
    assert missing.json()["error"]["param"] == "prompt"
    form = httpx.post(f"{url}/v1/videos", headers=headers, data={"prompt": "urlencoded"})
    assert form.status_code == 400
    assert "Unsupported content type" in form.json()["error"]["message"]


def test_wrong_or_missing_key_is_authentication_error(url: str) -> None:
    other = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-wrong-key-000000", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        other.videos.create(prompt="a cat")
    assert info.value.code == "invalid_api_key"
    assert "sk-wrong-key-000000" not in info.value.message
    bare = httpx.get(f"{url}/v1/videos")
    assert bare.status_code == 401
    assert bare.json()["error"]["message"].startswith("You didn't provide an API key.")


def test_unknown_id_and_unfinished_content_are_not_found(client: openai.OpenAI, render_cache: Path) -> None:
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve("video_does_not_exist")
    with pytest.raises(openai.NotFoundError):
        client.videos.download_content("video_does_not_exist")
    slow_app = create_app(settings(render_cache, processing_seconds=60))
    with live_server(slow_app) as slow_url:
        slow = openai.OpenAI(base_url=f"{slow_url}/v1", api_key=KEY, max_retries=0)
        video = slow.videos.create(prompt="takes a minute")
        with pytest.raises(openai.NotFoundError) as info:
            slow.videos.download_content(video.id)
        assert info.value.body["message"].startswith("Video is not ready yet")  # type: ignore[index]
        with pytest.raises(openai.BadRequestError):
            slow.videos.delete(video.id)  # still running: only completed or failed videos can be deleted
        with pytest.raises(openai.BadRequestError):
            slow.videos.remix(video.id, prompt="again")


def test_list_pagination(render_cache: Path) -> None:
    with live_server(create_app(settings(render_cache))) as fresh:
        client = openai.OpenAI(base_url=f"{fresh}/v1", api_key=KEY, max_retries=0)
        ids = [client.videos.create(prompt=f"list item {i}").id for i in range(3)]
        first = client.videos.list(limit=2)
        assert [v.id for v in first.data] == [ids[2], ids[1]]
        assert first.has_more is True
        assert first.has_next_page()
        second = first.get_next_page()
        assert [v.id for v in second.data] == [ids[0]]
        assert second.has_more is False
        assert [v.id for v in client.videos.list(limit=1)] == list(reversed(ids))  # auto-pagination
        assert [v.id for v in client.videos.list(limit=1, order="asc")] == ids
        raw = httpx.get(
            f"{fresh}/v1/videos",
            params={"limit": 2, "order": "asc"},
            headers={"Authorization": f"Bearer {KEY}"},
        )
        assert raw.json()["first_id"] == ids[0]
        assert raw.json()["last_id"] == ids[1]
        assert raw.json()["object"] == "list"


def test_remix_keeps_model_size_and_seconds(client: openai.OpenAI) -> None:
    source = client.videos.create_and_poll(
        model="sora-2", prompt="a red fox in snow", seconds="4", size="720x1280"
    )
    remix = client.videos.remix(source.id, prompt="a red fox in snow at night")
    assert remix.remixed_from_video_id == source.id
    assert (remix.model, remix.size, remix.seconds, remix.prompt) == (
        "sora-2",
        "720x1280",
        "4",
        "a red fox in snow at night",
    )
    assert client.videos.poll(remix.id).status == "completed"


def test_delete_then_retrieve_is_not_found(client: openai.OpenAI) -> None:
    video = client.videos.create_and_poll(prompt="to be deleted")
    deleted = client.videos.delete(video.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (video.id, "video.deleted", True)
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve(video.id)


def test_failed_and_filtered_jobs(client: openai.OpenAI) -> None:
    failed = client.videos.create_and_poll(prompt="breaks [fault:fail]")
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.code == "internal_error"
    filtered = client.videos.create_and_poll(prompt="not allowed [fault:filtered]")
    assert filtered.status == "failed"
    assert filtered.error is not None
    assert (filtered.error.code, filtered.error.message) == (
        "moderation_blocked",
        "Your request was blocked by our moderation system.",
    )
    with pytest.raises(openai.NotFoundError):
        client.videos.download_content(filtered.id)


def test_transient_faults_answer_with_openai_errors(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as rate:
        client.videos.create(prompt="busy [fault:429]")
    assert rate.value.response.headers["retry-after"] == "1"
    assert rate.value.code == "rate_limit_exceeded"
    with pytest.raises(openai.InternalServerError) as server_error:
        client.videos.create(prompt="broken [fault:500]")
    assert server_error.value.status_code == 500
    with pytest.raises(openai.InternalServerError) as overloaded:
        client.videos.create(prompt="overloaded [fault:503]")
    assert overloaded.value.status_code == 503
    # each fires once: the next identical request succeeds
    assert client.videos.create(prompt="busy [fault:429]").status == "queued"


def test_official_sdk_retries_through_faults(url: str) -> None:
    patient = openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=2)
    video = patient.videos.create(prompt="retried [fault:poll-503] [fault:download-503]")
    assert patient.videos.poll(video.id).status == "completed"
    assert patient.videos.download_content(video.id, variant="thumbnail").response.status_code == 200


def test_unknown_route_uses_the_openai_envelope(url: str) -> None:
    reply = httpx.get(f"{url}/v1/videoz", headers={"Authorization": f"Bearer {KEY}"})
    assert reply.status_code == 404
    assert reply.json()["error"]["message"] == "Invalid URL (GET /v1/videoz)"
    assert json.loads(reply.content)["error"]["type"] == "invalid_request_error"


def test_slow_fault_delays_every_response_for_the_job(url: str) -> None:
    impatient = openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0, timeout=0.05)
    with pytest.raises(openai.APITimeoutError):
        impatient.videos.create(prompt="dawdling [fault:slow]")  # the server waits slow_seconds (0.2 s)
    patient = openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0)
    video = patient.videos.create(prompt="dawdling [fault:slow]")
    with pytest.raises(openai.APITimeoutError):
        impatient.videos.retrieve(video.id)


def test_remix_accepts_multipart(client: openai.OpenAI, url: str) -> None:
    source = client.videos.create_and_poll(prompt="a red fox in snow", seconds="4", size="720x1280")
    reply = httpx.post(
        f"{url}/v1/videos/{source.id}/remix",
        headers={"Authorization": f"Bearer {KEY}"},
        files={"prompt": (None, "a red fox in snow, foggy")},
    )
    assert reply.status_code == 200
    assert reply.json()["remixed_from_video_id"] == source.id
    assert reply.json()["prompt"] == "a red fox in snow, foggy"
