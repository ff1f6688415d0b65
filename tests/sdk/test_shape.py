"""OpenRouter's create fields in vidgate's own SDK: folded onto the row in direct mode (sync and async),
sent as given to a gateway, conflicts refused before any call."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from tests.sdk.test_proxy import Gateway
from tests.support.images import image_bytes

from vidgate import AsyncClient, Client
from vidgate.errors import BadRequestError

PNG_URL = "data:image/png;base64," + base64.b64encode(image_bytes(320, 180, "png")).decode()


def frame(url: str, frame_type: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}, "frame_type": frame_type}


@pytest.fixture(autouse=True)
def _fast_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0")


def test_direct_mode_folds_the_fields_onto_the_row() -> None:
    with Client() as client:
        video = client.videos.create(
            "local/local-1",
            "a kite",
            duration=2,
            resolution="360p",
            aspect_ratio="9:16",
            frame_images=[frame(PNG_URL, "first_frame")],
        )
    assert (video.seconds, video.size) == ("2", "360x640")


async def test_the_async_client_takes_them_too() -> None:
    async with AsyncClient() as client:
        video = await client.videos.create("local/local-1", "a kite", duration=1, resolution="180p")
    assert (video.seconds, video.size) == ("1", "320x180")


def test_direct_mode_refuses_conflicts_unsupported_fields_and_callbacks() -> None:
    with Client() as client:
        with pytest.raises(BadRequestError, match="'seconds' and 'duration'"):
            client.videos.create("local/local-1", "a kite", seconds="4", duration=8)
        with pytest.raises(BadRequestError) as caught:
            client.videos.create(
                "local/local-1", "a kite", input_references=[{"image_url": {"url": PNG_URL}}]
            )
        assert caught.value.param == "input_references"
        with pytest.raises(BadRequestError) as caught:
            client.videos.create("local/local-1", "a kite", callback_url="https://hooks.example.com/v")
        assert caught.value.param == "callback_url"


def test_a_gateway_gets_the_fields_as_given() -> None:
    gateway = Gateway()
    http = httpx.Client(transport=httpx.MockTransport(gateway))
    fields: dict[str, Any] = {
        "duration": 5,
        "resolution": "2K",
        "aspect_ratio": "9:16",
        "frame_images": [frame("https://img.example/a.png", "first_frame")],
        "callback_url": "https://hooks.example.com/v",
    }
    with Client(api_key="k", api_base="http://gw:4000", http_client=http, gateway=True) as client:
        client.videos.create("h3", "a fox", **fields)  # "h3" is a catalogue alias too: the gateway's here
        with pytest.raises(BadRequestError, match="'size' and 'aspect_ratio'"):
            client.videos.create("h3", "a fox", size="1280x720", aspect_ratio="9:16")
    assert json.loads(gateway.requests[0].content) == {"model": "h3", "prompt": "a fox", **fields}
    assert len(gateway.requests) == 1  # the conflict was refused before any call
