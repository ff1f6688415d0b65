from __future__ import annotations

import base64
from typing import Any

import pytest
from tests.support.images import image_bytes

from vidgate.errors import BadRequestError
from vidgate.server.forms import EXTRA_FIELDS, extra_params, image_input, parse_json, text, unflatten
from vidgate.types import ImageInput


def test_unflatten_reads_bracket_notation_as_the_openai_sdk_writes_it() -> None:
    items: list[tuple[str, Any]] = [
        ("prompt", "a cat"),
        ("input_reference[image_url]", "https://x/y.png"),
        ("reference_images[][image_url]", "https://x/1.png"),
        ("reference_images[][image_url]", "https://x/2.png"),
        ("tags[]", "a"),
        ("tags[]", "b"),
        ("repeat", "1"),
        ("repeat", "2"),
        ("extra_body[nested][deep]", "v"),
    ]
    assert unflatten(items) == {
        "prompt": "a cat",
        "input_reference": {"image_url": "https://x/y.png"},
        "reference_images": [{"image_url": "https://x/1.png"}, {"image_url": "https://x/2.png"}],
        "tags": ["a", "b"],
        "repeat": ["1", "2"],
        "extra_body": {"nested": {"deep": "v"}},
    }


def test_a_list_of_objects_reads_the_same_field_by_field_and_item_by_item() -> None:
    """The openai package groups one key's values (``a[][type]`` twice, then ``a[][video_url][url]``
    twice); a hand-written form goes item by item. The n-th occurrence of a key is the n-th item (items
    of different shapes sent field by field cannot be told apart: index them, or send JSON)."""
    by_item: list[tuple[str, Any]] = [
        ("input_references[][type]", "video_url"),
        ("input_references[][video_url][url]", "https://x/1.mp4"),
        ("input_references[][type]", "video_url"),
        ("input_references[][video_url][url]", "https://x/2.mp4"),
    ]
    by_field = sorted(by_item, key=lambda item: item[0])
    assert [key for key, _ in by_field][:2] == ["input_references[][type]"] * 2
    expected = [
        {"type": "video_url", "video_url": {"url": "https://x/1.mp4"}},
        {"type": "video_url", "video_url": {"url": "https://x/2.mp4"}},
    ]
    assert unflatten(by_item)["input_references"] == expected
    assert unflatten(by_field)["input_references"] == expected
    indexed: list[tuple[str, Any]] = [
        ("input_references[0][type]", "video_url"),
        ("input_references[0][video_url][url]", "https://x/1.mp4"),
        ("input_references[1][image_url][url]", "https://x/2.png"),
    ]
    assert unflatten(indexed)["input_references"] == {
        "0": expected[0],
        "1": {"image_url": {"url": "https://x/2.png"}},
    }


@pytest.mark.parametrize(
    ("items", "param"),
    [
        ([("input_reference", "x"), ("input_reference[image_url]", "y")], "input_reference"),
        ([("metadata[a]", "y"), ("metadata", "x")], "metadata"),  # read as a list [{"a": "y"}, "x"]
        ([("metadata[a]", "x"), ("metadata[a][b]", "y")], "metadata[a]"),  # param was "a"
        ([("metadata[a][b]", "y"), ("metadata[a]", "x")], "metadata[a]"),
        ([("extra_body[x]", "1"), ("extra_body[x][]", "2")], "extra_body[x]"),  # param was "x"
    ],
)
def test_unflatten_refuses_a_field_that_is_both_a_value_and_an_object(
    items: list[tuple[str, Any]], param: str
) -> None:
    with pytest.raises(BadRequestError) as info:
        unflatten(items)
    assert (info.value.param, info.value.code) == (param, "conflicting_fields")
    assert info.value.message == (
        f"Conflicting form fields for '{param}': it is given both as a value and with bracketed fields "
        f"('{param}[...]'); send one or the other."
    )


def test_text_names_the_param_on_a_wrong_type_or_a_missing_value() -> None:
    with pytest.raises(BadRequestError) as info:
        text({"prompt": 5}, "prompt")
    assert info.value.param == "prompt"
    assert "got an integer" in info.value.message
    with pytest.raises(BadRequestError) as missing:
        text({}, "prompt", required=True)
    assert missing.value.code == "missing_required_parameter"


async def test_image_input_accepts_each_reference_shape() -> None:
    assert await image_input({"image_url": "https://h/i.png"}, "input_reference") == ImageInput(
        url="https://h/i.png"
    )
    assert await image_input({"file_id": "file-1"}, "input_reference") == ImageInput(file_id="file-1")
    png = "data:image/png;base64," + base64.b64encode(image_bytes(16, 16, "png")).decode()
    assert await image_input(png, "input_reference") == ImageInput(url=png)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("data:image/png;base64,iVBORw0KGgo=", "invalid_image_format"),  # the PNG signature alone
        ("data:image/png;base64,AAAA", "invalid_image_format"),
        ("data:image/png;base64,!!!!", "invalid_value"),  # not base64
        ("data:image/png,abc", "invalid_value"),  # not base64 at all
        ("data:text/plain;base64,iVBORw0KGgo=", "invalid_value"),
        ("data:\u202eimage/png;base64,iVBORw0KGgo=", "invalid_value"),
        ("data:", "invalid_value"),
    ],
)
async def test_a_data_url_must_hold_an_image_in_base64(url: str, code: str) -> None:
    """Each adapter read data URLs its own way, and some sent these to the provider, priced and
    reserved; every create route now refuses them as it refuses such an upload."""
    for value, param in ((url, "input_reference"), ({"image_url": url}, "input_reference[image_url]")):
        with pytest.raises(BadRequestError) as caught:
            await image_input(value, "input_reference")
        assert (caught.value.param, caught.value.code) == (param, code)


@pytest.mark.parametrize(
    ("value", "param"),
    [
        ({"image_url": "https://a", "file_id": "f"}, "input_reference"),
        ({}, "input_reference"),
        ({"image_url": "ftp://a"}, "input_reference[image_url]"),
        ({"colour": "red"}, "input_reference[colour]"),
        ("not a url", "input_reference"),
        (42, "input_reference"),
    ],
)
async def test_image_input_rejects_bad_references_naming_the_param(value: Any, param: str) -> None:
    with pytest.raises(BadRequestError) as info:
        await image_input(value, "input_reference")
    assert info.value.param == param


async def test_extra_params_come_from_the_catalogue_and_form_text_is_typed() -> None:
    assert {"negative_prompt", "seed", "n", "last_frame"} <= EXTRA_FIELDS
    extra = await extra_params(
        {"prompt": "p", "seed": "42", "n": "2", "generate_audio": "false"}, from_form=True
    )
    assert extra == {"seed": 42, "n": 2, "generate_audio": False}
    kept = await extra_params({"seed": "42"}, from_form=False)
    assert kept == {"seed": "42"}  # JSON keeps its types: the catalogue rejects a string seed
    with pytest.raises(BadRequestError) as info:
        await extra_params({"colour": "red"}, from_form=False)
    assert info.value.param == "colour"
    assert info.value.code == "unknown_parameter"


@pytest.mark.parametrize(
    ("raw", "param", "code", "got"),
    [
        (b'{"seconds": 18446744073709551616}', "seconds", "integer_above_max_value", "18446744073709551616"),
        (
            b'{"metadata": {"a": [1, -9223372036854775809]}}',
            "metadata.a[1]",
            "integer_below_min_value",
            "-9223372036854775809",
        ),
        (b'{"n": ' + b"9" * 5000 + b"}", "n", "integer_above_max_value", "9" * 40 + "..."),
    ],
)
def test_an_integer_beyond_64_bits_is_out_of_range_not_a_decimal(
    raw: bytes, param: str, code: str, got: str
) -> None:
    """orjson reads such a literal as a float: the 400 said "got a decimal", metadata stored it rounded."""
    with pytest.raises(BadRequestError) as info:
        parse_json(raw)
    assert (info.value.param, info.value.code) == (param, code)
    assert info.value.message == (
        f"Invalid '{param}': integer out of range. A request's integers are 64-bit, from "
        f"-9223372036854775808 to 18446744073709551615; got {got}."
    )


def test_64_bit_integers_and_large_decimals_read_as_before() -> None:
    body = b'{"a": 18446744073709551615, "b": -9223372036854775808, "c": 1e19, "d": [2.5e300]}'
    assert parse_json(body) == {"a": 2**64 - 1, "b": -(2**63), "c": 1e19, "d": [2.5e300]}


def test_a_body_too_deep_is_refused_for_its_depth_before_any_second_reading() -> None:
    deep = b'{"a":' * 995 + b"18446744073709551616" + b"}" * 995  # deeper than the stdlib's recursion
    with pytest.raises(BadRequestError) as info:
        parse_json(deep)
    assert info.value.message.endswith("nested deeper than 64 levels.")


async def test_form_integer_text_is_read_as_json_would_carry_it() -> None:
    extra = await extra_params({"seed": " 7 ", "n": "abc"}, from_form=True)
    assert extra == {"seed": 7, "n": "abc"}  # not an integer: the catalogue refuses the text as it is
    with pytest.raises(BadRequestError) as info:
        await extra_params({"seed": "18446744073709551616"}, from_form=True)
    assert (info.value.param, info.value.code) == ("seed", "integer_above_max_value")
