"""MiniMax Hailuo H3 (V2 API): per-second prices from ../shared/reference/field-2026-12.md §4.2 (MiniMax
row). The $0.04 per input image of H3 is a per-request surcharge (checked in the gateway test)."""

from __future__ import annotations

from tests.catalog.prices.published import Published, at

SOURCE = "field-2026-12.md section 4.2, MiniMax (Hailuo 03 = H3) row"
P768, P2K, P480 = ("1366x768", "768x1366"), ("2560x1440", "1440x2560"), ("854x480", "480x854")

PRICES: dict[str, Published] = {
    "minimax/MiniMax-H3": Published(
        {**at("0.08", P768), **at("0.13", P2K)}, f"{SOURCE}: H3 $0.08 (2K $0.13)"
    ),
    "minimax/MiniMax-H3-Max": Published(
        {**at("0.08", P768), **at("0.05", P480)}, f"{SOURCE}: H3-Max $0.08 (480p $0.05)"
    ),
}
