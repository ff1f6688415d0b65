"""Proxy mode: bare gateway model names go, unvalidated and as given, to the configured api_base."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from tests.support.images import image_bytes

import vidgate
from vidgate import Client
from vidgate.sdk.ids import decode

GATEWAY_VIDEO = {
    "id": "video_gw123",
    "object": "video",
    "model": "veo-3",
    "status": "queued",
    "progress": 0,
    "created_at": 1700000000,
    "size": "1280x720",
    "seconds": "8",
    "usage": {"duration_seconds": 8.0, "cost": 3.2, "cost_is_estimate": True},
}


class Gateway:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "POST":
            return httpx.Response(200, json=GATEWAY_VIDEO)
        if request.url.path.endswith("/content"):
            return httpx.Response(
                200, content=b"\x00\x00\x00\x18ftypmp42", headers={"content-type": "video/mp4"}
            )
        return httpx.Response(200, json={**GATEWAY_VIDEO, "status": "completed", "progress": 100})


def test_gateway_model_names_are_forwarded_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    gateway = Gateway()
    monkeypatch.setattr(vidgate, "api_base", "http://0.0.0.0:4000")
    monkeypatch.setattr(vidgate, "api_key", "sk-1234")
    png = image_bytes(16, 9, "png")
    with Client(http_client=httpx.Client(transport=httpx.MockTransport(gateway))) as client:
        video = client.videos.create("veo-3", "a cat", input_reference=png, negative_prompt="blur", seed=7)
        status = client.videos.retrieve(video.id)
        data = client.videos.content(video.id)
    create = gateway.requests[0]
    assert str(create.url) == "http://0.0.0.0:4000/v1/videos"
    assert create.headers["authorization"] == "Bearer sk-1234"
    body = json.loads(create.content)
    assert body == {
        "model": "veo-3",
        "prompt": "a cat",
        "input_reference": {"image_url": "data:image/png;base64," + base64.b64encode(png).decode()},
        "negative_prompt": "blur",
        "seed": 7,
    }
    assert video.id == "video_gw123"  # the gateway's opaque id, not re-wrapped
    assert decode(video.id) is None
    assert video.usage is not None
    assert video.usage.cost == 3.2  # the gateway's own figure
    assert status.status == "completed"
    assert str(gateway.requests[1].url) == "http://0.0.0.0:4000/v1/videos/video_gw123"
    assert data.startswith(b"\x00\x00\x00\x18ftyp")


def test_proxy_mode_skips_the_catalogue_but_still_needs_a_key() -> None:
    gateway = Gateway()
    http = httpx.Client(transport=httpx.MockTransport(gateway))
    with Client(api_key="k", api_base="http://gw:4000", http_client=http) as client:
        client.videos.create("veo-3", "x", seconds="7", size="999x999")  # the gateway decides
    assert json.loads(gateway.requests[0].content) == {
        "model": "veo-3",
        "prompt": "x",
        "seconds": "7",
        "size": "999x999",
    }
    with (
        Client(api_base="http://gw:4000", http_client=http) as client,
        pytest.raises(vidgate.AuthenticationError, match="OPENAI_API_KEY"),
    ):
        client.videos.create("veo-3", "x")
    assert len(gateway.requests) == 1


class FlakyGateway(Gateway):
    """Answers the first POST with a connection drop after sending, then like ``Gateway``."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        first_post = request.method == "POST" and not any(r.method == "POST" for r in self.requests)
        if first_post:
            self.requests.append(request)
            raise httpx.ReadError("connection reset after the request was sent", request=request)
        return super().__call__(request)


def test_creates_and_remixes_send_an_idempotency_key_and_retries_reuse_it() -> None:
    gateway = FlakyGateway()
    http = httpx.Client(transport=httpx.MockTransport(gateway))
    with Client(api_key="k", api_base="http://gw:4000", http_client=http, sleep=lambda _: None) as client:
        client.videos.create("veo-3", "x")  # dropped once: resent (safe with the key), answered
        client.videos.create("veo-3", "x")
        client.videos.remix("video_gw123", "at night")
    posts = [r for r in gateway.requests if r.method == "POST"]
    assert [r.url.path for r in posts] == ["/v1/videos"] * 3 + ["/v1/videos/video_gw123/remix"]
    keys = [r.headers.get("idempotency-key") for r in posts]
    assert all(keys)
    assert keys[0] == keys[1]  # the retry of the first create
    assert len({keys[1], keys[2], keys[3]}) == 3  # every other call its own key
    assert json.loads(posts[3].content) == {"prompt": "at night"}
