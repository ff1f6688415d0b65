"""The Azure emulator judged by the official ``openai`` package, as Azure's v1 docs use it
(``OpenAI(base_url=".../openai/v1/")``) and through ``AzureOpenAI`` (``api-key`` + ``api-version``)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from PIL import Image
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.azure.emulator import create_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

KEY = "azure-emulator-key"


@pytest.fixture(scope="module")
def url(render_cache: Path) -> Iterator[str]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.3, poll_after_ms=20, cache_dir=render_cache)
    with live_server(create_app(settings)) as base:
        yield base


@pytest.fixture
def v1_client(url: str) -> openai.OpenAI:
    """What Azure's v1 quickstart shows: the plain OpenAI client, key sent as Bearer, no api-version."""
    return openai.OpenAI(base_url=f"{url}/openai/v1/", api_key=KEY, max_retries=0)


@pytest.fixture
def azure_client(url: str) -> openai.AzureOpenAI:
    """AzureOpenAI with a v1 base_url: ``api-key`` header and ``?api-version=preview`` on every call."""
    return openai.AzureOpenAI(base_url=f"{url}/openai/v1", api_key=KEY, api_version="preview", max_retries=0)


def test_create_poll_download_with_the_v1_client(v1_client: openai.OpenAI, tmp_path: Path) -> None:
    created = v1_client.videos.create(model="sora-2", prompt="a paper boat", seconds="4", size="1280x720")
    assert (created.status, created.model, created.seconds, created.size) == (
        "queued",
        "sora-2",
        "4",
        "1280x720",
    )
    done = v1_client.videos.poll(created.id, poll_interval_ms=50)
    assert done.status == "completed"
    content = v1_client.videos.download_content(created.id)
    assert content.response.headers["content-type"] == "video/mp4"
    target = tmp_path / "azure.mp4"
    content.write_to_file(target)
    info = probe(target)
    assert (info.width, info.height) == (1280, 720)
    assert info.duration == pytest.approx(4.0, abs=0.15)


def test_azure_client_sends_api_key_and_api_version(azure_client: openai.AzureOpenAI) -> None:
    raw = azure_client.videos.with_raw_response.create(
        model="sora-2", prompt="a paper boat", seconds="4", size="1280x720"
    )
    assert raw.http_request.headers["api-key"] == KEY
    assert raw.http_request.url.params["api-version"] == "preview"
    assert "openai-poll-after-ms" not in raw.headers
    video = raw.parse()
    done = azure_client.videos.poll(video.id, poll_interval_ms=50)
    assert done.status == "completed"
    thumb = azure_client.videos.download_content(video.id, variant="thumbnail")
    with Image.open(io.BytesIO(thumb.content)) as image:
        assert image.format == "WEBP"
    listed = azure_client.videos.list(limit=100)
    assert video.id in [v.id for v in listed.data]


def test_api_version_values(url: str) -> None:
    for version in ("preview", "v1"):
        client = openai.AzureOpenAI(
            base_url=f"{url}/openai/v1", api_key=KEY, api_version=version, max_retries=0
        )
        page = client.videos.list(limit=1)
        assert page.to_dict()["object"] == "list"
    dated = openai.AzureOpenAI(
        base_url=f"{url}/openai/v1", api_key=KEY, api_version="2024-02-15-preview", max_retries=0
    )
    with pytest.raises(openai.BadRequestError) as info:
        dated.videos.list(limit=1)
    assert info.value.body == {"code": "BadRequest", "message": "API version not supported"}


def test_api_key_header_and_bearer_are_both_accepted(url: str) -> None:
    for headers in ({"api-key": KEY}, {"Authorization": f"Bearer {KEY}"}):
        reply = httpx.get(f"{url}/openai/v1/videos", params={"api-version": "preview"}, headers=headers)
        assert reply.status_code == 200


def test_wrong_or_missing_key_is_azures_401(url: str) -> None:
    wrong = openai.AzureOpenAI(
        base_url=f"{url}/openai/v1", api_key="nope", api_version="preview", max_retries=0
    )
    with pytest.raises(openai.AuthenticationError) as info:
        wrong.videos.create(model="sora-2", prompt="a cat")
    assert info.value.body["code"] == "401"  # type: ignore[index]
    assert info.value.body["message"].startswith("Access denied due to invalid subscription key")  # type: ignore[index]
    bare = httpx.get(f"{url}/openai/v1/videos")
    assert bare.status_code == 401
    assert "missing subscription key" in bare.json()["error"]["message"]


def test_unknown_deployment_is_404_user_error(v1_client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        v1_client.videos.create(model="my-missing-deployment", prompt="a cat")
    body = info.value.body
    assert isinstance(body, dict)
    assert body["type"] == "video_generation_user_error"
    assert "my-missing-deployment" in body["message"]


def test_seconds_and_size_limits_are_azures(v1_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        v1_client.videos.create(model="sora-2", prompt="a cat", seconds="16")  # type: ignore[arg-type]
    assert info.value.body["message"] == "Invalid value: '16'. Supported values are: '4', '8', and '12'."  # type: ignore[index]
    assert info.value.body["param"] == "seconds"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as info:
        v1_client.videos.create(model="sora-2", prompt="a cat", size="1792x1024")
    assert info.value.body["param"] == "size"  # type: ignore[index]


def test_unknown_id_remix_delete(v1_client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        v1_client.videos.retrieve("video_nope")
    source = v1_client.videos.create_and_poll(
        model="sora-2", prompt="a paper boat", seconds="4", size="1280x720", poll_interval_ms=50
    )
    remix = v1_client.videos.remix(source.id, prompt="a paper boat in rain")
    assert (remix.remixed_from_video_id, remix.size, remix.seconds, remix.model) == (
        source.id,
        "1280x720",
        "4",
        "sora-2",
    )
    assert v1_client.videos.poll(remix.id, poll_interval_ms=50).status == "completed"
    assert v1_client.videos.delete(remix.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        v1_client.videos.retrieve(remix.id)


def test_filtered_job_fails_with_reason(v1_client: openai.OpenAI) -> None:
    video = v1_client.videos.create_and_poll(
        model="sora-2", prompt="blocked [fault:filtered]", poll_interval_ms=50
    )
    assert video.status == "failed"
    assert video.error is not None
    assert video.error.code == "moderation_blocked"


def test_rate_limit_uses_azures_shape(v1_client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        v1_client.videos.create(model="sora-2", prompt="throttled [fault:429]")
    assert info.value.body["code"] == "429"  # type: ignore[index]
    assert info.value.response.headers["retry-after"] == "1"


def test_unknown_route_is_resource_not_found(url: str) -> None:
    reply = httpx.get(f"{url}/openai/deployments/sora-2/videos", headers={"api-key": KEY})
    assert reply.status_code == 404
    assert reply.json() == {"error": {"code": "404", "message": "Resource not found"}}


def test_custom_deployment_names(render_cache: Path) -> None:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache)
    app = create_app(settings, deployments={"team-sora": "azure/sora-2-pro"})
    with live_server(app) as base:
        client = openai.OpenAI(base_url=f"{base}/openai/v1", api_key=KEY, max_retries=0)
        video = client.videos.create(model="team-sora", prompt="a cat", size="1792x1024")
        assert (video.model, video.size) == ("team-sora", "1792x1024")
        with pytest.raises(openai.NotFoundError):
            client.videos.create(model="sora-2", prompt="a cat")
