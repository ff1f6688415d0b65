"""What an uploaded video is, read from its MP4/QuickTime boxes: duration and frame size, no decoder.

Pure Python on purpose (the SDK has no PyAV, and the gateway prices an edit before any provider call):
an edit is priced at the source's length, so the length comes from the ``moov/mvhd`` header, and a file
that is not an ISO base media file (no ``ftyp`` first, no ``moov``) is a 400 naming the param.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vidgate.errors import BadRequestError

_CONTAINERS = frozenset({b"moov", b"trak", b"mdia"})
_MAX_BOXES = 10_000  # a crafted file cannot make the walk slow


@dataclass(frozen=True)
class VideoInfo:
    """``seconds``: the movie's duration; ``width``/``height``: the first video track's frame size."""

    seconds: float
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> str | None:
        return None if self.width is None or self.height is None else f"{self.width}x{self.height}"

    @property
    def whole_seconds(self) -> int:
        """The duration rounded up to whole seconds (what a per-second price is charged on), at least 1.
        A few milliseconds over a whole second are encoder padding, not another second."""
        return max(1, math.ceil(self.seconds - 0.05))


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in ``data[start:end]``; [] if malformed."""
    found: list[tuple[bytes, int, int]] = []
    i = start
    while i + 8 <= end and len(found) < _MAX_BOXES:
        size = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        header = 8
        if size == 1:
            if i + 16 > end:
                return []
            size = int.from_bytes(data[i + 8 : i + 16], "big")
            header = 16
        elif size == 0:
            size = end - i
        if size < header or i + size > end:
            return found if kind == b"mdat" else []  # a truncated mdat after moov is still readable
        found.append((kind, i + header, i + size))
        i += size
    return found


def _mvhd(data: bytes, start: int, end: int) -> float | None:
    version = data[start] if start < end else None
    if version == 0 and start + 20 <= end:
        timescale = int.from_bytes(data[start + 12 : start + 16], "big")
        duration = int.from_bytes(data[start + 16 : start + 20], "big")
    elif version == 1 and start + 32 <= end:
        timescale = int.from_bytes(data[start + 20 : start + 24], "big")
        duration = int.from_bytes(data[start + 24 : start + 32], "big")
    else:
        return None
    if timescale == 0:
        return None
    return duration / timescale


def _tkhd_size(data: bytes, start: int, end: int) -> tuple[int, int] | None:
    version = data[start] if start < end else None
    offset = {0: 76, 1: 88}.get(version) if version is not None else None
    if offset is None or start + offset + 8 > end:
        return None
    width = int.from_bytes(data[start + offset : start + offset + 4], "big") >> 16
    height = int.from_bytes(data[start + offset + 4 : start + offset + 8], "big") >> 16
    return (width, height) if width and height else None


def _is_video_track(data: bytes, start: int, end: int) -> bool:
    for kind, s, e in _boxes(data, start, end):
        if kind == b"mdia":
            for inner, s2, e2 in _boxes(data, s, e):
                if inner == b"hdlr" and s2 + 12 <= e2:
                    return data[s2 + 8 : s2 + 12] == b"vide"
    return False


def probe(data: bytes) -> VideoInfo | None:
    """The duration and frame size of an MP4/QuickTime file, or None if ``data`` is not one."""
    top = _boxes(data, 0, len(data))
    if not top or top[0][0] != b"ftyp":
        return None
    moov = next(((s, e) for kind, s, e in top if kind == b"moov"), None)
    if moov is None:
        return None
    seconds: float | None = None
    size: tuple[int, int] | None = None
    for kind, s, e in _boxes(data, *moov):
        if kind == b"mvhd":
            seconds = _mvhd(data, s, e)
        elif kind == b"trak" and size is None and _is_video_track(data, s, e):
            for inner, s2, e2 in _boxes(data, s, e):
                if inner == b"tkhd":
                    size = _tkhd_size(data, s2, e2)
    if seconds is None or not 0 < seconds < 24 * 3600:
        return None
    return VideoInfo(seconds, *(size or (None, None)))


def require_video(data: bytes, param: str) -> VideoInfo:
    """``probe``, or a 400 naming ``param`` when the bytes are not an MP4 with a readable duration."""
    info = probe(data)
    if info is None:
        raise BadRequestError(
            f"Invalid '{param}': not an MP4 video with a readable duration (the file has no 'ftyp' and "
            "'moov' header). Upload an MP4 (H.264) file.",
            param=param,
            code="invalid_video_format",
        )
    return info
