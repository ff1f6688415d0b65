"""Interactions create bodies read for the pass-through: what is refused (and named), what is read,
what is forwarded; the flows on a deployment, driven with recorded replies (no network)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from tests.support.images import image_bytes

from vidgate.errors import APIError, BadRequestError
from vidgate.providers._google_wire.interaction_bodies import (
    cancel_interaction,
    create_interaction,
    fetch_interaction,
    forwarded_body,
    read_interaction_body,
)
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.gemini.adapter import GeminiProvider
from vidgate.providers.vertex_ai.adapter import VertexProvider

PNG = base64.b64encode(image_bytes(64, 36, "png")).decode("ascii")
GEMINI = Credentials(api_key="g-key", api_base="http://gemini.test")
VERTEX = Credentials(
    access_token="tok", project="proj", location="us-central1", api_base="http://vertex.test"
)


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "gemini-omni-1.2-flash", "input": "a fox", "background": True, **fields}


def refused(raw: object, *, allow_gcs: bool = False) -> BadRequestError:
    with pytest.raises(BadRequestError) as caught:
        read_interaction_body(raw, allow_gcs=allow_gcs)
    return caught.value


def test_store_true_is_read_as_left_out() -> None:
    assert read_interaction_body(body(store=True), allow_gcs=False).prompt == "a fox"


def test_reads_text_images_format_and_task() -> None:
    read = read_interaction_body(
        body(
            model="models/gemini-omni-1.2-flash",
            input=[
                {"type": "text", "text": "the scene"},
                {"type": "image", "data": PNG, "mime_type": "image/png"},
            ],
            response_format={"type": "video", "aspect_ratio": "9:16", "resolution": "360p", "duration": "4s"},
            generation_config={"seed": 7, "video_config": {"task": "image_to_video"}},
        ),
        allow_gcs=False,
    )
    assert read.model == "gemini-omni-1.2-flash"
    assert read.prompt == "the scene"
    assert read.images[0].data == base64.b64decode(PNG)
    assert (read.aspect_ratio, read.resolution, read.duration, read.seed) == ("9:16", "360p", "4s", 7)
    assert read.task == "image_to_video"
    assert read.has_format


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        ([], "body"),
        (body(background=False), "background"),
        ({"model": "m", "input": "x"}, "background"),
        (body(stream=True), "stream"),
        (body(store=False), "store"),
        (body(store="true"), "store"),
        (body(tools=[{"google_search": {}}]), "tools"),
        (body(webhook_config={"uris": ["https://x"]}), "webhook_config"),
        (body(agent="deep-research"), "agent"),
        (body(model=""), "model"),
        (body(input=[{"type": "video", "uri": "gs://b/v.mp4"}]), "input[0].uri"),
        (body(input=[{"type": "audio", "data": "AA=="}]), "input[0]"),
        (body(input=[{"type": "image", "data": "not base64!"}]), "input[0]"),
        (body(input=[{"type": "image", "uri": "gs://b/i.png"}]), "input[0]"),
        (body(response_format={"type": "text"}), "response_format.type"),
        (body(response_format="video"), "response_format"),
        (
            body(generation_config={"video_config": {"task": "upscale"}}),
            "generation_config.video_config.task",
        ),
        (body(previous_interaction_id=""), "previous_interaction_id"),
        # The API's JSON parser takes lowerCamelCase names too: each spelling is refused as its field.
        (body(webhookConfig={"uris": ["https://x"]}), "webhookConfig"),
        (body(agentConfig={"type": "x"}), "agentConfig"),
        (body(Stream=False), "Stream"),
        (body(**{"\u017ftore": False}), "\u017ftore"),
        (body(Store=True), "Store"),
    ],
)
def test_refused_bodies_name_the_field(raw: object, param: str) -> None:
    assert refused(raw).param == param


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        (body(responseFormat={"duration": "4s"}), "responseFormat"),
        (body(duration="4s"), "duration"),
        (body(response_format={"durationSeconds": 4}), "response_format.durationSeconds"),
        (body(response_format={"aspectRatio": "9:16"}), "response_format.aspectRatio"),
        (body(generation_config={"numberOfVideos": 2}), "generation_config.numberOfVideos"),
        (
            body(generation_config={"video_config": {"duration": "8s"}}),
            "generation_config.video_config.duration",
        ),
        (body(previousInteractionId="v1_x"), "previousInteractionId"),
    ],
)
def test_other_spellings_of_priced_fields_are_refused(raw: object, param: str) -> None:
    error = refused(raw)
    assert error.param == param
    assert error.code == "reserved_parameter"


def test_gcs_images_only_where_the_service_reads_them() -> None:
    gcs = body(
        input=[
            {"type": "text", "text": "x"},
            {"type": "image", "uri": "gs://b/i.png", "mime_type": "image/png"},
        ]
    )
    assert read_interaction_body(gcs, allow_gcs=True).images[0].url == "gs://b/i.png"
    assert refused(gcs).param == "input[1]"


def test_forwarded_body_rewrites_only_the_model_and_the_previous_id() -> None:
    sent = body(response_format={"duration": "4s"}, previous_interaction_id="video_abc", labels={"a": "b"})
    out = forwarded_body(sent, "gemini-omni-1.2-flash", "interactions/v1_upstream")
    assert out == {**sent, "model": "gemini-omni-1.2-flash", "previous_interaction_id": "v1_upstream"}
    assert forwarded_body(body(), "models/gemini-omni-1.1-flash", None)["model"] == "gemini-omni-1.1-flash"


def reply(data: object) -> HttpReply:
    return HttpReply(200, {"content-type": "application/json"}, json.dumps(data).encode())


def test_flows_call_each_service_where_its_interactions_live() -> None:
    answer, [call] = drive(create_interaction(GeminiProvider(), body(), GEMINI), [reply({"id": "v1_a"})])
    assert answer == {"id": "v1_a"}
    assert (call.method, call.url, call.json) == ("POST", "http://gemini.test/v1/interactions", body())
    assert call.headers["x-goog-api-key"] == "g-key"
    assert call.retry_safe is False
    _, [vcall] = drive(
        cancel_interaction(VertexProvider(), "interactions/v1_a", VERTEX), [reply({"id": "v1_a"})]
    )
    assert (vcall.method, vcall.url) == (
        "POST",
        "http://vertex.test/v1beta1/projects/proj/locations/global/interactions/v1_a/cancel",
    )
    assert vcall.headers["Authorization"] == "Bearer tok"
    _, [get] = drive(
        fetch_interaction(GeminiProvider(), "interactions/v1_a", GEMINI), [reply({"id": "v1_a"})]
    )
    assert (get.method, get.url) == ("GET", "http://gemini.test/v1/interactions/v1_a")
    with pytest.raises(APIError, match="interaction id"):
        drive(create_interaction(GeminiProvider(), body(), GEMINI), [reply({})])
