"""Frame planes and overlay layers: drawn once per render with Pillow, blended per frame with integer numpy.

A ``Patch`` is a premultiplied RGBA rectangle converted to yuv420p: blending it costs a multiply, an add
and a shift over its own area only, so the text panel (the one thing Pillow is slow at) is rasterised
once, not per frame. ``Glyphs`` is a tiny atlas for the timecode, the only text that changes per frame.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from vidgate.render.color import half, rgb_to_yuv

U8 = npt.NDArray[np.uint8]
U16 = npt.NDArray[np.uint16]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

ELLIPSIS = "…"


def font(size: int) -> Font:
    """Pillow's bundled scalable font (no system fonts needed, same glyphs everywhere). Loaded per use
    (about 0.1 ms): a FreeType face must not be shared between threads rendering at once."""
    return ImageFont.load_default(size=max(6, size))


class Planes:
    """One yuv420p frame: a contiguous buffer (the layout PyAV's ``from_ndarray`` takes) and plane views."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        n = width * height
        self.buf = np.empty(n * 3 // 2, dtype=np.uint8)
        self.y = self.buf[:n].reshape(height, width)
        self.u = self.buf[n : n + n // 4].reshape(height // 2, width // 2)
        self.v = self.buf[n + n // 4 :].reshape(height // 2, width // 2)

    def packed(self) -> U8:
        """The ``(height * 3 / 2, width)`` array PyAV reads as yuv420p."""
        return self.buf.reshape(self.height * 3 // 2, self.width)

    def fill(self, x: int, y: int, w: int, h: int, yuv: U8) -> None:
        """An opaque rectangle (all of x, y, w, h even)."""
        self.y[y : y + h, x : x + w] = yuv[0]
        self.u[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2] = yuv[1]
        self.v[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2] = yuv[2]


def _blend_plane(plane: U8, x: int, y: int, fg: U16, inv: U16) -> None:
    h, w = fg.shape
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, plane.shape[1]), min(y + h, plane.shape[0])
    if x0 >= x1 or y0 >= y1:
        return
    region = plane[y0:y1, x0:x1]
    mixed = region * inv[y0 - y : y1 - y, x0 - x : x1 - x]
    mixed += fg[y0 - y : y1 - y, x0 - x : x1 - x]
    mixed >>= 8
    region[...] = mixed


@dataclass(frozen=True)
class Patch:
    """A premultiplied RGBA rectangle in yuv420p form at an even (x, y): ``out = (under * inv + fg) >> 8``
    per plane, alpha on 0..256 (chroma uses the 2x2-averaged alpha)."""

    x: int
    y: int
    fg_y: U16
    inv_y: U16
    fg_u: U16
    fg_v: U16
    inv_c: U16

    @classmethod
    def from_rgba(cls, x: int, y: int, rgba: U8) -> Patch:
        h, w = rgba.shape[:2]
        if h % 2 or w % 2:  # pad with transparent pixels so chroma lines up
            padded = np.zeros((h + h % 2, w + w % 2, 4), dtype=np.uint8)
            padded[:h, :w] = rgba
            rgba = padded
        alpha = rgba[..., 3].astype(np.float64) * 256 / 255
        yuv = rgb_to_yuv(rgba[..., :3]) * alpha[..., None]
        alpha_c = half(alpha)
        yuv_c = half(yuv[..., 1:])

        def u16(values: npt.NDArray[np.float64]) -> U16:
            return np.rint(values).astype(np.uint16)

        return cls(
            x - x % 2,
            y - y % 2,
            fg_y=u16(yuv[..., 0]),
            inv_y=256 - u16(alpha),
            fg_u=u16(yuv_c[..., 0]),
            fg_v=u16(yuv_c[..., 1]),
            inv_c=256 - u16(alpha_c),
        )

    @property
    def width(self) -> int:
        return int(self.fg_y.shape[1])

    def at(self, x: int, y: int) -> Patch:
        return replace(self, x=x - x % 2, y=y - y % 2)

    def blend(self, planes: Planes) -> None:
        """Blend into the frame in place, clipped to it."""
        _blend_plane(planes.y, self.x, self.y, self.fg_y, self.inv_y)
        _blend_plane(planes.u, self.x // 2, self.y // 2, self.fg_u, self.inv_c)
        _blend_plane(planes.v, self.x // 2, self.y // 2, self.fg_v, self.inv_c)


def _fit(text: str, fnt: Font, max_width: float) -> int:
    """How many leading characters of ``text`` fit in ``max_width`` (at least 1): a binary search, so a
    32,000-character word costs ~15 measurements, not thousands."""
    lo, hi = 1, min(len(text), int(max_width) + 1)  # no glyph is narrower than a pixel
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fnt.getlength(text[:mid]) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def wrap(text: str, fnt: Font, max_width: float, max_lines: int) -> list[str]:
    """Greedy word wrap to ``max_width`` pixels; over-long words are split; overflow ends in an ellipsis."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if len(lines) > max_lines:
            break  # the rest is hidden behind the ellipsis anyway
        candidate = f"{current} {word}" if current else word
        if fnt.getlength(candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while (
            len(current) > 1
            and len(lines) <= max_lines
            and fnt.getlength(current[: int(max_width) + 2]) > max_width
        ):
            cut = _fit(current, fnt, max_width)
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and fnt.getlength(last + ELLIPSIS) > max_width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + ELLIPSIS]
    return lines or [""]


def text_panel(prompt: str, caption: str, width: int, height: int) -> Patch:
    """The prompt, wrapped and centred on a translucent dark card, with a small caption line under it."""
    short = min(width, height)
    size = max(9, round(short / 14))
    small = max(7, round(size * 0.5))
    pad = max(4, round(size * 0.6))
    big_font, small_font = font(size), font(small)
    panel_w = round(width * 0.86)
    line_h = round(size * 1.25)
    max_lines = max(1, int((height * 0.55 - 2 * pad - small * 1.6) // line_h))
    lines = wrap(prompt, big_font, panel_w - 2 * pad, max_lines)
    panel_h = 2 * pad + len(lines) * line_h + round(small * 1.6)
    card = Image.new("RGBA", (panel_w, panel_h), (10, 10, 16, 170))
    draw = ImageDraw.Draw(card)
    for i, line in enumerate(lines):
        line_w = big_font.getlength(line)
        draw.text(((panel_w - line_w) / 2, pad + i * line_h), line, font=big_font, fill=(255, 255, 255, 255))
    caption_w = small_font.getlength(caption)
    draw.text(
        ((panel_w - caption_w) / 2, pad + len(lines) * line_h + small * 0.3),
        caption,
        font=small_font,
        fill=(200, 200, 210, 255),
    )
    rgba = np.asarray(card, dtype=np.uint8)
    top = round(height * 0.1) if height >= width else round(height * 0.12)
    return Patch.from_rgba((width - panel_w) // 2, top, rgba)


def box(width: int, height: int, color: tuple[int, int, int, int]) -> U8:
    rgba = np.empty((height, width, 4), dtype=np.uint8)
    rgba[...] = color
    return rgba


class Glyphs:
    """White glyph patches for a small character set, drawn per frame (the timecode). Digits share one
    advance so the timecode does not jitter as it counts; advances are even so chroma lines up."""

    def __init__(self, size: int, charset: str) -> None:
        fnt = font(size)
        digit = max(round(fnt.getlength(d)) for d in "0123456789")
        self.height = round(size * 1.3)
        self.advances: dict[str, int] = {}
        self.patches: dict[str, Patch] = {}
        for ch in charset:
            advance = digit if ch.isdigit() else max(1, round(fnt.getlength(ch)))
            advance += advance % 2
            img = Image.new("L", (advance, self.height), 0)
            ImageDraw.Draw(img).text(((advance - fnt.getlength(ch)) / 2, size * 0.1), ch, font=fnt, fill=255)
            rgba = np.full((self.height, advance, 4), 255, dtype=np.uint8)
            rgba[..., 3] = np.asarray(img, dtype=np.uint8)
            self.advances[ch] = advance
            self.patches[ch] = Patch.from_rgba(0, 0, rgba)

    def width_of(self, text: str) -> int:
        return sum(self.advances.get(ch, 0) for ch in text)

    def draw(self, planes: Planes, x: int, y: int, text: str) -> None:
        gx = x - x % 2
        for ch in text:
            patch = self.patches.get(ch)
            if patch is not None:
                patch.at(gx, y).blend(planes)
                gx += self.advances[ch]
