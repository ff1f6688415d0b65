"""Reference videos in OpenRouter's ``input_references`` (``{type: "video_url", video_url: {url}}``):
strict parsing (https, public host, bounded), the row's feature and count, drop_params, and what
``validate`` makes of them."""

from __future__ import annotations

from typing import Any

import pytest

from vidgate.catalog import ModelSpec, validate
from vidgate.catalog.openrouter import MAX_VIDEO_URL, fold, parse
from vidgate.errors import BadRequestError
from vidgate.providers.catalogue import find_model
from vidgate.types import ImageInput, SourceVideo

CLIP = "https://cdn.example.com/clips/motion.mp4"
IMAGE = "https://img.example/style.png"


def spec(model_id: str) -> ModelSpec:
    found = find_model(model_id)
    assert found is not None, model_id
    return found


OMNI = spec("gemini/gemini-omni-1.2-flash")  # reference_images and reference_videos, up to 3 each
PREVIEW = spec("gemini/gemini-omni-flash-preview")  # reference_images, no reference_videos
SORA = spec("openai/sora-2")  # neither


def video(url: str) -> dict[str, Any]:
    return {"type": "video_url", "video_url": {"url": url}}


def image(url: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}


def refused(call: Any, *args: Any, **kwargs: Any) -> BadRequestError:
    with pytest.raises(BadRequestError) as caught:
        call(*args, **kwargs)
    assert caught.value.status_code == 400
    return caught.value


# ---- parse -------------------------------------------------------------------------------------


def test_video_items_become_source_videos_by_url_beside_the_images() -> None:
    fields, _ = parse({"input_references": [image(IMAGE), video(CLIP), video(CLIP + "?v=2")]})
    assert fields.input_references == (ImageInput(url=IMAGE),)
    assert fields.reference_videos == (SourceVideo(url=CLIP), SourceVideo(url=CLIP + "?v=2"))
    assert fields.given() == ["input_references"]
    only_videos, _ = parse({"input_references": [video(CLIP)]})
    assert only_videos.input_references is None
    assert only_videos.given() == ["input_references"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://cdn.example.com/a.mp4", "https://"),
        ("data:video/mp4;base64,AAAA", "https://"),
        ("ftp://cdn.example.com/a.mp4", "https://"),
        ("https:///a.mp4", "no host"),
        ("https://user:pw@cdn.example.com/a.mp4", "credentials"),
        ("https://cdn.example.com/a.mp4#t=1", "fragment"),
        ("https://cdn.example.com/a b.mp4", "without spaces"),
        ("https://cdn.exämple.com/a.mp4", "ASCII"),
        ("https://cdn.example.com:99999/a.mp4", "not a URL"),
        ("https://localhost/a.mp4", "private"),
        ("https://media.internal/a.mp4", "private"),
        ("https://127.0.0.1/a.mp4", "private"),
        ("https://10.1.2.3/a.mp4", "private"),
        ("https://169.254.169.254/latest/meta-data", "private"),
        ("https://[::1]/a.mp4", "private"),
        ("https://[::ffff:192.168.0.1]/a.mp4", "private"),
    ],
)
def test_a_bad_video_url_is_a_400_naming_its_path(url: str, reason: str) -> None:
    err = refused(parse, {"input_references": [image(IMAGE), video(url)]})
    assert err.param == "input_references[1].video_url.url"
    assert reason in err.message


def test_a_video_url_is_bounded_in_length() -> None:
    long = "https://cdn.example.com/" + "a" * MAX_VIDEO_URL
    err = refused(parse, {"input_references": [video(long)]})
    assert err.param == "input_references[0].video_url.url"
    assert str(MAX_VIDEO_URL) in err.message


def test_private_hosts_pass_only_when_allowed() -> None:
    fields, _ = parse({"input_references": [video("https://10.1.2.3/a.mp4")]}, allow_private_urls=True)
    assert fields.reference_videos == (SourceVideo(url="https://10.1.2.3/a.mp4"),)
    err = refused(parse, {"input_references": [video("https://10.1.2.3/a.mp4")]})
    assert "general_settings.allow_private_callback_urls" in err.message


@pytest.mark.parametrize(
    ("item", "param"),
    [
        ({"type": "video_url", "video_url": {"url": ""}}, "input_references[0].video_url.url"),
        ({"type": "video_url", "video_url": {"url": 5}}, "input_references[0].video_url.url"),
        ({"type": "video_url", "video_url": {"url": CLIP, "x": 1}}, "input_references[0].video_url.x"),
        ({"type": "video_url"}, "input_references[0].video_url"),
        ({"type": "video_url", "video_url": CLIP}, "input_references[0].video_url"),
        ({"type": "video_url", "image_url": {"url": CLIP}}, "input_references[0].video_url"),
        ({"type": "audio_url", "audio_url": {"url": CLIP}}, "input_references[0].type"),
        ("https://cdn.example.com/a.mp4", "input_references[0]"),
    ],
)
def test_a_malformed_item_is_a_400_naming_its_path(item: Any, param: str) -> None:
    assert refused(parse, {"input_references": [item]}).param == param


def test_form_fields_read_as_the_json_shape() -> None:
    form = {"input_references": {"0": {"type": "video_url", "video_url": {"url": CLIP}}}}
    fields, _ = parse(form)
    assert fields.reference_videos == (SourceVideo(url=CLIP),)


def test_frame_images_with_only_video_references_are_no_conflict_here() -> None:
    first = {"type": "image_url", "image_url": {"url": IMAGE}, "frame_type": "first_frame"}
    fields, _ = parse({"frame_images": [first], "input_references": [video(CLIP)]})
    assert fields.first_frame == ImageInput(url=IMAGE)
    assert fields.reference_videos == (SourceVideo(url=CLIP),)
    err = refused(parse, {"frame_images": [first], "input_references": [image(IMAGE)]})
    assert err.code == "conflicting_parameters"


# ---- fold onto a row, validate -----------------------------------------------------------------


def test_videos_fold_to_reference_videos_and_validate_keeps_them() -> None:
    fields, _ = parse({"input_references": [image(IMAGE), video(CLIP)]})
    out, dropped = fold(OMNI, fields, {"prompt": "a fox"})
    assert dropped == []
    req = validate(OMNI, **out)
    assert req.reference_images == (ImageInput(url=IMAGE),)
    assert req.reference_videos == (SourceVideo(url=CLIP),)


def test_a_row_without_reference_videos_is_a_400_naming_input_references() -> None:
    fields, _ = parse({"input_references": [image(IMAGE), video(CLIP)]})
    err = refused(fold, PREVIEW, fields, {"prompt": "a fox"})
    assert (err.param, err.code) == ("input_references", "unsupported_parameter")
    assert "video_url" in err.message


def test_more_videos_than_the_row_takes_is_a_400() -> None:
    fields, _ = parse({"input_references": [video(f"{CLIP}?n={i}") for i in range(4)]})
    err = refused(fold, OMNI, fields, {"prompt": "a fox"})
    assert err.param == "input_references"
    assert "At most 3 reference videos" in err.message


def test_drop_params_drops_what_the_row_cannot_take_and_names_it() -> None:
    mixed, _ = parse({"input_references": [image(IMAGE), video(CLIP)]})
    out, dropped = fold(PREVIEW, mixed, {"prompt": "a fox"}, drop=True)
    assert dropped == ["input_references.video_url"]
    assert out["reference_images"] == (ImageInput(url=IMAGE),)
    assert "reference_videos" not in out
    out, dropped = fold(SORA, mixed, {"prompt": "a fox"}, drop=True)
    assert dropped == ["input_references"]
    assert "reference_videos" not in out
    assert "reference_images" not in out
    videos, _ = parse({"input_references": [video(CLIP)]})
    assert fold(PREVIEW, videos, {"prompt": "a fox"}, drop=True)[1] == ["input_references"]


def test_validate_checks_the_feature_and_the_rows_bound() -> None:
    err = refused(validate, PREVIEW, prompt="a fox", reference_videos=(SourceVideo(url=CLIP),))
    assert (err.param, err.code) == ("reference_videos", "unsupported_parameter")
    too_many = tuple(SourceVideo(url=f"{CLIP}?n={i}") for i in range(4))
    assert refused(validate, OMNI, prompt="a fox", reference_videos=too_many).param == "reference_videos"
