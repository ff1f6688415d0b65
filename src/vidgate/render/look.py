"""A video's look (palette and motion), drawn deterministically from a hash of prompt and seed.

Hues are spread round the colour wheel from one base hue, so two prompts almost always differ at a
glance; every motion parameter comes from the same hash, so the same prompt and seed move the same way.
"""

from __future__ import annotations

import colorsys
import hashlib
import random
from dataclasses import dataclass

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Orb:
    """A disc moving on a Lissajous path (positions and radius as fractions of the frame)."""

    color: RGB
    radius: float  # fraction of the frame's shorter side
    freq_x: float  # cycles per second
    freq_y: float
    phase_x: float
    phase_y: float


@dataclass(frozen=True)
class Look:
    stops: tuple[RGB, ...]  # background gradient colours, cycled
    band_period: float  # gradient period as a fraction of the frame diagonal
    scroll_speed: float  # gradient periods scrolling past per second (sign = direction)
    orbs: tuple[Orb, ...]
    accent: RGB  # progress bar


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


def derive_look(prompt: str, seed: int) -> Look:
    digest = hashlib.sha256(f"{seed}\0{prompt}".encode("utf-8", "surrogatepass")).digest()
    rng = random.Random(int.from_bytes(digest, "big"))
    base = rng.random()
    spread = rng.uniform(0.08, 0.22)
    stops = (
        _hsv(base, rng.uniform(0.55, 0.85), rng.uniform(0.30, 0.45)),
        _hsv(base + spread, rng.uniform(0.60, 0.90), rng.uniform(0.55, 0.75)),
        _hsv(base + 2 * spread, rng.uniform(0.50, 0.80), rng.uniform(0.35, 0.55)),
    )
    orbs = tuple(
        Orb(
            color=_hsv(base + 0.5 + rng.uniform(-0.15, 0.15), rng.uniform(0.55, 0.9), rng.uniform(0.85, 1.0)),
            radius=rng.uniform(0.07, 0.14),
            freq_x=rng.uniform(0.12, 0.3) * rng.choice((1, -1)),
            freq_y=rng.uniform(0.15, 0.4) * rng.choice((1, -1)),
            phase_x=rng.uniform(0, 1),
            phase_y=rng.uniform(0, 1),
        )
        for _ in range(rng.randint(3, 5))
    )
    return Look(
        stops=stops,
        band_period=rng.uniform(0.45, 0.8),
        scroll_speed=rng.uniform(0.12, 0.25) * rng.choice((1, -1)),
        orbs=orbs,
        accent=_hsv(base + 0.5, 0.35, 1.0),
    )
