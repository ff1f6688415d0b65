"""The local renderer: no provider bills it (an operator may price a deployment with an override)."""

from __future__ import annotations

from tests.catalog.prices.published import Published, at

LOCAL_SIZES = ("1280x720", "720x1280", "1920x1080", "1080x1920", "640x360", "360x640", "320x180", "480x480")

PRICES: dict[str, Published] = {
    "local/local-1": Published(at("0", LOCAL_SIZES), "vidgate's own renderer on this machine: free"),
}
