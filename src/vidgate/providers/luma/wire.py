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
}


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
