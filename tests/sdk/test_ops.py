"""Direct mode's ``usage.cost`` (``sdk.ops.usage_for``) is what the gateway reserves for the same request:
an input video at a row's with-video rate (per second or per token), per-input surcharges, audio off.
Dollar figures written by hand from the rows in ``models.yaml``."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from vidgate import Client
from vidgate.catalog import ModelSpec, validate
from vidgate.providers.catalogue import find_model
from vidgate.sdk.ops import usage_for
from vidgate.types import ImageInput, SourceVideo

CLIP = "https://cdn.example.com/clips/walk.mp4"


def row(model: str) -> ModelSpec:
    spec = find_model(model)
    assert spec is not None
    return spec


OMNI = row("kling/kling-v3-omni")
SEEDANCE = row("byteplus/dreamina-seedance-2-0-260128")
GROK = row("xai/grok-imagine-video-1.5")


def cost(spec: ModelSpec, **params: Any) -> float | None:
    req = validate(spec, prompt="a fox", **params)
    usage = usage_for(spec, str(req.seconds), req.size, req)
    assert usage is not None
    return usage.cost


@pytest.mark.parametrize(
    ("params", "dollars"),
    [
        ({}, 0.56),  # 5 s std with audio x $0.112
        ({"generate_audio": False}, 0.42),  # x $0.084
        ({"reference_videos": [SourceVideo(url=CLIP)]}, 0.63),  # x $0.126, the with-video rate
        ({"reference_videos": [SourceVideo(url=CLIP)], "size": "1920x1080"}, 0.84),  # pro x $0.168
    ],
)
def test_kling_omni_is_priced_at_the_with_video_rate_when_a_video_is_given(
    params: dict[str, Any], dollars: float
) -> None:
    assert cost(OMNI, seconds="5", **params) == dollars


def test_seedance_with_a_reference_video_is_priced_at_the_with_video_token_rate() -> None:
    # 21,830 tokens/s x 5 s = 109,150 tokens x $7/1M = $0.76405
    assert cost(SEEDANCE, seconds="5", size="1280x720") == 0.76405
    # 21,830 x (5 + 15 input video) s = 436,600 tokens x $4.3/1M = $1.87738
    with_video = cost(SEEDANCE, seconds="5", size="1280x720", reference_videos=[SourceVideo(url=CLIP)])
    assert with_video == 1.87738


def test_an_input_image_surcharge_is_added() -> None:
    # 8 s 720p x $0.14 = $1.12, plus $0.01 for the input image
    assert cost(GROK, seconds="8", size="1280x720", input_reference=ImageInput(url="https://x/a.png")) == 1.13


def test_without_the_request_the_bare_row_is_shown() -> None:
    """A later retrieve of a direct-mode id knows only seconds and size."""
    usage = usage_for(OMNI, "5", "1280x720")
    assert usage is not None
    assert usage.cost == 0.56


def test_a_kling_omni_create_with_a_reference_video_shows_the_gateways_figure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KLING_ACCESS_KEY", "ak")
    monkeypatch.setenv("KLING_SECRET_KEY", "s" * 32)
    bodies: list[dict[str, object]] = []

    def kling(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        task = {"task_id": "842250903629086785", "task_status": "submitted", "created_at": 1722769557708}
        return httpx.Response(200, json={"code": 0, "message": "SUCCEED", "request_id": "r", "data": task})

    with Client(http_client=httpx.Client(transport=httpx.MockTransport(kling))) as client:
        video = client.videos.create(
            "kling/kling-v3-omni",
            "a fox, moving like this",
            seconds="5",
            size="1280x720",
            input_references=[{"type": "video_url", "video_url": {"url": CLIP}}],
        )
    assert len(bodies) == 1
    assert video.usage is not None
    assert (video.usage.duration_seconds, video.usage.cost) == (5.0, 0.63)  # 5 s std x $0.126
