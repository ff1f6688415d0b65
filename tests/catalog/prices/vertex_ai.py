"""Veo on Vertex AI: a price with audio and a lower video-only price when ``generateAudio`` is false.

The video-only split comes from third-party code mirroring the Vertex pricing page, not a primary
capture (provider-wire-formats.md section 6 footnote). That footnote also gives Veo 3.1 Fast 4k as
0.35 with audio; the section's table row (Gemini pricing page, LiteLLM) gives 0.30, written here.
"""

from __future__ import annotations

from tests.catalog.prices.published import (
    LANDSCAPE_PORTRAIT_4K,
    LANDSCAPE_PORTRAIT_720,
    LANDSCAPE_PORTRAIT_1080,
    Published,
    at,
)

SPLIT = "video-only split: third-party mirror of the Vertex pricing page"

# Gemini Omni is billed per output token; the reservation is 5,792 tokens per second of video (one
# secondary source), so the per-second upper bound is 5,792 x the token price: $12/1M (1.2) -> 0.069504,
# $17.50/1M (1.1, preview) -> 0.10136 (LiteLLM's map, secondary; field-2026-12.md §4.1).
OMNI_SOURCE = "LiteLLM map token price x ~5,792 tokens/s (secondary), field-2026-12.md §4.1"
OMNI_360 = ("640x360", "360x640")

PRICES: dict[str, Published] = {
    "vertex_ai/gemini-omni-1.2-flash": Published(
        at("0.069504", OMNI_360, LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080, LANDSCAPE_PORTRAIT_4K),
        f"{OMNI_SOURCE}: $12/1M tokens",
    ),
    "vertex_ai/gemini-omni-1.1-flash": Published(
        at("0.10136", OMNI_360, LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080, LANDSCAPE_PORTRAIT_4K),
        f"{OMNI_SOURCE}: $17.50/1M tokens",
    ),
    "vertex_ai/gemini-omni-flash-preview": Published(
        at("0.10136", LANDSCAPE_PORTRAIT_720), f"{OMNI_SOURCE}: $17.50/1M tokens; 720p only"
    ),
    "vertex_ai/veo-2.0-generate-001": Published(
        at("0.50", LANDSCAPE_PORTRAIT_720), "LiteLLM 1.109.1 vertex_ai/veo-2.0-generate-001 0.50 (no audio)"
    ),
    "vertex_ai/veo-3.0-generate-001": Published(
        at("0.40", LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080),
        f"LiteLLM vertex_ai/veo-3.0-generate-001 0.40; {SPLIT} 0.20",
        video_only=at("0.20", LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080),
    ),
    "vertex_ai/veo-3.0-fast-generate-001": Published(
        {**at("0.10", LANDSCAPE_PORTRAIT_720), **at("0.12", LANDSCAPE_PORTRAIT_1080)},
        f"LiteLLM 1.109.1 vertex_ai/veo-3.0-fast-generate-001 720p 0.10, 1080p 0.12; {SPLIT} 0.10",
        video_only=at("0.10", LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080),
    ),
    "vertex_ai/veo-3.1-generate-001": Published(
        {**at("0.40", LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080), **at("0.60", LANDSCAPE_PORTRAIT_4K)},
        f"Gemini pricing page (2026-09-24) and LiteLLM for veo-3.1-generate-*; {SPLIT} 0.20, 4k 0.40",
        video_only={
            **at("0.20", LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080),
            **at("0.40", LANDSCAPE_PORTRAIT_4K),
        },
    ),
    "vertex_ai/veo-3.1-fast-generate-001": Published(
        {
            **at("0.10", LANDSCAPE_PORTRAIT_720),
            **at("0.12", LANDSCAPE_PORTRAIT_1080),
            **at("0.30", LANDSCAPE_PORTRAIT_4K),
        },
        f"Gemini pricing page (2026-09-24) and LiteLLM for veo-3.1-fast-*; {SPLIT} 0.10, 4k 0.30",
        video_only={
            **at("0.10", LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080),
            **at("0.30", LANDSCAPE_PORTRAIT_4K),
        },
    ),
    "vertex_ai/veo-3.1-lite-generate-001": Published(
        {**at("0.05", LANDSCAPE_PORTRAIT_720), **at("0.08", LANDSCAPE_PORTRAIT_1080)},
        "field-2026-12.md §4.1 (Vertex GA ids): veo-3.1-lite-generate-001 $0.05, 1080p $0.08; no 4k",
    ),
}
