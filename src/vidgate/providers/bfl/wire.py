"""BFL's FLUX 3 video vocabulary: vidgate sizes as (aspect_ratio, resolution), statuses, the create body,
and the rule for which polling URLs may be followed.

Sans-I/O and shared by nothing else: the emulator keeps its own table (it may not import this)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from vidgate.errors import BadRequestError
from vidgate.providers.reserved import check_extra, refuse_overlap
from vidgate.types import ImageInput, VideoRequest, VideoStatus

_ASPECTS = {
    "21:9": (21, 9),
    "2:1": (2, 1),
    "16:9": (16, 9),
    "4:3": (4, 3),
    "1:1": (1, 1),
    "3:4": (3, 4),
    "9:16": (9, 16),
}
_SHORT = {"hd": 720, "fhd": 1080}


def _sizes() -> dict[str, tuple[str, str]]:
    table: dict[str, tuple[str, str]] = {}
    for resolution, short in _SHORT.items():
        for aspect, (w, h) in _ASPECTS.items():
            long_side = short * max(w, h) // min(w, h)
            size = f"{long_side}x{short}" if w >= h else f"{short}x{long_side}"
            table[size] = (aspect, resolution)
    return table


SIZES: Mapping[str, tuple[str, str]] = _sizes()

# Terminal and running statuses of ``GET {polling_url}`` (BFL's documented polling loop).
STATUS: Mapping[str, VideoStatus] = {
    "Pending": "in_progress",
    "Ready": "completed",
    "Error": "failed",
    "Failed": "failed",
    "Request Moderated": "failed",
    "Content Moderated": "failed",
}
MODERATED = frozenset({"Request Moderated", "Content Moderated"})
NOT_FOUND = "Task not found"

# Native names the gateway validates or prices (beyond the common ones): never through extra_body.
RESERVED: Mapping[str, str] = {
    "mode": "input_reference",
    "keyframes": "input_reference",
    "start_video": "input_reference",
    "reference_images": "reference_images",
    "reference_video": "input_reference",
    "draft": "",
    "batch": "n",
    "draft_cache": "",
    "webhook_url": "",
    "webhook_secret": "",
}

OWN_DOMAIN = "bfl.ai"


def followable(url: str, api_base: str) -> bool:
    """True if ``url`` may receive the key: https on BFL's own domain (``*.bfl.ai``), or the very origin
    the deployment was configured with (an emulator, a proxy). Anything else is never fetched."""
    try:
        target, base = urlsplit(url), urlsplit(api_base)
    except ValueError:
        return False
    host = (target.hostname or "").lower()
    if target.scheme == "https" and (host == OWN_DOMAIN or host.endswith("." + OWN_DOMAIN)):
        return True
    return (target.scheme, target.netloc) == (base.scheme, base.netloc) and bool(target.netloc)


def image_value(image: ImageInput, param: str) -> str:
    """An image as BFL takes it: a public URL, or inline base64 of uploaded bytes."""
    if image.url is not None:
        return image.url
    if image.data is not None:
        return base64.b64encode(image.data).decode("ascii")
    raise BadRequestError(
        f"Invalid '{param}': BFL takes an image URL or uploaded image bytes, not a file id.", param=param
    )


def create_body(req: VideoRequest) -> dict[str, Any]:
    """The JSON of ``POST /v1/flux-3-video``: exactly the validated (and priced) request."""
    aspect_ratio, resolution = SIZES[req.size]
    check_extra(req.extra_body, RESERVED)
    frames = [
        image_value(image, param)
        for image, param in ((req.input_reference, "input_reference"), (req.last_frame, "last_frame"))
        if image is not None
    ]
    if req.last_frame is not None and req.input_reference is None:
        raise BadRequestError(
            "BFL pins a closing frame only together with an opening one: add 'input_reference'.",
            param="last_frame",
        )
    body: dict[str, Any] = {"mode": "i2v" if frames else "t2v", "prompt": req.prompt}
    if frames:
        body["keyframes"] = frames[0] if len(frames) == 1 else frames
    body.update({"aspect_ratio": aspect_ratio, "duration": req.seconds, "resolution": resolution})
    if req.generate_audio is not None:
        body["generate_audio"] = req.generate_audio
    refuse_overlap(req.extra_body, body)
    return {**body, **req.extra_body}
