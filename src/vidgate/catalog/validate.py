"""Turns OpenAI-style parameters into a ``VideoRequest`` the model accepts, or a BadRequestError.

Runs before any network call. Nothing is coerced: a value the model does not accept is rejected
with the param's name and the allowed values, in OpenAI's wording.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from vidgate.catalog.images import sniff, unreadable
from vidgate.catalog.spec import ModelSpec
from vidgate.errors import BadRequestError, invalid_value
from vidgate.inputs import kind
from vidgate.types import ImageInput, SourceVideo, VideoRequest

MAX_PROMPT_CHARS = 32000
_SEED_MAX = 4294967295
OPEN_MAX_SECONDS = 600  # an open-seconds model (``ModelSpec.open_seconds``): bounds the reservation
_DIGITS = re.compile(r"[1-9][0-9]{0,8}|0")  # ASCII, and short enough that int() is cheap and safe


def aspect_ratio(size: str) -> str:
    width, height = parse_size(size)
    if width > height:
        return "16:9"
    if width < height:
        return "9:16"
    return "1:1"


def parse_size(size: str) -> tuple[int, int]:
    """``"1280x720"`` -> (1280, 720); raises BadRequestError on anything else."""
    parts = size.lower().split("x")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and len(p) <= 6 for p in parts):
        raise BadRequestError(f"Invalid size '{size}': expected 'WIDTHxHEIGHT'.", param="size")
    return int(parts[0]), int(parts[1])


def _seconds(spec: ModelSpec, raw: str | int | None, size: str) -> int:
    allowed = spec.allowed_seconds(size)
    if raw is not None and spec.open_seconds and not isinstance(raw, bool):
        text = str(raw)
        if _DIGITS.fullmatch(text) is None or not 1 <= int(text) <= OPEN_MAX_SECONDS:
            raise BadRequestError(
                f"Invalid value: '{text[:40]}'. 'seconds' must be a whole number from 1 to "
                f"{OPEN_MAX_SECONDS}.",
                param="seconds",
                code="invalid_value",
            )
        return int(text)
    if raw is None:
        return spec.default_seconds if spec.default_seconds in allowed else allowed[-1]
    if isinstance(raw, bool):
        raise invalid_value("seconds", raw, [str(s) for s in allowed])
    text = str(raw)
    # Only a plain decimal integer names a duration: "08", " 8" and "８" are not among '4', '8', '12'.
    canonical = _DIGITS.fullmatch(text) is not None
    if not canonical or int(text) not in allowed:
        if canonical and int(text) in spec.seconds:
            raise BadRequestError(
                f"Invalid value: '{text}'. At size {size} ({spec.tier(size)}) {spec.id} supports "
                f"seconds {', '.join(repr(str(s)) for s in allowed)}.",
                param="seconds",
                code="invalid_value",
            )
        raise invalid_value("seconds", text[:40], [str(s) for s in allowed])
    return int(text)


def empty_value(param: str) -> BadRequestError:
    """Empty is not absent: only an absent value takes the default (an explicit "" would be charged
    as the default the caller never asked for)."""
    return BadRequestError(
        f"Invalid '{param}': empty string. Give a value, or omit '{param}' to use the default.",
        param=param,
        code="empty_value",
    )


def _typed(param: str, value: object, wanted: type, expected: str) -> None:
    """A value of the wrong type never reaches the provider (whose error would not name the param)."""
    if value is not None and not isinstance(value, wanted):
        raise BadRequestError(
            f"Invalid type for '{param}': expected {expected}, but got {kind(value)} instead.",
            param=param,
            code="invalid_type",
        )


def _feature(spec: ModelSpec, feature: str, param: str, present: bool) -> None:
    if present and not spec.has(feature):
        raise BadRequestError(
            f"Model '{spec.id}' does not support '{param}'{spec.unpriced_note(feature)}.",
            param=param,
            code="unsupported_parameter",
        )


def _check_image(spec: ModelSpec, param: str, image: ImageInput | None, size: str | None) -> None:
    """Uploaded bytes must be a PNG, JPEG or WebP image whose header gives its size (8 bytes of PNG
    signature made a provider's renderer fail on every poll); with ``size``, exactly that size (models with
    the ``image_exact_size`` feature: the first frame is the video's first frame, unscaled). URLs and
    file ids are the adapter's or the provider's to read."""
    data = None if image is None else image.data
    if data is None:
        return
    info = sniff(data)
    what = unreadable(data, info)
    if what is not None:
        problem = "unsupported image type" if what.endswith(" image") else "not a decodable image"
        raise BadRequestError(
            f"Invalid '{param}': {problem} ({what}); expected a PNG, JPEG or WebP image.",
            param=param,
            code="invalid_image_format",
        )
    assert info is not None  # readable
    if size is not None and spec.has("image_exact_size") and info.size not in (None, size):
        raise BadRequestError(
            f"Invalid '{param}': the image is {info.size} but the requested size is {size}; {spec.id} needs "
            f"the image at exactly the video's size (resize it to {size}, or request size '{info.size}' if "
            f"the model offers it: {', '.join(spec.sizes)}).",
            param=param,
            code="image_size_mismatch",
        )


def validate(
    spec: ModelSpec,
    *,
    prompt: str | None,
    seconds: str | int | None = None,
    size: str | None = None,
    input_reference: ImageInput | None = None,
    last_frame: ImageInput | None = None,
    reference_images: Sequence[ImageInput] = (),
    reference_videos: Sequence[SourceVideo] = (),
    negative_prompt: str | None = None,
    person_generation: str | None = None,
    seed: int | None = None,
    n: int | None = None,
    generate_audio: bool | None = None,
    user: str | None = None,
    extra_body: dict[str, Any] | None = None,
) -> VideoRequest:
    if prompt is not None and not isinstance(prompt, str):
        raise BadRequestError(
            f"Invalid type for 'prompt': expected a string, but got {kind(prompt)} instead.",
            param="prompt",
            code="invalid_type",
        )
    if prompt is None or not prompt.strip():
        raise BadRequestError(
            "Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter"
        )
    if len(prompt) > MAX_PROMPT_CHARS:
        raise BadRequestError(
            f"Invalid 'prompt': string too long. Expected at most {MAX_PROMPT_CHARS} characters, "
            f"got {len(prompt)}.",
            param="prompt",
            code="string_above_max_length",
        )
    for param, value in (("size", size), ("seconds", seconds)):
        if isinstance(value, str) and not value.strip():
            raise empty_value(param)
    resolved_size = spec.default_size if size is None else str(size)
    spec.tier(resolved_size)  # a size the model lacks (or, open, a malformed one) is a 400 naming it
    resolved_seconds = _seconds(spec, seconds, resolved_size)
    _typed("negative_prompt", negative_prompt, str, "a string")
    _typed("generate_audio", generate_audio, bool, "a boolean")
    _feature(spec, "image_input", "input_reference", input_reference is not None)
    _feature(spec, "last_frame", "last_frame", last_frame is not None)
    _feature(spec, "reference_images", "reference_images", bool(reference_images))
    _feature(spec, "reference_videos", "reference_videos", bool(reference_videos))
    _feature(spec, "negative_prompt", "negative_prompt", negative_prompt is not None)
    _feature(spec, "person_generation", "person_generation", person_generation is not None)
    _feature(spec, "seed", "seed", seed is not None)
    _feature(spec, "audio_toggle", "generate_audio", generate_audio is not None)
    _check_image(spec, "input_reference", input_reference, resolved_size)
    _check_image(spec, "last_frame", last_frame, resolved_size)
    for reference in reference_images:
        _check_image(spec, "reference_images", reference, None)
    if last_frame is not None and input_reference is None:
        raise BadRequestError("'last_frame' needs 'input_reference' (the first frame).", param="last_frame")
    if len(reference_images) > spec.max_reference_images:
        raise BadRequestError(
            f"At most {spec.max_reference_images} reference_images are allowed for {spec.id}, "
            f"got {len(reference_images)}.",
            param="reference_images",
        )
    if len(reference_videos) > spec.max_reference_videos:
        raise BadRequestError(
            f"At most {spec.max_reference_videos} reference_videos are allowed for {spec.id}, "
            f"got {len(reference_videos)}.",
            param="reference_videos",
        )
    allowed = spec.seconds_with_references
    if reference_images and allowed and resolved_seconds not in allowed:
        raise BadRequestError(
            f"Invalid value: '{resolved_seconds}'. With reference_images {spec.id} supports only "
            + ", ".join(f"'{s}'" for s in allowed)
            + ".",
            param="seconds",
            code="invalid_value",
        )
    if person_generation is not None and person_generation not in spec.person_generation:
        raise invalid_value("person_generation", person_generation, list(spec.person_generation))
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= _SEED_MAX
    ):
        raise BadRequestError(f"Invalid 'seed': expected an integer from 0 to {_SEED_MAX}.", param="seed")
    count = 1 if n is None else n
    if isinstance(count, bool) or not isinstance(count, int | float | str):  # a file part, an array, ...
        raise BadRequestError(
            f"Invalid type for 'n': expected an integer, but got {kind(count)} instead.",
            param="n",
            code="invalid_type",
        )
    if not isinstance(count, int) or not 1 <= count <= spec.max_n:
        raise invalid_value("n", count, list(range(1, spec.max_n + 1)))
    return VideoRequest(
        model=spec.model,
        prompt=prompt,
        seconds=resolved_seconds,
        size=resolved_size,
        aspect_ratio=aspect_ratio(resolved_size),
        resolution=spec.tier(resolved_size),
        input_reference=input_reference,
        last_frame=last_frame,
        reference_images=tuple(reference_images),
        reference_videos=tuple(reference_videos),
        negative_prompt=negative_prompt,
        person_generation=person_generation,
        seed=seed,
        n=count,
        generate_audio=generate_audio,
        user=user,
        extra_body=dict(extra_body or {}),
    )
