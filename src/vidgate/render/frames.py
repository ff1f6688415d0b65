"""Frame composition: a scrolling diagonal gradient, moving orbs, the prompt card, timecode and progress.

Everything static is prepared once in ``Composer.__init__``; ``frame(i)`` only copies a strided view of
a 1-D colour ramp (the gradient: row ``y`` is the ramp shifted by ``y``, so no full-frame array is
precomputed) and blends small rectangles. Integer maths only, so frames are identical on every run.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided
from PIL import Image, ImageOps

from vidgate.render.layers import U8, Glyphs, Patch, box, text_panel
from vidgate.render.look import RGB, Look, Orb, derive_look
from vidgate.render.spec import RenderSpec

TIMECODE_CHARS = "0123456789:./ "
IMAGE_HOLD_SECONDS = 1.0  # an input image is the whole background this long...
IMAGE_FADE_SECONDS = 0.5  # ...then cross-fades into the gradient


def _ramp(look: Look, period: int) -> U8:
    """One gradient period: the look's colour stops, cycled with cosine easing, ``period`` pixels long."""
    stops = np.array(look.stops, dtype=np.float64)
    n = len(stops)
    pos = np.arange(period, dtype=np.float64) * n / period
    idx = np.floor(pos).astype(np.int64)
    frac = pos - idx
    ease = (1 - np.cos(np.pi * frac)) / 2
    a, b = stops[idx % n], stops[(idx + 1) % n]
    return np.rint(a + (b - a) * ease[:, None]).astype(np.uint8)


def _disc(radius: int, color: RGB) -> Patch:
    """An anti-aliased disc with a soft rim, as a patch whose (x, y) is set when blended."""
    side = 2 * radius + 2
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float64)
    dist = np.hypot(xx - side / 2 + 0.5, yy - side / 2 + 0.5)
    alpha = np.clip(radius - dist + 0.5, 0.0, 1.0) * np.clip(1.15 - 0.5 * dist / radius, 0.0, 1.0)
    rgba = np.empty((side, side, 4), dtype=np.uint8)
    rgba[..., :3] = color
    rgba[..., 3] = np.rint(alpha * 255).astype(np.uint8)
    return Patch.from_rgba(0, 0, rgba)


def fit_image(data: bytes, width: int, height: int) -> U8:
    """Decode PNG/JPEG/WebP bytes and scale-and-centre-crop them to exactly width x height (RGB)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            rgb = ImageOps.exif_transpose(img).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(f"RenderSpec.image is not a decodable PNG/JPEG/WebP image: {exc}") from exc
    fitted = ImageOps.fit(rgb, (width, height), method=Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(fitted, dtype=np.uint8))


@dataclass(frozen=True)
class _Mover:
    orb: Orb
    patch: Patch
    radius: int


class Composer:
    """Draws frame ``i`` of a spec into one reused buffer (copy it if you keep it)."""

    def __init__(self, spec: RenderSpec) -> None:
        self.spec = spec
        w, h = spec.width, spec.height
        self.look = look = derive_look(spec.prompt, spec.seed)
        self.period = max(8, round(look.band_period * math.hypot(w, h)))
        ramp = _ramp(look, self.period)
        reps = math.ceil((w + h + self.period) / self.period) + 1
        self._ramp = np.ascontiguousarray(np.tile(ramp, (reps, 1)))
        self._buf = np.empty((h, w, 3), dtype=np.uint8)
        short = min(w, h)
        self._movers = [
            _Mover(orb, _disc(r, orb.color), r) for orb in look.orbs for r in [max(2, round(orb.radius * short))]
        ]
        caption = f"{w}x{h} · {spec.seconds}s · {spec.fps} fps · seed {spec.seed}"
        self._panel = text_panel(spec.prompt, caption, w, h)
        margin = max(3, round(short * 0.04))
        bar_h = max(3, round(short / 90))
        self._bar = (margin, h - margin - bar_h, w - 2 * margin, bar_h)
        self._track = Patch.from_rgba(margin, h - margin - bar_h, box(w - 2 * margin, bar_h, (0, 0, 0, 110)))
        self._glyphs = Glyphs(max(7, round(short / 24)), TIMECODE_CHARS)
        total = self._timecode(spec.frame_count)
        pad = max(2, self._glyphs.height // 6)
        tc_w, tc_h = self._glyphs.width_of(total) + 2 * pad, self._glyphs.height + pad
        tc_y = self._bar[1] - pad - tc_h
        self._tc_origin = (margin + pad, tc_y + pad // 2)
        self._tc_box = Patch.from_rgba(margin, tc_y, box(tc_w, tc_h, (0, 0, 0, 130)))
        self._image = fit_image(spec.image, w, h) if spec.image is not None else None

    def _timecode(self, index: int) -> str:
        fps = self.spec.fps
        now = f"{index // fps // 60:02d}:{index // fps % 60:02d}.{index % fps * 100 // fps:02d}"
        end = f"{self.spec.seconds // 60:02d}:{self.spec.seconds % 60:02d}.00"
        return f"{now} / {end}"

    def _background(self, t: float) -> None:
        w, h = self.spec.width, self.spec.height
        shift = math.floor(t * self.look.scroll_speed * self.period) % self.period
        ramp = self._ramp[shift:]
        # Row y of the view starts y pixels further along the ramp: 45° bands, no per-frame maths.
        view = as_strided(ramp, shape=(h, w, 3), strides=(ramp.strides[0], ramp.strides[0], ramp.strides[1]))
        np.copyto(self._buf, view)
        if self._image is not None and t < IMAGE_HOLD_SECONDS + IMAGE_FADE_SECONDS:
            if t < IMAGE_HOLD_SECONDS:
                np.copyto(self._buf, self._image)
            else:
                weight = round(256 * (t - IMAGE_HOLD_SECONDS) / IMAGE_FADE_SECONDS)
                mixed = self._buf * np.uint16(weight)
                mixed += self._image * np.uint16(256 - weight)
                mixed >>= 8
                self._buf[...] = mixed

    def frame(self, index: int) -> U8:
        spec = self.spec
        w, h = spec.width, spec.height
        t = index / spec.fps
        self._background(t)
        for mover in self._movers:
            orb, r = mover.orb, mover.radius
            cx = w * (0.5 + 0.42 * math.sin(2 * math.pi * (orb.freq_x * t + orb.phase_x)))
            cy = h * (0.5 + 0.40 * math.sin(2 * math.pi * (orb.freq_y * t + orb.phase_y)))
            Patch(round(cx) - r - 1, round(cy) - r - 1, mover.patch.fg, mover.patch.inv).blend(self._buf)
        self._panel.blend(self._buf)
        self._tc_box.blend(self._buf)
        self._glyphs.draw(self._buf, *self._tc_origin, self._timecode(index))
        self._track.blend(self._buf)
        bx, by, bw, bh = self._bar
        filled = round(bw * (index + 1) / spec.frame_count)
        self._buf[by : by + bh, bx : bx + filled] = self.look.accent
        return self._buf
