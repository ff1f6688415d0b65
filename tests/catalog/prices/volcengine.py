"""Seedance on Volcengine Ark: LiteLLM 1.110.2's per-second conversion of Ark's CNY token prices."""

from __future__ import annotations

from tests.catalog.prices.published import LANDSCAPE_PORTRAIT_720, LANDSCAPE_PORTRAIT_1080, Published, at

SOURCE = "field-2026-12.md section 4.2 (LiteLLM 1.110.2 price map, secondary and uncertain: Ark bills tokens)"
P480 = ("864x496", "496x864", "640x640")
P720 = (*LANDSCAPE_PORTRAIT_720, "960x960")
P4K = ("3840x2160", "2160x3840")

PRICES: dict[str, Published] = {
    "volcengine/doubao-seedance-2-0-260128": Published(
        {
            **at("0.066", P480),
            **at("0.142", P720),
            **at("0.354", LANDSCAPE_PORTRAIT_1080),
            **at("0.722", P4K),
        },
        f"{SOURCE}: 480p 0.066, 720p 0.142, 1080p 0.354, 4k 0.722",
    ),
    "volcengine/doubao-seedance-2-5-260628": Published(
        {**at("0.216", P720), **at("0.535", LANDSCAPE_PORTRAIT_1080)},
        f"{SOURCE}: 720p 0.216, 1080p 0.535",
    ),
}
