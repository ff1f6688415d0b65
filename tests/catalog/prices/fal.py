"""fal.ai's resale prices (all secondary: fal's model pages as copied into public price tables, and the
field notes). Kling 3.0 Pro is billed with audio unless ``generate_audio`` is false."""

from __future__ import annotations

from tests.catalog.prices.published import LANDSCAPE_PORTRAIT_720, Published, at

KLING_SIZES = ("1920x1080", "1080x1920", "1080x1080")
KLING_SOURCE = (
    "fal model page figures for fal-ai/kling-video/v3/pro as copied into public price tables "
    "(code search, 2026-12-06): 0.224/s, 0.336/s with audio"
)
KLING = Published(at("0.336", KLING_SIZES), KLING_SOURCE, video_only=at("0.224", KLING_SIZES))

PRICES: dict[str, Published] = {
    "fal/fal-ai/kling-video/v3/pro/text-to-video": KLING,
    "fal/fal-ai/kling-video/v3/pro/image-to-video": KLING,
    "fal/bytedance/seedance-2.0/text-to-video": Published(
        at("0.30", LANDSCAPE_PORTRAIT_720), "field-2026-12.md section 4, ByteDance Seedance: 'fal 2.0 $0.30'"
    ),
    "fal/luma/agent/ray/v3.2/text-to-video": Published(
        {
            **at("0.10", ("960x540", "540x960")),
            **at("0.20", LANDSCAPE_PORTRAIT_720),
            **at("0.40", ("1920x1080", "1080x1920")),
        },
        "field-2026-12.md section 4, Luma: 'fal resale: Ray 3.2 t2v $0.10/s (720p $0.20, 1080p $0.40)' "
        "(skills.sh luma-ray-video, secondary)",
    ),
}
