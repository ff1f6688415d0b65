"""The OpenRouter request shape read onto vidgate's parameters: each mapping, each conflict (a 400 naming
both parameters), and what a row cannot honour (a 400 naming the field, or dropped under drop_params)."""

from __future__ import annotations

from typing import Any

import pytest

from vidgate.catalog import ModelSpec, validate
from vidgate.catalog.drop import drop_unsupported
from vidgate.catalog.openrouter import OpenRouterFields, fold, parse
from vidgate.catalog.ratios import ratio_of, ratios
from vidgate.errors import BadRequestError
from vidgate.providers.catalogue import find_model
from vidgate.types import ImageInput

FIRST = "https://img.example/first.png"
LAST = "https://img.example/last.png"


def spec(model_id: str) -> ModelSpec:
    found = find_model(model_id)
    assert found is not None, model_id
    return found


H3 = spec("minimax/MiniMax-H3")  # tiers 768P / 2K, last_frame, reference_images, audio_toggle
SORA = spec("openai/sora-2")  # image_input only
LOCAL = spec("local/local-1")  # 1:1 only at 480p


def frame(url: str, frame_type: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}, "frame_type": frame_type}


def ref(url: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}


def refused(call: Any, *args: Any, **kwargs: Any) -> BadRequestError:
    with pytest.raises(BadRequestError) as caught:
        call(*args, **kwargs)
    assert caught.value.status_code == 400
    return caught.value


def folded(model: ModelSpec, body: dict[str, Any], **request: Any) -> dict[str, Any]:
    fields, _ = parse(body)
    out, dropped = fold(model, fields, {"prompt": "a fox", **request})
    assert dropped == []
    return out


# ---- parse: the wire shape ----------------------------------------------------------------------


def test_parse_reads_every_field() -> None:
    fields, callback = parse(
        {
            "duration": 8,
            "resolution": "2K",
            "aspect_ratio": "9:16",
            "frame_images": [frame(FIRST, "first_frame"), frame(LAST, "last_frame")],
            "callback_url": "https://hooks.example/v",
            "model": "ignored here",
        }
    )
    assert fields == OpenRouterFields(
        duration=8,
        resolution="2K",
        aspect_ratio="9:16",
        first_frame=ImageInput(url=FIRST),
        last_frame=ImageInput(url=LAST),
    )
    assert fields.given() == ["frame_images", "duration", "resolution", "aspect_ratio"]
    assert callback == "https://hooks.example/v"
    refs, _ = parse({"input_references": [ref(FIRST), ref("data:image/png;base64,AAAA")]})
    assert refs.input_references == (ImageInput(url=FIRST), ImageInput(url="data:image/png;base64,AAAA"))


def test_form_text_duration_reads_as_an_integer() -> None:
    assert parse({"duration": "12"})[0].duration == 12
    error = refused(parse, {"duration": "12s"})
    assert error.param == "duration"


def test_wire_errors_name_the_path() -> None:
    bad_type = refused(parse, {"frame_images": [frame(FIRST, "middle_frame")]})
    assert bad_type.param == "frame_images[0].frame_type"
    missing_url = refused(parse, {"input_references": [{"type": "image_url", "image_url": {}}]})
    assert missing_url.param == "input_references[0].image_url.url"
    unknown = refused(parse, {"frame_images": [{**frame(FIRST, "first_frame"), "weight": 1}]})
    assert unknown.param == "frame_images[0].weight"
    assert refused(parse, {"duration": True}).param == "duration"
    assert refused(parse, {"duration": 0}).param == "duration"
    assert refused(parse, {"frame_images": []}).param == "frame_images"
    assert refused(parse, {"resolution": " "}).code == "empty_value"


def test_image_urls_follow_the_input_reference_rule() -> None:
    error = refused(parse, {"frame_images": [frame("file:///etc/passwd", "first_frame")]})
    assert error.param == "frame_images[0].image_url.url"
    assert "https:// or data: URL" in error.message


def test_duplicate_frame_type_is_a_400_naming_it() -> None:
    error = refused(parse, {"frame_images": [frame(FIRST, "first_frame"), frame(LAST, "first_frame")]})
    assert (error.param, error.code) == ("frame_images[1].frame_type", "duplicate_frame_type")


def test_frame_images_with_input_references_is_a_conflict() -> None:
    error = refused(parse, {"frame_images": [frame(FIRST, "first_frame")], "input_references": [ref(LAST)]})
    assert error.code == "conflicting_parameters"
    assert "'frame_images'" in error.message
    assert "'input_references'" in error.message


# ---- fold: onto a catalogue row ------------------------------------------------------------------


def test_duration_maps_to_seconds() -> None:
    assert folded(H3, {"duration": 10})["seconds"] == 10
    assert folded(H3, {"duration": 10}, seconds="10")["seconds"] == "10"  # both, agreeing
    assert validate(H3, **folded(H3, {"duration": 10})).seconds == 10


def test_seconds_and_duration_disagreeing_is_a_400_naming_both() -> None:
    fields, _ = parse({"duration": 4})
    error = refused(fold, H3, fields, {"prompt": "a fox", "seconds": "8"})
    assert (error.param, error.code) == ("duration", "conflicting_parameters")
    assert "'seconds'" in error.message
    assert "'duration'" in error.message


def test_resolution_and_aspect_ratio_pick_the_rows_size() -> None:
    assert folded(H3, {"resolution": "2K", "aspect_ratio": "9:16"})["size"] == "1440x2560"
    assert folded(H3, {"resolution": "2k"})["size"] == "2560x1440"  # the default size's 16:9
    assert folded(H3, {"aspect_ratio": "9:16"})["size"] == "768x1366"  # the default size's tier
    assert folded(H3, {"resolution": "768P", "aspect_ratio": "16:9"}, size="1366x768")["size"] == "1366x768"
    request = validate(H3, **folded(H3, {"resolution": "2K", "aspect_ratio": "9:16", "duration": 5}))
    assert (request.size, request.resolution, request.seconds) == ("1440x2560", "2K", 5)


def test_a_resolution_or_aspect_ratio_the_row_lacks_names_the_allowed_values() -> None:
    fields, _ = parse({"resolution": "4k"})
    error = refused(fold, H3, fields, {"prompt": "a fox"})
    assert error.param == "resolution"
    assert error.message == "Invalid value: '4k'. Supported values are: '768P' and '2K'."
    fields, _ = parse({"aspect_ratio": "1:1"})
    error = refused(fold, H3, fields, {"prompt": "a fox"})
    assert error.param == "aspect_ratio"
    assert error.message == "Invalid value: '1:1'. Supported values are: '16:9' and '9:16'."


def test_a_pair_the_row_does_not_combine_is_a_400_listing_the_pairs() -> None:
    fields, _ = parse({"resolution": "720p", "aspect_ratio": "1:1"})
    error = refused(fold, LOCAL, fields, {"prompt": "a fox"})
    assert "'resolution' (720p) and 'aspect_ratio' (1:1)" in error.message
    assert "480p 1:1" in error.message
    assert "720p 16:9" in error.message


def test_an_open_row_without_listed_sizes_needs_size() -> None:
    open_row = ModelSpec(
        id="openai_compatible/any",
        provider="openai_compatible",
        model="any",
        seconds=(4,),
        default_seconds=4,
        sizes={},
        default_size="1280x720",
        prices={},
        open_sizes=True,
    )
    fields, _ = parse({"aspect_ratio": "16:9"})
    error = refused(fold, open_row, fields, {"prompt": "a fox"})
    assert (error.param, error.code) == ("aspect_ratio", "unsupported_parameter")
    assert "give 'size' as WIDTHxHEIGHT" in error.message


def test_size_disagreeing_with_resolution_or_aspect_ratio_is_a_400_naming_both() -> None:
    fields, _ = parse({"resolution": "2K"})
    error = refused(fold, H3, fields, {"prompt": "a fox", "size": "1366x768"})
    assert (error.param, error.code) == ("resolution", "conflicting_parameters")
    assert "'size'" in error.message
    assert "'resolution'" in error.message
    fields, _ = parse({"aspect_ratio": "9:16"})
    error = refused(fold, H3, fields, {"prompt": "a fox", "size": "1366x768"})
    assert (error.param, error.code) == ("aspect_ratio", "conflicting_parameters")
    assert "'size'" in error.message
    assert "'aspect_ratio'" in error.message


def test_frame_images_map_to_input_reference_and_last_frame() -> None:
    out = folded(H3, {"frame_images": [frame(LAST, "last_frame"), frame(FIRST, "first_frame")]})
    request = validate(H3, **out)
    assert request.input_reference == ImageInput(url=FIRST)
    assert request.last_frame == ImageInput(url=LAST)


def test_input_references_map_to_reference_images() -> None:
    request = validate(H3, **folded(H3, {"input_references": [ref(FIRST), ref(LAST)]}))
    assert request.reference_images == (ImageInput(url=FIRST), ImageInput(url=LAST))


def test_frame_images_beside_vidgates_own_image_fields_are_conflicts() -> None:
    fields, _ = parse({"frame_images": [frame(FIRST, "first_frame")]})
    error = refused(fold, H3, fields, {"prompt": "a fox", "input_reference": ImageInput(url=LAST)})
    assert error.code == "conflicting_parameters"
    assert "'input_reference'" in error.message
    assert "'frame_images'" in error.message
    error = refused(fold, H3, fields, {"prompt": "a fox", "last_frame": ImageInput(url=LAST)})
    assert "'last_frame'" in error.message
    assert "'frame_images'" in error.message
    refs, _ = parse({"input_references": [ref(FIRST)]})
    error = refused(fold, H3, refs, {"prompt": "a fox", "reference_images": (ImageInput(url=LAST),)})
    assert "'reference_images'" in error.message
    assert "'input_references'" in error.message


def test_a_last_frame_alone_is_a_400() -> None:
    fields, _ = parse({"frame_images": [frame(LAST, "last_frame")]})
    error = refused(fold, H3, fields, {"prompt": "a fox"})
    assert error.param == "frame_images"
    assert "a last_frame needs a first_frame" in error.message


def test_what_the_row_cannot_honour_is_a_400_or_dropped_when_asked() -> None:
    fields, _ = parse({"frame_images": [frame(FIRST, "first_frame"), frame(LAST, "last_frame")]})
    error = refused(fold, SORA, fields, {"prompt": "a fox"})
    assert (error.param, error.code) == ("frame_images", "unsupported_parameter")
    out, dropped = fold(SORA, fields, {"prompt": "a fox"}, drop=True)
    assert dropped == ["frame_images"]
    assert out.get("input_reference") is None
    assert out.get("last_frame") is None
    refs, _ = parse({"input_references": [ref(FIRST)]})
    assert refused(fold, SORA, refs, {"prompt": "a fox"}).param == "input_references"
    assert fold(SORA, refs, {"prompt": "a fox"}, drop=True)[1] == ["input_references"]


def test_more_input_references_than_the_row_takes_names_the_field() -> None:
    fields, _ = parse({"input_references": [ref(FIRST)] * 4})
    error = refused(fold, H3, fields, {"prompt": "a fox"})
    assert error.param == "input_references"
    assert "At most 3 input_references" in error.message


# ---- drop_params --------------------------------------------------------------------------------


def test_drop_unsupported_leaves_out_only_gated_parameters() -> None:
    request = {"prompt": "a fox", "seed": 7, "generate_audio": False, "size": "1280x720", "seconds": 8}
    out, dropped = drop_unsupported(SORA, request)
    assert dropped == ["seed", "generate_audio"]
    assert out == {"prompt": "a fox", "size": "1280x720", "seconds": 8}
    kept, none = drop_unsupported(H3, {"prompt": "a fox", "generate_audio": False})
    assert (kept, none) == ({"prompt": "a fox", "generate_audio": False}, [])


def test_a_dropped_first_frame_takes_its_last_frame_along() -> None:
    text_only = ModelSpec(
        id="x/y",
        provider="x",
        model="y",
        seconds=(4,),
        default_seconds=4,
        sizes={"1280x720": "720p"},
        default_size="1280x720",
        prices={},
        features=frozenset({"last_frame"}),
    )
    image = ImageInput(url=FIRST)
    out, dropped = drop_unsupported(text_only, {"input_reference": image, "last_frame": image})
    assert (out, dropped) == ({}, ["input_reference", "last_frame"])


# ---- aspect ratios ------------------------------------------------------------------------------


def test_sizes_are_named_by_the_nearest_common_ratio() -> None:
    assert [ratio_of(s) for s in ("1280x720", "1366x768", "854x480", "848x480", "720x1280")] == [
        "16:9",
        "16:9",
        "16:9",
        "16:9",
        "9:16",
    ]
    assert (ratio_of("864x496"), ratio_of("496x864")) == ("16:9", "9:16")  # Seedance's 480p, 2 % off
    assert (ratio_of("480x480"), ratio_of("1024x768"), ratio_of("1000x600")) == ("1:1", "4:3", "5:3")
    assert (ratio_of("wide"), ratio_of("0x720")) == (None, None)
    assert ratios(LOCAL) == ["16:9", "9:16", "1:1"]


# ---- resolutions only a self-priced deployment serves -------------------------------------------


def test_a_deployment_priced_resolution_is_a_400_naming_resolution() -> None:
    """BytePlus Seedance 2.0's 4k (``sizes_priced_by_deployment``): the OpenRouter shape names the field
    it was asked by, and says why; a deployment with its own price folds it to the 4k size."""
    row = spec("byteplus/dreamina-seedance-2-0-260128")
    for body in ({"resolution": "4k", "aspect_ratio": "16:9"}, {"resolution": "4K"}):
        error = refused(folded, row, body)
        assert (error.param, error.code) == ("resolution", "invalid_value")
        assert "only on a deployment that sets its own price" in error.message
        assert "Supported values are: '480p', '720p', and '1080p'." in error.message
    priced = row.with_deployment_price()
    assert folded(priced, {"resolution": "4k", "aspect_ratio": "9:16"})["size"] == "2160x3840"
    assert folded(priced, {"resolution": "4k"})["size"] == "3840x2160"  # the default size's 16:9
    plain = refused(folded, row, {"resolution": "8k"})
    assert "own price" not in plain.message
