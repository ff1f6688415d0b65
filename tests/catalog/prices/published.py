"""One published price row: USD per second of output video for each size, and where it was read."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

LANDSCAPE_PORTRAIT_720 = ("1280x720", "720x1280")
LANDSCAPE_PORTRAIT_1080 = ("1920x1080", "1080x1920")
LANDSCAPE_PORTRAIT_4K = ("3840x2160", "2160x3840")
SORA_1024 = ("1792x1024", "1024x1792")


def at(rate: str, *sizes: tuple[str, ...]) -> dict[str, Decimal]:
    """``rate`` (a decimal string, as printed on the price list) for every size in ``sizes``."""
    return {size: Decimal(rate) for group in sizes for size in group}


@dataclass(frozen=True)
class Published:
    """``per_second`` is the price with audio (or the only price); ``video_only`` the price when the
    caller turns audio off, where the provider publishes one (Vertex), else the same as ``per_second``;
    ``with_video`` the price of a request carrying an input video, where one is published (Kling omni)."""

    per_second: dict[str, Decimal]
    source: str
    video_only: dict[str, Decimal] = field(default_factory=dict)
    with_video: dict[str, Decimal] = field(default_factory=dict)

    def rate(self, size: str, *, audio: bool) -> Decimal:
        if not audio and size in self.video_only:
            return self.video_only[size]
        return self.per_second[size]
