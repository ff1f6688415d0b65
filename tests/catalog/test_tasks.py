"""``catalog.tasks``: edits priced at the source's length, extensions at a row's length, and the 400s."""

from __future__ import annotations

import pytest

from vidgate.catalog import parse_row
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
