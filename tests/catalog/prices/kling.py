"""Kling: SECONDARY prices. Kling bills prepaid units ($0.14 a unit); these are the per-second unit prices
converted in inference-sh/grid api/klingai/pricing.md ("Kling AI Official Pricing"), not read from
klingai.com. Audio on (Kling's `sound: on`) is the price; `video_only` is sound off."""

from __future__ import annotations

from tests.catalog.prices.published import (
    LANDSCAPE_PORTRAIT_4K,
    LANDSCAPE_PORTRAIT_720,
    LANDSCAPE_PORTRAIT_1080,
    Published,
    at,
)

SOURCE = "inference-sh/grid api/klingai/pricing.md (secondary; 1 unit = $0.14)"
SQUARE_720, SQUARE_1080, SQUARE_4K = ("960x960",), ("1440x1440",), ("2880x2880",)
STD, PRO, UHD = (
    (LANDSCAPE_PORTRAIT_720, SQUARE_720),
    (LANDSCAPE_PORTRAIT_1080, SQUARE_1080),
    (LANDSCAPE_PORTRAIT_4K, SQUARE_4K),
)

PRICES: dict[str, Published] = {
    "kling/kling-v3-0": Published(
        {**at("0.126", *STD), **at("0.168", *PRO), **at("0.42", *UHD)},
        f"{SOURCE}: V3.0 std 0.9 / pro 1.2 / 4k 3.0 units per second with audio; 0.6 / 0.8 / 3.0 without",
        video_only={**at("0.084", *STD), **at("0.112", *PRO), **at("0.42", *UHD)},
    ),
    "kling/kling-v3-omni": Published(
        {**at("0.112", *STD), **at("0.14", *PRO), **at("0.42", *UHD)},
        f"{SOURCE}: Video-3O (no video input) std 0.8 / pro 1.0 / 4k 3.0 units per second with audio; "
        "0.6 / 0.8 / 3.0 without; with a video input std 0.9 / pro 1.2 (no audio), 4k 3.0 (not split)",
        video_only={**at("0.084", *STD), **at("0.112", *PRO), **at("0.42", *UHD)},
        with_video={**at("0.126", *STD), **at("0.168", *PRO), **at("0.42", *UHD)},
    ),
    "kling/kling-v2-6": Published(
        at("0.14", *PRO),
        f"{SOURCE}: V2.6 pro 5 units per 5 s clip with audio, 2.5 units without",
        video_only=at("0.07", *PRO),
    ),
}
