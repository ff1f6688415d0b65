"""Veo on the Gemini API: audio is always on, so there is one price per size."""

from __future__ import annotations

from tests.catalog.prices.published import (
    LANDSCAPE_PORTRAIT_4K,
    LANDSCAPE_PORTRAIT_720,
    LANDSCAPE_PORTRAIT_1080,
    Published,
    at,
)

GEMINI_PAGE = "Gemini API pricing page (capture of 2026-09-24), via provider-wire-formats.md section 6"

LITELLM_GA = (
    "LiteLLM model map (secondary; no Google page confirms the Gemini API -001 ids), field-2026-12 §4.1"
)

# Gemini Omni is billed per output token; the reservation is 5,792 tokens per second of video (one
# secondary source), so the per-second upper bound is 5,792 x the token price: $12/1M (1.2) -> 0.069504,
# $17.50/1M (1.1, preview) -> 0.10136 (LiteLLM's map, secondary; field-2026-12.md §4.1).
OMNI_SOURCE = "LiteLLM map token price x ~5,792 tokens/s (secondary), field-2026-12.md §4.1"
OMNI_360 = ("640x360", "360x640")

PRICES: dict[str, Published] = {
    "gemini/gemini-omni-1.2-flash": Published(
        at("0.069504", OMNI_360, LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080, LANDSCAPE_PORTRAIT_4K),
        f"{OMNI_SOURCE}: $12/1M tokens",
    ),
    "gemini/gemini-omni-1.1-flash": Published(
        at("0.10136", OMNI_360, LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080, LANDSCAPE_PORTRAIT_4K),
        f"{OMNI_SOURCE}: $17.50/1M tokens",
    ),
    "gemini/gemini-omni-flash-preview": Published(
        at("0.10136", LANDSCAPE_PORTRAIT_720), f"{OMNI_SOURCE}: $17.50/1M tokens; 720p only"
    ),
    "gemini/veo-3.1-generate-001": Published(
        {**at("0.40", LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080), **at("0.60", LANDSCAPE_PORTRAIT_4K)},
        f"{LITELLM_GA}: gemini/veo-3.1-generate-001 0.40, 4k 0.60",
    ),
    "gemini/veo-3.1-fast-generate-001": Published(
        {
            **at("0.10", LANDSCAPE_PORTRAIT_720),
            **at("0.12", LANDSCAPE_PORTRAIT_1080),
            **at("0.30", LANDSCAPE_PORTRAIT_4K),
        },
        f"{LITELLM_GA}: gemini/veo-3.1-fast-generate-001 0.10, 1080p 0.12, 4k 0.30",
    ),
    "gemini/veo-2.0-generate-001": Published(
        at("0.35", LANDSCAPE_PORTRAIT_720), "LiteLLM 1.79.0 gemini/veo-2.0-generate-001 0.35"
    ),
    "gemini/veo-3.0-generate-preview": Published(
        at("0.75", ("1280x720",)),
        "LiteLLM 1.79.0 veo-3.0-generate-preview 0.75 (launch price; landscape only)",
    ),
    "gemini/veo-3.0-generate-001": Published(
        at("0.40", LANDSCAPE_PORTRAIT_720, ("1920x1080",)), "LiteLLM veo-3.0-generate-001 0.40 with audio"
    ),
    "gemini/veo-3.0-fast-generate-001": Published(
        at("0.15", LANDSCAPE_PORTRAIT_720, ("1920x1080",)),
        "veo-3.0-fast-generate-001 0.15 at launch (LiteLLM)",
    ),
    "gemini/veo-3.1-generate-preview": Published(
        {**at("0.40", LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080), **at("0.60", LANDSCAPE_PORTRAIT_4K)},
        f"{GEMINI_PAGE}: 0.40, 4k 0.60; LiteLLM gemini/veo-3.1-generate-preview",
    ),
    "gemini/veo-3.1-fast-generate-preview": Published(
        {
            **at("0.10", LANDSCAPE_PORTRAIT_720),
            **at("0.12", LANDSCAPE_PORTRAIT_1080),
            **at("0.30", LANDSCAPE_PORTRAIT_4K),
        },
        f"{GEMINI_PAGE}: 720p 0.10, 1080p 0.12, 4k 0.30; LiteLLM gemini/veo-3.1-fast-generate-preview",
    ),
    "gemini/veo-3.1-lite-generate-preview": Published(
        {**at("0.05", LANDSCAPE_PORTRAIT_720), **at("0.08", LANDSCAPE_PORTRAIT_1080)},
        f"{GEMINI_PAGE}: 720p 0.05, 1080p 0.08 (no 4k); LiteLLM",
    ),
}
