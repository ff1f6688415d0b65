"""What an uploaded video is, read from its MP4/QuickTime boxes: duration and frame size, no decoder.

Pure Python on purpose (the SDK has no PyAV, and the gateway prices an edit before any provider call):
an edit is priced at the source's length. Every length a header states is the client's to write, and a
decoder plays the samples whatever ``mvhd`` says, so the length is the longest the file states: ``mvhd``,
each track's ``tkhd`` and ``mdhd``, and the sum of its sample durations (``stts``). The frame size (it
decides an edit's resolution tier) is likewise never the smallest stated: per video track the larger of
its ``tkhd`` size and the coded size of its first sample description (``stsd``, what a decoder sets up
for), and the largest over the video tracks. A file that is not an ISO base media file (no ``ftyp``
first, no ``moov``), or whose boxes cannot all be read, is a 400 naming the param; so is a fragmented MP4
(``moof`` boxes, ``moov/mvex``), whose samples are outside ``moov``; so, where the price depends on it
(``sized``), is one with no readable frame size, rather than be priced at a default size.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from itertools import starmap
from operator import mul

from vidgate.errors import BadRequestError

_MAX_BOXES = 10_000  # boxes listed per file: a crafted file cannot make the walk slow
_MAX_TIMESCALE = 2**31 - 1  # ffmpeg reads a timescale as signed and plays one <= 0 as 1 tick a second
# stts entries summed per box: one per run of equal frame durations, so 144,000 at most for a 600 s
# (MAX_SOURCE_SECONDS) clip at 240 fps each frame timed differently; more is refused, so a crafted
# 64 MiB table cannot hold the event loop for the ~1.6 s its sum takes.
_MAX_STTS_ENTRIES = 2**18
_UNKNOWN = {0: 0xFFFF_FFFF, 1: 0xFFFF_FFFF_FFFF_FFFF}  # a duration of all 1s: "cannot be determined"


@dataclass(frozen=True)
class VideoInfo:
    """``seconds``: the movie's duration; ``width``/``height``: its largest video track's frame size."""

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


class _Unreadable(Exception):
    """A box structure the walk cannot fully read (or a timescale no length can be read with)."""


class _Walk:
    """Lists the boxes of one file, at most ``_MAX_BOXES`` in all. A box that overruns its parent, or a
    walk cut short by the budget, raises ``_Unreadable``: a box skipped could hold a longer track."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.left = _MAX_BOXES

    def boxes(self, start: int, end: int) -> list[tuple[bytes, int, int]]:
        """(type, payload start, payload end) of the boxes in ``data[start:end]``."""
        data = self.data
        found: list[tuple[bytes, int, int]] = []
        i = start
        while i + 8 <= end:
            if self.left <= 0:
                raise _Unreadable
            self.left -= 1
            size = int.from_bytes(data[i : i + 4], "big")
            kind = data[i + 4 : i + 8]
            header = 8
            if size == 1:
                if i + 16 > end:
                    raise _Unreadable
                size = int.from_bytes(data[i + 8 : i + 16], "big")
                header = 16
            elif size == 0:
                size = end - i
            if size < header or i + size > end:
                if kind == b"mdat":
                    return found  # a truncated mdat after moov is still readable
                raise _Unreadable
            found.append((kind, i + header, i + size))
            i += size
        return found


def _times(data: bytes, start: int, end: int) -> tuple[int, int | None] | None:
    """(timescale, duration or None if unknown) of an ``mvhd`` or ``mdhd`` payload, which share their
    layout up to the duration; None if too short or of an unknown version."""
    version = data[start] if start < end else None
    if version == 0 and start + 20 <= end:
        timescale = int.from_bytes(data[start + 12 : start + 16], "big")
        duration = int.from_bytes(data[start + 16 : start + 20], "big")
    elif version == 1 and start + 32 <= end:
        timescale = int.from_bytes(data[start + 20 : start + 24], "big")
        duration = int.from_bytes(data[start + 24 : start + 32], "big")
    else:
        return None
    if not 0 < timescale <= _MAX_TIMESCALE:
        raise _Unreadable
    return timescale, None if duration == _UNKNOWN[version] else duration


def _tkhd_duration(data: bytes, start: int, end: int) -> int | None:
    """A ``tkhd`` payload's duration (in the movie's timescale; ISO/IEC 14496-12 8.3.2), None if
    unreadable or unknown."""
    version = data[start] if start < end else None
    if version == 0 and start + 24 <= end:
        duration = int.from_bytes(data[start + 20 : start + 24], "big")
    elif version == 1 and start + 36 <= end:
        duration = int.from_bytes(data[start + 28 : start + 36], "big")
    else:
        return None
    return None if duration == _UNKNOWN[version] else duration


def _tkhd_size(data: bytes, start: int, end: int) -> tuple[int, int] | None:
    version = data[start] if start < end else None
    offset = {0: 76, 1: 88}.get(version) if version is not None else None
    if offset is None or start + offset + 8 > end:
        return None
    width = int.from_bytes(data[start + offset : start + offset + 4], "big") >> 16
    height = int.from_bytes(data[start + offset + 4 : start + offset + 8], "big") >> 16
    return (width, height) if width and height else None


def _stsd_size(walk: _Walk, start: int, end: int) -> tuple[int, int] | None:
    """The coded width and height of an ``stsd`` payload's first sample entry, None if it holds none or
    they are 0. The payload is version+flags, entry_count (not trusted: the entries there are read), then
    the entries (boxes); a video track's are VisualSampleEntry (ISO/IEC 14496-12 12.1.3; QuickTime's
    video sample description has the same layout): 6 reserved + 2 data_reference_index, 16 bytes
    pre_defined/reserved, then width and height (u16). Every entry is walked, so one overrunning
    ``stsd`` makes the file unreadable, not smaller."""
    entries = walk.boxes(start + 8, end) if start + 8 <= end else []
    if not entries:
        return None
    _, s, e = entries[0]
    if s + 28 > e:
        return None
    width, height = struct.unpack(">HH", walk.data[s + 24 : s + 28])
    return (width, height) if width and height else None


def _frame_size(header: tuple[int, int] | None, coded: tuple[int, int] | None) -> tuple[int, int] | None:
    """The size an edit is priced at: the larger by pixel count of the ``tkhd`` size and the coded
    (``stsd``) size, or the one readable. ``tkhd`` may legitimately be a display size (anamorphic, or
    scaled by the track matrix) and differ from the coded one; but the provider decodes the coded frames,
    so a ``tkhd`` zeroed or shrunk by the client never lowers the tier. A coded size that is the display
    size padded to 16-pixel macroblocks (1920x1088 for 1920x1080) is that display size: the decoder crops
    the padding, and the padded size is no catalogue size."""
    if header is None or coded is None:
        return header or coded
    if coded == ((header[0] + 15) // 16 * 16, (header[1] + 15) // 16 * 16):
        return header
    return max(header, coded, key=lambda wh: wh[0] * wh[1])


def _stts_ticks(data: bytes, start: int, end: int) -> int | None:
    """The sum of an ``stts`` payload's sample_count * sample_delta, over the entries its size holds."""
    if start + 8 > end:
        return None
    count = min(int.from_bytes(data[start + 4 : start + 8], "big"), (end - start - 8) // 8)
    if count > _MAX_STTS_ENTRIES:
        raise _Unreadable
    entries = memoryview(data)[start + 8 : start + 8 + 8 * count]
    return int(sum(starmap(mul, struct.iter_unpack(">II", entries))))


@dataclass
class _Track:
    video: bool = False
    size: tuple[int, int] | None = None  # tkhd's
    coded: tuple[int, int] | None = None  # the first sample description's (stsd)
    header_ticks: list[int] = field(default_factory=list)  # tkhd durations, in the movie's timescale
    seconds: list[float] = field(default_factory=list)  # mdhd durations and stts totals


def _track(walk: _Walk, start: int, end: int, movie_scale: int) -> _Track:
    data = walk.data
    track = _Track()
    for kind, s, e in walk.boxes(start, end):
        if kind == b"tkhd":
            track.size = track.size or _tkhd_size(data, s, e)
            ticks = _tkhd_duration(data, s, e)
            if ticks is not None:
                track.header_ticks.append(ticks)
        elif kind == b"mdia":
            scales: list[int] = []
            media_ticks: list[int] = []
            for inner, s2, e2 in walk.boxes(s, e):
                if inner == b"hdlr" and s2 + 12 <= e2:
                    track.video = track.video or data[s2 + 8 : s2 + 12] == b"vide"
                elif inner == b"mdhd" and (times := _times(data, s2, e2)) is not None:
                    scales.append(times[0])
                    media_ticks.extend([] if times[1] is None else [times[1]])
                elif inner == b"minf":
                    for stbl, s3, e3 in walk.boxes(s2, e2):
                        if stbl == b"stbl":
                            for table, s4, e4 in walk.boxes(s3, e3):
                                if table == b"stts" and (ticks := _stts_ticks(data, s4, e4)) is not None:
                                    media_ticks.append(ticks)
                                elif table == b"stsd":
                                    track.coded = track.coded or _stsd_size(walk, s4, e4)
            scale = min(scales, default=movie_scale)  # no readable mdhd: ffmpeg uses the movie's
            track.seconds.extend(ticks / scale for ticks in media_ticks)
    return track


def _probe(data: bytes) -> tuple[VideoInfo | None, bool]:
    """``probe``'s answer, and whether ``data`` is a fragmented MP4 (for the 400's wording)."""
    walk = _Walk(data)
    try:
        top = walk.boxes(0, len(data))
        if not top or top[0][0] != b"ftyp":
            return None, False
        moov = next(((s, e) for kind, s, e in top if kind == b"moov"), None)
        if moov is None:
            return None, False
        children = walk.boxes(*moov)
        if any(kind == b"moof" for kind, _, _ in top) or any(kind == b"mvex" for kind, _, _ in children):
            return None, True
        movie = [times for kind, s, e in children if kind == b"mvhd" and (times := _times(data, s, e))]
        if not movie:
            return None, False
        movie_scale = min(scale for scale, _ in movie)
        seconds = [ticks / scale for scale, ticks in movie if ticks is not None]
        sizes: list[tuple[int, int]] = []
        for kind, s, e in children:
            if kind == b"trak":
                track = _track(walk, s, e, movie_scale)
                seconds.extend(ticks / movie_scale for ticks in track.header_ticks)
                seconds.extend(track.seconds)
                if track.video and (frame := _frame_size(track.size, track.coded)) is not None:
                    sizes.append(frame)
    except _Unreadable:
        return None, False
    longest = max(seconds, default=0.0)
    if not 0 < longest < 24 * 3600:
        return None, False
    # A player may pick any video track (ffmpeg picks the largest): the largest is the one priced.
    size = max(sizes, key=lambda wh: wh[0] * wh[1], default=None)
    return VideoInfo(longest, *(size or (None, None))), False


def probe(data: bytes) -> VideoInfo | None:
    """The duration and frame size of an MP4/QuickTime file, or None if ``data`` is not one, or is a
    fragmented MP4 (its length is not in its header)."""
    return _probe(data)[0]


def require_video(data: bytes, param: str, *, sized: bool = False) -> VideoInfo:
    """``probe``, or a 400 naming ``param`` when the bytes are not an MP4 with a readable duration, or
    (``sized``: the source of an edit or extension, whose size is its price tier) no readable frame size."""
    info, fragmented = _probe(data)
    if info is None:
        what = (
            "a fragmented MP4 (its samples are in 'moof' fragments, so its length is not in its header)"
            if fragmented
            else "not an MP4 video with a readable duration (no readable 'ftyp' and 'moov' header)"
        )
        raise BadRequestError(
            f"Invalid '{param}': {what}. Upload a regular (non-fragmented) MP4 (H.264) file.",
            param=param,
            code="invalid_video_format",
        )
    if sized and info.size is None:
        raise BadRequestError(
            f"Invalid '{param}': its frame size is unreadable (no video track with a width and height in its "
            "'tkhd' or 'stsd' box). Upload a regular MP4 (H.264) file.",
            param=param,
            code="invalid_video_format",
        )
    return info
