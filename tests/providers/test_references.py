"""Reference videos for the task APIs: https URLs only, refused with a 400 naming the field."""

from __future__ import annotations

import pytest

from vidgate.errors import BadRequestError
from vidgate.providers.references import reference_video_urls
from vidgate.types import SourceVideo, VideoRequest


def _request(*videos: SourceVideo) -> VideoRequest:
    return VideoRequest(
        model="m",
        prompt="a fox",
        seconds=5,
        size="1280x720",
        aspect_ratio="16:9",
        resolution="720p",
        reference_videos=videos,
    )


def test_https_urls_are_given_in_order() -> None:
    request = _request(
        SourceVideo(url="https://cdn.example/a.mp4"), SourceVideo(url="https://cdn.example/b.mp4")
    )
    assert reference_video_urls(request, "Acme") == ["https://cdn.example/a.mp4", "https://cdn.example/b.mp4"]
    assert reference_video_urls(_request(), "Acme") == []


@pytest.mark.parametrize(
    "video", [SourceVideo(url="http://cdn.example/a.mp4"), SourceVideo(data=b"\x00\x00\x00\x18ftypmp42")]
)
def test_anything_but_an_https_url_is_a_400_naming_the_field(video: SourceVideo) -> None:
    with pytest.raises(BadRequestError) as caught:
        reference_video_urls(
            _request(SourceVideo(url="https://cdn.example/a.mp4"), video), "Acme", "; no uploads"
        )
    assert caught.value.param == "reference_videos"
    assert str(caught.value.message) == (
        "Invalid 'reference_videos': Acme reads reference videos from https URLs; no uploads."
    )
