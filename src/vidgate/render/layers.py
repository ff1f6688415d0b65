"""Static overlay layers, drawn once per render with Pillow and blended per frame with integer numpy.

A ``Patch`` is a premultiplied RGBA rectangle: blending it costs two multiplies and a shift over its
own area only, so the text panel (the one thing Pillow is slow at) is rasterised once, not per frame.
``Glyphs`` is a tiny atlas for the timecode, the only text that changes from frame to frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

U8 = npt.NDArray[np.uint8]
U16 = npt.NDArray[np.uint16]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

ELLIPSIS = "…"


@cache
def font(size: int) -> Font:
    """Pillow's bundled scalable font (no system fonts needed, same glyphs everywhere)."""
    return ImageFont.load_default(size=max(6, size))


@dataclass(frozen=True)
class Patch:
    """A premultiplied RGBA rectangle at (x, y): ``out = (under * inv + fg) >> 8`` (alpha on 0..256)."""

    x: int
    y: int
    fg: U16  # (h, w, 3) colour * alpha256
    inv: U16  # (h, w, 1) 256 - alpha256

    @classmethod
    def from_rgba(cls, x: int, y: int, rgba: U8) -> Patch:
        alpha = rgba[..., 3:4].astype(np.uint16)
        alpha += alpha >> 7  # 0..255 -> 0..256, so opaque pixels replace exactly
        fg = rgba[..., :3].astype(np.uint16) * alpha
        return cls(x, y, fg, (256 - alpha).astype(np.uint16))

    def blend(self, frame: U8) -> None:
        """Blend into ``frame`` in place, clipped to the frame."""
        h, w = self.fg.shape[:2]
        x0, y0 = max(self.x, 0), max(self.y, 0)
        x1, y1 = min(self.x + w, frame.shape[1]), min(self.y + h, frame.shape[0])
        if x0 >= x1 or y0 >= y1:
            return
        sx, sy = x0 - self.x, y0 - self.y
        region = frame[y0:y1, x0:x1]
        mixed = region * self.inv[sy : sy + y1 - y0, sx : sx + x1 - x0]
        mixed += self.fg[sy : sy + y1 - y0, sx : sx + x1 - x0]
        mixed >>= 8
        region[...] = mixed


def wrap(text: str, fnt: Font, max_width: float, max_lines: int) -> list[str]:
    """Greedy word wrap to ``max_width`` pixels; over-long words are split; overflow ends in an ellipsis."""
    words = " ".join(text.split()).split(" ")
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if fnt.getlength(candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while fnt.getlength(current) > max_width and len(current) > 1:
            cut = len(current) - 1
            while cut > 1 and fnt.getlength(current[:cut]) > max_width:
                cut -= 1
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
    """Fixed-advance alpha masks for a small character set, drawn per frame (the timecode)."""

    def __init__(self, size: int, charset: str) -> None:
        fnt = font(size)
        self.advance = max(round(fnt.getlength(ch)) for ch in charset) + 1
        self.height = round(size * 1.3)
        self.masks: dict[str, U16] = {}
        for ch in charset:
            img = Image.new("L", (self.advance, self.height), 0)
            ImageDraw.Draw(img).text((0, size * 0.1), ch, font=fnt, fill=255)
            mask = np.asarray(img, dtype=np.uint16)[..., None]
            self.masks[ch] = mask + (mask >> 7)

    def width_of(self, text: str) -> int:
        return self.advance * len(text)

    def draw(self, frame: U8, x: int, y: int, text: str) -> None:
        """Brighten toward white under each glyph's mask (clipped to the frame)."""
        for i, ch in enumerate(text):
            mask = self.masks.get(ch)
            if mask is None:
                continue
            gx = x + i * self.advance
            x0, y0 = max(gx, 0), max(y, 0)
            x1, y1 = min(gx + self.advance, frame.shape[1]), min(y + self.height, frame.shape[0])
            if x0 >= x1 or y0 >= y1:
                continue
            region = frame[y0:y1, x0:x1]
            m = mask[y0 - y : y1 - y, x0 - gx : x1 - gx]
            lifted = (255 - region) * m
            lifted >>= 8
            region += lifted.astype(np.uint8)
