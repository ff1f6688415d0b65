"""Azure OpenAI Sora 2 (no 1080p tier on Azure)."""

from __future__ import annotations

from tests.catalog.prices.published import LANDSCAPE_PORTRAIT_720, SORA_1024, Published, at

SOURCE = (
    "LiteLLM price map azure/sora-2* (0.10 / 0.30 / high-res 0.50), via provider-wire-formats.md section 6"
)

PRICES: dict[str, Published] = {
    "azure/sora-2": Published(at("0.10", LANDSCAPE_PORTRAIT_720), SOURCE),
    "azure/sora-2-pro": Published({**at("0.30", LANDSCAPE_PORTRAIT_720), **at("0.50", SORA_1024)}, SOURCE),
}
