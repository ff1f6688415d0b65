"""Luma Ray 3.2, per second of output by resolution. SECONDARY source: Luma publishes API prices in
credits only; these are fal.ai's resale prices for Ray 3.2 text-to-video (issue 10, field-2026-12.md)."""

from __future__ import annotations

from tests.catalog.prices.published import Published, at

FAL_RESALE = "fal.ai resale of Luma Ray 3.2 text-to-video (secondary), via issue 10"
R540 = ("960x540", "540x960", "540x540", "720x540", "540x720", "1260x540", "540x1260")
R720 = ("1280x720", "720x1280", "720x720", "960x720", "720x960", "1680x720", "720x1680")
R1080 = ("1920x1080", "1080x1920", "1080x1080", "1440x1080", "1080x1440", "2520x1080", "1080x2520")

PRICES: dict[str, Published] = {
    "luma/ray-3.2": Published(
        {**at("0.10", R540), **at("0.20", R720), **at("0.40", R1080)},
        f"{FAL_RESALE}: 540p 0.10, 720p 0.20, 1080p 0.40",
    ),
}
