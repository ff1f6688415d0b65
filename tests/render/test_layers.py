"""The overlay layers: prompt wrapping, the text card, and patch blending in yuv420p."""

from __future__ import annotations

import numpy as np
import pytest

from vidgate.render.frames import Composer
from vidgate.render.layers import ELLIPSIS, Patch, Planes, font, text_panel, wrap
from vidgate.render.spec import RenderSpec

FONT = font(40)


def test_wrap_keeps_every_line_within_the_width() -> None:
    lines = wrap("A calico cat playing a piano on stage under warm spotlights", FONT, 500, 5)
    assert len(lines) > 1
    assert all(FONT.getlength(line) <= 500 for line in lines)
    assert " ".join(lines) == "A calico cat playing a piano on stage under warm spotlights"


def test_wrap_splits_a_word_longer_than_a_line() -> None:
    lines = wrap("supercalifragilistic" * 3 + " end", FONT, 500, 5)
    assert "".join(lines[:-1]) == "supercalifragilistic" * 3
    assert lines[-1] == "end"
    assert all(FONT.getlength(line) <= 500 for line in lines)


@pytest.mark.parametrize("prompt", ["word " * 1000, "x" * 32000])
def test_wrap_ends_overflow_with_an_ellipsis(prompt: str) -> None:
    lines = wrap(prompt, FONT, 500, 3)
    assert len(lines) == 3
    assert lines[-1].endswith(ELLIPSIS)
    assert all(FONT.getlength(line) <= 500 for line in lines)


def test_wrap_of_an_empty_prompt_is_one_empty_line() -> None:
    assert wrap("   ", FONT, 500, 3) == [""]


def test_text_panel_draws_the_prompt() -> None:
    hello, world = text_panel("hello", "caption", 640, 360), text_panel("world", "caption", 640, 360)
    assert hello.fg_y.shape == world.fg_y.shape
    assert not np.array_equal(hello.fg_y, world.fg_y)
    opaque = hello.inv_y == 0  # fully covered pixels: the glyphs' cores (the card itself is translucent)
    assert int((hello.fg_y[opaque] == 235 * 256).sum()) > 50  # white prompt text: Y 235 at full alpha
    assert (hello.fg_y[opaque] >= 180 * 256).all()  # the rest is the light grey caption


def test_patch_blend_matches_rgb_blending_in_yuv() -> None:
    planes = Planes(8, 4)
    planes.y[...], planes.u[...], planes.v[...] = 16, 128, 128  # black
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[...] = (255, 255, 255, 255)
    Patch.from_rgba(2, 0, rgba).blend(planes)
    assert planes.y[0:2, 2:4].tolist() == [[235, 235], [235, 235]]
    assert planes.y[0:2, 0:2].tolist() == [[16, 16], [16, 16]]
    assert planes.u[0, 1] == 128


def test_patch_is_clipped_at_the_frame_edges() -> None:
    planes = Planes(8, 4)
    planes.buf[...] = 16
    rgba = np.full((4, 4, 4), 255, dtype=np.uint8)
    Patch.from_rgba(-2, -2, rgba).blend(planes)
    Patch.from_rgba(6, 2, rgba).blend(planes)
    Patch.from_rgba(100, 100, rgba).blend(planes)
    assert int((planes.y == 235).sum()) == 8


def test_frames_are_identical_for_equal_specs() -> None:
    spec = RenderSpec(prompt="same", seconds=1, width=160, height=90)
    a, b = Composer(spec), Composer(spec)
    for index in (0, 11, 23):
        assert np.array_equal(a.frame(index).buf, b.frame(index).buf)
