"""Runway's developer API: credits per second at $0.01 a credit. Runway's own models from its pricing
page; the resold models (Veo, Seedance, Gemini Omni Flash, Hailuo 3) from the same capture, a secondary
source."""

from __future__ import annotations

from tests.catalog.prices.published import LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080, Published, at

PAGE = "docs.dev.runwayml.com/guides/pricing, as captured in field-2026-12.md section 4.3"
RESOLD = f"{PAGE} (resold model: SECONDARY, not re-checked against Runway's page)"
GEN4_RATIOS = ("1280x720", "720x1280", "1104x832", "960x960", "832x1104", "1584x672")
SEEDANCE_720 = ("1280x720", "720x1280", "1470x630", "1112x834", "960x960", "834x1112")

PRICES: dict[str, Published] = {
    "runway/gen4.5": Published(at("0.12", GEN4_RATIOS), f"{PAGE}: gen4.5 12 credits/s"),
    "runway/aleph2": Published(
        at("0.28", GEN4_RATIOS, LANDSCAPE_PORTRAIT_1080), f"{PAGE}: aleph2 (video-to-video) $0.28/s, one rate"
    ),
    "runway/gen4_turbo": Published(at("0.05", GEN4_RATIOS), f"{PAGE}: gen4_turbo 5 credits/s"),
    "runway/veo3.1": Published(
        at("0.40", LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080),
        f"{RESOLD}: veo3.1 40 credits/s with audio (no rate without audio published)",
    ),
    "runway/veo3.1_fast": Published(
        at("0.15", LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080),
        f"{RESOLD}: veo3.1_fast 15 credits/s with audio, 10 without; provider-wire-formats.md section 6",
        video_only=at("0.10", LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080),
    ),
    "runway/seedance2": Published(at("0.36", SEEDANCE_720), f"{RESOLD}: seedance2 $0.36/s"),
    "runway/seedance2_5": Published(at("0.30", SEEDANCE_720), f"{RESOLD}: seedance2_5 $0.30/s"),
    "runway/seedance2_fast": Published(at("0.29", SEEDANCE_720), f"{RESOLD}: seedance2_fast $0.29/s"),
    "runway/seedance2_mini": Published(at("0.16", SEEDANCE_720), f"{RESOLD}: seedance2_mini $0.16/s"),
    "runway/gemini_omni_flash": Published(
        at("0.10", LANDSCAPE_PORTRAIT_720), f"{RESOLD}: gemini_omni_flash $0.10/s"
    ),
    "runway/hailuo3": Published(
        at("0.10", ("1366x768", "768x1366")), f"{RESOLD}: hailuo3 $0.10/s (read as the 768p price)"
    ),
}
