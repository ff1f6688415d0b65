"""Validation: every reject path names the param and the allowed values; nothing is coerced."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tests.support.images import image_bytes

from vidgate.catalog import ModelSpec, aspect_ratio, parse_size, validate
from vidgate.catalog.validate import MAX_PROMPT_CHARS
from vidgate.errors import BadRequestError
from vidgate.providers.catalogue import find_model
from vidgate.types import ImageInput

IMAGE = ImageInput(data=image_bytes(1280, 720, "png"), mime_type="image/png")  # every model's default size


def spec(model_id: str) -> ModelSpec:
    found = find_model(model_id)
    assert found is not None, model_id
    return found


def reject(model: ModelSpec, **params: Any) -> BadRequestError:
    params.setdefault("prompt", "a cat on a skateboard")
    with pytest.raises(BadRequestError) as caught:
        validate(model, **params)
    assert caught.value.status_code == 400
    return caught.value


SORA = "openai/sora-2"
VEO31 = "gemini/veo-3.1-generate-preview"
VERTEX31 = "vertex_ai/veo-3.1-generate-001"

# ---- seconds ------------------------------------------------------------------------------------


def test_seconds_outside_the_enum_lists_every_allowed_value() -> None:
    err = reject(spec(SORA), seconds="7")
    assert err.param == "seconds"
    assert err.code == "invalid_value"
    assert err.message == "Invalid value: '7'. Supported values are: '4', '8', '12', '16', and '20'."
    azure = reject(spec("azure/sora-2"), seconds="15")
    assert azure.message == "Invalid value: '15'. Supported values are: '4', '8', and '12'."


@pytest.mark.parametrize("seconds", ["8", 8, "12", 20])
def test_string_and_integer_seconds_are_accepted(seconds: str | int) -> None:
    req = validate(spec(SORA), prompt="p", seconds=seconds)
    assert req.seconds == int(seconds)


@pytest.mark.parametrize(
    "seconds", ["8.5", "abc", "8s", "-4", -4, 0, "08", " 8", "8 ", "８", "²", "4e0", "0x8", True, False]
)
def test_seconds_that_are_not_a_plain_allowed_integer_are_rejected(seconds: str | int) -> None:
    err = reject(spec(SORA), seconds=seconds)
    assert err.param == "seconds"
    assert err.code == "invalid_value"
    assert err.message.startswith(f"Invalid value: '{seconds}'.")
    assert "Supported values are: '4', '8', '12', '16', and '20'." in err.message


def test_default_seconds_apply() -> None:
    assert validate(spec(SORA), prompt="p", seconds=None).seconds == 4
    assert validate(spec(VEO31), prompt="p", seconds=None).seconds == 8
    assert validate(spec("gemini/veo-2.0-generate-001"), prompt="p", seconds=None).seconds == 8


@pytest.mark.parametrize("param", ["seconds", "size"])
def test_empty_is_not_absent(param: str) -> None:
    """Issue 7 item 7: only an absent value takes the default; an explicit "" is a 400 naming it."""
    err = reject(spec(SORA), **{param: ""})
    assert err.param == param
    assert "empty" in err.message


@pytest.mark.parametrize("model", [VEO31, "gemini/veo-3.1-fast-generate-preview", VERTEX31])
@pytest.mark.parametrize("size", ["1920x1080", "1080x1920", "3840x2160", "2160x3840"])
def test_veo_31_allows_only_8_seconds_at_1080p_and_4k(model: str, size: str) -> None:
    veo = spec(model)
    for seconds in ("4", "6"):
        err = reject(veo, seconds=seconds, size=size)
        assert err.param == "seconds"
        assert err.code == "invalid_value"
        assert f"Invalid value: '{seconds}'." in err.message
        assert f"At size {size} ({veo.sizes[size]})" in err.message
        assert "supports seconds '8'." in err.message
    assert validate(veo, prompt="p", seconds="8", size=size).seconds == 8
    assert validate(veo, prompt="p", size=size).seconds == 8


def test_veo_31_lite_has_no_4k_and_8_seconds_at_1080p() -> None:
    lite = spec("gemini/veo-3.1-lite-generate-preview")
    assert validate(lite, prompt="p", seconds=4, size="1280x720").seconds == 4
    assert reject(lite, seconds=4, size="1920x1080").param == "seconds"
    err = reject(lite, size="3840x2160")
    assert err.param == "size"


def test_a_value_no_size_allows_lists_the_values_of_that_size() -> None:
    err = reject(spec(VEO31), seconds="5", size="1920x1080")
    assert err.param == "seconds"
    assert err.message == "Invalid value: '5'. Supported values are: '8'."


def test_default_seconds_follow_the_size_when_the_row_default_is_not_allowed_there() -> None:
    model = ModelSpec(
        id="test/m",
        provider="test",
        model="m",
        seconds=(4, 8),
        default_seconds=4,
        sizes={"1280x720": "720p", "1920x1080": "1080p"},
        default_size="1280x720",
        prices={"720p": Decimal("0.1"), "1080p": Decimal("0.2")},
        seconds_by_tier={"1080p": (8,)},
    )
    assert validate(model, prompt="p").seconds == 4
    assert validate(model, prompt="p", size="1920x1080").seconds == 8


# ---- size ---------------------------------------------------------------------------------------


def test_unknown_size_lists_the_model_sizes() -> None:
    err = reject(spec(SORA), size="1920x1080")
    assert err.param == "size"
    assert err.code == "invalid_value"
    assert err.message == "Invalid value: '1920x1080'. Supported values are: '720x1280' and '1280x720'."
    pro = reject(spec("azure/sora-2-pro"), size="1920x1080")
    assert pro.message == (
        "Invalid value: '1920x1080'. Supported values are: "
        "'720x1280', '1280x720', '1024x1792', and '1792x1024'."
    )


@pytest.mark.parametrize("size", ["1280X720", "1280*720", "abc", "", "16:9"])
def test_sizes_are_not_coerced(size: str) -> None:
    assert reject(spec(SORA), size=size).param == "size"


def test_default_size_applies() -> None:
    assert validate(spec(SORA), prompt="p").size == "720x1280"
    assert validate(spec(VEO31), prompt="p").size == "1280x720"


def test_gemini_veo_30_has_1080p_landscape_only() -> None:
    veo3 = spec("gemini/veo-3.0-generate-001")
    assert validate(veo3, prompt="p", size="1920x1080").resolution == "1080p"
    assert reject(veo3, size="1080x1920").param == "size"


@pytest.mark.parametrize(
    ("model", "size", "ratio", "resolution"),
    [
        (SORA, "1280x720", "16:9", "720p"),
        (SORA, "720x1280", "9:16", "720p"),
        ("openai/sora-2-pro", "1024x1792", "9:16", "1024p"),
        ("openai/sora-2-pro", "1920x1080", "16:9", "1080p"),
        (VEO31, "3840x2160", "16:9", "4k"),
        (VEO31, "2160x3840", "9:16", "4k"),
        ("local/local-1", "480x480", "1:1", "480p"),
        ("local/local-1", "320x180", "16:9", "180p"),
    ],
)
def test_aspect_ratio_and_resolution_derive_from_size(
    model: str, size: str, ratio: str, resolution: str
) -> None:
    req = validate(spec(model), prompt="p", size=size)
    assert (req.size, req.aspect_ratio, req.resolution) == (size, ratio, resolution)
    assert aspect_ratio(size) == ratio


def test_parse_size() -> None:
    assert parse_size("1280x720") == (1280, 720)
    assert parse_size("720X1280") == (720, 1280)
    for bad in ("1280x", "x720", "1280x720x1", "1280:720", "²x1", "1x٣", "-1x5"):
        with pytest.raises(BadRequestError) as caught:
            parse_size(bad)
        assert caught.value.param == "size"
        assert "expected 'WIDTHxHEIGHT'" in caught.value.message


# ---- reference images ---------------------------------------------------------------------------


def test_reference_images_force_8_seconds() -> None:
    veo = spec(VEO31)
    err = reject(veo, seconds="4", reference_images=[IMAGE])
    assert err.param == "seconds"
    assert err.message == f"Invalid value: '4'. With reference_images {VEO31} supports only '8'."
    assert validate(veo, prompt="p", reference_images=[IMAGE]).seconds == 8
    req = validate(spec(VERTEX31), prompt="p", seconds=8, reference_images=[IMAGE, IMAGE, IMAGE])
    assert req.reference_images == (IMAGE, IMAGE, IMAGE)


def test_at_most_three_reference_images() -> None:
    err = reject(spec(VEO31), reference_images=[IMAGE] * 4)
    assert err.param == "reference_images"
    assert "At most 3" in err.message


# ---- features -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("last_frame", IMAGE),
        ("reference_images", [IMAGE]),
        ("negative_prompt", "blurry"),
        ("person_generation", "allow_adult"),
        ("seed", 1),
        ("generate_audio", False),
    ],
)
def test_a_parameter_the_model_lacks_does_not_support(param: str, value: object) -> None:
    params: dict[str, Any] = {param: value}
    if param == "last_frame":
        params["input_reference"] = IMAGE
    err = reject(spec(SORA), **params)
    assert err.param == param
    assert err.code == "unsupported_parameter"
    assert err.message == f"Model '{SORA}' does not support '{param}'."


def test_input_reference_without_image_input_does_not_support() -> None:
    text_only = ModelSpec(
        id="test/text-only",
        provider="test",
        model="text-only",
        seconds=(4,),
        default_seconds=4,
        sizes={"1280x720": "720p"},
        default_size="1280x720",
        prices={"720p": Decimal("0.1")},
    )
    err = reject(text_only, input_reference=IMAGE)
    assert (err.param, err.code) == ("input_reference", "unsupported_parameter")
    assert "does not support 'input_reference'" in err.message


def test_gemini_has_no_audio_switch_and_reference_images_are_31_only() -> None:
    assert reject(spec("gemini/veo-3.0-generate-001"), generate_audio=True).param == "generate_audio"
    assert reject(spec("gemini/veo-3.1-fast-generate-preview"), reference_images=[IMAGE]).param == (
        "reference_images"
    )
    assert validate(spec(VERTEX31), prompt="p", generate_audio=False).generate_audio is False


def test_last_frame_needs_input_reference() -> None:
    err = reject(spec(VEO31), last_frame=IMAGE)
    assert err.param == "last_frame"
    assert "needs 'input_reference'" in err.message
    req = validate(spec(VEO31), prompt="p", input_reference=IMAGE, last_frame=IMAGE)
    assert (req.input_reference, req.last_frame) == (IMAGE, IMAGE)


# ---- person_generation, seed, n -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "allowed"),
    [
        ("gemini/veo-2.0-generate-001", ["allow_all", "allow_adult", "dont_allow"]),
        (VEO31, ["allow_all", "allow_adult"]),
        (VERTEX31, ["allow_adult", "dont_allow"]),
    ],
)
def test_person_generation_values(model: str, allowed: list[str]) -> None:
    veo = spec(model)
    for value in allowed:
        assert validate(veo, prompt="p", person_generation=value).person_generation == value
    err = reject(veo, person_generation="everyone")
    assert err.param == "person_generation"
    quoted = [f"'{v}'" for v in allowed]
    listed = (
        f"{quoted[0]} and {quoted[1]}" if len(quoted) == 2 else f"{quoted[0]}, {quoted[1]}, and {quoted[2]}"
    )
    assert err.message == f"Invalid value: 'everyone'. Supported values are: {listed}."


@pytest.mark.parametrize("seed", [0, 1, 4294967295])
def test_seed_in_range(seed: int) -> None:
    assert validate(spec(VERTEX31), prompt="p", seed=seed).seed == seed


@pytest.mark.parametrize("seed", [-1, 4294967296, True, "5", 1.5])
def test_seed_out_of_range_or_not_an_integer(seed: Any) -> None:
    err = reject(spec(VERTEX31), seed=seed)
    assert err.param == "seed"
    assert "from 0 to 4294967295" in err.message


def test_n_range() -> None:
    vertex = spec(VERTEX31)
    assert validate(vertex, prompt="p").n == 1
    assert validate(vertex, prompt="p", n=4).n == 4
    for bad in (0, 5, -1):
        err = reject(vertex, n=bad)
        assert err.param == "n"
        assert err.message == f"Invalid value: '{bad}'. Supported values are: '1', '2', '3', and '4'."
    assert reject(vertex, n=True).param == "n"
    assert reject(spec("gemini/veo-2.0-generate-001"), n=3).message.endswith(
        "Supported values are: '1' and '2'."
    )
    assert reject(spec(SORA), n=2).message == "Invalid value: '2'. Supported values are: '1'."


# ---- prompt -------------------------------------------------------------------------------------


@pytest.mark.parametrize("prompt", [None, "", "   \n"])
def test_prompt_missing(prompt: str | None) -> None:
    err = reject(spec(SORA), prompt=prompt)
    assert err.param == "prompt"
    assert err.code == "missing_required_parameter"
    assert err.message == "Missing required parameter: 'prompt'."


def test_prompt_of_the_wrong_type() -> None:
    err = reject(spec(SORA), prompt=42)
    assert (err.param, err.code) == ("prompt", "invalid_type")
    assert err.message == "Invalid type for 'prompt': expected a string, but got an integer instead."


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        (
            "negative_prompt",
            1.5,
            "Invalid type for 'negative_prompt': expected a string, but got a decimal instead.",
        ),
        (
            "generate_audio",
            "yes",
            "Invalid type for 'generate_audio': expected a boolean, but got a string instead.",
        ),
        ("n", [2], "Invalid type for 'n': expected an integer, but got an array instead."),
        ("n", b"2", "Invalid type for 'n': expected an integer, but got a file instead."),
        ("n", True, "Invalid type for 'n': expected an integer, but got a boolean instead."),
    ],
)
def test_type_errors_name_the_kind_of_value_never_a_python_type(
    param: str, value: object, message: str
) -> None:
    err = reject(spec(VERTEX31), **{param: value})
    assert (err.param, err.code, err.message) == (param, "invalid_type", message)


def test_prompt_too_long() -> None:
    assert validate(spec(SORA), prompt="a" * MAX_PROMPT_CHARS).prompt == "a" * MAX_PROMPT_CHARS
    err = reject(spec(SORA), prompt="a" * (MAX_PROMPT_CHARS + 1))
    assert err.param == "prompt"
    assert err.code == "string_above_max_length"
    assert f"at most {MAX_PROMPT_CHARS} characters, got {MAX_PROMPT_CHARS + 1}" in err.message


# ---- the result ---------------------------------------------------------------------------------


def test_validated_request_carries_everything() -> None:
    req = validate(
        spec(VERTEX31),
        prompt="a lighthouse",
        seconds="6",
        size="720x1280",
        input_reference=IMAGE,
        negative_prompt="fog",
        person_generation="dont_allow",
        seed=7,
        n=2,
        generate_audio=True,
        user="u-1",
        extra_body={"enhancePrompt": False},
    )
    assert req.model == "veo-3.1-generate-001"
    assert (req.prompt, req.seconds, req.size, req.aspect_ratio, req.resolution) == (
        "a lighthouse",
        6,
        "720x1280",
        "9:16",
        "720p",
    )
    assert (req.negative_prompt, req.person_generation, req.seed, req.n) == ("fog", "dont_allow", 7, 2)
    assert (req.generate_audio, req.user, req.extra_body) == (True, "u-1", {"enhancePrompt": False})
    assert req.reference_images == ()


def test_extra_body_is_copied() -> None:
    extra = {"k": "v"}
    req = validate(spec(SORA), prompt="p", extra_body=extra)
    extra["k"] = "changed"
    assert req.extra_body == {"k": "v"}


def test_sora_needs_the_first_frame_at_exactly_the_requested_size() -> None:
    small = ImageInput(data=image_bytes(640, 360, "jpeg"))
    err = reject(spec(SORA), size="1280x720", input_reference=small)
    assert (err.param, err.code) == ("input_reference", "image_size_mismatch")
    assert err.message == (
        "Invalid 'input_reference': the image is 640x360 but the requested size is 1280x720; openai/sora-2 "
        "needs the image at exactly the video's size (resize it to 1280x720, or request size '640x360' if "
        "the model offers it: 720x1280, 1280x720)."
    )
    assert validate(spec(SORA), prompt="p", size="1280x720", input_reference=IMAGE).input_reference == IMAGE
    # Veo scales the first frame itself: any size is sent
    assert validate(spec(VEO31), prompt="p", size="1280x720", input_reference=small).input_reference == small


@pytest.mark.parametrize("param", ["input_reference", "last_frame", "reference_images"])
def test_uploads_that_are_not_images_say_so(param: str) -> None:
    text = ImageInput(data=b"just some notes\n", mime_type="image/png")
    value: Any = [text] if param == "reference_images" else text
    extra: dict[str, Any] = {"input_reference": IMAGE} if param == "last_frame" else {}
    err = reject(spec("vertex_ai/veo-3.1-generate-001"), seconds="8", **{param: value, **extra})
    assert (err.param, err.code) == (param, "invalid_image_format")
    assert err.message == (
        f"Invalid '{param}': not a decodable image (it looks like text); expected a PNG, JPEG or WebP image."
    )


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"\x89PNG\r\n\x1a\n", "a PNG whose header is cut short"),  # the signature alone
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG whose header is cut short"),  # no frame header
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "a WEBP whose header is cut short"),
    ],
)
def test_an_image_whose_header_gives_no_size_is_not_an_image(data: bytes, what: str) -> None:
    """A signature with nothing after it passed as an image: a provider's renderer then failed on
    every poll, the job holding its reservation for a day."""
    err = reject(spec("vertex_ai/veo-3.1-generate-001"), seconds="8", input_reference=ImageInput(data=data))
    assert (err.param, err.code) == ("input_reference", "invalid_image_format")
    assert err.message == (
        f"Invalid 'input_reference': not a decodable image ({what}); expected a PNG, JPEG or WebP image."
    )


# ---- sizes only a self-priced deployment serves -------------------------------------------------

SEEDANCE_BYTEPLUS = "byteplus/dreamina-seedance-2-0-260128"


def test_a_deployment_priced_size_is_a_400_naming_size_that_says_why() -> None:
    """BytePlus Seedance 2.0's 4k has no catalogue price: refused on the catalogue's row, served on a
    deployment's own-price row."""
    row = spec(SEEDANCE_BYTEPLUS)
    error = reject(row, size="3840x2160", seconds="5")
    assert (error.param, error.code) == ("size", "invalid_value")
    assert error.message.startswith("Invalid value: '3840x2160'. Supported values are: '864x496'")
    assert (
        "only on a deployment that sets its own price (output_cost_per_second or output_cost_per_video)"
        in (error.message)
    )
    served = validate(row.with_deployment_price(), prompt="a cat", size="2160x3840", seconds="5")
    assert (served.size, served.resolution, served.aspect_ratio) == ("2160x3840", "4k", "9:16")


def test_a_size_no_deployment_serves_keeps_the_plain_400() -> None:
    error = reject(spec(SEEDANCE_BYTEPLUS), size="4096x2160")
    assert error.param == "size"
    assert "own price" not in error.message
