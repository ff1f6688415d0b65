"""Frame composition: a scrolling diagonal gradient, moving orbs, the prompt card, timecode and progress.

Everything static is prepared once in ``Composer.__init__``; ``frame(i)`` only copies strided views of
1-D colour ramps (the gradient: row ``y`` is the ramp shifted by ``y``, so no full-frame array is
precomputed) and blends small rectangles, straight into yuv420p planes. Per-frame work is integer
maths only, so frames are identical on every run.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import as_strided
from PIL import Image, ImageOps

from vidgate.render.color import half, rgb_to_yuv, yuv_u8
from vidgate.render.layers import U8, Glyphs, Patch, Planes, box, text_panel
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


_UNDECODABLE = (OSError, ValueError, Image.DecompressionBombError)


def fit_image(data: bytes, width: int, height: int) -> U8:
    """Decode PNG/JPEG/WebP bytes and scale-and-centre-crop them to exactly width x height (RGB)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            rgb = ImageOps.exif_transpose(img).convert("RGB")
    except _UNDECODABLE as exc:
        raise ValueError(f"RenderSpec.image is not a decodable PNG/JPEG/WebP image: {exc}") from exc
    fitted = ImageOps.fit(rgb, (width, height), method=Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(fitted, dtype=np.uint8))


def check_image(data: bytes) -> None:
    """Raise ValueError where ``fit_image`` would, at less cost: so a first frame whose headers pass
    (``Image.verify`` decodes no JPEG data, nor the pixels of a PNG) is refused before its job exists.

    A JPEG decodes at an eighth of its scale (``draft``): libjpeg still reads the whole entropy-coded
    stream, so truncation or corruption fails as in the full decode, for a 64th of the pixels. PNG and
    WebP have no reduced decode and load whole, bounded as in ``fit_image`` by Pillow's
    decompression-bomb limit (refused at ``open``)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format in ("JPEG", "MPO"):  # MPO: a JPEG with more pictures after the first
                img.draft(None, (1, 1))
            img.load()
            ImageOps.exif_transpose(img, in_place=True)
    except _UNDECODABLE as exc:
        raise ValueError(f"not a decodable PNG/JPEG/WebP image: {exc}") from exc


@dataclass(frozen=True)
class _Mover:
    orb: Orb
    patch: Patch
    radius: int


def _even(value: float) -> int:
    return 2 * round(value / 2)


class Composer:
    """Draws frame ``i`` of a spec into one reused yuv420p buffer (copy it if you keep it)."""

    def __init__(self, spec: RenderSpec) -> None:
        self.spec = spec
        w, h = spec.width, spec.height
        self.look = look = derive_look(spec.prompt, spec.seed)
        self.period = max(8, _even(look.band_period * math.hypot(w, h)))
        reps = math.ceil((w + h + self.period) / self.period) + 1
        ramp = np.tile(rgb_to_yuv(_ramp(look, self.period)), (reps, 1))
        self._ramp_y = np.ascontiguousarray(np.clip(np.rint(ramp[:, 0]), 0, 255).astype(np.uint8))
        # Chroma pixel (j, i) sits on luma (2j, 2i): its ramp is the full one sampled every other pixel.
        self._ramp_u = np.ascontiguousarray(np.clip(np.rint(ramp[::2, 1]), 0, 255).astype(np.uint8))
        self._ramp_v = np.ascontiguousarray(np.clip(np.rint(ramp[::2, 2]), 0, 255).astype(np.uint8))
        self.planes = Planes(w, h)
        short = min(w, h)
        self._movers = [
            _Mover(orb, _disc(r, orb.color), r)
            for orb in look.orbs
            for r in [max(2, round(orb.radius * short))]
        ]
        caption = f"{w}x{h} · {spec.seconds}s · {spec.fps} fps · seed {spec.seed}"
        self._panel = text_panel(spec.prompt, caption, w, h)
        margin = max(2, _even(short * 0.04))
        bar_h = max(2, _even(short / 90))
        self._bar = (margin, h - margin - bar_h, w - 2 * margin, bar_h)
        self._accent = yuv_u8(look.accent)
        self._track = Patch.from_rgba(margin, h - margin - bar_h, box(w - 2 * margin, bar_h, (0, 0, 0, 110)))
        self._glyphs = Glyphs(max(7, round(short / 24)), TIMECODE_CHARS)
        total = self._timecode(spec.frame_count)
        pad = max(2, _even(self._glyphs.height / 6))
        tc_w, tc_h = self._glyphs.width_of(total) + 2 * pad, self._glyphs.height + pad
        tc_y = self._bar[1] - pad - tc_h
        self._tc_origin = (margin + pad, tc_y + pad // 2)
        self._tc_box = Patch.from_rgba(margin, tc_y, box(tc_w, tc_h, (0, 0, 0, 130)))
        self._image = _image_planes(fit_image(spec.image, w, h)) if spec.image is not None else None

    def _timecode(self, index: int) -> str:
        fps = self.spec.fps
        now = f"{index // fps // 60:02d}:{index // fps % 60:02d}.{index % fps * 100 // fps:02d}"
        end = f"{self.spec.seconds // 60:02d}:{self.spec.seconds % 60:02d}.00"
        return f"{now} / {end}"

    def _background(self, t: float) -> None:
        planes = self.planes
        shift = _even(math.floor(t * self.look.scroll_speed * self.period)) % self.period
        # Row y of each view starts y pixels further along its ramp: 45° bands, no per-frame maths.
        for plane, ramp in ((planes.y, self._ramp_y[shift:]), (planes.u, self._ramp_u[shift // 2 :])):
            np.copyto(plane, as_strided(ramp, shape=plane.shape, strides=(ramp.strides[0], ramp.strides[0])))
        ramp_v = self._ramp_v[shift // 2 :]
        np.copyto(planes.v, as_strided(ramp_v, shape=planes.v.shape, strides=(ramp_v.strides[0],) * 2))
        if self._image is not None and t < IMAGE_HOLD_SECONDS + IMAGE_FADE_SECONDS:
            weight = (
                0 if t < IMAGE_HOLD_SECONDS else round(256 * (t - IMAGE_HOLD_SECONDS) / IMAGE_FADE_SECONDS)
            )
            for plane, image in zip((planes.y, planes.u, planes.v), self._image, strict=True):
                if weight == 0:
                    np.copyto(plane, image)
                    continue
                mixed = plane * np.uint16(weight)
                mixed += image * np.uint16(256 - weight)
                mixed >>= 8
                plane[...] = mixed

    def frame(self, index: int) -> Planes:
        self._scene(index)
        return self._overlay(index)

    def over(self, source: U8, index: int) -> Planes:
        """Frame ``index`` of an edit: the source frame (packed yuv420p at this size) mixed half and half
        with this spec's own scene (so the new prompt's colours and shapes show through), under this
        spec's prompt card, timecode and progress bar."""
        self._scene(index)
        mixed = self.planes.buf.astype(np.uint16)
        mixed += source.reshape(-1)
        mixed >>= 1
        self.planes.buf[...] = mixed
        return self._overlay(index)

    def _scene(self, index: int) -> None:
        spec = self.spec
        w, h = spec.width, spec.height
        t = index / spec.fps
        self._background(t)
        for mover in self._movers:
            orb, r = mover.orb, mover.radius
            cx = w * (0.5 + 0.42 * math.sin(2 * math.pi * (orb.freq_x * t + orb.phase_x)))
            cy = h * (0.5 + 0.40 * math.sin(2 * math.pi * (orb.freq_y * t + orb.phase_y)))
            mover.patch.at(round(cx) - r - 1, round(cy) - r - 1).blend(self.planes)

    def _overlay(self, index: int) -> Planes:
        spec = self.spec
        self._panel.blend(self.planes)
        self._tc_box.blend(self.planes)
        self._glyphs.draw(self.planes, *self._tc_origin, self._timecode(index))
        self._track.blend(self.planes)
        bx, by, bw, bh = self._bar
        filled = _even(bw * (index + 1) / spec.frame_count)
        if filled:
            self.planes.fill(bx, by, filled, bh, self._accent)
        return self.planes


def _image_planes(rgb: U8) -> tuple[U8, U8, U8]:
    yuv = rgb_to_yuv(rgb)
    chroma = half(yuv[..., 1:])

    def u8(values: npt.NDArray[np.float64]) -> U8:
        return np.clip(np.rint(values), 0, 255).astype(np.uint8)

    return u8(yuv[..., 0]), u8(chroma[..., 0]), u8(chroma[..., 1])
