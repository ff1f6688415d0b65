"""What an uploaded video is, read from its MP4/QuickTime boxes: duration and frame size, no decoder.

Pure Python on purpose (the SDK has no PyAV, and the gateway prices an edit before any provider call):
an edit is priced at the source's length. Every length a header states is the client's to write, and a
decoder plays the samples whatever ``mvhd`` says, so the length is the longest the file states: ``mvhd``,
each track's ``tkhd`` and ``mdhd``, and the sum of its sample durations (``stts``). The frame size (it
decides an edit's resolution tier) is likewise never the smallest stated: per video track the largest of
its ``tkhd`` size, the coded size in its first sample description (``stsd``) and the sizes the codec's
own parameter sets decode to (the decoder sets itself up from these, not from the headers, and
reinitialises at each new one it meets in the samples):

- H.264 and H.265 (an ``avc1``/``avc3``/``hvc1``/``hev1``... entry, or any entry with an ``avcC`` or
  ``hvcC``): every SPS, cropping applied, in the entry's ``avcC``/``hvcC`` and in every sample of the
  track, whose NAL units are walked in the framing ffmpeg's decoder reads them in (the record's
  lengthSizeMinusOne + 1 byte lengths; Annex B start codes when the entry has no record), each sample up
  to a NAL unit overrunning it (the decoder drops the packet there); an H.264 sample that is an
  ``avcC`` record (with an SPS and a PPS) is read as one, and the samples after it in the NAL length
  size it sets (ffmpeg's decoder takes it for new extradata);
- AV1 (``av01``): the max_frame_width/height of every sequence header OBU in ``av1C``'s configOBUs and
  in every sample;
- VP9 (``vp09``), which has no sequence-level size: the size every frame's uncompressed header states
  (key, intra-only, and inter frames not taking a reference's), superframes split (``catalog.vp9``);
- ProRes 422/4444 (``apch``, ``apcn``, ``apcs``, ``apco``, ``ap4h``, ``ap4x``): the size every frame's
  header states.

Samples are located with ``stsz``/``stz2``, ``stsc`` and ``stco``/``co64`` (an ``stsc`` no muxer writes,
with chunks not ascending from 1 or an empty run, makes the file unreadable rather than mapped otherwise
than ffmpeg repairs it); a sample past the file's end (a truncated ``mdat``) is cut at it. The codec
configuration of every sample entry is read, and each sample is walked in the NAL framing the decoder has
when it meets it (ffmpeg hands a later entry's configuration to the decoder with the samples ``stsc``
gives that entry; the codec stays the first entry's). Any other codec's size (MPEG-4 Part 2, VP8,
Motion JPEG...) is the headers', trusted as written; the largest over the video tracks counts. The walk is
bounded per file: 2**20 samples, 2**21 NAL units/OBUs (a VP9 frame counts 8: its header is parsed), 1,024
distinct parameter sets (identical ones are parsed once); past any, the file is unreadable. Measured on
the 2-core dev box (``time.perf_counter`` around ``probe``, median of 5, over several runs, other
processes loading it): a 180 s 1280x720 60 fps libx264 file (10,800 samples, an SPS in each keyframe)
12 to 23 ms, a 120 s 720p60 libsvtav1 one 7 to 11 ms, a hand-built 600 s 60 fps file of 18 NAL units a
frame (648,000) 190 to 200 ms, one at the NAL unit budget 0.5 to 0.7 s, a hand-built 600 s 60 fps VP9
one (36,000 frame headers) 139 ms: the server's callers run it off the event loop
(``asyncio.to_thread``). A file that is not an ISO base media file (no ``ftyp`` first, no ``moov``),
or whose boxes cannot all be read, is a 400 naming the param; so is a fragmented MP4 (``moof`` boxes,
``moov/mvex``), whose samples are outside ``moov``; so, where the price depends on it (``sized``), is one
with no readable frame size, rather than be priced at a default size.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby, starmap
from operator import itemgetter, mul

from vidgate.catalog import av1, vp9
from vidgate.catalog.bits import BadSet, Bits
from vidgate.catalog.mp4_samples import (
    Budget,
    OverBudget,
    Range,
    annex_b,
    layout,
    length_prefixed,
    obus,
    samples,
)
from vidgate.errors import BadRequestError

_MAX_BOXES = 10_000  # boxes listed per file: a crafted file cannot make the walk slow
_MAX_TIMESCALE = 2**31 - 1  # ffmpeg reads a timescale as signed and plays one <= 0 as 1 tick a second
# stts entries summed per box: one per run of equal frame durations, so 144,000 at most for a 600 s
# (MAX_SOURCE_SECONDS) clip at 240 fps each frame timed differently; more is refused, so a crafted
# 64 MiB table cannot hold the event loop for the ~1.6 s its sum takes.
_MAX_STTS_ENTRIES = 2**18
# NAL units read from codec configurations per file (a sample entry's holds 2 to 5: VPS, SPS, PPS, SEI):
# each SPS parse is a bounded number of reads, so a crafted file of thousands is refused rather than read
_MAX_CONFIG_NALS = 256
# distinct parameter sets (SPSs, AV1 sequence headers) parsed per file: a real file has one or a few per
# resolution; each parse is bounded, their number must be too (identical ones are parsed once)
_MAX_PARAMETER_SETS = 1024
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
        self.nals_left = _MAX_CONFIG_NALS
        self.budget = Budget()
        self.parsed: dict[tuple[Callable[[bytes], tuple[int, int]], bytes], tuple[int, int] | None] = {}

    def parameter_set(
        self, start: int, end: int, parse: Callable[[bytes], tuple[int, int]]
    ) -> tuple[int, int] | None:
        """``parse`` of ``data[start:end]`` (None if it cannot be read), once per distinct set; past
        ``_MAX_PARAMETER_SETS`` distinct ones the file is unreadable."""
        key = (parse, self.data[start:end])
        if key not in self.parsed:
            if len(self.parsed) >= _MAX_PARAMETER_SETS:
                raise _Unreadable
            try:
                self.parsed[key] = parse(key[1])
            except BadSet:
                self.parsed[key] = None
        return self.parsed[key]

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
                if kind == b"mdat":  # a truncated mdat after moov is still readable: what is there of it
                    found.append((kind, i + header, end))
                    return found
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


@dataclass
class _Entry:
    """A track's first sample entry: its codec (fourcc), coded size, the size its codec configuration
    states, and that configuration's payload (``avcC``/``hvcC``, the last one as ffmpeg keeps it), which
    says how its samples' NAL units are framed."""

    kind: bytes = b""
    coded: tuple[int, int] | None = None
    codec: tuple[int, int] | None = None
    config: dict[bytes, Range] = field(default_factory=dict)
    # every entry's configuration payloads, in ``stsd`` order (the first is ``config``): the samples
    # ``stsc`` gives a later entry reach the decoder with that entry's configuration (its NAL framing)
    configs: list[dict[bytes, Range]] = field(default_factory=list)


def _stsd_entry(walk: _Walk, start: int, end: int) -> _Entry:
    """The first sample entry of an ``stsd`` payload: its coded width and height (None if it holds none
    or they are 0), and the frame size its codec configuration states (``_codec_size``). The payload is
    version+flags, entry_count (not trusted: the entries there are read), then the entries (boxes); a video
    track's are VisualSampleEntry (ISO/IEC 14496-12 12.1.3; QuickTime's video sample description has the
    same layout): 6 reserved + 2 data_reference_index, 16 bytes pre_defined/reserved, then width and
    height (u16), 50 more bytes, then its child boxes. Every entry is walked, so one overrunning ``stsd``
    makes the file unreadable, not smaller."""
    entries = walk.boxes(start + 8, end) if start + 8 <= end else []
    if not entries:
        return _Entry()
    kind, s, e = entries[0]
    if s + 28 > e:
        return _Entry(kind)
    width, height = struct.unpack(">HH", walk.data[s + 24 : s + 28])
    found = _Entry(kind, (width, height) if width and height else None)
    # every entry's configuration: ffmpeg hands the decoder a later entry's as new extradata at the
    # samples stsc gives it
    found.configs = [found.config, *({} for _ in entries[1:])]
    sizes = [
        _codec_size(walk, s2 + 78, e2, config)
        for (_, s2, e2), config in zip(entries, found.configs, strict=True)
    ]
    found.codec = max((wh for wh in sizes if wh), key=lambda wh: wh[0] * wh[1], default=None)
    return found


def _rbsp(nal: bytes) -> bytes:
    """A NAL unit's payload with its emulation-prevention bytes (00 00 03 -> 00 00) removed."""
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})
# ChromaArrayType (chroma_format_idc, 0 for separate colour planes) -> SubWidthC, SubHeightC: the units
# of a crop window (H.264 7.4.2.1.1, times 2 vertically for field pairs; H.265 7.4.3.2.1)
_SUB_WH = {0: (1, 1), 1: (2, 2), 2: (2, 1), 3: (1, 1)}


def _cropped(
    width: int, height: int, unit: tuple[int, int], crop: tuple[int, int, int, int]
) -> tuple[int, int]:
    """``width``x``height`` less a crop window (left, right, top, bottom, in ``unit``s); a window that
    leaves nothing is ignored, as ffmpeg's decoders ignore it (the frames are then decoded uncropped)."""
    left, right, top, bottom = crop
    crop_x, crop_y = unit[0] * (left + right), unit[1] * (top + bottom)
    return (width, height) if crop_x >= width or crop_y >= height else (width - crop_x, height - crop_y)


def _avc_sps_size(nal: bytes) -> tuple[int, int]:
    """The cropped frame size an H.264 sequence parameter set (ITU-T H.264 7.3.2.1.1) decodes to."""
    bits = Bits(_rbsp(nal[1:]))  # the NAL header byte skipped
    profile = bits.u(8)
    bits.u(16)  # constraint flags, reserved, level_idc
    bits.ue()  # seq_parameter_set_id
    chroma, separate = 1, 0
    if profile in _HIGH_PROFILES:
        chroma = bits.ue()
        if chroma > 3:
            raise BadSet
        if chroma == 3:
            separate = bits.u(1)
        bits.ue()  # bit_depth_luma_minus8
        bits.ue()  # bit_depth_chroma_minus8
        bits.u(1)  # qpprime_y_zero_transform_bypass_flag
        if bits.u(1):  # seq_scaling_matrix_present_flag
            for index in range(8 if chroma != 3 else 12):
                if bits.u(1):  # seq_scaling_list_present_flag: the list's delta_scales until one ends it
                    last = scale = 8
                    for _ in range(16 if index < 6 else 64):
                        if scale:
                            scale = (last + bits.se()) % 256
                            last = scale
    bits.ue()  # log2_max_frame_num_minus4
    poc_type = bits.ue()
    if poc_type == 0:
        bits.ue()  # log2_max_pic_order_cnt_lsb_minus4
    elif poc_type == 1:
        bits.u(1)  # delta_pic_order_always_zero_flag
        bits.se()  # offset_for_non_ref_pic
        bits.se()  # offset_for_top_to_bottom_field
        cycle = bits.ue()
        if cycle > 255:
            raise BadSet
        for _ in range(cycle):
            bits.se()
    bits.ue()  # max_num_ref_frames
    bits.u(1)  # gaps_in_frame_num_value_allowed_flag
    width = (bits.ue() + 1) * 16
    map_units = bits.ue() + 1
    frame_mbs_only = bits.u(1)
    if not frame_mbs_only:
        bits.u(1)  # mb_adaptive_frame_field_flag
    bits.u(1)  # direct_8x8_inference_flag
    height = (2 - frame_mbs_only) * map_units * 16
    crop = (bits.ue(), bits.ue(), bits.ue(), bits.ue()) if bits.u(1) else (0, 0, 0, 0)
    # 7.4.2.1.1: crop units are chroma samples, luma samples for monochrome or separate colour planes
    sub_width, sub_height = _SUB_WH[0 if separate else chroma]
    return _cropped(width, height, (sub_width, sub_height * (2 - frame_mbs_only)), crop)


def _annex_b(stream: bytes) -> Iterator[bytes]:
    """The NAL units of an Annex B byte stream (each after a 00 00 01 start code), one at a time."""
    at = 0
    while (found := stream.find(b"\x00\x00\x01", at)) >= 0:
        yield stream[at:found].rstrip(b"\x00")
        at = found + 3
    yield stream[at:]


def _avc_config_nals(config: bytes) -> Iterator[bytes]:
    """The NAL units of an ``avcC`` payload, as ffmpeg's H.264 decoder reads its extradata: an
    AVCDecoderConfigurationRecord (version 1; ISO/IEC 14496-15 5.3.3.1: version, profile, compatibility,
    level, lengthSizeMinusOne, numOfSequenceParameterSets (low 5 bits) NAL units each after its u16
    length, then numOfPictureParameterSets (u8) more) up to the first that overruns it, whichever section
    holds them (the decoder sorts them by NAL type); any other payload as an Annex B byte stream."""
    if config[:1] != b"\x01":
        yield from _annex_b(config)
        return
    at, count = 6, config[5] & 0x1F if len(config) > 5 else 0
    for section in range(2):
        if section:
            count, at = (config[at], at + 1) if at < len(config) else (0, at)
        units, at = _prefixed(config, at, count)
        yield from units
        if at < 0:
            return


def _hevc_sps_size(nal: bytes) -> tuple[int, int]:
    """The cropped frame size an H.265 sequence parameter set (ITU-T H.265 7.3.2.2.1) decodes to."""
    bits = Bits(_rbsp(nal[2:]))  # the 2-byte NAL header skipped
    bits.u(4)  # sps_video_parameter_set_id
    sub_layers = bits.u(3)  # sps_max_sub_layers_minus1
    bits.u(1)  # sps_temporal_id_nesting_flag
    bits.skip(96)  # profile_tier_level's general profile (88 bits) and general_level_idc
    present = [(bits.u(1), bits.u(1)) for _ in range(sub_layers)]  # sub-layer profile, level present
    if sub_layers:
        bits.skip(2 * (8 - sub_layers))  # reserved_zero_2bits
    for profile, level in present:
        bits.skip(88 * profile + 8 * level)
    bits.ue()  # sps_seq_parameter_set_id
    chroma = bits.ue()
    if chroma > 3:
        raise BadSet
    separate = bits.u(1) if chroma == 3 else 0
    width, height = bits.ue(), bits.ue()
    crop = (bits.ue(), bits.ue(), bits.ue(), bits.ue()) if bits.u(1) else (0, 0, 0, 0)
    return _cropped(width, height, _SUB_WH[0 if separate else chroma], crop)


def _hevc_config_nals(config: bytes) -> Iterator[bytes]:
    """The NAL units of an ``hvcC`` payload, as ffmpeg's HEVC decoder reads its extradata: an
    HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3.1: 22 bytes, numOfArrays, then per array its
    NAL type, a u16 count and that many NAL units each after its u16 length) up to the first that
    overruns it, whatever type its array states; a payload starting 00 00 00/01 as an Annex B stream."""
    if len(config) > 3 and not (config[0] or config[1] or config[2] > 1):
        yield from _annex_b(config)
        return
    at = 23
    for _ in range(config[22] if len(config) > 22 else 0):
        count, at = int.from_bytes(config[at + 1 : at + 3], "big"), at + 3
        units, at = _prefixed(config, at, count)
        yield from units
        if at < 0:
            return


def _av1_sizes(walk: _Walk, ranges: Iterable[Range]) -> list[tuple[int, int] | None]:
    """The sizes of the sequence header OBUs (obu_type 1) in ``ranges`` of the file (None: unreadable)."""
    headers = obus(walk.data, ranges, 1, walk.budget)
    return [walk.parameter_set(start, end, av1.sequence_size) for start, end in headers]


def _prefixed(config: bytes, at: int, count: int) -> tuple[list[bytes], int]:
    """Up to ``count`` NAL units from ``at``, each after its u16 length, and where they end; -1 for the
    end when one overruns ``config`` (the walk stops there, as ffmpeg's does)."""
    units: list[bytes] = []
    for _ in range(count):
        length = int.from_bytes(config[at : at + 2], "big")
        if at + 2 + length > len(config):
            return units, -1
        units.append(config[at + 2 : at + 2 + length])
        at += 2 + length
    return units, at


def _sps_sizes(
    walk: _Walk,
    nals: Iterator[bytes],
    is_sps: Callable[[int], bool],
    parse: Callable[[bytes], tuple[int, int]],
) -> list[tuple[int, int]]:
    """``parse`` of each of ``nals`` whose first byte ``is_sps``, but those that cannot be read; past
    ``_MAX_CONFIG_NALS`` in the file, the file is unreadable (each parse is bounded, their number must
    be too)."""
    sizes: list[tuple[int, int]] = []
    for nal in nals:
        if walk.nals_left <= 0:
            raise _Unreadable
        walk.nals_left -= 1
        try:
            sizes.extend([parse(nal)] if nal and is_sps(nal[0]) else [])
        except BadSet:
            continue
    return sizes


def _codec_size(walk: _Walk, start: int, end: int, config: dict[bytes, Range]) -> tuple[int, int] | None:
    """The largest frame size the codec configuration boxes in a sample entry's ``data[start:end]``
    state: the SPSs of each ``avcC`` and ``hvcC`` and the sequence headers of each ``av1C`` (whatever
    the entry's codec), which the decoder sets itself up from, not from the entry's width and height.
    The child boxes are read as ffmpeg's demuxer reads them: a box overrunning the entry is cut at its
    end; each counts against the walk's budget. Each configuration's payload is kept in ``config`` (the
    last of a kind, as ffmpeg keeps it)."""
    data = walk.data
    sizes: list[tuple[int, int]] = []
    i = start
    while i + 8 <= end:
        if walk.left <= 0:
            raise _Unreadable
        walk.left -= 1
        size, header = int.from_bytes(data[i : i + 4], "big") or end - i, 8
        if size == 1 and i + 16 <= end:
            size, header = int.from_bytes(data[i + 8 : i + 16], "big"), 16
        if size < header:
            break
        kind, stop = data[i + 4 : i + 8], min(i + size, end)
        config[kind] = (i + header, stop)
        if kind == b"avcC":  # an SPS is NAL unit type 7 in H.264, 33 in H.265
            nals = _avc_config_nals(data[i + header : stop])
            sizes.extend(_sps_sizes(walk, nals, lambda first: first & 0x1F == 7, _avc_sps_size))
        elif kind == b"hvcC":
            nals = _hevc_config_nals(data[i + header : stop])
            sizes.extend(_sps_sizes(walk, nals, lambda first: first >> 1 & 0x3F == 33, _hevc_sps_size))
        elif kind == b"av1C":  # the AV1CodecConfigurationRecord's 4 bytes, then configOBUs
            sizes.extend(size for size in _av1_sizes(walk, [(i + header + 4, stop)]) if size)
        i = stop
    sizes = [(width, height) for width, height in sizes if width and height]
    return max(sizes, key=lambda wh: wh[0] * wh[1], default=None)


def _frame_size(header: tuple[int, int] | None, *coded: tuple[int, int] | None) -> tuple[int, int] | None:
    """The size an edit is priced at: the largest by pixel count of the ``tkhd`` size and the coded sizes
    (``stsd``'s, the codec configuration's), or the ones readable. ``tkhd`` may legitimately be a display
    size (anamorphic, or scaled by the track matrix) and differ from the coded one; but the provider
    decodes the coded frames, so a ``tkhd`` (or ``stsd`` entry) zeroed or shrunk by the client never
    lowers the tier. A coded size that is the display size padded to 16-pixel macroblocks (1920x1088 for
    1920x1080) is that display size: the decoder crops the padding, and the padded size is no catalogue
    size."""
    sizes = [header] if header else []
    for size in coded:
        if size is not None and header is not None:
            padded = ((header[0] + 15) // 16 * 16, (header[1] + 15) // 16 * 16)
            size = header if size == padded else size
        sizes.extend([size] if size else [])
    return max(sizes, key=lambda wh: wh[0] * wh[1], default=None)


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
    entry: _Entry | None = None  # the first sample description (stsd)
    tables: dict[bytes, Range] = field(default_factory=dict)  # the sample tables locating its samples
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
                                elif table == b"stsd" and track.entry is None:
                                    track.entry = _stsd_entry(walk, s4, e4)
                                elif table in _SAMPLE_TABLES:
                                    track.tables.setdefault(table, (s4, e4))
            scale = min(scales, default=movie_scale)  # no readable mdhd: ffmpeg uses the movie's
            track.seconds.extend(ticks / scale for ticks in media_ticks)
    return track


_SAMPLE_TABLES = frozenset({b"stsz", b"stz2", b"stsc", b"stco", b"co64"})
# sample entry fourccs read as H.264 / H.265: those ffmpeg's demuxer maps to them (isom.c's
# ff_codec_movvideo_tags, AVC-Intra's among them, usually with no avcC: Annex B samples; dvh1 in mov.c);
# an entry of any other fourcc with an avcC or hvcC is read as that codec too
_H264 = frozenset(
    {b"avc1", b"avc2", b"avc3", b"avc4", b"AVin", b"aivx", b"rv64", b"xalg", b"avlg", b"dva1", b"dvav"}
    | {b"ai" + rate + kind for rate in (b"5", b"1") for kind in (b"p", b"q", b"2", b"3", b"5", b"6")}
)
_H265 = frozenset({b"hvc1", b"hev1", b"dvh1", b"dvhe"})
_PRORES = frozenset({b"apch", b"apcn", b"apcs", b"apco", b"ap4h", b"ap4x"})  # isom.c's ProRes 422/4444


def _track_size(walk: _Walk, track: _Track) -> tuple[int, int] | None:
    entry = track.entry or _Entry()
    return _frame_size(track.size, entry.coded, entry.codec, _sample_size(walk, entry, track.tables))


def _sample_size(walk: _Walk, entry: _Entry, tables: dict[bytes, Range]) -> tuple[int, int] | None:
    """The largest frame size the parameter sets in a video track's samples state: every SPS of an
    H.264 or H.265 track, every sequence header of an AV1 one (the decoder reinitialises at each),
    every frame header of a VP9 or ProRes one; None for other codecs (their headers' sizes are
    trusted). The codec is the first entry's (its fourcc's, or its configuration box's for a fourcc not
    listed here): ffmpeg keeps one codec a track.
    The samples are read in the NAL framing the decoder has when it meets them: the first entry's
    configuration's, then, at the samples ``stsc`` gives another entry, that entry's if it has one
    (ffmpeg hands the decoder a later entry's configuration with its samples, and none when it has
    none, or when the index names no entry: mov.c reads such an index as 0 and changes nothing)."""
    config = entry.config
    if entry.kind == b"av01":
        walker, record = _av1_sample_sizes, b"av1C"
    elif entry.kind in _H264 or (b"avcC" in config and entry.kind not in _H265):
        walker, record = _avc_sample_sizes, b"avcC"
    elif entry.kind in _H265 or b"hvcC" in config:
        walker, record = _hevc_sample_sizes, b"hvcC"
    elif entry.kind == b"vp09":
        walker, record = _vp9_sample_sizes, b"vpcC"
    elif entry.kind in _PRORES:
        walker, record = _prores_sample_sizes, b""
    else:
        return None
    located = layout(walk.data, tables, walk.budget)
    if located is None:
        return None
    sizes: list[tuple[int, int] | None] = []
    framing = entry.configs[0] if entry.configs else {}
    for index, run in groupby(samples(walk.data, located), key=itemgetter(0)):
        described = entry.configs[index - 1] if 1 <= index <= len(entry.configs) else {}
        if record in described and described[record][1] > described[record][0]:
            framing = described
        sizes += walker(walk, (where for _, where in run), framing)
    return max((wh for wh in sizes if wh and wh[0] and wh[1]), key=lambda wh: wh[0] * wh[1], default=None)


def _vp9_sample_sizes(
    walk: _Walk, ranges: Iterable[Range], config: dict[bytes, Range]
) -> list[tuple[int, int] | None]:
    """The sizes VP9 frames state (``catalog.vp9``; ``config`` changes nothing). A frame costs the
    budget as 8 units (its header is parsed, where a NAL unit's is only looked at); one that is no VP9
    frame is left out, as the decoder drops it."""
    data, budget, sizes = walk.data, walk.budget, []
    for start, end in ranges:
        for frame, _ in vp9.frames(data, start, end):
            budget.units -= 8
            if budget.units < 0:
                raise _Unreadable
            try:
                sizes.append(vp9.frame_size(data[frame : frame + vp9.HEAD]))
            except vp9.NotAFrame:
                continue
    return sizes


def _prores_sample_sizes(
    walk: _Walk, ranges: Iterable[Range], config: dict[bytes, Range]
) -> list[tuple[int, int] | None]:
    """The sizes ProRes frames state: each sample is a frame (its size, ``icpf``, then the frame
    header: its size, version, creator, then width and height, u16 each), and ffmpeg's decoder resizes
    to every frame's (proresdec: "picture resolution change"). A sample without ``icpf`` is dropped."""
    data, budget = walk.data, walk.budget
    sizes: list[tuple[int, int] | None] = []
    for start, end in ranges:
        budget.units -= 1
        if budget.units < 0:
            raise _Unreadable
        if end - start >= 20 and data[start + 4 : start + 8] == b"icpf":
            width, height = struct.unpack_from(">HH", data, start + 16)
            sizes.append((width, height))
    return sizes


def _av1_sample_sizes(
    walk: _Walk, ranges: Iterable[Range], config: dict[bytes, Range]
) -> list[tuple[int, int] | None]:
    """The sequence header sizes in AV1 samples (OBUs frame themselves: ``config`` changes nothing)."""
    return _av1_sizes(walk, ranges)


def _avc_sample_sizes(
    walk: _Walk, ranges: Iterable[Range], config: dict[bytes, Range]
) -> list[tuple[int, int] | None]:
    """The SPS sizes in H.264 samples framed by the ``avcC`` in ``config`` (Annex B without one)."""
    data = walk.data
    record = data[slice(*config[b"avcC"])] if b"avcC" in config else b""
    if record[:1] == b"\x01" and len(record) < 7:  # ffmpeg's decoder refuses it: nothing is decoded
        return []
    width = record[4] % 4 + 1 if record[:1] == b"\x01" else 0  # lengthSizeMinusOne + 1
    return _nal_sizes(walk, ranges, width, (0x1F, 7), _avc_sps_size)  # nal_unit_type 7


def _hevc_sample_sizes(
    walk: _Walk, ranges: Iterable[Range], config: dict[bytes, Range]
) -> list[tuple[int, int] | None]:
    """The SPS sizes in H.265 samples framed by the ``hvcC`` in ``config`` (Annex B without one)."""
    data = walk.data
    record = data[slice(*config[b"hvcC"])] if b"hvcC" in config else b""
    if len(record) > 3 and (record[0] or record[1] or record[2] > 1):  # a record, as ffmpeg tells
        width = record[21] % 4 + 1 if len(record) > 21 else 1  # ffmpeg reads a cut one's as 0
    else:
        width = 0
    return _nal_sizes(walk, ranges, width, (0x7E, 33 << 1), _hevc_sps_size)  # nal_unit_type 33


def _nal_sizes(
    walk: _Walk,
    ranges: Iterable[Range],
    width: int,
    sps: tuple[int, int],
    parse: Callable[[bytes], tuple[int, int]],
) -> list[tuple[int, int] | None]:
    """``parse`` of every SPS (a NAL unit whose first byte ``& sps[0] == sps[1]``) in a track's
    samples, whose NAL units are each after a ``width``-byte length, or (``width`` 0: no decoder
    configuration record, and ffmpeg's decoder then reads them so) after Annex B start codes."""
    data, budget = walk.data, walk.budget
    if not width:
        return [walk.parameter_set(start, end, parse) for start, end in annex_b(data, ranges, *sps, budget)]
    ranges, sizes = iter(ranges), []
    while True:  # again after each sample that is an avcC record, in the NAL length size it sets
        records: list[Range] = []
        units = length_prefixed(
            data, ranges, width, *sps, budget, records if parse is _avc_sps_size else None
        )
        sizes += [walk.parameter_set(start, end, parse) for start, end in units]
        if not records:
            return sizes
        start, end = records[0]
        nals = _avc_config_nals(data[start:end])
        sizes += _sps_sizes(walk, nals, lambda first: first & 0x1F == 7, parse)
        width = data[start + 4] % 4 + 1  # lengthSizeMinusOne + 1, as ff_h264_decode_extradata sets it


_FRAGMENTED = "a fragmented MP4 (its samples are in 'moof' fragments, so its length is not in its header)"
_NO_MEDIA = "an MP4 header without its media ('moov' but no 'mdat' box: no frames to read)"


def _probe(data: bytes) -> tuple[VideoInfo | None, str | None]:
    """``probe``'s answer, and why there is none when the 400 can say more than "not an MP4"."""
    walk = _Walk(data)
    try:
        top = walk.boxes(0, len(data))
        if not top or top[0][0] != b"ftyp":
            return None, None
        moov = next(((s, e) for kind, s, e in top if kind == b"moov"), None)
        if moov is None:
            return None, None
        children = walk.boxes(*moov)
        if any(kind == b"moof" for kind, _, _ in top) or any(kind == b"mvex" for kind, _, _ in children):
            return None, _FRAGMENTED
        if not any(kind == b"mdat" and e > s for kind, s, e in top):  # a header alone: the render failed
            return None, _NO_MEDIA
        movie = [times for kind, s, e in children if kind == b"mvhd" and (times := _times(data, s, e))]
        if not movie:
            return None, None
        movie_scale = min(scale for scale, _ in movie)
        seconds = [ticks / scale for scale, ticks in movie if ticks is not None]
        sizes: list[tuple[int, int]] = []
        for kind, s, e in children:
            if kind == b"trak":
                track = _track(walk, s, e, movie_scale)
                seconds.extend(ticks / movie_scale for ticks in track.header_ticks)
                seconds.extend(track.seconds)
                if track.video and (frame := _track_size(walk, track)) is not None:
                    sizes.append(frame)
    except (_Unreadable, OverBudget):
        return None, None
    longest = max(seconds, default=0.0)
    if not 0 < longest < 24 * 3600:
        return None, None
    # A player may pick any video track (ffmpeg picks the largest): the largest is the one priced.
    size = max(sizes, key=lambda wh: wh[0] * wh[1], default=None)
    return VideoInfo(longest, *(size or (None, None))), None


def probe(data: bytes) -> VideoInfo | None:
    """The duration and frame size of an MP4/QuickTime file, or None if ``data`` is not one, is a
    fragmented MP4 (its length is not in its header), or has no media data."""
    return _probe(data)[0]


def require_video(data: bytes, param: str, *, sized: bool = False) -> VideoInfo:
    """``probe``, or a 400 naming ``param`` when the bytes are not an MP4 with a readable duration, or
    (``sized``: the source of an edit or extension, whose size is its price tier) no readable frame size."""
    info, why = _probe(data)
    if info is None:
        what = why or "not an MP4 video with a readable duration (no readable 'ftyp' and 'moov' header)"
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
