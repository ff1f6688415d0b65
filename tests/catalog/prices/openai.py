"""OpenAI Sora 2, standard (not Batch) prices."""

from __future__ import annotations

from tests.catalog.prices.published import LANDSCAPE_PORTRAIT_720, SORA_1024, Published, at

OPENAI_PAGE = "OpenAI API pricing page (capture of 2026-08-02), via provider-wire-formats.md section 6"

PRICES: dict[str, Published] = {
    "openai/sora-2": Published(at("0.10", LANDSCAPE_PORTRAIT_720), f"{OPENAI_PAGE}; LiteLLM sora-2 0.10"),
    "openai/sora-2-pro": Published(
        {
            **at("0.30", LANDSCAPE_PORTRAIT_720),
            **at("0.50", SORA_1024),
            **at("0.70", ("1920x1080", "1080x1920")),
        },
        f"{OPENAI_PAGE}: 720p 0.30, 1024p 0.50, 1080p 0.70 (1080p added 2026-03, not in LiteLLM)",
    ),
}
