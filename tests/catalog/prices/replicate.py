"""Replicate's resale prices (secondary: Replicate's model page figures as copied into public price
tables). Veo 3.1 bills with audio unless ``generate_audio`` is false."""

from __future__ import annotations

from tests.catalog.prices.published import LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080, Published, at

PRICES: dict[str, Published] = {
    "replicate/google/veo-3.1": Published(
        at("0.40", LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080),
        "Replicate google/veo-3.1 as copied into public price tables (code search, 2026-12-06): "
        "0.40/s with audio, 0.20/s without, 720p and 1080p",
        video_only=at("0.20", LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080),
    ),
}
