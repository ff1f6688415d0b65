"""xAI Grok Imagine video, per second of output by resolution (the per-input-image surcharge of
grok-imagine-video-1.5, $0.01 per image, is checked in tests/providers/xai/test_gateway.py)."""

from __future__ import annotations

from tests.catalog.prices.published import Published, at

XAI_PAGE = "xAI pricing (docs.x.ai models page), via field-2026-12.md section 4.2"
SD = ("848x480", "480x848", "480x480", "640x480", "480x640", "720x480", "480x720")
HD = ("1280x720", "720x1280", "720x720", "960x720", "720x960", "1080x720", "720x1080")
FHD = ("1920x1080", "1080x1920", "1080x1080", "1440x1080", "1080x1440", "1620x1080", "1080x1620")

PRICES: dict[str, Published] = {
    "xai/grok-imagine-video-1.5": Published(
        {**at("0.08", SD), **at("0.14", HD), **at("0.25", FHD)},
        f"{XAI_PAGE}: 480p 0.08, 720p 0.14, 1080p 0.25",
    ),
    "xai/grok-imagine-video-1.5-lite": Published(
        {**at("0.02", SD), **at("0.03", HD)}, f"{XAI_PAGE}: 480p 0.02, 720p 0.03"
    ),
    "xai/grok-imagine-video": Published(
        {**at("0.05", SD), **at("0.07", HD)}, f"{XAI_PAGE}: 480p 0.05, 720p 0.07 (launch 2026-01-28)"
    ),
}
