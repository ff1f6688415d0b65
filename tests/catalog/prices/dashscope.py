"""Alibaba Model Studio (DashScope) Wan and HappyHorse, international per-second prices by resolution."""

from __future__ import annotations

from tests.catalog.prices.published import Published, at

ALIYUN = "help.aliyun.com Model Studio pricing (updated 2026-10-12), via field-2026-12.md section 4.2"
P480 = ("832x480", "480x832", "624x624")
P720 = ("1280x720", "720x1280", "960x960", "1088x832", "832x1088")
P1080 = ("1920x1080", "1080x1920", "1440x1440", "1632x1248", "1248x1632")
HAPPYHORSE = (
    "SECONDARY: field-2026-12.md section 4.2 gives only the range $0.165-0.22/s for HappyHorse 1.0/1.1; "
    "read as 720p 0.165 and 1080p 0.22"
)


def _wan27() -> Published:
    return Published({**at("0.086", P720), **at("0.143", P1080)}, f"{ALIYUN}: 720p 0.086, 1080p 0.143")


def _happyhorse() -> Published:
    return Published({**at("0.165", P720), **at("0.22", P1080)}, HAPPYHORSE)


PRICES: dict[str, Published] = {
    "dashscope/wan2.7-t2v": _wan27(),
    "dashscope/wan2.7-i2v": _wan27(),
    "dashscope/wan2.7-r2v": _wan27(),
    "dashscope/wan3.0-video": Published(
        {**at("0.041", P480), **at("0.165", P1080)}, f"{ALIYUN}: 480p 0.041, base 0.165 (read as 1080p)"
    ),
    "dashscope/wan3.0-video-prime": Published(at("0.254", P1080), f"{ALIYUN}: 0.254"),
    **{
        f"dashscope/happyhorse-{version}-{kind}": _happyhorse()
        for version in ("1.0", "1.1")
        for kind in ("t2v", "i2v", "r2v")
    },
}
