"""vidgate.inputs: storable text and strict, bounded integers (issue 7 items 3 and 4)."""

from __future__ import annotations

import io

import pytest

from vidgate.errors import BadRequestError
from vidgate.inputs import INT64_MAX, MAX_DEPTH, check_text, check_tree, kind, parse_int


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x\udfffy"])
def test_text_a_database_cannot_store_is_a_400_naming_the_field(text: str) -> None:
    with pytest.raises(BadRequestError) as info:
        check_text(text, "prompt")
    assert info.value.param == "prompt"


def test_ordinary_unicode_is_storable() -> None:
    assert check_text("Ünïcödé ² 猫 🎬", "prompt") == "Ünïcödé ² 猫 🎬"


@pytest.mark.parametrize(
    ("value", "param"),
    [
        ({"metadata": {"team": "a\x00"}}, "metadata.team"),
        ({"metadata": {"a\x00": 1}}, "metadata.a\x00"),
        ({"reference_images": [{"image_url": "ok"}, {"image_url": "\x00"}]}, "reference_images[1].image_url"),
    ],
)
def test_trees_name_the_path_of_the_bad_value(value: object, param: str) -> None:
    with pytest.raises(BadRequestError) as info:
        check_tree(value, "")
    assert info.value.param == param


@pytest.mark.parametrize(("raw", "expected"), [("12", 12), (" 7 ", 7), ("-3", -3), (5, 5), (8.0, 8)])
def test_integers_parse(raw: object, expected: int) -> None:
    assert parse_int(raw, "limit") == expected


@pytest.mark.parametrize(
    "raw", ["²", "٣", "１", "1.5", "", "0x10", "1e3", True, None, 1.5, "9" * 5000, str(2**64), 2**64, [1]]
)
def test_anything_else_is_a_400_naming_the_param(raw: object) -> None:
    with pytest.raises(BadRequestError) as info:
        parse_int(raw, "limit")
    assert info.value.param == "limit"


def test_bounds_are_inclusive() -> None:
    assert parse_int(str(INT64_MAX), "seed") == INT64_MAX
    assert parse_int("10", "limit", low=0, high=10) == 10
    with pytest.raises(BadRequestError):
        parse_int("11", "limit", low=0, high=10)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        (True, "a boolean"),
        (3, "an integer"),
        (1.5, "a decimal"),
        ("x", "a string"),
        ([1], "an array"),
        ((1,), "an array"),
        ({"a": 1}, "an object"),
        (b"png", "a file"),
        (io.BytesIO(b"png"), "a file"),  # what a form's file part is to the handlers: a reader
    ],
)
def test_kind_says_what_a_value_is_in_the_api_s_words(value: object, expected: str) -> None:
    """Type errors said "got UploadFile" and "got float": Python's names, not the client's."""
    assert kind(value) == expected


def _nested(depth: int) -> object:
    value: object = "leaf"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize("depth", [65, 995, 5000])
def test_a_tree_nested_past_the_limit_is_a_400_not_a_recursion_error(depth: int) -> None:
    """A JSON body nested ~1,000 deep (orjson parses up to 1,024) made the recursive walk a 500."""
    with pytest.raises(BadRequestError) as info:
        check_tree({"extra_body": _nested(depth)}, "")
    assert info.value.param is not None
    assert info.value.param.startswith("extra_body")
    assert "nested deeper than 64 levels" in info.value.message


def test_a_tree_at_the_limit_is_read_and_checked_in_order() -> None:
    check_tree(_nested(MAX_DEPTH), "")
    with pytest.raises(BadRequestError) as info:  # a bad key is reported before its own value
        check_tree({"a\x00": "b\x00", "c": "d\x00"}, "")
    assert info.value.param == "a\x00"
