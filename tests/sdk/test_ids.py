"""Direct-mode ids: URL-safe, self-describing, and foreign ids are recognised as foreign."""

from __future__ import annotations

import re

import pytest

from vidgate.sdk.ids import PREFIX, VideoRef, decode, encode

URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")

REFS = [
    VideoRef(
        "openai",
        "sora-2",
        "video_68d7512d07848190b3e45da0ecbebcde004da08e1e0678d5",
        "8",
        "720x1280",
        1712697600,
    ),
    VideoRef("gemini", "veo-3.1-generate-preview", "models/veo-3.1-generate-preview/operations/3yudfuwjdznj"),
    VideoRef(
        "vertex_ai",
        "veo-3.1-fast-generate-001",
        "projects/p/locations/us-central1/publishers/google/models/veo-3.1-fast-generate-001/operations/"
        "a1b07c8e-7b5a-4aba-bb34-3e1ccb8afcc8",
        "4",
        "1280x720",
        0,
    ),
    VideoRef("azure", "my deployment ünïcode", "video_1", None, "1280x720", None),
    VideoRef("local", "local-1", "x", "2", None, 5),
]


@pytest.mark.parametrize("ref", REFS, ids=lambda r: r.provider)
def test_round_trip_is_url_safe(ref: VideoRef) -> None:
    video_id = encode(ref)
    assert video_id.startswith(PREFIX)
    assert URL_SAFE.fullmatch(video_id)
    assert "/" not in video_id
    assert "=" not in video_id
    assert decode(video_id) == ref


def test_gemini_operation_name_survives_with_its_slashes() -> None:
    native = "models/veo-3.0-generate-preview/operations/abc123"
    ref = decode(encode(VideoRef("gemini", "veo-3.0-generate-preview", native)))
    assert ref is not None
    assert ref.native_id == native
    assert ref.model_id == "gemini/veo-3.0-generate-preview"


@pytest.mark.parametrize(
    "foreign",
    [
        "video_1234567890",  # the seeds' placeholder
        "video_68d7512d07848190b3e45da0ecbebcde004da08e1e0678d5",  # a raw OpenAI id
        "models/veo-3.1-generate-preview/operations/3yudfuwjdznj",  # a raw Gemini operation name
        "video_",
        "video_a",  # impossible base64 length
        "video_!!!!",
        "video_" + "dmcx",  # base64 of "vg1" alone: too few fields
        "",
    ],
)
def test_foreign_ids_decode_to_none(foreign: str) -> None:
    assert decode(foreign) is None


def test_a_tampered_id_is_foreign_not_garbage() -> None:
    video_id = encode(REFS[0])
    assert decode(video_id[:-3]) != REFS[0]


@pytest.mark.parametrize("field", ["provider", "model", "native_id"])
def test_required_fields_must_be_present(field: str) -> None:
    values = {"provider": "openai", "model": "sora-2", "native_id": "video_1", field: ""}
    with pytest.raises(ValueError, match=field):
        encode(VideoRef(values["provider"], values["model"], values["native_id"]))
