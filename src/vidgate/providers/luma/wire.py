"""Luma's vocabulary: vidgate sizes as (aspect_ratio, resolution), states, and the create body.

Sans-I/O and shared by nothing else: the emulator keeps its own table (it may not import this)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vidgate.errors import BadRequestError
from vidgate.providers.reserved import check_extra, refuse_overlap
from vidgate.types import ImageInput, VideoRequest, VideoStatus

_ASPECTS = {"16:9": (16, 9), "4:3": (4, 3), "21:9": (21, 9), "1:1": (1, 1)}
_SHORT = {"540p": 540, "720p": 720, "1080p": 1080}


def _sizes() -> dict[str, tuple[str, str]]:
    table: dict[str, tuple[str, str]] = {}
    for resolution, short in _SHORT.items():
        for aspect, (w, h) in _ASPECTS.items():
            long_side = short * w // h
            table[f"{long_side}x{short}"] = (aspect, resolution)
            if w != h:
                table[f"{short}x{long_side}"] = (f"{h}:{w}", resolution)
    return table


SIZES: Mapping[str, tuple[str, str]] = _sizes()

# Luma's states (the lumaai SDK's Generation.state): queued -> dreaming -> completed | failed.
STATUS: Mapping[str, VideoStatus] = {
    "queued": "queued",
    "dreaming": "in_progress",
    "completed": "completed",
    "failed": "failed",
}

# Native names the gateway validates or prices (beyond the common ones): never through extra_body.
RESERVED: Mapping[str, str] = {
    "type": "",
    "generation_type": "",
    "keyframes": "input_reference",
    "media": "input_reference",
    "loop": "seconds",
    "concepts": "",
    "aspect_ratio": "size",
    "resolution": "size",
    "duration": "seconds",
}


# lumaai 1.21.0 VideoModifyParams.mode (required there); the adapter sends EDIT_MODE unless
# ``extra_body.mode`` picks another (how far the edit may depart from the source; not priced).
EDIT_MODES = tuple(f"{kind}_{n}" for kind in ("adhere", "flex", "reimagine") for n in (1, 2, 3))
EDIT_MODE = "flex_1"


def aspect_of(size: str) -> str:
    """``WxH`` reduced to ``W:H`` (any size, not only this table's)."""
    width, _, height = size.partition("x")
    w, h = int(width), int(height)
    a, b = w, h
    while b:
        a, b = b, a % b
    return f"{w // a}:{h // a}"


def edit_body(req: VideoRequest, video_url: str) -> dict[str, Any]:
    """The JSON of an edit: ``video_reframe`` when the requested size changes the source's aspect ratio
    (Luma redraws the frame), else ``video_edit``; the source by URL (``media``, the SDK's name)."""
    for name, value in (
        ("input_reference", req.input_reference),
        ("last_frame", req.last_frame),
        ("reference_images", req.reference_images),
    ):
        if value:
            raise BadRequestError(
                f"A Luma video edit takes the prompt and the video only, not '{name}'.", param=name
            )
    check_extra(req.extra_body, RESERVED)
    extra = dict(req.extra_body)
    source = req.source_video
    aspect_ratio, resolution = SIZES[req.size]
    kept = SIZES.get(source.size) if source is not None and source.size is not None else None
    if kept is not None and kept[1] != resolution:
        # neither body has a resolution: Luma keeps the source's, so another one would be mispriced
        raise BadRequestError(
            f"Invalid 'size': a Luma edit keeps the source's resolution ({kept[1]}).", param="size"
        )
    reframe = source is not None and source.size is not None and aspect_of(source.size) != aspect_of(req.size)
    body: dict[str, Any] = {
        "type": "video_reframe" if reframe else "video_edit",
        "model": req.model,
        "prompt": req.prompt,
        "media": {"url": video_url},
    }
    if reframe:
        body["aspect_ratio"] = aspect_ratio
    else:
        mode = extra.pop("mode", EDIT_MODE)
        if mode not in EDIT_MODES:
            raise BadRequestError(
                f"Invalid 'extra_body.mode' {str(mode)[:40]!r}: one of {', '.join(EDIT_MODES)}.",
                param="extra_body.mode",
            )
        body["mode"] = mode
    refuse_overlap(extra, body)
    return {**body, **extra}


def image_url(image: ImageInput, param: str) -> str:
    """Luma's keyframes take an image URL only (no uploads, no data URIs in its documented shape)."""
    if image.url is not None:
        return image.url
    raise BadRequestError(
        f"Invalid '{param}': Luma takes an image URL (https), not uploaded bytes or a file id.",
        param=param,
    )


def create_body(req: VideoRequest) -> dict[str, Any]:
    """The JSON of ``POST /v1/generations`` (``type: video``): exactly the validated, priced request."""
    aspect_ratio, resolution = SIZES[req.size]
    check_extra(req.extra_body, RESERVED)
    body: dict[str, Any] = {
        "type": "video",
        "model": req.model,
        "prompt": req.prompt,
        "duration": f"{req.seconds}s",
        "aspect_ratio": aspect_ratio,
        "resolution": resolution,
    }
    keyframes: dict[str, Any] = {}
    if req.input_reference is not None:
        keyframes["frame0"] = {"type": "image", "url": image_url(req.input_reference, "input_reference")}
    if req.last_frame is not None:
        keyframes["frame1"] = {"type": "image", "url": image_url(req.last_frame, "last_frame")}
    if keyframes:
        body["keyframes"] = keyframes
    refuse_overlap(req.extra_body, body)
    return {**body, **req.extra_body}
