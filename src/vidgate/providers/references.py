"""Reference videos as the task APIs take them: a caller's https URL each, which the provider fetches
itself (uploaded bytes and file ids have no field on those wires), checked before any provider call."""

from __future__ import annotations

from vidgate.errors import BadRequestError
from vidgate.types import VideoRequest


def reference_video_urls(req: VideoRequest, provider: str, detail: str = "") -> list[str]:
    """The https URL of each reference video; a 400 naming ``reference_videos`` for any other."""
    urls: list[str] = []
    for video in req.reference_videos:
        if video.url is None or not video.url.startswith("https://"):
            raise BadRequestError(
                f"Invalid 'reference_videos': {provider} reads reference videos from https URLs{detail}.",
                param="reference_videos",
            )
        urls.append(video.url)
    return urls
