"""Black Forest Labs FLUX 3 video, per second of output by resolution. ASSUMED figures, not published:
BFL prices in credits (1 credit = $0.01) per second by resolution, but no stored source gives FLUX 3
video's per-second credits; hd 10 credits/s and fhd 20 credits/s are the catalogue's assumption."""

from __future__ import annotations

from tests.catalog.prices.published import Published, at

ASSUMED = "ASSUMPTION (no BFL figure found): 1 credit = $0.01, hd 10 credits/s, fhd 20 credits/s"
HD = ("1680x720", "1440x720", "1280x720", "960x720", "720x720", "720x960", "720x1280")
FHD = ("2520x1080", "2160x1080", "1920x1080", "1440x1080", "1080x1080", "1080x1440", "1080x1920")

PRICES: dict[str, Published] = {
    "bfl/flux-3-video": Published({**at("0.10", HD), **at("0.20", FHD)}, f"{ASSUMED}: hd 0.10, fhd 0.20"),
}
