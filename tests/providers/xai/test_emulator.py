"""The xAI emulator judged by xAI's documented REST calls, sent byte for byte with ``requests``.

The official ``xai-sdk`` (1.21.0) covers video (``client.video.generate/start/get/extend``) but speaks
gRPC only (``video_pb2_grpc.VideoStub`` over a gRPC channel), so it cannot judge an HTTP emulator; the
REST calls below are those of docs.x.ai ("Video Overview", the ``pythonRequests`` tab: POST
``/v1/videos/generations`` with a Bearer key and a JSON body, then GET ``/v1/videos/{request_id}``
until ``status`` is ``done``, then GET ``video.url``). See ARCHITECTURE.md for what is unverified.
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
from vidgate.providers.xai.emulator import create_app

KEY = "xai-emulator-key"
POLLS = 200


@pytest.fixture(scope="module")
def base(render_cache: Path) -> Iterator[str]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache)
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def short_lived(render_cache: Path) -> Iterator[str]:
    """Output URLs valid for 1 s and requests that expire after 3 s."""
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.2, cache_dir=render_cache)
    with live_server(create_app(settings, url_ttl=1.0, request_ttl=3.0)) as url:
        yield url


def headers(key: str = KEY) -> dict[str, str]:
    return {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}


def poll(base: str, request_id: str) -> dict[str, Any]:
    for _ in range(POLLS):
        result: dict[str, Any] = requests.get(f"{base}/v1/videos/{request_id}", headers=headers()).json()
        if result.get("status") in ("done", "failed", "expired"):
            return result
        time.sleep(0.05)
    raise AssertionError(f"request {request_id} did not finish within {POLLS} polls")


def test_the_documented_generation_call(base: str) -> None:
    response = requests.post(
        f"{base}/v1/videos/generations",
        headers=headers(),
        json={
            "model": "grok-imagine-video",
            "prompt": "A glowing crystal-powered rocket launching from the red dunes of Mars",
            "duration": 2,
            "aspect_ratio": "16:9",
            "resolution": "480p",
        },
    )
    assert response.status_code == 200
    request_id = response.json()["request_id"]
    first = requests.get(f"{base}/v1/videos/{request_id}", headers=headers()).json()
    assert first == {"request_id": request_id} or first["status"] in ("pending", "done")
    result = poll(base, request_id)
    assert result["status"] == "done"
    assert result["model"] == "grok-imagine-video"
    assert result["video"]["duration"] == 2
    assert result["video"]["respect_moderation"] is True
    video = requests.get(result["video"]["url"])  # a signed URL: no key
    assert video.status_code == 200
    info = probe(video.content)
    assert (info.width, info.height) == (848, 480)
    assert info.duration == pytest.approx(2.0, abs=0.05)


def test_image_to_video_with_a_data_uri(base: str) -> None:
    png = base64.b64encode(image_bytes(720, 720, "png")).decode()
    body = {
        "model": "grok-imagine-video-1.5",
        "prompt": "animate this",
        "image": {"url": f"data:image/png;base64,{png}"},
        "duration": 1,
        "aspect_ratio": "1:1",
        "resolution": "720p",
    }
    response = requests.post(f"{base}/v1/videos/generations", headers=headers(), json=body)
    assert response.status_code == 200, response.text
    result = poll(base, response.json()["request_id"])
    assert probe(requests.get(result["video"]["url"]).content).width == 720


def test_an_incorrect_key_is_a_400_in_xais_shape(base: str) -> None:
    body = {"model": "grok-imagine-video", "prompt": "a cat"}
    response = requests.post(f"{base}/v1/videos/generations", headers=headers("xai-wrong-key"), json=body)
    assert response.status_code == 400
    assert response.json() == {
        "code": "Client specified an invalid argument",
        "error": "Incorrect API key provided: xa***ey. You can obtain an API key from https://console.x.ai.",
    }
    missing = requests.post(f"{base}/v1/videos/generations", json=body)
    assert missing.status_code == 401


def test_an_unknown_request_is_a_404(base: str) -> None:
    response = requests.get(f"{base}/v1/videos/no-such-request", headers=headers())
    assert response.status_code == 404
    assert response.json()["code"] == "Some requested entity was not found"


def test_edits_and_extensions_are_for_the_legacy_model_only(base: str) -> None:
    made = requests.post(
        f"{base}/v1/videos/generations",
        headers=headers(),
        json={"model": "grok-imagine-video", "prompt": "a boat", "duration": 2, "resolution": "480p"},
    ).json()
    source = poll(base, made["request_id"])["video"]["url"]
    for kind in ("edits", "extensions"):
        refused = requests.post(
            f"{base}/v1/videos/{kind}",
            headers=headers(),
            json={"model": "grok-imagine-video-1.5", "prompt": "more", "video": {"url": source}},
        )
        assert refused.status_code == 400
        assert "not supported for model grok-imagine-video-1.5" in refused.json()["error"]
    edit = requests.post(
        f"{base}/v1/videos/edits",
        headers=headers(),
        json={"model": "grok-imagine-video", "prompt": "make it rain", "video": {"url": source}},
    )
    assert poll(base, edit.json()["request_id"])["video"]["duration"] == 2
    extension = requests.post(
        f"{base}/v1/videos/extensions",
        headers=headers(),
        json={"model": "grok-imagine-video", "prompt": "sail on", "video": {"url": source}, "duration": 2},
    )
    assert poll(base, extension.json()["request_id"])["video"]["duration"] == 4


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"duration": 16}, "duration"),
        ({"aspect_ratio": "21:9"}, "aspect_ratio"),
        ({"resolution": "1080p"}, "resolution"),
        ({"reference_images": [{"url": "https://e/a.png"}]}, "reference_images"),
    ],
)
def test_values_the_legacy_model_cannot_honour_are_400s(
    base: str, change: dict[str, Any], needle: str
) -> None:
    body = {"model": "grok-imagine-video", "prompt": "a cat", **change}
    response = requests.post(f"{base}/v1/videos/generations", headers=headers(), json=body)
    assert response.status_code == 400
    assert needle in response.json()["error"]


def test_output_urls_expire_and_a_new_read_signs_a_fresh_one(short_lived: str) -> None:
    body = {"model": "grok-imagine-video-1.5-lite", "prompt": "a fox", "duration": 1, "resolution": "480p"}
    made = requests.post(f"{short_lived}/v1/videos/generations", headers=headers(), json=body).json()
    old = poll(short_lived, made["request_id"])["video"]["url"]
    time.sleep(2.1)  # let the 1 s signature lapse: expiry is whole seconds, rounded up (the emulator's clock)
    expired = requests.get(old)
    assert expired.status_code == 403
    fresh = poll(short_lived, made["request_id"])["video"]["url"]
    assert fresh != old
    assert requests.get(fresh).status_code == 200
    time.sleep(2.0)
    assert poll(short_lived, made["request_id"]) == {
        "status": "expired",
        "model": "grok-imagine-video-1.5-lite",
    }


def test_an_uploaded_source_video_as_a_data_uri(base: str) -> None:
    """Edits and extensions of an MP4 sent as a data URI (xAI documents URLs; data URIs are unverified)."""
    made = requests.post(
        f"{base}/v1/videos/generations",
        headers=headers(),
        json={"model": "grok-imagine-video", "prompt": "a kite", "duration": 3, "resolution": "480p"},
    ).json()
    clip = requests.get(poll(base, made["request_id"])["video"]["url"]).content
    video = {"url": "data:video/mp4;base64," + base64.b64encode(clip).decode()}
    edit = requests.post(
        f"{base}/v1/videos/edits",
        headers=headers(),
        json={"model": "grok-imagine-video", "prompt": "make it night", "video": video},
    )
    edited = poll(base, edit.json()["request_id"])["video"]
    assert edited["duration"] == 3
    assert (probe(requests.get(edited["url"]).content).width, probe(clip).width) == (848, 848)
    extension = requests.post(
        f"{base}/v1/videos/extensions",
        headers=headers(),
        json={"model": "grok-imagine-video", "prompt": "fly on", "video": video, "duration": 10},
    )
    assert poll(base, extension.json()["request_id"])["video"]["duration"] == 13
    too_long = requests.post(
        f"{base}/v1/videos/extensions",
        headers=headers(),
        json={"model": "grok-imagine-video", "prompt": "fly on", "video": video, "duration": 11},
    )
    assert too_long.status_code == 400
    assert "duration" in too_long.json()["error"]
    broken = requests.post(
        f"{base}/v1/videos/edits",
        headers=headers(),
        json={"model": "grok-imagine-video", "prompt": "x", "video": {"url": "data:video/mp4;base64,AAAA"}},
    )
    assert broken.status_code == 400
