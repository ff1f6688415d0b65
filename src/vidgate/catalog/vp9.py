"""The frame sizes a VP9 stream's decoder produces, from each frame's uncompressed header.

VP9 carries no sequence-level size: every key frame and intra-only frame states its size, and an inter
frame either takes a reference frame's or states a new one (reference scaling), so a ``vp09`` track
decodes at the sizes its frames state, whatever its ``tkhd`` and sample entry say (``catalog.mp4``
prices the largest). A sample may be a superframe (several frames and an index at its end, VP9 spec
Annex B). Only the first bytes of a frame are read, as one integer: the fields before ``frame_size``
take at most 58 bits (VP9 bitstream spec 6.2).
"""

from __future__ import annotations

_SYNC = 0x498342  # frame_sync_code
_CS_RGB = 7


class NotAFrame(ValueError):
    """Bytes that are no VP9 frame header (a decoder drops such a frame)."""


HEAD = 12  # bytes read of a frame: more than the fields up to frame_size and its 32 bits


def frames(data: bytes, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of the frames of the sample ``data[start:end]``: a superframe's (its index: a marker
    byte 0b110sscc, then cc + 1 frame sizes of ss + 1 bytes each, little-endian, then the marker again)
    or the sample itself. A frame running into the index is cut there; empty ones are left out."""
    marker = data[end - 1] if end > start else 0
    if marker & 0xE0 == 0xC0:
        count, width = (marker & 7) + 1, (marker >> 3 & 3) + 1
        index = 2 + width * count
        if end - start >= index and data[end - index] == marker:
            table, out, at = end - index + 1, [], start
            for i in range(count):
                size = int.from_bytes(data[table + i * width : table + (i + 1) * width], "little")
                out.append((at, min(at + size, end - index)))
                at += size
            return [(s, e) for s, e in out if e > s]
    return [(start, end)] if end > start else []


class _Reader:
    """MSB-first fields of a frame's first ``HEAD`` bytes, as shifts of one integer."""

    def __init__(self, head: bytes) -> None:
        self.value = int.from_bytes(head, "big")
        self.left = 8 * len(head)

    def u(self, n: int) -> int:
        if n > self.left:
            raise NotAFrame("a VP9 frame header cut short")
        self.left -= n
        return self.value >> self.left & ((1 << n) - 1)


def frame_size(head: bytes) -> tuple[int, int] | None:
    """The size a frame whose first bytes are ``head`` (``HEAD`` of them are enough) states in
    ``frame_size()`` (a key frame, an intra-only frame, or an inter frame not taking a reference's),
    or None when it states none (it shows an earlier frame, or takes a reference frame's size, stated
    where that frame was). ``NotAFrame`` when it is no VP9 frame header."""
    bits = _Reader(head[:HEAD])
    if bits.u(2) != 2:  # frame_marker
        raise NotAFrame("no VP9 frame marker")
    low, high = bits.u(1), bits.u(1)
    profile = high << 1 | low
    if profile == 3:
        bits.u(1)  # reserved_zero
    if bits.u(1):  # show_existing_frame
        return None
    key = bits.u(1) == 0  # frame_type
    show, resilient = bits.u(1), bits.u(1)
    if key:
        _sync_and_color(bits, profile)
        return _size(bits)
    intra_only = bits.u(1) if not show else 0
    if not resilient:
        bits.u(2)  # reset_frame_context
    if intra_only:
        if bits.u(24) != _SYNC:
            raise NotAFrame("no VP9 frame sync code")
        if profile > 0:
            _color(bits, profile)
        bits.u(8)  # refresh_frame_flags
        return _size(bits)
    bits.u(8 + 3 * 4)  # refresh_frame_flags, then ref_frame_idx (3 bits) and its sign bias, 3 times
    for _ in range(3):  # frame_size_with_refs: found_ref
        if bits.u(1):
            return None
    return _size(bits)


def _sync_and_color(bits: _Reader, profile: int) -> None:
    if bits.u(24) != _SYNC:
        raise NotAFrame("no VP9 frame sync code")
    _color(bits, profile)


def _color(bits: _Reader, profile: int) -> None:
    """color_config(): its bits skipped."""
    if profile >= 2:
        bits.u(1)  # ten_or_twelve_bit
    if bits.u(3) != _CS_RGB:  # color_space
        bits.u(1)  # color_range
        if profile in (1, 3):
            bits.u(3)  # subsampling_x, subsampling_y, reserved_zero
    elif profile in (1, 3):
        bits.u(1)  # reserved_zero


def _size(bits: _Reader) -> tuple[int, int]:
    width, height = bits.u(16) + 1, bits.u(16) + 1  # frame_width_minus_1, frame_height_minus_1
    return width, height
