"""Seedance on BytePlus ModelArk: USD per million output tokens, so the per-second upper bound is the
reservation's tokens per second x the token price (bounds: 480p 10,150, 720p 21,830, 1080p 49,110 tokens
per second; 24.25 frames per second over the largest size of each tier, width x height / 1024 per frame,
rounded up to a multiple of 10).

2.0: $7.0/1M at 480p/720p -> 0.07105 (480p), 0.15281 (720p); $7.7/1M at 1080p -> 0.378147.
2.0 fast: $5.6/1M -> 0.05684, 0.122248. 2.0 mini: $3.5/1M -> 0.035525, 0.076405.
"""

from __future__ import annotations

from tests.catalog.prices.published import LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080, Published, at

SOURCE = "LiteLLM public code (BerriAI/litellm test_byteplus_video_billing.py, unreleased; secondary)"
P480 = ("864x496", "496x864", "640x640")
P720 = (*LANDSCAPE_PORTRAIT_720, "960x960")

PRICES: dict[str, Published] = {
    "byteplus/dreamina-seedance-2-0-260128": Published(
        {**at("0.07105", P480), **at("0.15281", P720), **at("0.378147", LANDSCAPE_PORTRAIT_1080)},
        f"{SOURCE}: $7.0/1M tokens up to 720p, $7.7/1M at 1080p",
    ),
    "byteplus/dreamina-seedance-2-0-fast-260128": Published(
        {**at("0.05684", P480), **at("0.122248", P720)}, f"{SOURCE}: $5.6/1M tokens"
    ),
    "byteplus/dreamina-seedance-2-0-mini-260615": Published(
        {**at("0.035525", P480), **at("0.076405", P720)}, f"{SOURCE}: $3.5/1M tokens"
    ),
}
