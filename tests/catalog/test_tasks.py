"""``catalog.tasks``: edits priced at the source's length, extensions at a row's length, and the 400s."""

from __future__ import annotations

from decimal import Decimal

import pytest

from vidgate.catalog import parse_row
from vidgate.catalog.pricing import estimate_cost
from vidgate.catalog.tasks import extend_seconds, validate_task
from vidgate.errors import BadRequestError
from vidgate.types import SourceVideo

ROW = {
    "id": "acme/v1",
    "seconds": [4, 8],
    "default_seconds": 4,
    "sizes": {"1280x720": "720p"},
    "default_size": "1280x720",
    "features": ["edit", "extend"],
    "prices": {"720p": 0.1},
}
SOURCE = SourceVideo(data=b"mp4", seconds=3, size="1280x720")


def test_an_edit_keeps_the_source_length_even_off_the_row() -> None:
    req = validate_task(parse_row(ROW), "edit", prompt="blue", source=SOURCE)
    assert (req.task, req.seconds, req.size, req.source_video) == ("edit", 3, "1280x720", SOURCE)


def test_an_extension_takes_the_row_seconds_or_its_extend_seconds() -> None:
    spec = parse_row(ROW)
    assert validate_task(spec, "extend", prompt="on", source=SOURCE, seconds="8").seconds == 8
    assert validate_task(spec, "extend", prompt="on", source=SOURCE).seconds == 4
    with pytest.raises(BadRequestError) as caught:
        extend_seconds(spec, "5")
    assert caught.value.param == "seconds"
    longer = parse_row({**ROW, "extend_seconds": [5, 10]})
    assert extend_seconds(longer, "10") == 10
    with pytest.raises(BadRequestError):
        extend_seconds(longer, "8")


def test_a_row_without_the_feature_is_a_400_naming_the_model() -> None:
    spec = parse_row({**ROW, "features": []})
    for task in ("edit", "extend"):
        with pytest.raises(BadRequestError) as caught:
            validate_task(spec, task, prompt="x", source=SOURCE, model_name="my-model")
        assert caught.value.param == "model"
        assert "'my-model'" in caught.value.message


def test_a_source_at_a_size_the_row_lacks_is_a_400_naming_video() -> None:
    with pytest.raises(BadRequestError) as caught:
        validate_task(
            parse_row(ROW), "edit", prompt="x", source=SourceVideo(data=b"v", seconds=2, size="640x480")
        )
    assert caught.value.param == "video"
    assert "640x480" in caught.value.message


def test_extend_seconds_needs_the_extend_feature() -> None:
    with pytest.raises(ValueError, match="extend_seconds needs the extend feature"):
        parse_row({**ROW, "features": [], "extend_seconds": [5]})


REFRAME_ROW = {
    **ROW,
    "sizes": {"1280x720": "720p", "720x1280": "720p", "720x720": "720p", "1920x1080": "1080p"},
    "features": ["edit", "reframe"],
    "prices": {"720p": 0.1, "1080p": 0.3},
}


def test_an_edit_at_its_source_size_is_allowed_to_say_so_on_any_row() -> None:
    req = validate_task(parse_row(ROW), "edit", prompt="blue", source=SOURCE, size="1280x720")
    assert (req.size, req.seconds) == ("1280x720", 3)


def test_a_row_that_reframes_takes_its_sizes_at_the_source_resolution() -> None:
    spec = parse_row(REFRAME_ROW)
    req = validate_task(spec, "edit", prompt="upright", source=SOURCE, size="720x1280")
    assert (req.task, req.size, req.seconds, req.source_video) == ("edit", "720x1280", 3, SOURCE)
    # priced at the output size's tier: 720p at $0.10/s x the source's 3 s
    assert estimate_cost(spec, seconds=req.seconds, size=req.size) == Decimal("0.3")
    with pytest.raises(BadRequestError) as caught:  # another resolution: the provider keeps the source's
        validate_task(spec, "edit", prompt="x", source=SOURCE, size="1920x1080", model_name="ray")
    assert (caught.value.param, caught.value.code) == ("size", "invalid_value")
    assert caught.value.message == (
        "Invalid 'size': '1920x1080'. ray reframes a video at its resolution (720p). "
        "Supported values are: '1280x720', '720x1280', '720x720'."
    )


def test_a_row_that_cannot_reframe_refuses_another_size_naming_size() -> None:
    with pytest.raises(BadRequestError) as caught:
        validate_task(parse_row(ROW), "edit", prompt="x", source=SOURCE, size="720x1280", model_name="m")
    assert caught.value.param == "size"
    assert caught.value.message == (
        "Invalid 'size': '720x1280'. m keeps the source video's size (1280x720); it cannot reframe. "
        "Supported values are: '1280x720'."
    )


def test_size_is_for_edits_only_and_never_empty() -> None:
    spec = parse_row({**REFRAME_ROW, "features": ["edit", "extend", "reframe"]})
    for task, size, code in (("extend", "1280x720", "unknown_parameter"), ("edit", " ", "empty_value")):
        with pytest.raises(BadRequestError) as caught:
            validate_task(spec, task, prompt="x", source=SOURCE, size=size)
        assert (caught.value.param, caught.value.code) == ("size", code)


def test_reframe_needs_the_edit_feature() -> None:
    with pytest.raises(ValueError, match="the reframe feature needs the edit feature"):
        parse_row({**REFRAME_ROW, "features": ["reframe"]})
