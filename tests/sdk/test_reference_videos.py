"""Reference videos by URL in vidgate's SDK (``input_references`` items of type ``video_url``, as the
gateway takes them): direct mode folds them onto the row and the adapter sends video blocks (sync and
async); a gateway gets them as given; what the row cannot take is refused before any call."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from tests.sdk.test_proxy import Gateway

from vidgate import AsyncClient, Client
from vidgate.errors import BadRequestError

CLIP = "https://cdn.example.com/clips/walk.mp4"
OMNI = "gemini/gemini-omni-1.2-flash"


def video_ref(url: str) -> dict[str, Any]:
    return {"type": "video_url", "video_url": {"url": url}}


class Gemini:
    """The Interactions API's create, recorded."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST", request.url
        assert request.url.path.endswith("/interactions"), request.url
        self.bodies.append(json.loads(request.content))
        return httpx.Response(
            200, json={"id": "v1_abc", "status": "in_progress", "model": "gemini-omni-1.2-flash"}
        )


EXPECTED_CONTENT = [
    {"type": "text", "text": "a fox, moving like this"},
    {"type": "video", "uri": CLIP, "mime_type": "video/mp4"},
    {"type": "video", "uri": "https://10.0.0.5/ref"},
]


def test_direct_mode_sends_video_blocks() -> None:
    gemini = Gemini()
    http = httpx.Client(transport=httpx.MockTransport(gemini))
    with Client(api_key="g-key", http_client=http) as client:
        video = client.videos.create(
            OMNI,
            "a fox, moving like this",
            seconds="4",
            # a private host is the gateway operator's to refuse; a direct call uses the caller's own key
            input_references=[video_ref(CLIP), video_ref("https://10.0.0.5/ref")],
        )
    assert video.status == "queued"
    body = gemini.bodies[0]
    assert body["input"] == [{"type": "user_input", "content": EXPECTED_CONTENT}]
    assert body["generation_config"]["video_config"]["task"] == "reference_to_video"


async def test_the_async_client_sends_them_too() -> None:
    gemini = Gemini()
    http = httpx.AsyncClient(transport=httpx.MockTransport(gemini))
    async with AsyncClient(api_key="g-key", http_client=http) as client:
        await client.videos.create(
            OMNI,
            "a fox, moving like this",
            input_references=[video_ref(CLIP), video_ref("https://10.0.0.5/ref")],
        )
    assert gemini.bodies[0]["input"] == [{"type": "user_input", "content": EXPECTED_CONTENT}]


def test_refusals_come_before_any_call() -> None:
    gemini = Gemini()
    http = httpx.Client(transport=httpx.MockTransport(gemini))
    with Client(api_key="g-key", http_client=http) as client:
        with pytest.raises(BadRequestError) as scheme:
            client.videos.create(OMNI, "a fox", input_references=[video_ref("http://cdn.example.com/a.mp4")])
        assert scheme.value.param == "input_references[0].video_url.url"
        with pytest.raises(BadRequestError) as unsupported:
            client.videos.create("gemini/veo-3.1-generate-001", "a fox", input_references=[video_ref(CLIP)])
        assert (unsupported.value.param, unsupported.value.code) == (
            "input_references",
            "unsupported_parameter",
        )
        with pytest.raises(BadRequestError) as too_many:
            client.videos.create(
                OMNI, "a fox", input_references=[video_ref(f"{CLIP}?n={i}") for i in range(4)]
            )
        assert too_many.value.param == "input_references"
    assert gemini.bodies == []


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_a_gateway_gets_them_as_given(asynchronous: bool) -> None:
    gateway = Gateway()
    refs = [video_ref(CLIP), {"type": "image_url", "image_url": {"url": "https://img.example/a.png"}}]
    if asynchronous:
        http = httpx.AsyncClient(transport=httpx.MockTransport(gateway))
        async with AsyncClient(
            api_key="k", api_base="http://gw:4000", http_client=http, gateway=True
        ) as aclient:
            await aclient.videos.create("omni", "a fox", input_references=refs)
    else:
        with Client(
            api_key="k",
            api_base="http://gw:4000",
            http_client=httpx.Client(transport=httpx.MockTransport(gateway)),
            gateway=True,
        ) as client:
            client.videos.create("omni", "a fox", input_references=refs)
    assert json.loads(gateway.requests[0].content) == {
        "model": "omni",
        "prompt": "a fox",
        "input_references": refs,
    }
