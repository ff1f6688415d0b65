"""Reference videos on omni-video: ``video_list`` items ``{video_url, refer_type: "feature"}`` (a video
the output takes its camera, style or subject from; ``base``, a video to edit, is not mapped).

The wire and its bounds are from Kling's omni-video docs as mirrored in inference-sh/grid
api/klingai/docs/02-video-omni.md (SECONDARY): one video, a URL (no base64), output 3-10 s with a
video. Sound is sent ``off``: the mirrored price list has no Video-3O rate with both a video input and
audio, and public clients note the API wants sound off beside ``video_list`` (unverified).
"""

from __future__ import annotations

from typing import Any

from vidgate.errors import BadRequestError
from vidgate.providers.references import reference_video_urls
from vidgate.types import VideoRequest

MAX_SECONDS_WITH_VIDEO = 10  # "Video + image/element reference: 3-10s"


def video_list(req: VideoRequest) -> list[dict[str, Any]]:
    """The ``video_list`` of a validated omni-video request with reference videos (the gateway checked
    the row offers them and how many); what Kling cannot honour is a 400 naming it."""
    if req.generate_audio is True:
        raise BadRequestError(
            "Kling generates no sound beside reference videos: leave 'generate_audio' unset or false.",
            param="generate_audio",
        )
    if int(req.seconds) > MAX_SECONDS_WITH_VIDEO:
        raise BadRequestError(
            f"Invalid 'seconds': with reference videos Kling makes at most {MAX_SECONDS_WITH_VIDEO} s.",
            param="seconds",
        )
    items: list[dict[str, Any]] = [
        {"video_url": url, "refer_type": "feature"} for url in reference_video_urls(req, "Kling")
    ]
    return items
