"""Edits, extensions and reference videos of the gemini and vertex_ai adapters against recorded replies:
the Veo 3.1 extension body on each service, Gemini Omni edit/extend through ``previous_interaction_id``
or the video as input, Omni reference videos, and the 400s that name the parameter before any call."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from tests.support.images import image_bytes

from vidgate.catalog import pricing, validate
from vidgate.errors import BadRequestError
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.catalogue import find_model
from vidgate.providers.gemini.adapter import GeminiProvider
from vidgate.providers.vertex_ai.adapter import VertexProvider
from vidgate.types import ImageInput, SourceVideo, VideoRequest

MP4 = b"\0\0\0\x18ftypmp42" + b"\0" * 16
B64_MP4 = base64.b64encode(MP4).decode()
PNG = image_bytes(64, 36, "png")  # a real one: validation reads its header
GEMINI = GeminiProvider()
VERTEX = VertexProvider()
G_CREDS = Credentials(api_key="g-key")
V_CREDS = Credentials(project="proj", location="us-central1", access_token="ya29.t")
G_FILE = "https://generativelanguage.googleapis.com/v1beta/files/abc123:download?alt=media"
V_OBJECT = "gs://bucket/out/op1/sample_0.mp4"
G_OP = "models/veo-3.1-generate-001/operations/op2"
V_OP = "projects/proj/locations/us-central1/publishers/google/models/veo-3.1-generate-001/operations/op2"


def ok(body: Any) -> HttpReply:
    return HttpReply(200, {"content-type": "application/json"}, json.dumps(body).encode())


def request(model: str, task: str, source: SourceVideo | None, **params: Any) -> VideoRequest:
    spec = find_model(model)
    assert spec is not None
    params.setdefault("prompt", "carry on")
    return replace(validate(spec, **params), task=task, source_video=source)  # type: ignore[arg-type]


def sent(provider: Any, req: VideoRequest, creds: Credentials, reply: dict[str, Any]) -> dict[str, Any]:
    _job, calls = drive(provider.create(req, creds), [ok(reply)])
    assert [(call.method, call.retry_safe) for call in calls] == [("POST", False)]
    body: dict[str, Any] = calls[0].json
    return body


# ---- Veo 3.1 extension ------------------------------------------------------------------------


def test_gemini_veo_extension_names_the_earlier_file() -> None:
    source = SourceVideo(data=MP4, native_id="models/veo-3.1-generate-001/operations/op1", outputs=(G_FILE,))
    req = request("gemini/veo-3.1-generate-001", "extend", source, seconds=8, size="1280x720")
    body = sent(GEMINI, req, G_CREDS, {"name": G_OP})
    assert body["instances"] == [{"prompt": "carry on", "video": {"uri": G_FILE}}]
    assert body["parameters"]["durationSeconds"] == 8
    assert body["parameters"]["resolution"] == "720p"


def test_gemini_veo_extension_of_an_operation_reads_its_file_uri_first() -> None:
    """The gateway passes the source's native id and bytes, no outputs: the operation names the file."""
    source = SourceVideo(data=MP4, native_id="models/veo-3.1-generate-001/operations/op1", seconds=8)
    req = request("gemini/veo-3.1-generate-001", "extend", source, seconds=8, size="1280x720")
    done = {
        "name": source.native_id,
        "done": True,
        "response": {"generateVideoResponse": {"generatedSamples": [{"video": {"uri": G_FILE}}]}},
    }
    _job, calls = drive(GEMINI.create(req, G_CREDS), [ok(done), ok({"name": G_OP})])
    assert [(c.method, c.url) for c in calls] == [
        ("GET", f"https://generativelanguage.googleapis.com/v1beta/{source.native_id}"),
        (
            "POST",
            "https://generativelanguage.googleapis.com/v1beta/models/veo-3.1-generate-001:predictLongRunning",
        ),
    ]
    assert calls[1].json["instances"][0]["video"] == {"uri": G_FILE}


def test_vertex_reads_the_source_operation_only_without_bytes() -> None:
    native = V_OP.replace("op2", "op1")
    with_bytes = request(
        "vertex_ai/veo-3.1-generate-001", "extend", SourceVideo(data=MP4, native_id=native), seconds=8
    )
    assert (
        sent(VERTEX, with_bytes, V_CREDS, {"name": V_OP})["instances"][0]["video"]["bytesBase64Encoded"]
        == B64_MP4
    )
    bare = request("vertex_ai/veo-3.1-generate-001", "extend", SourceVideo(native_id=native), seconds=8)
    done = {
        "name": native,
        "done": True,
        "response": {"videos": [{"bytesBase64Encoded": B64_MP4, "mimeType": "video/mp4"}]},
    }
    _job, calls = drive(VERTEX.create(bare, V_CREDS), [ok(done), ok({"name": V_OP})])
    assert calls[0].url.endswith(":fetchPredictOperation")
    assert calls[0].json == {"operationName": native}
    assert calls[1].json["instances"][0]["video"] == {"bytesBase64Encoded": B64_MP4, "mimeType": "video/mp4"}


def test_gemini_veo_extension_without_a_gemini_file_is_refused_naming_video() -> None:
    source = SourceVideo(data=MP4, outputs=("https://cdn.example/v.mp4",))
    req = request("gemini/veo-3.1-fast-generate-001", "extend", source, seconds=8, size="1280x720")
    with pytest.raises(BadRequestError) as caught:
        drive(GEMINI.create(req, G_CREDS), [])
    assert caught.value.param == "video"
    assert "file URI" in caught.value.message


def test_vertex_veo_extension_sends_the_gcs_object_or_the_bytes() -> None:
    by_uri = request(
        "vertex_ai/veo-3.1-generate-001",
        "extend",
        SourceVideo(outputs=(V_OBJECT,)),
        seconds=8,
        size="720x1280",
    )
    body = sent(VERTEX, by_uri, V_CREDS, {"name": V_OP})
    assert body["instances"][0]["video"] == {"gcsUri": V_OBJECT, "mimeType": "video/mp4"}
    assert body["parameters"]["aspectRatio"] == "9:16"
    by_bytes = request(
        "vertex_ai/veo-3.1-fast-generate-001",
        "extend",
        SourceVideo(data=MP4, outputs=("inline:0",)),
        seconds=8,
        size="1280x720",
    )
    body = sent(
        VERTEX, by_bytes, V_CREDS, {"name": V_OP.replace("veo-3.1-generate", "veo-3.1-fast-generate")}
    )
    assert body["instances"][0]["video"] == {"bytesBase64Encoded": B64_MP4, "mimeType": "video/mp4"}


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"seconds": 4, "size": "1280x720"}, "seconds"),
        ({"seconds": 8, "size": "1920x1080"}, "size"),
        ({"seconds": 8, "size": "1280x720", "input_reference": ImageInput(data=PNG)}, "input_reference"),
    ],
)
def test_veo_extension_rules_are_400s_naming_the_param(params: dict[str, Any], param: str) -> None:
    req = request("vertex_ai/veo-3.1-generate-001", "extend", SourceVideo(data=MP4), **params)
    with pytest.raises(BadRequestError) as caught:
        drive(VERTEX.create(req, V_CREDS), [])
    assert caught.value.param == param


def test_veo_has_no_edit_and_an_extension_needs_its_source() -> None:
    edit = request("vertex_ai/veo-3.1-generate-001", "edit", SourceVideo(data=MP4), seconds=8)
    with pytest.raises(BadRequestError) as no_edit:
        drive(VERTEX.create(edit, V_CREDS), [])
    assert no_edit.value.param == "model"
    bare = request("vertex_ai/veo-3.1-generate-001", "extend", None, seconds=8)
    with pytest.raises(BadRequestError) as no_source:
        drive(VERTEX.create(bare, V_CREDS), [])
    assert no_source.value.param == "video"


def test_rows_declare_extend_on_veo_3_1_only() -> None:
    for model in ("gemini/veo-3.1-generate-001", "gemini/veo-3.1-fast-generate-001",
                  "vertex_ai/veo-3.1-generate-001", "vertex_ai/veo-3.1-fast-generate-001"):  # fmt: skip
        spec = find_model(model)
        assert spec is not None, model
        assert (spec.has("extend"), spec.has("edit")) == (True, False), model
    for model in ("vertex_ai/veo-3.1-lite-generate-001", "gemini/veo-2.0-generate-001",
                  "vertex_ai/veo-3.0-generate-001"):  # fmt: skip
        spec = find_model(model)
        assert spec is not None, model
        assert (spec.has("extend"), spec.has("edit")) == (False, False), model


def test_a_veo_extension_is_priced_at_its_8_seconds() -> None:
    spec = find_model("vertex_ai/veo-3.1-generate-001")
    assert spec is not None
    req = request("vertex_ai/veo-3.1-generate-001", "extend", SourceVideo(data=MP4), seconds=8)
    cost = pricing.estimate_cost(spec, seconds=req.seconds, size=req.size, generate_audio=req.generate_audio)
    assert cost == Decimal("3.20")  # 8 s x $0.40 (720p, with audio)


# ---- Gemini Omni --------------------------------------------------------------------------------


def created(model: str = "gemini-omni-1.2-flash") -> dict[str, Any]:
    return {"id": "v1_new", "model": model, "status": "in_progress", "created": "2026-12-06T08:00:00Z"}


def test_omni_edit_of_an_interaction_of_this_deployment_uses_previous_interaction_id() -> None:
    source = SourceVideo(data=MP4, native_id="interactions/v1_src", outputs=(G_FILE,), seconds=6)
    req = request("gemini/gemini-omni-1.2-flash", "edit", source, seconds=6, size="1280x720")
    body = sent(GEMINI, req, G_CREDS, created())
    assert body["previous_interaction_id"] == "v1_src"
    assert body["input"] == "carry on"
    assert body["generation_config"] == {"video_config": {"task": "edit"}}
    assert body["response_format"] == {
        "type": "video",
        "aspect_ratio": "16:9",
        "resolution": "720p",
        "duration": "6s",
        "delivery": "uri",
    }


def test_omni_extension_of_a_foreign_video_sends_it_as_input() -> None:
    source = SourceVideo(data=MP4, native_id="task-from-elsewhere", seconds=5)
    req = request("vertex_ai/gemini-omni-1.1-flash", "extend", source, seconds=4, size="1280x720")
    body = sent(VERTEX, req, V_CREDS, created("gemini-omni-1.1-flash"))
    assert "previous_interaction_id" not in body
    assert body["input"] == [
        {
            "type": "user_input",
            "content": [
                {"type": "text", "text": "carry on"},
                {"type": "video", "data": B64_MP4, "mime_type": "video/mp4"},
            ],
        }
    ]
    assert body["generation_config"]["video_config"]["task"] == "extend"
    assert body["response_format"]["duration"] == "4s"


def test_omni_input_video_by_the_services_own_uri() -> None:
    gemini = request(
        "gemini/gemini-omni-1.2-flash", "extend", SourceVideo(data=MP4, outputs=(G_FILE,)), seconds=3
    )
    assert sent(GEMINI, gemini, G_CREDS, created())["input"][0]["content"][1] == {
        "type": "video",
        "uri": G_FILE,
        "mime_type": "video/mp4",
    }
    vertex = request(
        "vertex_ai/gemini-omni-1.2-flash", "edit", SourceVideo(data=MP4, outputs=(V_OBJECT,)), seconds=8
    )
    assert sent(VERTEX, vertex, V_CREDS, created())["input"][0]["content"][1]["uri"] == V_OBJECT


def test_omni_reference_videos_with_reference_images() -> None:
    videos = (SourceVideo(data=MP4), SourceVideo(data=MP4, outputs=(G_FILE,)))
    req = replace(
        request("gemini/gemini-omni-1.2-flash", "generate", None, reference_images=[ImageInput(data=PNG)]),
        reference_videos=videos,
    )
    body = sent(GEMINI, req, G_CREDS, created())
    content = body["input"][0]["content"]
    assert [block["type"] for block in content] == ["text", "image", "video", "video"]
    assert content[3]["uri"] == G_FILE
    assert body["generation_config"]["video_config"]["task"] == "reference_to_video"


def test_omni_reference_videos_by_url_are_uri_blocks_on_both_services() -> None:
    """google-genai 3.x's ``VideoContent``: ``{type, uri, mime_type}``, the mime type from the URL's
    extension (none when the extension says nothing)."""
    videos = (
        SourceVideo(url="https://cdn.example.com/a.MP4?sig=1"),
        SourceVideo(url="https://cdn.example.com/b.webm"),
        SourceVideo(url="https://cdn.example.com/stream"),
    )
    for provider, model, creds in (
        (GEMINI, "gemini/gemini-omni-1.2-flash", G_CREDS),
        (VERTEX, "vertex_ai/gemini-omni-1.2-flash", V_CREDS),
    ):
        req = replace(request(model, "generate", None), reference_videos=videos)
        body = sent(provider, req, creds, created())
        assert body["input"][0]["content"][1:] == [
            {"type": "video", "uri": "https://cdn.example.com/a.MP4?sig=1", "mime_type": "video/mp4"},
            {"type": "video", "uri": "https://cdn.example.com/b.webm", "mime_type": "video/webm"},
            {"type": "video", "uri": "https://cdn.example.com/stream"},
        ]
        assert body["generation_config"]["video_config"]["task"] == "reference_to_video"


def test_omni_refusals_name_the_param() -> None:
    four = replace(
        request("gemini/gemini-omni-1.2-flash", "generate", None),
        reference_videos=(SourceVideo(data=MP4),) * 4,
    )
    with pytest.raises(BadRequestError) as too_many:
        drive(GEMINI.create(four, G_CREDS), [])
    assert too_many.value.param == "reference_videos"
    framed = replace(
        request("gemini/gemini-omni-1.2-flash", "generate", None, input_reference=ImageInput(data=PNG)),
        reference_videos=(SourceVideo(data=MP4),),
    )
    with pytest.raises(BadRequestError) as with_frame:
        drive(GEMINI.create(framed, G_CREDS), [])
    assert with_frame.value.param == "reference_videos"
    edit_with_image = request(
        "gemini/gemini-omni-1.2-flash",
        "edit",
        SourceVideo(data=MP4),
        input_reference=ImageInput(data=PNG),
    )
    with pytest.raises(BadRequestError) as edit_image:
        drive(GEMINI.create(edit_with_image, G_CREDS), [])
    assert edit_image.value.param == "input_reference"
    no_source = request("gemini/gemini-omni-1.2-flash", "extend", None, seconds=4)
    with pytest.raises(BadRequestError) as missing:
        drive(GEMINI.create(no_source, G_CREDS), [])
    assert missing.value.param == "video"
    empty = request("gemini/gemini-omni-1.2-flash", "edit", SourceVideo(outputs=("https://x.example/v.mp4",)))
    with pytest.raises(BadRequestError) as unreadable:
        drive(GEMINI.create(empty, G_CREDS), [])
    assert unreadable.value.param == "video"


def test_omni_rows() -> None:
    for provider in ("gemini", "vertex_ai"):
        for model in ("gemini-omni-1.2-flash", "gemini-omni-1.1-flash"):
            spec = find_model(f"{provider}/{model}")
            assert spec is not None
            assert {"edit", "extend", "reference_videos"} <= spec.features
        preview = find_model(f"{provider}/gemini-omni-flash-preview")
        assert preview is not None
        assert [preview.has(f) for f in ("edit", "extend", "reference_videos")] == [True, False, False]
