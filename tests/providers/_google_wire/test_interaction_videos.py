"""Video inputs in Interactions bodies read for the pass-through: reference videos of
``reference_to_video`` by https URL (public hosts unless allowed), ``gs://`` on Vertex, or inline data;
the source of an edit or extension without ``previous_interaction_id``; checked against the row
(feature, count) in the Interactions API's field names; ``upscale`` refused."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from vidgate.catalog import ModelSpec
from vidgate.errors import BadRequestError
from vidgate.providers._google_wire.interaction_bodies import read_interaction_body
from vidgate.providers._google_wire.native_interactions import check_interaction
from vidgate.providers.catalogue import find_model
from vidgate.types import SourceVideo

CLIP = "https://cdn.example.com/clips/motion.mp4"
MP4_BYTES = b"\x00\x00\x00\x18ftypmp42"  # read as bytes only; the gateway does not decode references


def spec(model_id: str) -> ModelSpec:
    found = find_model(model_id)
    assert found is not None, model_id
    return found


OMNI = spec("gemini/gemini-omni-1.2-flash")
PREVIEW = spec("gemini/gemini-omni-flash-preview")  # no reference_videos


def video(**fields: Any) -> dict[str, Any]:
    return {"type": "video", **fields}


def body(*blocks: dict[str, Any], task: str | None = "reference_to_video", **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model": "gemini-omni-1.2-flash",
        "input": [{"type": "text", "text": "a fox, moving like this"}, *blocks],
        "background": True,
        **fields,
    }
    if task is not None:
        out["generation_config"] = {"video_config": {"task": task}}
    return out


def refused(raw: object, *, allow_gcs: bool = False, allow_private_urls: bool = False) -> BadRequestError:
    with pytest.raises(BadRequestError) as caught:
        read_interaction_body(raw, allow_gcs=allow_gcs, allow_private_urls=allow_private_urls)
    return caught.value


def test_reference_videos_by_url_and_inline_data_are_read() -> None:
    data = base64.b64encode(MP4_BYTES).decode("ascii")
    read = read_interaction_body(
        body(video(uri=CLIP, mime_type="video/mp4"), video(data=data, mime_type="video/webm")),
        allow_gcs=False,
    )
    assert read.videos == (SourceVideo(url=CLIP), SourceVideo(data=MP4_BYTES, media_type="video/webm"))
    req = check_interaction(OMNI, read)
    assert req.reference_videos == read.videos
    assert req.reference_images == ()


def test_google_genai_s_one_user_input_step_is_read_as_its_blocks() -> None:
    raw = body(task="reference_to_video")
    raw["input"] = [{"type": "user_input", "content": raw["input"] + [video(uri=CLIP)]}]
    read = read_interaction_body(raw, allow_gcs=False)
    assert (read.prompt, read.videos) == ("a fox, moving like this", (SourceVideo(url=CLIP),))


def test_gcs_videos_only_where_the_service_reads_them() -> None:
    read = read_interaction_body(body(video(uri="gs://bucket/ref.mp4")), allow_gcs=True)
    assert read.videos == (SourceVideo(url="gs://bucket/ref.mp4"),)
    assert refused(body(video(uri="gs://bucket/ref.mp4"))).param == "input[1].uri"


@pytest.mark.parametrize(
    ("block", "param", "reason"),
    [
        (video(uri="http://cdn.example.com/a.mp4"), "input[1].uri", "https://"),
        (video(uri="https://localhost/a.mp4"), "input[1].uri", "private"),
        (video(uri="https://192.168.1.5/a.mp4"), "input[1].uri", "private"),
        (video(uri="https://u:p@cdn.example.com/a.mp4"), "input[1].uri", "credentials"),
        (video(uri="https://cdn.example.com/" + "a" * 2048), "input[1].uri", "2048"),
        (video(uri=7), "input[1].uri", "string"),
        (video(data="not base64!"), "input[1]", "base64"),
        (video(), "input[1]", "`uri` or `data`"),
        (video(uri=CLIP, mime_type="image/png"), "input[1]", "video/*"),
    ],
)
def test_a_bad_video_block_is_a_400_naming_it(block: dict[str, Any], param: str, reason: str) -> None:
    error = refused(body(block))
    assert error.param == param
    assert reason in error.message


def test_private_hosts_pass_when_the_operator_allows_them() -> None:
    read = read_interaction_body(
        body(video(uri="https://10.0.0.8/a.mp4")), allow_gcs=False, allow_private_urls=True
    )
    assert read.videos == (SourceVideo(url="https://10.0.0.8/a.mp4"),)


@dataclass
class Previous:
    """A stored interaction that a follow-up continues."""

    size: str = "1280x720"
    seconds: str = "4"
    native_payload: dict[str, Any] = field(default_factory=dict)


def refusal(raw: dict[str, Any], row: ModelSpec = OMNI, **source: Any) -> BadRequestError:
    with pytest.raises(BadRequestError) as caught:
        check_interaction(row, read_interaction_body(raw, allow_gcs=False), **source)
    return caught.value


def test_the_row_and_the_task_decide() -> None:
    four = [video(uri=f"{CLIP}?n={i}") for i in range(4)]
    too_many = refusal(body(*four))
    assert too_many.param == "input"
    assert "At most 3 reference_videos" in too_many.message
    assert refusal(body(video(uri=CLIP)), row=PREVIEW).param == "input"
    assert refusal(body(video(uri=CLIP), task=None)).param == "generation_config.video_config.task"
    assert refusal(body(video(uri=CLIP), task="image_to_video")).param == "input"
    follow_up = refusal(
        body(video(uri=CLIP), task="extend", previous_interaction_id="video_x"),
        previous=Previous(),
    )
    assert follow_up.param == "input"
    assert "previous_interaction_id" in follow_up.message


def test_upscale_is_refused_saying_why() -> None:
    error = refused(body(video(uri=CLIP), task="upscale"))
    assert error.param == "generation_config.video_config.task"
    assert "bills" in error.message


def clip(render_cache: Path, seconds: int) -> bytes:
    from vidgate.render import RenderSpec, render

    spec_ = RenderSpec(prompt="clip", seconds=seconds, width=640, height=360)
    return render(spec_, cache_dir=render_cache).video.read_bytes()


def test_a_follow_up_may_name_its_source_as_one_input_video(render_cache: Path) -> None:
    data = base64.b64encode(clip(render_cache, 2)).decode("ascii")
    fmt = {"type": "video", "aspect_ratio": "16:9", "resolution": "360p", "duration": "5s"}
    extend = check_interaction(
        OMNI,
        read_interaction_body(body(video(uri=CLIP), task="extend", response_format=fmt), allow_gcs=False),
    )
    assert (extend.task, extend.seconds, extend.size) == ("extend", 5, "640x360")  # the added seconds
    assert extend.source_video == SourceVideo(url=CLIP)
    assert extend.reference_videos == ()
    same = {**fmt, "duration": "2s"}
    edit = check_interaction(
        OMNI,
        read_interaction_body(body(video(data=data), task="edit", response_format=same), allow_gcs=False),
    )
    assert (edit.task, edit.seconds) == ("edit", 2)  # the source's length
    longer = refusal(body(video(data=data), task="edit", response_format=fmt))  # the provider makes 2 s
    assert (longer.param, '"2s"' in longer.message) == ("response_format.duration", True)
    assert edit.source_video is not None
    assert (edit.source_video.seconds, edit.source_video.size) == (2, "640x360")
    by_url = refusal(body(video(uri=CLIP), task="edit"))
    assert (by_url.param, "`data`" in by_url.message) == ("input", True)
    assert refusal(body(video(data=base64.b64encode(b"not a video").decode()), task="edit")).param == "input"
    two = refusal(body(video(uri=CLIP), video(uri=CLIP), task="extend"))
    assert two.param == "previous_interaction_id"
    assert refusal(body(video(uri=CLIP), task="extend"), row=PREVIEW).param == (
        "generation_config.video_config.task"
    )
