"""xAI's REST vocabulary: vidgate sizes as (aspect_ratio, resolution), statuses, and the create body.

Sans-I/O and shared by nothing else: the emulator keeps its own table (it may not import this)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from vidgate.errors import BadRequestError
from vidgate.providers.reserved import check_extra, refuse_overlap
from vidgate.types import ImageInput, VideoRequest, VideoStatus

# vidgate size -> (aspect_ratio, resolution). Each row's models.yaml names the sizes it offers.
_LONG = {"480p": (848, 640, 720), "720p": (1280, 960, 1080), "1080p": (1920, 1440, 1620)}
_SHORT = {"480p": 480, "720p": 720, "1080p": 1080}


def _sizes() -> dict[str, tuple[str, str]]:
    table: dict[str, tuple[str, str]] = {}
    for resolution, short in _SHORT.items():
        wide, four_three, three_two = _LONG[resolution]
        for long_side, (landscape, portrait) in (
            (wide, ("16:9", "9:16")),
            (four_three, ("4:3", "3:4")),
            (three_two, ("3:2", "2:3")),
        ):
            table[f"{long_side}x{short}"] = (landscape, resolution)
            table[f"{short}x{long_side}"] = (portrait, resolution)
        table[f"{short}x{short}"] = ("1:1", resolution)
    return table


SIZES: Mapping[str, tuple[str, str]] = _sizes()

# xAI's statuses (docs.x.ai video guide; the Vercel @ai-sdk/xai poller): pending -> done | failed | expired.
STATUS: Mapping[str, VideoStatus] = {
    "pending": "in_progress",
    "done": "completed",
    "failed": "failed",
    "expired": "failed",
}

REFERENCE_MAX_RESOLUTION = "720p"  # reference-to-video is capped at 720p
# Edits and extensions (legacy ``grok-imagine-video`` only): an edit's source is at most 8.7 s (docs.x.ai
# video overview) and keeps its length; an extension adds ``duration`` 2-10 s (secondary sources).
MAX_EDIT_SOURCE_SECONDS = 8.7
EXTENSION_SECONDS = range(2, 11)
FOLLOW_UP_PATHS: Mapping[str, str] = {"edit": "videos/edits", "extend": "videos/extensions"}

# Native names the gateway validates or prices (beyond the common ones): never through extra_body.
RESERVED: Mapping[str, str] = {
    "image_url": "input_reference",
    "last_frame_url": "last_frame",
    "reference_image_urls": "reference_images",
    "keyframes": "input_reference",
    "video": "input_reference",
    "video_url": "input_reference",
    "reference_audios": "reference_images",
    "output": "",
}


def image_url(image: ImageInput, param: str) -> str:
    """An image as xAI takes it: its https URL, or a data URI of uploaded bytes."""
    if image.url is not None:
        return image.url
    if image.data is not None:
        mime = image.mime_type or "image/png"
        return f"data:{mime};base64,{base64.b64encode(image.data).decode('ascii')}"
    raise BadRequestError(
        f"Invalid '{param}': xAI takes an image URL or an uploaded image, not a file id.", param=param
    )


def create_body(req: VideoRequest) -> dict[str, Any]:
    """The JSON of ``POST /v1/videos/generations``: exactly the validated (and priced) request."""
    aspect_ratio, resolution = SIZES[req.size]
    if req.reference_images and resolution not in ("480p", REFERENCE_MAX_RESOLUTION):
        raise BadRequestError(
            f"Invalid value: '{req.size}'. With reference_images {req.model} generates at most "
            f"{REFERENCE_MAX_RESOLUTION}: use a 480p or 720p size.",
            param="size",
            code="invalid_value",
        )
    if req.reference_images and req.input_reference is not None:
        raise BadRequestError(
            "xAI takes either 'input_reference' (image-to-video) or 'reference_images', not both.",
            param="reference_images",
        )
    check_extra(req.extra_body, RESERVED)
    body: dict[str, Any] = {
        "model": req.model,
        "prompt": req.prompt,
        "duration": req.seconds,
        "aspect_ratio": aspect_ratio,
        "resolution": resolution,
    }
    if req.input_reference is not None:
        body["image"] = {"url": image_url(req.input_reference, "input_reference")}
    if req.last_frame is not None:
        body["last_frame"] = {"url": image_url(req.last_frame, "last_frame")}
    if req.reference_images:
        body["reference_images"] = [
            {"url": image_url(ref, "reference_images")} for ref in req.reference_images
        ]
    if req.generate_audio is not None:
        body["generate_audio"] = req.generate_audio
    if req.user is not None:
        body["user"] = req.user
    refuse_overlap(req.extra_body, body)
    return {**body, **req.extra_body}


def video_data_url(data: bytes, media_type: str) -> str:
    """An uploaded source video as a data URI (xAI documents URLs; data URIs for video are unverified)."""
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def follow_up_body(req: VideoRequest, video_url: str) -> dict[str, Any]:
    """The JSON of ``POST /v1/videos/edits`` or ``/v1/videos/extensions``: the source by URL, the prompt,
    and for an extension the added ``duration`` (what is priced); the output keeps the source's frame."""
    for name, value in (
        ("input_reference", req.input_reference),
        ("last_frame", req.last_frame),
        ("reference_images", req.reference_images),
    ):
        if value:
            raise BadRequestError(
                f"xAI video {req.task}s take the prompt and the video only, not '{name}'.", param=name
            )
    if req.task == "extend" and req.seconds not in EXTENSION_SECONDS:
        raise BadRequestError(
            f"Invalid value: '{req.seconds}'. An xAI extension adds {EXTENSION_SECONDS.start} to "
            f"{EXTENSION_SECONDS.stop - 1} seconds.",
            param="seconds",
            code="invalid_value",
        )
    check_extra(req.extra_body, RESERVED)
    body: dict[str, Any] = {"model": req.model, "prompt": req.prompt, "video": {"url": video_url}}
    if req.task == "extend":
        body["duration"] = req.seconds
    if req.user is not None:
        body["user"] = req.user
    refuse_overlap(req.extra_body, body)
    return {**body, **req.extra_body}
