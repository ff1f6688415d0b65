"""Gemini Omni (Interactions API) flows of the gemini and vertex_ai adapters against recorded replies."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from tests.support.images import image_bytes

from vidgate.catalog import Usage, validate
from vidgate.errors import BadRequestError, NotFoundError
from vidgate.providers._google_wire.omni import EMPTY_COMPLETION_GRACE_S, STATUSES, read_interaction
from vidgate.providers._google_wire.wire import google_error
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.catalogue import find_model
from vidgate.providers.gemini.adapter import GeminiProvider
from vidgate.providers.vertex_ai.adapter import VertexProvider
from vidgate.types import ImageInput, VideoRequest

PNG = image_bytes(64, 36, "png")  # a real one: validation reads its header
B64_PNG = base64.b64encode(PNG).decode()
GEMINI = GeminiProvider()
VERTEX = VertexProvider()
G_CREDS = Credentials(api_key="g-key")
V_CREDS = Credentials(project="proj", location="us-central1", access_token="ya29.t")
G_ROOT = "https://generativelanguage.googleapis.com/v1/interactions"
V_ROOT = "https://aiplatform.googleapis.com/v1beta1/projects/proj/locations/global/interactions"
T0 = "2026-12-06T08:00:00Z"
T0_EPOCH = 1796544000.0


def ok(body: Any) -> HttpReply:
    return HttpReply(200, {"content-type": "application/json"}, json.dumps(body).encode())


def request(model: str, **params: Any) -> VideoRequest:
    spec = find_model(model)
    assert spec is not None
    params.setdefault("prompt", "a cat")
    return validate(spec, **params)


def interaction(status: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": "v1_abc",
        "model": "gemini-omni-1.2-flash",
        "status": status,
        "created": T0,
        "updated": T0,
        **fields,
    }


def test_gemini_text_to_video_body() -> None:
    req = request("gemini/gemini-omni-1.2-flash", seconds="12", size="3840x2160", seed=7)
    job, calls = drive(GEMINI.create(req, G_CREDS), [ok(interaction("in_progress"))])
    (call,) = calls
    assert (call.method, call.url, call.retry_safe) == ("POST", G_ROOT, False)
    assert call.headers["x-goog-api-key"] == "g-key"
    assert call.json == {
        "model": "gemini-omni-1.2-flash",
        "input": "a cat",
        "response_modalities": ["video"],
        "generation_config": {"video_config": {"task": "text_to_video"}, "seed": 7},
        "response_format": {
            "type": "video",
            "aspect_ratio": "16:9",
            "resolution": "4k",
            "duration": "12s",
            "delivery": "uri",
        },
        "background": True,
    }
    assert (job.native_id, job.status, job.size, job.seconds) == (
        "interactions/v1_abc",
        "queued",
        "3840x2160",
        "12",
    )


def test_image_to_video_with_last_frame_and_reference_to_video() -> None:
    req = request(
        "gemini/gemini-omni-1.2-flash", input_reference=ImageInput(data=PNG), last_frame=ImageInput(data=PNG)
    )
    _, calls = drive(GEMINI.create(req, G_CREDS), [ok(interaction("queued"))])
    image = {"type": "image", "mime_type": "image/png", "data": B64_PNG}
    assert calls[0].json["input"] == [
        {"type": "user_input", "content": [{"type": "text", "text": "a cat"}, image, image]}
    ]
    assert calls[0].json["generation_config"]["video_config"] == {"task": "image_to_video"}
    refs = request("gemini/gemini-omni-1.2-flash", seconds="8", reference_images=[ImageInput(data=PNG)] * 3)
    _, calls = drive(GEMINI.create(refs, G_CREDS), [ok(interaction("queued"))])
    assert calls[0].json["input"] == [
        {"type": "user_input", "content": [{"type": "text", "text": "a cat"}, image, image, image]}
    ]
    assert calls[0].json["generation_config"]["video_config"] == {"task": "reference_to_video"}


def test_reserved_names_cannot_come_through_extra_body() -> None:
    names = ("response_format", "previous_interaction_id", "background", "generation_config")
    for key in (*names, "store", "stream", "webhook_config", "tools"):  # unfollowable, or unpriced
        req = request("gemini/gemini-omni-1.2-flash", extra_body={key: {}})
        with pytest.raises(BadRequestError) as caught:
            drive(GEMINI.create(req, G_CREDS), [])
        assert caught.value.param == f"extra_body.{key}"


def test_vertex_uses_global_interactions_inline_and_bearer() -> None:
    req = request("vertex_ai/gemini-omni-1.1-flash", size="640x360", seconds="3")
    job, calls = drive(VERTEX.create(req, V_CREDS), [ok(interaction("queued"))])
    assert (calls[0].url, calls[0].headers["Authorization"]) == (V_ROOT, "Bearer ya29.t")
    assert calls[0].json["response_format"] == {
        "type": "video",
        "aspect_ratio": "16:9",
        "resolution": "360p",
        "duration": "3s",
        "delivery": "inline",
    }
    assert job.status == "queued"
    emulated = Credentials(project="proj", location="us-central1", access_token="t", api_base="http://h:1/v1")
    assert (
        VERTEX.interactions_url(emulated) == "http://h:1/v1beta1/projects/proj/locations/global/interactions"
    )


@pytest.mark.parametrize(
    ("status", "expected", "code"),
    [
        ("queued", "queued", None),
        ("in_progress", "in_progress", None),
        ("failed", "failed", "generation_failed"),
        ("cancelled", "failed", "cancelled"),
        ("incomplete", "failed", "incomplete"),
        ("budget_exceeded", "failed", "budget_exceeded"),
        ("requires_action", "failed", "requires_action"),
        ("idle", "failed", "idle"),
        ("requires_continuation", "failed", "requires_continuation"),
        ("some_future_status", "in_progress", None),
    ],
)
def test_every_status_is_mapped(status: str, expected: str, code: str | None) -> None:
    job = read_interaction(interaction(status), now=T0_EPOCH)
    assert job.status == expected
    assert (job.error.code if job.error else None) == code


def test_the_status_table_covers_every_interaction_status() -> None:
    assert set(STATUSES) == {
        "queued",
        "in_progress",
        "requires_action",
        "completed",
        "failed",
        "cancelled",
        "incomplete",
        "budget_exceeded",
        "idle",
        "requires_continuation",
    }


def test_failed_carries_the_interaction_error() -> None:
    job = read_interaction(
        interaction("failed", errors=[{"code": "safety", "message": "blocked by policy"}]), now=T0_EPOCH
    )
    assert job.error is not None
    assert (job.error.code, job.error.message) == ("moderation_blocked", "blocked by policy")


def test_completed_with_output_and_usage() -> None:
    body = interaction(
        "completed",
        output_video={"uri": "https://generativelanguage.googleapis.com/v1beta/files/f1:download?alt=media"},
        usage={"total_output_tokens": 46_336},
    )
    job = read_interaction(body, now=T0_EPOCH + 5)
    assert (job.status, job.progress, job.usage) == ("completed", 100, Usage(output_tokens=46_336))


def test_completed_without_output_keeps_polling_within_the_bound_then_fails() -> None:
    empty = interaction("completed")
    assert read_interaction(empty, now=T0_EPOCH + EMPTY_COMPLETION_GRACE_S).status == "in_progress"
    late = read_interaction(empty, now=T0_EPOCH + EMPTY_COMPLETION_GRACE_S + 1)
    assert late.status == "failed"
    assert late.error is not None
    assert late.error.code == "completed_without_output"


def test_inline_output_downloads_from_memory_and_is_kept_out_of_raw() -> None:
    data = base64.b64encode(b"mp4 bytes").decode()
    body = interaction("completed", output_video={"data": data, "mime_type": "video/mp4"})
    download, calls = drive(VERTEX.download("interactions/v1_abc", "video", V_CREDS), [ok(body)])
    assert calls[0].url == f"{V_ROOT}/v1_abc"
    assert download.data == b"mp4 bytes"
    assert data not in json.dumps(read_interaction(body, now=T0_EPOCH).raw)


def test_uri_output_downloads_the_gemini_file() -> None:
    body = interaction(
        "completed",
        output_video={"uri": "https://generativelanguage.googleapis.com/v1beta/files/f1:download"},
    )
    download, _ = drive(GEMINI.download("interactions/v1_abc", "video", G_CREDS), [ok(body)])
    assert download.call is not None
    assert download.call.url == "https://generativelanguage.googleapis.com/v1beta/files/f1:download"


def test_remix_edits_with_previous_interaction_id() -> None:
    source = interaction(
        "completed",
        response_format={"type": "video", "resolution": "720p", "duration": "8s", "delivery": "uri"},
    )
    job, calls = drive(
        GEMINI.remix("interactions/v1_abc", "make it night", G_CREDS),
        [ok(source), ok({**interaction("in_progress"), "id": "v1_def", "previous_interaction_id": "v1_abc"})],
    )
    assert [c.method for c in calls] == ["GET", "POST"]
    assert calls[1].json == {
        "model": "gemini-omni-1.2-flash",
        "input": "make it night",
        "response_modalities": ["video"],
        "previous_interaction_id": "v1_abc",
        "generation_config": {"video_config": {"task": "edit"}},
        "background": True,
        "response_format": {"type": "video", "resolution": "720p", "duration": "8s", "delivery": "uri"},
    }
    assert (job.native_id, job.status, job.remixed_from) == (
        "interactions/v1_def",
        "queued",
        "interactions/v1_abc",
    )


def test_delete_cancels_a_running_interaction_first() -> None:
    deleted, calls = drive(
        GEMINI.delete("interactions/v1_abc", G_CREDS), [ok(interaction("in_progress")), ok({}), ok({})]
    )
    assert deleted is True
    assert [(c.method, c.url) for c in calls] == [
        ("GET", f"{G_ROOT}/v1_abc"),
        ("POST", f"{G_ROOT}/v1_abc/cancel"),
        ("DELETE", f"{G_ROOT}/v1_abc"),
    ]
    finished, calls = drive(
        GEMINI.delete("interactions/v1_abc", G_CREDS), [ok(interaction("completed")), ok({})]
    )
    assert finished is True
    assert [c.method for c in calls] == ["GET", "DELETE"]


def test_unknown_interaction_is_not_found() -> None:
    missing = HttpReply(
        404, {}, json.dumps({"error": {"code": 404, "message": "Not found", "status": "NOT_FOUND"}}).encode()
    )
    with pytest.raises(NotFoundError):
        drive(
            GEMINI.retrieve("interactions/v1_nope", G_CREDS), [missing], lambda r: google_error(r, "gemini")
        )
    deleted, _ = drive(
        GEMINI.delete("interactions/v1_nope", G_CREDS), [missing], lambda r: google_error(r, "gemini")
    )
    assert deleted is False


def test_bad_interaction_id_is_refused_before_any_call() -> None:
    with pytest.raises(BadRequestError) as caught:
        drive(GEMINI.retrieve("interactions/../x", G_CREDS), [])
    assert caught.value.param == "video_id"


def test_vertex_uri_delivery_to_a_storage_prefix() -> None:
    req = request("vertex_ai/gemini-omni-1.2-flash", extra_body={"storageUri": "gs://b/omni"})
    _, calls = drive(VERTEX.create(req, V_CREDS), [ok(interaction("queued"))])
    assert calls[0].json["response_format"]["delivery"] == "uri"
    assert calls[0].json["response_format"]["gcs_uri"] == "gs://b/omni"
    assert "storageUri" not in calls[0].json
    body = interaction("completed", output_video={"uri": "gs://b/omni/x/sample_0.mp4"})
    download, _ = drive(VERTEX.download("interactions/v1_abc", "video", V_CREDS), [ok(body)])
    assert download.call is not None
    assert download.call.url == "https://storage.googleapis.com/storage/v1/b/b/o/omni%2Fx%2Fsample_0.mp4"
    bad = request("vertex_ai/gemini-omni-1.2-flash", extra_body={"storageUri": "https://x"})
    with pytest.raises(BadRequestError) as caught:
        drive(VERTEX.create(bad, V_CREDS), [])
    assert caught.value.param == "extra_body.storageUri"
