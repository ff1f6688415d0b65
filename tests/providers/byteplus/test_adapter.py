"""The Ark flows on the BytePlus host with recorded replies: reference videos (``video_url`` items with
role ``reference_video``) and the rules ModelArk states for them, checked before any call."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from vidgate.catalog import validate
from vidgate.errors import BadRequestError
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.byteplus.adapter import BytePlusProvider
from vidgate.providers.catalogue import find_model
from vidgate.types import ImageInput, SourceVideo, VideoRequest

CREDS = Credentials(api_key="modelark-key")
BASE = "https://ark.ap-southeast.bytepluses.com/api/v3/contents/generations/tasks"
MODEL = "dreamina-seedance-2-0-260128"
CLIP = SourceVideo(url="https://cdn.example/motion.mp4")
provider = BytePlusProvider()


def reply(status: int, body: Any) -> HttpReply:
    return HttpReply(status, {}, json.dumps(body).encode())


def request(provider_name: str = "byteplus", model: str = MODEL, **kwargs: Any) -> VideoRequest:
    videos = kwargs.pop("reference_videos", (CLIP,))
    spec = find_model(f"{provider_name}/{model}")
    assert spec is not None
    return replace(validate(spec, prompt="a dancer", **kwargs), reference_videos=tuple(videos))


def test_reference_videos_follow_the_images_as_video_url_items() -> None:
    req = request(
        seconds="5",
        size="1280x720",
        reference_images=[ImageInput(url="https://img.example/face.png")],
        reference_videos=(CLIP, SourceVideo(url="asset://asset-20260101-abc")),
    )
    job, calls = drive(provider.create(req, CREDS), [reply(200, {"id": "cgt-7"})])
    assert (calls[0].method, calls[0].url) == ("POST", BASE)
    assert calls[0].json["content"] == [
        {"type": "text", "text": "a dancer"},
        {
            "type": "image_url",
            "image_url": {"url": "https://img.example/face.png"},
            "role": "reference_image",
        },
        {
            "type": "video_url",
            "video_url": {"url": "https://cdn.example/motion.mp4"},
            "role": "reference_video",
        },
        {"type": "video_url", "video_url": {"url": "asset://asset-20260101-abc"}, "role": "reference_video"},
    ]
    assert job.native_id == "cgt-7"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"input_reference": ImageInput(url="https://img.example/first.png")}, "first/last frames"),
        ({"reference_videos": (CLIP,) * 4}, "At most 3 reference_videos"),
        ({"reference_videos": (SourceVideo(data=b"\x00\x00\x00\x18ftypmp42"),)}, "public https URL"),
        ({"reference_videos": (SourceVideo(url="ftp://cdn.example/a.mp4"),)}, "public https URL"),
        ({"reference_videos": (SourceVideo(url="https://cdn.example/a.mp4", seconds=1),)}, "2 to 15 s"),
        (
            {"reference_videos": (replace(CLIP, seconds=8), replace(CLIP, seconds=8))},
            "15 s in all, got 16 s",
        ),
    ],
)
def test_what_modelark_refuses_is_a_400_before_any_call(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequestError, match=message) as caught:
        drive(provider.create(request(**changes), CREDS), [])
    assert caught.value.param == "reference_videos"


def test_known_lengths_within_the_bounds_are_sent() -> None:
    req = request(reference_videos=(replace(CLIP, seconds=7), replace(CLIP, seconds=8)))
    _, calls = drive(provider.create(req, CREDS), [reply(200, {"id": "cgt-8"})])
    assert [item["type"] for item in calls[0].json["content"]] == ["text", "video_url", "video_url"]


def test_a_model_the_catalogue_does_not_know_refuses_reference_videos() -> None:
    """The adapter's own check: a model no row describes cannot take them (400 naming the param, no call)."""
    req = replace(request(), model="dreamina-seedance-9-9-991231")
    with pytest.raises(BadRequestError, match="does not take reference_videos") as caught:
        drive(provider.create(req, CREDS), [])
    assert caught.value.param == "reference_videos"
