"""The aspect ratio a catalogue size stands for, by name (``"16:9"``), and the sizes of a row by
(resolution tier, aspect ratio): what the OpenRouter-style ``resolution`` + ``aspect_ratio`` pair and
the capabilities endpoint are read against.

Pixel sizes are rounded by providers (``848x480``, ``854x480``, ``1366x768`` and Seedance's
``864x496`` are all called 16:9), so a size is named by the common ratio within 3 % (the closest two,
16:9 and 5:3 or 4:5 and 3:4, are 6.7 % apart, so at most one is that near); any other size by its
reduced fraction (``"5:3"``), never by a guess.
"""

from __future__ import annotations

from math import gcd

from vidgate.catalog.spec import ModelSpec

COMMON_RATIOS: tuple[tuple[int, int], ...] = (
    (16, 9),
    (9, 16),
    (1, 1),
    (4, 3),
    (3, 4),
    (3, 2),
    (2, 3),
    (21, 9),
    (9, 21),
    (4, 5),
    (5, 4),
)
_TOLERANCE = 0.03


def ratio_of(size: str) -> str | None:
    """``"1280x720"`` -> ``"16:9"``; None for a string that is not ``WxH`` with positive sides."""
    parts = size.lower().split("x")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and 0 < len(p) <= 6 for p in parts):
        return None
    width, height = int(parts[0]), int(parts[1])
    if width == 0 or height == 0:
        return None
    value = width / height
    for w, h in COMMON_RATIOS:
        if abs(value / (w / h) - 1) <= _TOLERANCE:
            return f"{w}:{h}"
    div = gcd(width, height)
    return f"{width // div}:{height // div}"


def ratios(spec: ModelSpec) -> list[str]:
    """The row's aspect ratios, in the order of its sizes (the default size's first)."""
    out: list[str] = []
    for size in [spec.default_size, *spec.sizes]:
        ratio = ratio_of(size)
        if ratio is not None and ratio not in out:
            out.append(ratio)
    return out


def sizes_for(spec: ModelSpec, *, resolution: str | None, ratio: str | None) -> list[str]:
    """The row's sizes at ``resolution`` (a tier, e.g. ``"720p"``) with ``ratio`` (None: any), the
    default size first when it qualifies."""
    ordered = [spec.default_size, *(s for s in spec.sizes if s != spec.default_size)]
    return [
        size
        for size in ordered
        if size in spec.sizes
        and (resolution is None or spec.sizes[size] == resolution)
        and (ratio is None or ratio_of(size) == ratio)
    ]
