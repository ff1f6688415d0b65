"""The Interactions half of the Google codec (no I/O): a create checked against the catalogue in the
Interactions API's field names, and stored jobs rendered as Interactions with the gateway's ids."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import pytest
from tests.support.images import image_bytes

from vidgate.catalog import ModelSpec
from vidgate.errors import BadRequestError
from vidgate.providers._google_wire.interaction_bodies import InteractionBody, read_interaction_body
from vidgate.providers._google_wire.native import GoogleNative, check_request
from vidgate.providers._google_wire.native_interactions import check_interaction
from vidgate.providers._google_wire.passthrough import read_native_body
from vidgate.providers.catalogue import find_model
from vidgate.providers.registry import get_spec
from vidgate.types import ImageInput

PNG = image_bytes(64, 36, "png")
JOB_ID = "video_" + "ab" * 16


def spec(model_id: str) -> ModelSpec:
    found = find_model(model_id)
    assert found is not None
    return found


def codec(provider: str) -> GoogleNative:
    native = get_spec(provider).native
    assert isinstance(native, GoogleNative)
    return native


OMNI = spec("gemini/gemini-omni-1.2-flash")


def interaction(**fields: Any) -> InteractionBody:
    return InteractionBody(model="gemini-omni-1.2-flash", prompt="a fox", **fields)


def refusal(body: InteractionBody, **source: Any) -> BadRequestError:
    with pytest.raises(BadRequestError) as caught:
        check_interaction(OMNI, body, **source)
    return caught.value


def test_defaults_and_the_requested_format() -> None:
    req = check_interaction(OMNI, interaction())
    assert (req.seconds, req.size) == (8, "1280x720")
    req = check_interaction(OMNI, interaction(aspect_ratio="9:16", resolution="4k", duration="15s", seed=3))
    assert (req.seconds, req.size, req.seed) == (15, "2160x3840", 3)


def test_tasks_take_their_images() -> None:
    image = ImageInput(data=PNG, mime_type="image/png")
    first_last = check_interaction(OMNI, interaction(images=(image, image), task="image_to_video"))
    assert first_last.input_reference is not None
    assert first_last.last_frame is not None
    refs = check_interaction(OMNI, interaction(images=(image,) * 3, task="reference_to_video"))
    assert len(refs.reference_images) == 3
    assert refusal(interaction(images=(image,))).param == "generation_config.video_config.task"
    assert refusal(interaction(images=(image,) * 4, task="reference_to_video")).param == "input"
    assert refusal(interaction(task="image_to_video")).param == "input"
    assert refusal(interaction(images=(image,), task="text_to_video")).param == "input"


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"duration": "99s"}, "response_format.duration"),
        ({"duration": "eight"}, "response_format.duration"),
        ({"duration": "\u0668s"}, "response_format.duration"),  # ARABIC-INDIC DIGIT EIGHT
        ({"duration": "8s\n"}, "response_format.duration"),
        ({"duration": " 8s"}, "response_format.duration"),
        ({"duration": "8 s"}, "response_format.duration"),
        ({"duration": "\uff18s"}, "response_format.duration"),  # FULLWIDTH DIGIT EIGHT
        ({"duration": True}, "response_format.duration"),
        ({"aspect_ratio": "4:3"}, "response_format.aspect_ratio"),
        ({"aspect_ratio": ""}, "response_format.aspect_ratio"),
        ({"resolution": "8k"}, "response_format.resolution"),
        ({"seed": "7"}, "generation_config.seed"),
        ({"task": "edit"}, "previous_interaction_id"),
    ],
)
def test_refusals_name_the_interactions_field(fields: dict[str, Any], param: str) -> None:
    assert refusal(interaction(**fields)).param == param


def test_an_empty_prompt_is_named_input() -> None:
    error = refusal(InteractionBody(model="gemini-omni-1.2-flash", prompt=" "))
    assert error.param == "input"


@dataclass
class Previous:
    """A stored interaction that a follow-up continues."""

    size: str = "360x640"
    seconds: str = "3"
    native_payload: dict[str, Any] = field(default_factory=dict)


def test_a_follow_up_keeps_its_sources_format_unless_it_gives_one() -> None:
    extension = Previous(seconds="4", native_payload={"response_format": {"type": "video", "duration": "4s"}})
    req = check_interaction(OMNI, interaction(previous_interaction_id="video_x"), previous=extension)
    assert (req.seconds, req.size, req.task) == (4, "360x640", "generate")
    given = interaction(previous_interaction_id="video_x", duration="5s", has_format=True)
    assert check_interaction(OMNI, given, previous=extension).seconds == 5
    wrong = interaction(previous_interaction_id="video_x", task="text_to_video")
    assert refusal(wrong, previous=extension).param == "generation_config.video_config.task"
    extend = interaction(previous_interaction_id="video_x", task="extend")  # the row declares extend
    req = check_interaction(OMNI, extend, previous=extension)
    assert (req.seconds, req.task) == (4, "extend")
    # the provider reuses the source's format, whose duration may differ from the source's length
    unset = Previous(seconds="3", native_payload={"response_format": {"type": "video"}})
    assert check_interaction(OMNI, extend, previous=unset).seconds == 8  # the model's default
    # no format in the provider's reply: the record's seconds
    assert check_interaction(OMNI, extend, previous=Previous(seconds="6")).seconds == 6


@pytest.mark.parametrize("duration", ["11s", "15s", "2s"])
def test_an_extension_adds_only_what_the_row_extends_by(duration: str) -> None:
    """Omni renders 3-15 s but extends by 3-10 s (``extend_seconds``): an 11 s extension was priced and
    sent, for the provider to refuse; a follow-up reusing a 15 s source format is refused the same way."""
    extend = interaction(previous_interaction_id="video_x", task="extend", duration=duration, has_format=True)
    error = refusal(extend, previous=Previous())
    assert error.param == "response_format.duration"
    assert "for an extension" in error.message
    assert "10s" in error.message
    kept = Previous(seconds="15", native_payload={"response_format": {"type": "video", "duration": "15s"}})
    reused = interaction(previous_interaction_id="video_x", task="extend")
    assert refusal(reused, previous=kept).param == "response_format.duration"
    ten = interaction(previous_interaction_id="video_x", task="extend", duration="10s", has_format=True)
    assert check_interaction(OMNI, ten, previous=kept).seconds == 10
    fifteen = interaction(previous_interaction_id="video_x", duration="15s", has_format=True)
    assert check_interaction(OMNI, fifteen, previous=kept).seconds == 15  # no task: a generation


def test_an_edit_follow_up_is_priced_at_its_sources_whole_clip() -> None:
    edit = interaction(previous_interaction_id="video_x", task="edit")
    extension = Previous(seconds="4", native_payload={"response_format": {"type": "video", "duration": "4s"}})
    req = check_interaction(OMNI, edit, previous=extension, clip_seconds=20)  # longer than any generation
    assert (req.seconds, req.task) == (20, "edit")
    same = interaction(previous_interaction_id="video_x", task="edit", duration="20s", has_format=True)
    assert check_interaction(OMNI, same, previous=extension, clip_seconds=20).seconds == 20
    for duration in ("4s", "8s", "soon", True, "20sx", "20s\n"):  # forwarded as sent: the whole value
        other = interaction(
            previous_interaction_id="video_x", task="edit", duration=duration, has_format=True
        )
        error = refusal(other, previous=extension, clip_seconds=20)
        assert (error.param, '"20s"' in error.message) == ("response_format.duration", True)
    assert refusal(edit, previous=extension).param == "previous_interaction_id"  # length unknown
    assert refusal(edit, previous=extension, clip_seconds=601).param == "previous_interaction_id"


def test_a_follow_up_naming_no_task_is_bound_by_the_longer_of_its_duration_and_the_clip() -> None:
    """The API calls it a conversational edit (it may keep the source's length); the emulator makes the
    duration asked for: the bound covers either, the reported usage settles."""
    loose = interaction(previous_interaction_id="video_x", duration="3s", has_format=True)
    assert check_interaction(OMNI, loose, previous=Previous(), clip_seconds=10).seconds == 10
    assert check_interaction(OMNI, loose, previous=Previous(), clip_seconds=2).seconds == 3


def test_each_api_refuses_the_other_familys_models() -> None:
    with pytest.raises(BadRequestError) as veo:
        check_interaction(spec("gemini/veo-3.1-generate-001"), interaction())
    assert veo.value.param == "model"
    with pytest.raises(BadRequestError) as omni:
        check_request(OMNI, read_native_body({"instances": [{"prompt": "x"}]}, "gemini"))
    assert omni.value.param == "model"


# ---- jobs as Interactions ---------------------------------------------------------------------------


@dataclass
class Job:
    status: str = "completed"
    native_payload: dict[str, Any] = field(default_factory=dict)
    error_code: str | None = None
    error_message: str | None = None
    id: str = JOB_ID
    n: int = 1
    videos_generated: int | None = None
    native_id: str = "interactions/v1_up"


def render(provider: str, job: Job, **options: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "model": "gemini-omni-1.2-flash",
        "previous_interaction_id": None,
        "created_at": 1_700_000_000,
        "updated_at": None,
        "public_base_url": None,
    }
    return codec(provider).interaction(job, **{**defaults, **options})


URI_PAYLOAD = {
    "status": "completed",
    "output_video": {
        "type": "video",
        "uri": "https://generativelanguage.googleapis.com/v1/files/abc",
        "mime_type": "video/mp4",
    },
    "usage": {"total_output_tokens": 17280},
    "response_format": {"type": "video", "duration": "3s"},
}


def test_a_gemini_output_is_a_gateway_file_on_googles_host_or_the_public_base_url() -> None:
    done = render("gemini", Job(native_payload=URI_PAYLOAD))
    file_id = "ab" * 16 + "s0"
    google = f"https://generativelanguage.googleapis.com/v1beta/files/{file_id}:download?alt=media"
    assert done["id"] == JOB_ID
    assert done["status"] == "completed"
    assert done["output_video"] == {"type": "video", "uri": google, "mime_type": "video/mp4"}
    assert done["usage"] == {"total_output_tokens": 17280}
    assert done["response_format"] == {"type": "video", "duration": "3s"}
    public = render("gemini", Job(native_payload=URI_PAYLOAD), public_base_url="https://gw.example")
    assert (
        public["output_video"]["uri"]
        == f"https://gw.example/gemini/v1beta/files/{file_id}:download?alt=media"
    )


def test_a_vertex_output_is_the_clients_gcs_object_or_inline_bytes() -> None:
    gcs = {
        **URI_PAYLOAD,
        "output_video": {"type": "video", "uri": "gs://bucket/out.mp4", "mime_type": "video/mp4"},
    }
    assert render("vertex_ai", Job(native_payload=gcs))["output_video"]["uri"] == "gs://bucket/out.mp4"
    inline = {**URI_PAYLOAD, "output_video": {"type": "video", "data": "<12 base64 chars>"}}
    job = Job(native_payload=inline)
    assert codec("vertex_ai").needs_inline_bytes(job)
    data = base64.b64encode(b"mp4!").decode()
    video = render("vertex_ai", job, inline=(data, "video/mp4"))["output_video"]
    assert video == {"type": "video", "data": data, "mime_type": "video/mp4"}


@pytest.mark.parametrize(
    ("code", "status", "errors"),
    [
        ("cancelled", "cancelled", False),
        ("budget_exceeded", "budget_exceeded", False),
        ("incomplete", "incomplete", False),
        ("requires_action", "requires_action", False),
        ("completed_without_output", "failed", True),
        ("generation_failed", "failed", True),
        ("moderation_blocked", "failed", True),
    ],
)
def test_a_failed_job_keeps_the_status_it_ended_in(code: str, status: str, errors: bool) -> None:
    failed = render("gemini", Job(status="failed", error_code=code, error_message="why"))
    assert failed["status"] == status
    assert ("errors" in failed) is errors
    if errors:
        assert failed["errors"] == [{"code": code, "message": "why"}]


def test_running_and_follow_up_jobs() -> None:
    running = render("gemini", Job(status="in_progress"), previous_interaction_id="video_src")
    assert running["status"] == "in_progress"
    assert running["previous_interaction_id"] == "video_src"
    assert "output_video" not in running
    assert running["created"] == "2023-11-14T22:13:20Z"


def test_the_codec_reads_bodies_with_its_services_rules() -> None:
    gcs = {
        "model": "gemini-omni-1.2-flash",
        "background": True,
        "input": [
            {"type": "text", "text": "x"},
            {"type": "image", "uri": "gs://b/i.png", "mime_type": "image/png"},
        ],
    }
    assert codec("vertex_ai").read_interaction_body(gcs).images
    with pytest.raises(BadRequestError):
        codec("gemini").read_interaction_body(gcs)
    assert read_interaction_body(gcs, allow_gcs=True).images[0].url == "gs://b/i.png"
