"""Kling ships no Python SDK, so its documented REST examples are the judge: the docs' JWT snippet and
curl bodies, sent byte for byte with httpx against the emulator (Kling API docs as mirrored in
inference-sh/grid api/klingai/docs/00-general.md, 02-video-omni.md, 03-video-text2video.md,
04-video-image2video.md). Where an example names a model outside our catalogue, only ``model_name``
is changed, and the test says so."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.kling.emulator import create_app

AK = "ak-emulator-0123456789abcdef012345"
SK = "sk-emulator-0123456789abcdef012345"  # the emulator's api_key is both keys
POLLS = 200


def encode_jwt_token(ak: str, sk: str) -> str:
    """Kling's documented token snippet, as published."""
    headers = {"alg": "HS256", "typ": "JWT"}
    payload = {"iss": ak, "exp": int(time.time()) + 1800, "nbf": int(time.time()) - 5}
    token = jwt.encode(payload, sk, headers=headers)
    return token


# The docs' "With Sound (V2.6+)" text2video example body, byte for byte.
SOUND_EXAMPLE = b"""{
    "model_name": "kling-v2-6",
    "prompt": "Ocean waves crashing on rocky shore",
    "mode": "pro",
    "duration": "5",
    "sound": "on"
}"""

# The docs' omni-video "Pure Text to Video" body; model_name kling-video-o1 -> kling-v3-omni (ours).
OMNI_EXAMPLE = b"""{
    "model_name": "kling-v3-omni",
    "prompt": "A serene lake at sunset with birds flying",
    "mode": "pro",
    "aspect_ratio": "16:9",
    "duration": "7"
}"""

# The docs' omni-video "Video Reference (Style/Motion)" body; model_name kling-video-o1 -> kling-v3-omni
# (the backslash-newline only folds the prompt's line here: it is not in the bytes).
VIDEO_REFERENCE_EXAMPLE = b"""{
    "model_name": "kling-v3-omni",
    "prompt": "Referring to camera style in <<<video_1>>>, generate: \
<<<element_1>>> and <<<element_2>>> strolling in Tokyo",
    "image_list": [{"image_url": "https://..."}],
    "element_list": [
        {"element_id": 12345},
        {"element_id": 67890}
    ],
    "video_list": [{
        "video_url": "https://...",
        "refer_type": "feature"
    }],
    "mode": "pro",
    "aspect_ratio": "1:1",
    "duration": "7"
}"""

# The docs' omni-video "Extend Video (Next Shot)" body; model_name kling-video-o1 -> kling-v3-omni.
NEXT_SHOT_EXAMPLE = b"""{
    "model_name": "kling-v3-omni",
    "prompt": "Based on <<<video_1>>>, generate the next shot",
    "video_list": [{
        "video_url": "https://...",
        "refer_type": "feature"
    }],
    "mode": "pro"
}"""

# The docs' "Start and End Frames" image2video body; model_name kling-v1-5 -> kling-v2-6 (ours).
FRAMES_EXAMPLE = b"""{
    "model_name": "kling-v2-6",
    "image": "https://example.com/start.jpg",
    "image_tail": "https://example.com/end.jpg",
    "prompt": "Person walking from left to right",
    "mode": "pro",
    "duration": "5"
}"""


@pytest.fixture(scope="module")
def server(render_cache: Path) -> Iterator[tuple[str, Any]]:
    app = create_app(EmulatorSettings(api_key=SK, processing_seconds=0.3, cache_dir=render_cache))
    with live_server(app) as url:
        yield url, app.state.emulator


@pytest.fixture(scope="module")
def url(server: tuple[str, Any]) -> str:
    return server[0]


def headers(token: str | None = None) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token or encode_jwt_token(SK, SK)}",
        "Content-Type": "application/json",
    }


def post(url: str, path: str, body: bytes, token: str | None = None) -> httpx.Response:
    return httpx.post(url + path, content=body, headers=headers(token))


def poll(url: str, endpoint: str, task_id: str) -> dict[str, Any]:
    for _ in range(POLLS):
        data: dict[str, Any] = httpx.get(f"{url}/v1/videos/{endpoint}/{task_id}", headers=headers()).json()[
            "data"
        ]
        if data["task_status"] in ("succeed", "failed"):
            return data
        time.sleep(0.05)
    raise AssertionError("the task did not finish")


@pytest.mark.parametrize(
    ("endpoint", "body", "size", "seconds"),
    [
        ("text2video", SOUND_EXAMPLE, (1920, 1080), 5),
        ("omni-video", OMNI_EXAMPLE, (1920, 1080), 7),
        ("omni-video", VIDEO_REFERENCE_EXAMPLE, (1440, 1440), 7),
        ("omni-video", NEXT_SHOT_EXAMPLE, (1920, 1080), 5),
        ("image2video", FRAMES_EXAMPLE, (1920, 1080), 5),
    ],
)
def test_documented_examples_create_poll_and_download(
    url: str, endpoint: str, body: bytes, size: tuple[int, int], seconds: int, tmp_path: Path
) -> None:
    created = post(url, f"/v1/videos/{endpoint}", body)
    assert created.status_code == 200
    envelope = created.json()
    assert (envelope["code"], set(envelope)) == (0, {"code", "message", "request_id", "data"})
    assert envelope["data"]["task_status"] == "submitted"
    task_id = envelope["data"]["task_id"]
    done = poll(url, endpoint, task_id)
    assert done["task_status"] == "succeed"
    (video,) = done["task_result"]["videos"]
    assert video["duration"] == str(seconds)
    mp4 = httpx.get(video["url"], timeout=120)  # a signed URL: no Authorization; rendered on first read
    assert mp4.status_code == 200
    (tmp_path / "v.mp4").write_bytes(mp4.content)
    info = probe(tmp_path / "v.mp4")
    assert (info.width, info.height) == size
    assert info.duration == pytest.approx(seconds, abs=0.05)
    listed = httpx.get(f"{url}/v1/videos/{endpoint}?pageNum=1&pageSize=30", headers=headers()).json()
    assert task_id in [t["task_id"] for t in listed["data"]]


def test_an_output_url_expires_and_a_fresh_read_signs_a_new_one(server: tuple[str, Any]) -> None:
    url, emulator = server
    task_id = post(url, "/v1/videos/text2video", SOUND_EXAMPLE).json()["data"]["task_id"]
    first = poll(url, "text2video", task_id)["task_result"]["videos"][0]["url"]
    assert httpx.get(first.replace("signature=", "signature=0")).status_code == 403
    clock = emulator.urls.clock
    emulator.urls.clock = lambda: clock() + 7200
    try:
        assert httpx.get(first).status_code == 403
        fresh = poll(url, "text2video", task_id)["task_result"]["videos"][0]["url"]
        assert fresh != first
        assert httpx.get(fresh, timeout=120).status_code == 200
    finally:
        emulator.urls.clock = clock


def test_auth_failures_use_kling_codes(url: str) -> None:
    now = int(time.time())
    cases = [
        (None, 1001),
        ("not-a-jwt", 1002),
        (encode_jwt_token(SK, "a-wrong-secret-key-0123456789abcdef"), 1000),
        (encode_jwt_token("another-access-key-0123456789abcd", SK), 1000),
        (jwt.encode({"iss": SK, "exp": now - 10, "nbf": now - 100}, SK), 1004),
        (jwt.encode({"iss": SK, "exp": now + 1800, "nbf": now + 600}, SK), 1003),
    ]
    for token, code in cases:
        sent = {"Content-Type": "application/json"} if token is None else headers(token)
        reply = httpx.post(url + "/v1/videos/text2video", content=SOUND_EXAMPLE, headers=sent)
        assert (reply.status_code, reply.json()["code"]) == (401, code), token


def test_invalid_values_and_unknown_tasks(url: str) -> None:
    bad = post(url, "/v1/videos/text2video", SOUND_EXAMPLE.replace(b'"5"', b'"7"'))
    assert (bad.status_code, bad.json()["code"]) == (400, 1201)
    assert "duration" in bad.json()["message"]
    unknown_model = post(url, "/v1/videos/text2video", SOUND_EXAMPLE.replace(b"kling-v2-6", b"kling-v1"))
    assert (unknown_model.status_code, unknown_model.json()["code"]) == (400, 1201)
    missing = httpx.get(f"{url}/v1/videos/text2video/123456789", headers=headers())
    assert (missing.status_code, missing.json()["code"]) == (404, 1203)


def test_faults_use_kling_envelopes(url: str) -> None:
    body = SOUND_EXAMPLE.replace(b"rocky shore", b"rocky shore [fault:429]")
    limited = post(url, "/v1/videos/text2video", body)
    assert (limited.status_code, limited.json()["code"], limited.headers["retry-after"]) == (429, 1302, "1")
    assert post(url, "/v1/videos/text2video", body).status_code == 200
    filtered = post(url, "/v1/videos/text2video", SOUND_EXAMPLE.replace(b"shore", b"shore [fault:filtered]"))
    done = poll(url, "text2video", filtered.json()["data"]["task_id"])
    assert (done["task_status"], done["task_status_msg"]) == (
        "failed",
        "Failure to pass the risk control system",
    )


def test_kling_v3_turbo_std_and_pro_but_no_4k(url: str) -> None:
    """kling-v3-0-turbo (no catalogue price: its row is priced by the deployment) is served at std and
    pro like v3.0; 4k is refused (secondary sources say turbo has none)."""
    body = {"model_name": "kling-v3-0-turbo", "prompt": "a lighthouse", "mode": "std", "duration": "3"}
    body.update(aspect_ratio="9:16", sound="on")
    created = httpx.post(url + "/v1/videos/text2video", json=body, headers=headers()).json()
    done = poll(url, "text2video", created["data"]["task_id"])
    assert (done["task_status"], done["task_result"]["videos"][0]["duration"]) == ("succeed", "3")
    refused = httpx.post(url + "/v1/videos/text2video", json={**body, "mode": "4k"}, headers=headers())
    assert (refused.status_code, refused.json()["code"]) == (400, 1201)


def test_a_reference_video_is_one_feature_url_with_sound_off_and_3_to_10_seconds(url: str) -> None:
    base = {
        "model_name": "kling-v3-omni",
        "prompt": "Based on <<<video_1>>>, generate the next shot",
        "video_list": [{"video_url": "https://cdn.example/a.mp4", "refer_type": "feature"}],
    }
    video = base["video_list"][0]
    for change in (
        {"sound": "on"},
        {"duration": "12"},
        {"video_list": [video, video]},
        {"video_list": [{"video_url": "https://cdn.example/a.mp4", "refer_type": "base"}]},
        {"video_list": [{"refer_type": "feature"}]},
        {"model_name": "kling-v3-0"},  # text2video's model on omni-video
    ):
        reply = httpx.post(f"{url}/v1/videos/omni-video", json={**base, **change}, headers=headers())
        assert (reply.status_code, reply.json()["code"]) == (400, 1201), change
    on_text = httpx.post(
        f"{url}/v1/videos/text2video", json={**base, "model_name": "kling-v3-0"}, headers=headers()
    )
    assert (on_text.status_code, on_text.json()["code"]) == (400, 1201)
