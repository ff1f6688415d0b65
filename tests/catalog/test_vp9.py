"""VP9 frame headers (``catalog.vp9``): the sizes a ``vp09`` track's frames state, and superframes."""

from __future__ import annotations

import pytest
from tests.catalog.test_mp4 import Bits

from vidgate.catalog.vp9 import NotAFrame, frame_size, frames

SYNC = 0x498342


def header(bits: Bits) -> bytes:
    """``bits`` padded with zeros to whole bytes, and more zeros (a frame's compressed data)."""
    text = bits.bits + "0" * (-len(bits.bits) % 8)
    return int(text, 2).to_bytes(len(text) // 8, "big") + bytes(16)


def start(profile: int, *, existing: bool = False, key: bool, show: int = 1, resilient: int = 0) -> Bits:
    """frame_marker, the profile's bits, show_existing_frame, frame_type, show_frame, error_resilient."""
    bits = Bits().u(2, 2).u(1, profile & 1).u(1, profile >> 1)
    if profile == 3:
        bits.u(1, 0)
    bits.u(1, int(existing))
    if existing:
        return bits.u(3, 5)
    return bits.u(1, 0 if key else 1).u(1, show).u(1, resilient)


def color(bits: Bits, profile: int, space: int = 2) -> Bits:
    if profile >= 2:
        bits.u(1, 1)
    bits.u(3, space)
    if space != 7:
        bits.u(1, 0)
        if profile in (1, 3):
            bits.u(3, 0b100)
    elif profile in (1, 3):
        bits.u(1, 0)
    return bits


def size(bits: Bits, width: int, height: int) -> Bits:
    return bits.u(16, width - 1).u(16, height - 1).u(1, 0)  # then render_and_frame_size_different


@pytest.mark.parametrize("profile", [0, 1, 2, 3])
@pytest.mark.parametrize("space", [2, 7])
def test_a_key_frame_states_its_size_whatever_its_profile_and_colour_space(profile: int, space: int) -> None:
    bits = color(start(profile, key=True).u(24, SYNC), profile, space)
    assert frame_size(header(size(bits, 1920, 1080))) == (1920, 1080)


@pytest.mark.parametrize("profile", [0, 1, 2])
def test_an_intra_only_frame_states_its_size(profile: int) -> None:
    bits = start(profile, key=False, show=0).u(1, 1).u(2, 0).u(24, SYNC)  # intra_only, reset_frame_context
    if profile > 0:
        color(bits, profile)
    assert frame_size(header(size(bits.u(8, 0xFF), 4096, 2160))) == (4096, 2160)


def key_frame(width: int, height: int, profile: int = 0) -> bytes:
    """A key frame stating ``width``x``height``."""
    return header(size(color(start(profile, key=True).u(24, SYNC), profile), width, height))


def inter(found: tuple[int, int, int] = (0, 0, 0), resilient: int = 0) -> Bits:
    """An inter frame's header up to its size: its three found_ref flags (up to the first set)."""
    bits = start(0, key=False, resilient=resilient)
    if not resilient:
        bits.u(2, 0)  # reset_frame_context
    bits.u(8, 1)  # refresh_frame_flags
    for index in range(3):
        bits.u(3, index).u(1, 0)  # ref_frame_idx, ref_frame_sign_bias
    for flag in found:
        bits.u(1, flag)
        if flag:
            break
    return bits


def test_an_inter_frame_states_a_size_or_takes_a_references() -> None:
    assert frame_size(header(size(inter(), 2560, 1440))) == (2560, 1440)  # reference scaling
    assert frame_size(header(size(inter(resilient=1), 800, 600))) == (800, 600)
    assert frame_size(header(inter((0, 1, 0)))) is None
    assert frame_size(header(start(0, existing=True, key=False))) is None  # show_existing_frame


@pytest.mark.parametrize(
    "head",
    [
        b"\x00" * 12,  # no frame marker
        header(color(start(0, key=True).u(24, 0x123456), 0)),  # no sync code
        header(start(0, key=True).u(24, SYNC))[:4],  # cut short
        b"",
    ],
)
def test_what_is_no_vp9_frame_header_is_an_error(head: bytes) -> None:
    with pytest.raises(NotAFrame):
        frame_size(head)


def superframe(*frames_: bytes, width: int) -> bytes:
    """``frames_`` and their index of ``width``-byte sizes (VP9 spec Annex B)."""
    marker = bytes([0b11000000 | (width - 1) << 3 | (len(frames_) - 1)])
    sizes = b"".join(len(frame).to_bytes(width, "little") for frame in frames_)
    return b"".join(frames_) + marker + sizes + marker


def test_a_superframe_is_split_by_its_index() -> None:
    one, two = b"\x82" + bytes(9), b"\x86" + bytes(299)
    sample = b"pad" + superframe(one, two, width=2)
    assert frames(sample, 3, len(sample)) == [(3, 13), (13, 313)]
    small = superframe(one, b"\x86", width=1)
    assert frames(small, 0, len(small)) == [(0, 10), (10, 11)]
    plain = b"\x82" + bytes(20)
    assert frames(plain, 0, len(plain)) == [(0, 21)]
    past = superframe(one, width=1)[:-3] + bytes([0b11000000, 200, 0b11000000])  # a size past the data
    assert frames(past, 0, len(past)) == [(0, 10)]  # cut where the index starts
    assert frames(b"", 0, 0) == []
