"""The openai_compatible emulator judged by the official ``openai`` package over loopback, in each
dialect: full and minimal create replies, integer seconds, auth off unless a key is set, extra fields
echoed back, the shared faults."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.openai_compatible.emulator import DEFAULT_MODEL, CompatOptions, create_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # videos.* carry the Sora notice

KEY = "sk-self-hosted-key"
CLIP: dict[str, Any] = {"seconds": "1", "size": "320x180"}


def settings(render_cache: Path, api_key: str | None) -> EmulatorSettings:
    return EmulatorSettings(
        api_key=api_key, processing_seconds=0.3, poll_after_ms=20, slow_seconds=0.2, cache_dir=render_cache
    )


@pytest.fixture(scope="module")
def open_server(render_cache: Path) -> Iterator[str]:
    """No key configured: auth is off (vLLM without --api-key)."""
    with live_server(create_app(settings(render_cache, None), CompatOptions())) as url:
        yield url


@pytest.fixture(scope="module")
def dynamo_server(render_cache: Path) -> Iterator[str]:
    """A key, a minimal create reply and integer seconds."""
    options = CompatOptions(create_reply="minimal", seconds_type="integer")
    with live_server(create_app(settings(render_cache, KEY), options)) as url:
        yield url


def client(url: str, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)


def test_create_poll_download_with_extra_fields_echoed(open_server: str) -> None:
    sdk = client(open_server)
    created = sdk.videos.create(
        model="Lightricks/LTX-2",
        prompt="a heron lifting off",
        extra_body={"num_inference_steps": 12, "lora": '{"name": "style"}', "seed": 3},
        **CLIP,
    )
    assert created.status == "queued"
    assert (created.model, created.seconds, created.size) == ("Lightricks/LTX-2", "1", "320x180")
    done = sdk.videos.poll(created.id, poll_interval_ms=20)
    assert done.status == "completed"
    assert (done.model_extra or {})["extra_fields"] == {
        "num_inference_steps": "12",
        "lora": '{"name": "style"}',
        "seed": "3",
    }
    info = probe(sdk.videos.download_content(created.id).content)
    assert (info.width, info.height) == (320, 180)
    assert info.duration == pytest.approx(1.0, abs=0.1)
    thumb = sdk.videos.download_content(created.id, variant="thumbnail").content
    assert thumb[8:12] == b"WEBP"
    assert created.id in [v.id for v in sdk.videos.list(limit=100)]
    assert sdk.videos.delete(created.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        sdk.videos.retrieve(created.id)


def test_default_model_when_none_is_named(open_server: str) -> None:
    created = client(open_server).videos.create(prompt="a quiet lake", **CLIP)
    assert created.model == DEFAULT_MODEL


def test_minimal_create_reply_then_full_poll(dynamo_server: str) -> None:
    sdk = client(dynamo_server, KEY)
    raw = httpx.post(
        f"{dynamo_server}/v1/videos",
        headers={"Authorization": f"Bearer {KEY}"},
        json={"model": "wan", "prompt": "rain on a window", "seconds": 1, "size": "320x180"},
    )
    assert raw.status_code == 200
    assert set(raw.json()) == {"id", "status", "created_at"}
    video = sdk.videos.poll(raw.json()["id"], poll_interval_ms=20)
    assert video.status == "completed"
    assert (video.model, video.size) == ("wan", "320x180")
    assert video.seconds == 1  # type: ignore[comparison-overlap]  # Dynamo's integer, as served


def test_integer_seconds_dialect_refuses_a_json_string(dynamo_server: str) -> None:
    reply = httpx.post(
        f"{dynamo_server}/v1/videos",
        headers={"Authorization": f"Bearer {KEY}"},
        json={"model": "wan", "prompt": "rain", "seconds": "1", "size": "320x180"},
    )
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "seconds"
    zero = httpx.post(
        f"{dynamo_server}/v1/videos",
        headers={"Authorization": f"Bearer {KEY}"},
        json={"model": "wan", "prompt": "rain", "seconds": 0, "size": "320x180"},
    )
    assert zero.status_code == 400


def test_multipart_digits_pass_the_integer_dialect(dynamo_server: str) -> None:
    created = client(dynamo_server, KEY).videos.create(model="wan", prompt="a kite", **CLIP)
    assert created.status == "queued"


def test_bad_key_and_unknown_video_raise_the_sdk_errors(dynamo_server: str) -> None:
    with pytest.raises(openai.AuthenticationError):
        client(dynamo_server, "sk-wrong").videos.create(model="wan", prompt="a kite", **CLIP)
    with pytest.raises(openai.NotFoundError):
        client(dynamo_server, KEY).videos.retrieve("video_does_not_exist")


def test_faults_reach_the_sdk(open_server: str) -> None:
    sdk = client(open_server)
    with pytest.raises(openai.RateLimitError):
        sdk.videos.create(model="wan", prompt="a kite [fault:429]", **CLIP)
    failed = sdk.videos.poll(
        sdk.videos.create(model="wan", prompt="a kite [fault:fail]", **CLIP).id, poll_interval_ms=20
    )
    assert failed.status == "failed"
    assert failed.error is not None


def test_sizes_and_seconds_outside_the_served_lists_are_400s(open_server: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client(open_server).videos.create(model="wan", prompt="x", seconds="99", size="320x180")  # type: ignore[arg-type]
    assert caught.value.body["param"] == "seconds"  # type: ignore[index]
