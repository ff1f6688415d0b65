"""``catalog.mp4``: duration and frame size from the MP4 header, no decoder; anything else is None."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from tests.support import media

from vidgate.catalog.mp4 import probe, require_video
from vidgate.errors import BadRequestError
from vidgate.render import RenderSpec, render


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


MEDIA = box(b"mdat", bytes(16))  # the samples a header describes (a header alone is refused)


def mvhd(timescale: int, duration: int, version: int = 0) -> bytes:
    if version == 1:
        body = bytes([1, 0, 0, 0]) + bytes(16) + struct.pack(">IQ", timescale, duration)
    else:
        body = bytes(4) + bytes(8) + struct.pack(">II", timescale, duration)
    return box(b"mvhd", body + bytes(80))


def test_a_rendered_mp4_reports_its_length_and_size(render_cache: Path) -> None:
    spec = RenderSpec(prompt="probe me", seconds=2, width=320, height=180)
    info = probe(render(spec, cache_dir=render_cache).video.read_bytes())
    assert info is not None
    assert (info.seconds, info.size, info.whole_seconds) == (2.0, "320x180", 2)


@pytest.mark.parametrize(
    ("timescale", "duration", "version", "whole"),
    [(1000, 4000, 0, 4), (90000, 90000 * 8 + 9000, 0, 9), (600, 600 * 5 + 12, 1, 5)],
)
def test_hand_built_headers(timescale: int, duration: int, version: int, whole: int) -> None:
    data = box(b"ftyp", b"isom" + bytes(4)) + box(b"moov", mvhd(timescale, duration, version)) + MEDIA
    info = probe(data)
    assert info is not None
    assert info.whole_seconds == whole  # 8.1 s is 9 seconds; 5.02 s is 5 (encoder padding)
    assert info.size is None  # no video track


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"GIF89a" + bytes(100),
        box(b"moov", mvhd(1000, 1000)),  # no ftyp first
        box(b"ftyp", b"isom"),  # no moov
        box(b"ftyp", b"isom") + box(b"moov", mvhd(0, 1000)),  # timescale 0
        box(b"ftyp", b"isom") + struct.pack(">I", 4000) + b"moov",  # truncated
    ],
)
def test_not_a_readable_mp4(data: bytes) -> None:
    assert probe(data) is None
    with pytest.raises(BadRequestError) as caught:
        require_video(data, "video")
    assert caught.value.param == "video"


@pytest.mark.parametrize(
    "tail", [b"", box(b"mdat", b""), box(b"free", bytes(8)), struct.pack(">I", 4000)[:3]]
)
def test_a_header_without_its_media_is_refused(render_cache: Path, tail: bytes) -> None:
    """An MP4 cut after its 'moov' (no frames) was taken as an edit's source: the render of the job
    then failed on every try and its content was a 500."""
    whole = render(RenderSpec(prompt="cut", seconds=1, width=320, height=180), cache_dir=render_cache)
    data = whole.video.read_bytes()
    top = data.index(b"mdat") - 4  # the renderer writes the header first
    assert probe(data) is not None
    assert probe(data[:top] + tail) is None
    with pytest.raises(BadRequestError) as caught:
        require_video(data[:top] + tail, "video")
    assert caught.value.message.startswith("Invalid 'video': an MP4 header without its media")
    assert probe(data[: top + 8 + 100]) is not None  # a truncated mdat is still what it holds


# ---- every stated length counts: a header patched down does not lower the price ----------------------

FPS, FRAMES = 24, 288  # 12 s; the muxer writes mvhd 12000/1000, tkhd 12000, mdhd 147456/12288, stts 288 x 512


def write_mp4(path: Path, options: dict[str, str] | None = None) -> bytes:
    """A real 64x48 H.264 MP4 of ``FRAMES`` frames at ``FPS``, written by PyAV (ffmpeg's muxer)."""
    with av.open(str(path), mode="w", format="mp4", options=options or {}) as out:
        stream = out.add_stream("libx264", rate=FPS)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for index in range(FRAMES):
            frame = av.VideoFrame.from_ndarray(
                np.full((48, 64, 3), index % 256, dtype=np.uint8), format="rgb24"
            )
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path.read_bytes()


@pytest.fixture(scope="module")
def twelve_seconds(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_mp4(tmp_path_factory.mktemp("mp4") / "12s.mp4")


@pytest.fixture(scope="module")
def fragmented(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    options = {"movflags": "frag_keyframe+empty_moov"}
    return write_mp4(tmp_path_factory.mktemp("mp4") / "fragmented.mp4", options)


def payload(data: bytes, *path: bytes) -> int:
    """Where the payload of the first box at ``path`` (from the top level) starts."""
    start, end = 0, len(data)
    for kind in path:
        while start + 8 <= end:
            size, found = struct.unpack(">I4s", data[start : start + 8])
            if found == kind:
                start, end = start + 8, start + size
                break
            start += size
        else:
            raise AssertionError(f"no {kind!r} box")
    return start


# (box path, offset of its 32-bit duration in the payload (version 0), the real value, a 1 s value)
MVHD = ((b"moov", b"mvhd"), 16, 12000, 1000)
TKHD = ((b"moov", b"trak", b"tkhd"), 20, 12000, 1000)
MDHD = ((b"moov", b"trak", b"mdia", b"mdhd"), 16, 147456, 12288)
STTS = ((b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stts"), 12, 512, 42)  # the only entry's delta


def patched(data: bytes, *fields: tuple[tuple[bytes, ...], int, int, int]) -> bytes:
    out = bytearray(data)
    for path, offset, real, lowered in fields:
        at = payload(data, *path) + offset
        assert data[payload(data, *path)] == 0  # version 0: a 32-bit duration
        assert struct.unpack(">I", out[at : at + 4]) == (real,)
        out[at : at + 4] = struct.pack(">I", lowered)
    return bytes(out)


def test_the_real_file_states_twelve_seconds_everywhere(twelve_seconds: bytes) -> None:
    assert patched(twelve_seconds, MVHD, TKHD, MDHD, STTS) != twelve_seconds  # every field is where we patch
    info = probe(twelve_seconds)
    assert info is not None
    assert (info.seconds, info.whole_seconds, info.size) == (12.0, 12, "64x48")


@pytest.mark.parametrize("field", [MVHD, TKHD, MDHD], ids=["mvhd", "tkhd", "mdhd"])
def test_one_header_patched_down_is_still_probed_at_the_real_length(
    twelve_seconds: bytes, field: tuple[tuple[bytes, ...], int, int, int]
) -> None:
    data = patched(twelve_seconds, field)
    decoded = media.probe(data)  # what a decoder plays: every frame
    assert decoded.frames == 288
    info = probe(data)
    assert info is not None
    assert (info.seconds, info.whole_seconds, info.size) == (12.0, 12, "64x48")


@pytest.mark.parametrize(
    "lowered",
    [(MVHD, TKHD, MDHD), (MVHD, MDHD, STTS), (MVHD, TKHD, STTS)],
    ids=["only-stts-intact", "only-tkhd-intact", "only-mdhd-intact"],
)
def test_every_other_length_patched_down_is_still_probed_at_the_longest(
    twelve_seconds: bytes, lowered: tuple[tuple[tuple[bytes, ...], int, int, int], ...]
) -> None:
    data = patched(twelve_seconds, *lowered)
    assert media.probe(data).frames == 288
    info = probe(data)
    assert info is not None
    assert (info.seconds, info.whole_seconds) == (12.0, 12)


# (box path, payload offset, the real 32-bit value, a patched one): tkhd's 16.16 width and height, and
# the first sample entry's (avc1) u16 width and height together (stsd: 8 + entry header 8 + 24)
STBL = (b"moov", b"trak", b"mdia", b"minf", b"stbl")
TKHD_WIDTH = ((b"moov", b"trak", b"tkhd"), 76, 64 << 16, 0)
TKHD_HEIGHT = ((b"moov", b"trak", b"tkhd"), 80, 48 << 16, 0)
STSD_SIZE = ((*STBL, b"stsd"), 40, 64 << 16 | 48, 0)


def set_to(
    field: tuple[tuple[bytes, ...], int, int, int], value: int
) -> tuple[tuple[bytes, ...], int, int, int]:
    return (*field[:3], value)


def test_a_zeroed_tkhd_size_is_read_from_the_sample_description(twelve_seconds: bytes) -> None:
    """A client zeroing ``tkhd``'s width and height does not hide the frames' size: the decoder reads it
    from the sample description, and so does the probe."""
    data = patched(twelve_seconds, TKHD_WIDTH, TKHD_HEIGHT)
    decoded = media.probe(data)
    assert (decoded.width, decoded.height, decoded.frames) == (64, 48, 288)
    info = probe(data)
    assert info is not None
    assert info.size == "64x48"
    only_tkhd = probe(patched(twelve_seconds, STSD_SIZE))  # the other way round: tkhd's is used
    assert only_tkhd is not None
    assert only_tkhd.size == "64x48"


def test_the_larger_of_tkhd_and_the_sample_description_is_the_size(twelve_seconds: bytes) -> None:
    """A ``tkhd`` shrunk below the coded size is not the price's size; one above it (a display size)
    is."""
    shrunk = patched(twelve_seconds, set_to(TKHD_WIDTH, 32 << 16), set_to(TKHD_HEIGHT, 24 << 16))
    assert media.probe(shrunk).width == 64
    info = probe(shrunk)
    assert info is not None
    assert info.size == "64x48"
    display = probe(patched(twelve_seconds, set_to(TKHD_WIDTH, 128 << 16)))
    assert display is not None
    assert display.size == "128x48"


def test_no_readable_frame_size_is_none_and_refused_where_sized(twelve_seconds: bytes) -> None:
    zeroed = patched(twelve_seconds, TKHD_WIDTH, TKHD_HEIGHT, STSD_SIZE)
    assert zeroed.count(b"avcC") == 1
    data = zeroed.replace(b"avcC", b"free")  # nor an SPS to read it from
    info = probe(data)
    assert info is not None
    assert (info.seconds, info.size) == (12.0, None)
    assert require_video(data, "video").size is None  # a length is all a character clip needs
    with pytest.raises(BadRequestError) as caught:
        require_video(data, "video", sized=True)
    assert (caught.value.param, caught.value.code) == ("video", "invalid_video_format")
    assert "frame size is unreadable" in str(caught.value)


def test_a_fragmented_mp4_is_refused(fragmented: bytes) -> None:
    assert media.probe(fragmented).frames == 288  # playable, but its length is not in its header
    assert probe(fragmented) is None
    with pytest.raises(BadRequestError) as caught:
        require_video(fragmented, "video")
    assert (caught.value.param, caught.value.code) == ("video", "invalid_video_format")
    assert "fragmented MP4" in str(caught.value)
    assert "non-fragmented" in str(caught.value)


# ---- hand-built boxes: each stated length and its layout (ISO/IEC 14496-12) ---------------------------


def full(kind: bytes, version: int, body: bytes) -> bytes:
    return box(kind, bytes([version, 0, 0, 0]) + body)


def tkhd(duration: int, version: int = 0, size: tuple[int, int] = (64, 48)) -> bytes:
    """Duration at payload offset 20 (version 0) or 28 (version 1); width/height (16.16) at 76 or 88."""
    if version == 1:
        times = bytes(16) + struct.pack(">I", 1) + bytes(4) + struct.pack(">Q", duration)
    else:
        times = bytes(8) + struct.pack(">I", 1) + bytes(4) + struct.pack(">I", duration)
    width, height = size
    return full(
        b"tkhd", version, times + bytes(16) + bytes(36) + struct.pack(">II", width << 16, height << 16)
    )


def mdhd(timescale: int, duration: int, version: int = 0) -> bytes:
    if version == 1:
        return full(b"mdhd", 1, bytes(16) + struct.pack(">IQ", timescale, duration) + bytes(4))
    return full(b"mdhd", 0, bytes(8) + struct.pack(">II", timescale, duration) + bytes(4))


def stts(*entries: tuple[int, int], count: int | None = None) -> bytes:
    body = struct.pack(">I", len(entries) if count is None else count)
    return full(b"stts", 0, body + b"".join(struct.pack(">II", n, delta) for n, delta in entries))


def media_box(*children: bytes) -> bytes:
    return box(b"mdia", full(b"hdlr", 0, bytes(4) + b"vide" + bytes(13)) + b"".join(children))


def table(*children: bytes) -> bytes:
    return box(b"minf", box(b"stbl", b"".join(children)))


def movie(*children: bytes) -> bytes:
    return box(b"ftyp", b"isom" + bytes(4)) + box(b"moov", b"".join(children)) + MEDIA


def stsd(*entries: bytes) -> bytes:
    return full(b"stsd", 0, struct.pack(">I", len(entries)) + b"".join(entries))


def visual(width: int, height: int, kind: bytes = b"avc1") -> bytes:
    """A VisualSampleEntry: 6 reserved, data_reference_index, 16 bytes, width, height, the rest."""
    return box(
        kind, bytes(6) + struct.pack(">H", 1) + bytes(16) + struct.pack(">HH", width, height) + bytes(50)
    )


def video_track(header: tuple[int, int], *entries: bytes) -> bytes:
    return box(b"trak", tkhd(1000, size=header) + media_box(mdhd(1000, 1000), table(stsd(*entries))))


ALL_ONES = 0xFFFF_FFFF  # "the duration cannot be determined": not a length


@pytest.mark.parametrize(
    ("children", "seconds"),
    [
        ((mvhd(1000, 1000), box(b"trak", tkhd(12000))), 12.0),
        ((mvhd(1000, 1000), box(b"trak", tkhd(12000, version=1))), 12.0),
        ((mvhd(600, 600), box(b"trak", media_box(mdhd(90000, 90000 * 12)))), 12.0),
        ((mvhd(600, 600), box(b"trak", media_box(mdhd(48000, 48000 * 12, version=1)))), 12.0),
        (
            (
                mvhd(1000, 1000),
                box(b"trak", media_box(mdhd(12288, 12288), table(stts((24, 512), (264, 512))))),
            ),
            12.0,
        ),
        ((mvhd(1000, 1000), box(b"trak", media_box(table(stts((12, 1000)))))), 12.0),  # no mdhd: movie scale
        (
            (
                mvhd(1000, 12000),
                box(b"trak", tkhd(1000) + media_box(mdhd(1000, 1000), table(stts((1, 1000))))),
            ),
            12.0,
        ),
        ((mvhd(1000, 2000), box(b"trak", tkhd(ALL_ONES) + media_box(mdhd(1000, ALL_ONES)))), 2.0),
        ((mvhd(1000, ALL_ONES), box(b"trak", tkhd(3000))), 3.0),
    ],
    ids=[
        "tkhd-v0",
        "tkhd-v1",
        "mdhd-v0",
        "mdhd-v1",
        "stts",
        "stts-movie-scale",
        "longest",
        "unknown",
        "mvhd-unknown",
    ],
)
def test_the_longest_stated_length(children: tuple[bytes, ...], seconds: float) -> None:
    info = probe(movie(*children))
    assert info is not None
    assert info.seconds == seconds


@pytest.mark.parametrize(
    "data",
    [
        movie(mvhd(1000, 12000), box(b"trak", tkhd(12000)), box(b"mvex", box(b"trex", bytes(24)))),
        movie(mvhd(1000, 12000), box(b"trak", tkhd(12000))) + box(b"moof", box(b"mfhd", bytes(8))),
    ],
    ids=["mvex", "moof"],
)
def test_fragments_are_refused(data: bytes) -> None:
    assert probe(data) is None
    with pytest.raises(BadRequestError) as caught:
        require_video(data, "video")
    assert "fragmented MP4" in str(caught.value)


@pytest.mark.parametrize(
    ("track", "seconds"),
    [
        (media_box(mdhd(1000, 1000), table(stts((12, 1000), count=ALL_ONES))), 12.0),  # count past the box
        (media_box(mdhd(1000, 1000), table(stts((12, 1000)) + bytes(4))), 12.0),  # the box is bigger: ok
        (media_box(mdhd(1000, 1000), table(full(b"stts", 0, b"\0\0"))), 1.0),  # too short: ignored
        (media_box(mdhd(1000, 1000), table(box(b"stts", b""))), 1.0),
        (media_box(full(b"mdhd", 0, bytes(10)), table(stts((12, 1000)))), 12.0),  # short mdhd: ignored
        (media_box(full(b"mdhd", 7, bytes(40)), table(stts((12, 1000)))), 12.0),  # unknown version
        (media_box(box(b"mdhd", b""), table(stts((12, 1000)))), 12.0),
        (media_box(mdhd(0, 1000), table(stts((12, 1000)))), None),  # no length can be read: refused
        (media_box(mdhd(2**31, 1000), table(stts((12, 1000)))), None),  # ffmpeg plays it as 1 tick/s
        (media_box(mdhd(1000, 1000), box(b"minf", box(b"stbl", struct.pack(">I", 99) + b"stts"))), None),
        (box(b"mdia", struct.pack(">I", 99) + b"mdhd" + bytes(24)), None),  # overruns its parent
    ],
    ids=[
        "stts-count-past-box",
        "stts-box-bigger",
        "stts-too-short",
        "stts-empty",
        "mdhd-too-short",
        "mdhd-unknown-version",
        "mdhd-empty",
        "mdhd-timescale-0",
        "mdhd-timescale-2**31",
        "stts-overruns-stbl",
        "mdhd-overruns-mdia",
    ],
)
def test_malformed_track_boxes_do_not_raise(track: bytes, seconds: float | None) -> None:
    data = movie(mvhd(1000, 1000), box(b"trak", track))
    info = probe(data)
    assert (None if info is None else info.seconds) == seconds


def test_a_sample_table_past_its_entry_budget_is_refused() -> None:
    """2**18 entries are summed (12 s here); one more is refused, not summed on the event loop."""
    at_most = media_box(mdhd(1000, 1000), table(stts(*[(1, 1000)] * 12, *[(0, 1)] * (2**18 - 12))))
    info = probe(movie(mvhd(1000, 1000), box(b"trak", at_most)))
    assert info is not None
    assert info.seconds == 12.0
    past = media_box(mdhd(1000, 1000), table(stts(*[(1, 1000)] * 12, *[(0, 1)] * (2**18 - 11))))
    assert probe(movie(mvhd(1000, 1000), box(b"trak", past))) is None


def test_a_walk_past_the_box_budget_is_refused() -> None:
    """10,000 empty boxes before the track: the track (12 s) is never read, so the file is refused."""
    data = movie(mvhd(1000, 1000), box(b"free", b"") * 10_000, box(b"trak", tkhd(12000)))
    assert probe(data) is None
    assert probe(movie(mvhd(1000, 1000), box(b"free", b"") * 100, box(b"trak", tkhd(12000)))) is not None


def test_a_truncated_or_corrupted_header_never_raises(twelve_seconds: bytes) -> None:
    """Every cut and every byte of ``moov`` overwritten: a length, None or a 400, never an exception."""
    moov = payload(twelve_seconds, b"moov") - 8
    variants = [twelve_seconds[:cut] for cut in range(moov, len(twelve_seconds))]
    variants += [
        twelve_seconds[:at] + bytes([value]) + twelve_seconds[at + 1 :]
        for at in range(moov, len(twelve_seconds))
        for value in (0x00, 0x01, 0x7F, 0xFF)
    ]
    for data in variants:
        info = probe(data)
        assert info is None or 0 < info.seconds < 24 * 3600
        if info is None or info.size is None:
            with pytest.raises(BadRequestError):
                require_video(data, "video", sized=True)


def test_the_coded_size_of_hand_built_sample_descriptions() -> None:
    """The first entry's width and height, whatever its codec; the larger of it and ``tkhd``'s; a coded
    size padded to 16-pixel macroblocks is its display size's; the largest video track's."""
    cases = {
        "hevc-over-zeroed-tkhd": ((video_track((0, 0), visual(3840, 2160, b"hvc1")),), "3840x2160"),
        "first-entry": ((video_track((0, 0), visual(1280, 720, b"av01"), visual(1920, 1080)),), "1280x720"),
        "stsd-over-shrunk-tkhd": ((video_track((1280, 720), visual(1920, 1080)),), "1920x1080"),
        "macroblock-padding": ((video_track((1920, 1080), visual(1920, 1088)),), "1920x1080"),
        "not-padding": ((video_track((1920, 1072), visual(1920, 1088)),), "1920x1088"),
        "largest-track": (
            (video_track((64, 48), visual(64, 48)), video_track((0, 0), visual(1920, 1080))),
            "1920x1080",
        ),
    }
    found = {name: probe(movie(mvhd(1000, 1000), *tracks)) for name, (tracks, _) in cases.items()}
    assert {name: info.size if info else "refused" for name, info in found.items()} == {
        name: size for name, (_, size) in cases.items()
    }


def test_malformed_sample_descriptions_do_not_raise() -> None:
    """A sample entry overrunning ``stsd`` makes the file unreadable (its size could be the larger one);
    one too short to hold a size, or of size 0x0, leaves ``tkhd``'s (or none)."""
    overrun = full(b"stsd", 0, struct.pack(">I", 1) + struct.pack(">I", 999) + b"avc1" + bytes(40))
    cases = {
        "entry-overruns-stsd": (tkhd(1000, size=(64, 48)), overrun, "refused"),
        "entry-overruns-no-tkhd-size": (tkhd(1000, size=(0, 0)), overrun, "refused"),
        "truncated-entry-header": (
            tkhd(1000, size=(64, 48)),
            full(b"stsd", 0, bytes(4) + b"\0\0\0"),
            "64x48",
        ),
        "no-entries": (tkhd(1000, size=(64, 48)), stsd(), "64x48"),
        "empty-stsd": (tkhd(1000, size=(64, 48)), box(b"stsd", b""), "64x48"),
        "entry-too-short": (tkhd(1000, size=(64, 48)), stsd(box(b"avc1", bytes(26))), "64x48"),
        "entry-zero-size": (tkhd(1000, size=(64, 48)), stsd(visual(0, 1080)), "64x48"),
        "neither": (tkhd(1000, size=(0, 0)), stsd(box(b"avc1", bytes(10))), None),
    }
    found = {
        name: probe(movie(mvhd(1000, 1000), box(b"trak", header + media_box(table(description)))))
        for name, (header, description, _) in cases.items()
    }
    assert {name: info.size if info else "refused" for name, info in found.items()} == {
        name: size for name, (_, _, size) in cases.items()
    }


# ---- the codec's own size: an H.264 SPS, which the decoder reads, whatever tkhd and stsd say ------------


def encode(path: Path, width: int, height: int, pix_fmt: str, options: dict[str, str]) -> bytes:
    """Two frames of ``width``x``height`` H.264 (or ``options["codec"]``) in an MP4, written by PyAV."""
    with av.open(str(path), mode="w", format="mp4") as out:
        stream = out.add_stream(options.pop("codec", "libx264"), rate=FPS)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.options = {"preset": "ultrafast", **options}
        for index in range(2):
            pixels = np.full((height, width, 3), 40 * index, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path.read_bytes()


HEVC = {
    "codec": "libx265",
    "x265-params": "bframes=0:log-level=error",
}  # ffmpeg's mp4 muxer refuses its B-frames


def shrunk(data: bytes, width: int, height: int) -> bytes:
    """``data`` with ``tkhd``'s and the sample entry's width and height both set to 32x24."""
    return patched(
        data,
        (TKHD_WIDTH[0], 76, width << 16, 32 << 16),
        (TKHD_HEIGHT[0], 80, height << 16, 24 << 16),
        (STSD_SIZE[0], 40, width << 16 | height, 32 << 16 | 24),
    )


@pytest.mark.parametrize(
    ("width", "height", "pix_fmt", "options", "profile"),
    [
        (1920, 1080, "yuv420p", {}, "Constrained Baseline"),  # coded 1920x1088, cropped by 8 rows
        (1917, 1077, "yuv444p", {}, "High 4:4:4 Predictive"),  # cropped in luma samples
        (1918, 1078, "yuv420p10le", {"preset": "medium"}, "High 10"),
        (1918, 1078, "yuv422p", {"preset": "medium"}, "High 4:2:2"),
        (128, 88, "yuv420p", {"preset": "medium", "x264-params": "interlaced=1"}, "High"),  # field pairs
        (63, 47, "gray", {}, "High"),  # monochrome: cropped in luma samples
        (1918, 1078, "yuv420p", HEVC, "Main"),  # coded 1920x1080, a conformance window of 1 chroma sample
        (1917, 1077, "yuv444p", HEVC, "Rext"),
        (1918, 1078, "yuv422p10le", HEVC, "Rext"),
    ],
    ids=["1080p-cropped", "444", "high10", "422", "interlaced", "monochrome", "hevc", "hevc-444", "hevc-422"],
)
def test_tkhd_and_the_sample_entry_both_shrunk_are_priced_at_the_sps_size(
    tmp_path: Path, width: int, height: int, pix_fmt: str, options: dict[str, str], profile: str
) -> None:
    """A client writing 32x24 in both ``tkhd`` and the sample entry does not lower the tier: the decoder
    decodes the size the SPS in ``avcC``/``hvcC`` states (cropping included), and the probe reads it."""
    data = shrunk(encode(tmp_path / "a.mp4", width, height, pix_fmt, dict(options)), width, height)
    with av.open(str(tmp_path / "a.mp4")) as container:
        assert container.streams.video[0].codec_context.profile == profile
    decoded = media.probe(data)
    assert (decoded.width, decoded.height, decoded.frames) == (width, height, 2)
    info = probe(data)
    assert info is not None
    assert info.size == f"{width}x{height}"


class Bits:
    """An H.264 bit string written field by field, then emulation-prevented into a NAL unit."""

    def __init__(self) -> None:
        self.bits = ""

    def u(self, n: int, value: int) -> Bits:
        self.bits += format(value, f"0{n}b") if n else ""
        return self

    def ue(self, value: int) -> Bits:
        code = format(value + 1, "b")
        self.bits += "0" * (len(code) - 1) + code
        return self

    def se(self, value: int) -> Bits:
        return self.ue(2 * value - 1 if value > 0 else -2 * value)

    def nal(self, header: bytes = b"\x67") -> bytes:
        bits = self.bits + "1"  # rbsp_stop_one_bit, then zeros to a byte
        bits += "0" * (-len(bits) % 8)
        out, zeros = bytearray(header), 0
        for byte in int(bits, 2).to_bytes(len(bits) // 8, "big"):
            if zeros >= 2 and byte <= 3:
                out.append(3)  # emulation_prevention_three_byte
                zeros = 0
            out.append(byte)
            zeros = zeros + 1 if byte == 0 else 0
        return bytes(out)


def sps(
    mbs: tuple[int, int] = (120, 68),
    crop: tuple[int, int, int, int] | None = (0, 0, 0, 4),
    poc: Bits | None = None,
    frame_mbs_only: int = 1,
    high: tuple[int, Bits] | None = None,
) -> bytes:
    """An SPS of ``mbs`` macroblocks (1920x1088 cropped to 1080 by default); ``poc`` holds
    pic_order_cnt_type and what follows it (type 2: nothing); ``high``: a high profile_idc and the fields
    its profiles add (chroma format to scaling lists), else baseline."""
    bits = Bits().u(8, high[0] if high else 66).u(8, 0).u(8, 40).ue(0)
    bits.bits += high[1].bits if high else ""
    bits.ue(0)
    bits.bits += (poc or Bits().ue(2)).bits
    bits.ue(1).u(1, 0).ue(mbs[0] - 1).ue(mbs[1] - 1).u(1, frame_mbs_only)
    if not frame_mbs_only:
        bits.u(1, 0)
    bits.u(1, 1).u(1, crop is not None)
    for offset in crop or ():
        bits.ue(offset)
    return bits.u(1, 0).nal()


def avcc(*nals: bytes, pps: tuple[bytes, ...] = (), count: int | None = None) -> bytes:
    """An ``avcC`` box: the record's header, the SPS section (``count``: its stated number), the PPS."""
    body = bytes([1, 66, 0, 40, 0xFF, 0xE0 | (len(nals) if count is None else count)])
    body += b"".join(struct.pack(">H", len(nal)) + nal for nal in nals)
    body += bytes([len(pps)]) + b"".join(struct.pack(">H", len(nal)) + nal for nal in pps)
    return box(b"avcC", body)


def entry(width: int, height: int, *children: bytes, kind: bytes = b"avc1") -> bytes:
    """A VisualSampleEntry of ``width``x``height`` with child boxes."""
    fields = bytes(6) + struct.pack(">H", 1) + bytes(16) + struct.pack(">HH", width, height) + bytes(50)
    return box(kind, fields + b"".join(children))


def sized(*entries: bytes, header: tuple[int, int] = (32, 24)) -> str | None:
    info = probe(movie(mvhd(1000, 1000), video_track(header, *entries)))
    assert info is not None
    return info.size


def high_fields(chroma: int, lists: list[list[int] | None]) -> Bits:
    """chroma_format_idc (4:4:4: and no separate planes), 10-bit depths, then ``lists``: per scaling list
    None (absent) or its delta_scales."""
    bits = Bits().ue(chroma).u(1 if chroma == 3 else 0, 0).ue(2).ue(2).u(1, 0).u(1, 1)
    for deltas in lists:
        bits.u(1, deltas is not None)
        for delta in deltas or []:
            bits.se(delta)
    return bits


FULL_4X4, ENDED_4X4 = [1] * 16, [-8]  # 16 scales; a first scale of 0 ends the list
FULL_8X8, ENDED_8X8 = [200, 100] + [3] * 62, [5] * 10 + [-58]  # wrapping mod 256; ended by an 11th
HIGH_444 = high_fields(3, [FULL_4X4, ENDED_4X4, None] * 2 + [FULL_8X8, ENDED_8X8, None] * 2)  # 12 lists
HIGH_420 = high_fields(1, [FULL_4X4, None, ENDED_4X4, FULL_4X4, FULL_4X4, None, FULL_8X8, ENDED_8X8])
POC_CYCLE = Bits().ue(1).u(1, 0).se(-(2**30)).se(5).ue(3).se(1).se(-2).se(2**30)  # 00 00 in the RBSP


def test_hand_built_sps_sizes() -> None:
    """The SPS's size is read past each layout it can have, and is the largest where several are."""
    assert b"\x00\x00\x03" in sps(poc=POC_CYCLE)  # the writer had to emulation-prevent it
    cases = {
        "cropped": (entry(32, 24, avcc(sps())), "1920x1080"),
        "uncropped-1088": (entry(32, 24, avcc(sps(crop=None))), "1920x1088"),
        "high-444-12-scaling-lists": (
            entry(32, 24, avcc(sps(crop=(0, 0, 0, 8), high=(244, HIGH_444)))),
            "1920x1080",
        ),
        "high-420-8-scaling-lists": (entry(32, 24, avcc(sps(high=(110, HIGH_420)))), "1920x1080"),
        "poc-type-0": (entry(32, 24, avcc(sps(poc=Bits().ue(0).ue(4)))), "1920x1080"),
        "poc-type-1-emulation-prevented": (entry(32, 24, avcc(sps(poc=POC_CYCLE))), "1920x1080"),
        "fields": (entry(32, 24, avcc(sps((80, 23), crop=(0, 0, 0, 2), frame_mbs_only=0))), "1280x728"),
        "crop-leaving-nothing": (entry(32, 24, avcc(sps((80, 45), crop=(0, 640, 0, 0)))), "1280x720"),
        "avc3": (entry(32, 24, avcc(sps()), kind=b"avc3"), "1920x1080"),
        "poc-cycle-of-255": (entry(32, 24, avcc(sps(poc=cycle(255)))), "1920x1080"),
        "sps-before-a-count-past-the-box": (entry(32, 24, avcc(sps(), count=3)), "1920x1080"),
        "largest-sps": (entry(32, 24, avcc(sps((40, 23)), sps())), "1920x1080"),
        "sps-in-the-pps-section": (entry(32, 24, avcc(sps((2, 2), None), pps=(sps(),))), "1920x1080"),
        "annex-b": (entry(32, 24, box(b"avcC", b"\0\0\0\1" + sps() + b"\0\0\1\x68\xce")), "1920x1080"),
        "after-other-boxes": (entry(32, 24, box(b"btrt", bytes(12)), avcc(sps())), "1920x1080"),
        "after-a-64-bit-sized-box": (
            entry(32, 24, struct.pack(">I4sQ", 1, b"free", 20) + bytes(4), avcc(sps())),
            "1920x1080",
        ),
        "avcc-overruns-the-entry": (entry(32, 24, struct.pack(">I", 999) + avcc(sps())[4:]), "1920x1080"),
        "stsd-larger": (entry(3840, 2160, avcc(sps())), "3840x2160"),
    }
    assert {name: sized(description) for name, (description, _) in cases.items()} == {
        name: size for name, (_, size) in cases.items()
    }


def cycle(length: int) -> Bits:
    """pic_order_cnt_type 1 with a cycle of ``length`` offsets."""
    bits = Bits().ue(1).u(1, 0).se(0).se(0).ue(length)
    for _ in range(length):
        bits.se(1)
    return bits


def test_unreadable_codec_configurations_leave_the_header_sizes() -> None:
    """A cut, corrupted or absurd ``avcC`` or SPS never raises: its size is left out (tkhd's and the
    entry's stand), and no read runs past the set or loops unbounded."""
    whole = avcc(sps())
    nal = sps()
    assert sized(entry(32, 24, whole)) == "1920x1080"  # intact, it is read
    cases = {
        **{f"avcc-cut-{cut}": box(b"avcC", whole[8:cut]) for cut in range(8, len(whole) - 1)},
        **{
            f"sps-cut-{cut}": avcc(nal[:cut]) for cut in range(len(nal) - 1)
        },  # each read past its end: nothing
        "sps-count-past-the-box": avcc(count=3),
        "not-an-sps": avcc(b"\x68" + nal[1:]),
        "golomb-of-33-zeros": avcc(Bits().u(24, 66 << 16).u(40, 1).nal()),
        "poc-cycle-of-256": avcc(sps(poc=cycle(256))),
        "empty": box(b"avcC", b""),
    }
    assert {name: sized(entry(32, 24, config)) for name, config in cases.items()} == dict.fromkeys(
        cases, "32x24"
    )
    for at in range(8, len(whole)):  # every byte overwritten: some size or the header's, never a raise
        for value in (0x00, 0x01, 0x7F, 0xFF):
            sized(entry(32, 24, whole[:at] + bytes([value]) + whole[at + 1 :]))


def test_a_file_past_its_configuration_nal_budget_is_refused() -> None:
    """256 NAL units are read from codec configurations (a real file has 2 to 5 per track); one more and
    the file is refused, so a file of millions (or a 3.5 MiB Annex B run of cut SPSs) cannot make the
    probe slow."""
    pps = (b"\x68\xce",) * 225
    assert sized(entry(32, 24, avcc(*[sps()] * 31, pps=pps))) == "1920x1080"
    past = entry(32, 24, avcc(*[sps()] * 31, pps=pps), avcc(b"\x68\xce"))
    assert probe(movie(mvhd(1000, 1000), video_track((32, 24), past))) is None
    flood = entry(32, 24, box(b"avcC", (b"\0\0\1" + sps()[:4]) * 2**19))
    assert probe(movie(mvhd(1000, 1000), video_track((32, 24), flood))) is None


def hevc_sps(
    size: tuple[int, int] = (1920, 1088),
    window: tuple[int, int, int, int] | None = (0, 0, 0, 4),
    sub_layers: tuple[tuple[int, int], ...] = (),
    chroma: tuple[int, ...] = (1,),
) -> bytes:
    """An H.265 SPS of ``size`` luma samples (cropped to 1920x1080 by default) after a profile_tier_level
    with ``sub_layers`` (profile, level present flags); ``chroma``: chroma_format_idc and, for 3,
    separate_colour_plane_flag."""
    bits = Bits().u(4, 0).u(3, len(sub_layers)).u(1, 1).u(48, 0x01_6000_0000_00).u(48, 0x90)
    for profile, level in sub_layers:
        bits.u(1, profile).u(1, level)
    bits.u(2 * (8 - len(sub_layers)) if sub_layers else 0, 0)
    for profile, level in sub_layers:
        bits.u(88 * profile + 8 * level, 0)
    bits.ue(0).ue(chroma[0]).u(len(chroma) - 1, chroma[-1]).ue(size[0]).ue(size[1]).u(1, window is not None)
    for offset in window or ():
        bits.ue(offset)
    return bits.nal(b"\x42\x01")  # NAL header: type 33, layer 0, temporal id 1


def hvcc(*arrays: tuple[int, tuple[bytes, ...]]) -> bytes:
    """An ``hvcC`` box: 22 bytes of record header, then the (NAL type, NAL units) arrays."""
    body = bytes([1]) + bytes(20) + bytes([0x0F]) + bytes([len(arrays)])
    for kind, nals in arrays:
        body += bytes([0x80 | kind]) + struct.pack(">H", len(nals))
        body += b"".join(struct.pack(">H", len(nal)) + nal for nal in nals)
    return box(b"hvcC", body)


def test_hand_built_hevc_sps_sizes() -> None:
    """The H.265 SPS's size past sub-layer profile/level fields, with its conformance window in chroma
    units; an SPS in any array counts; an unreadable one leaves the header sizes."""
    vps = (32, (bytes([0x40, 0x01, 0x0C]),))
    whole = hvcc(vps, (33, (hevc_sps(),)))
    cases = {
        "main": (whole, "1920x1080"),
        "uncropped": (hvcc((33, (hevc_sps(window=None),))), "1920x1088"),
        "sub-layers": (hvcc((33, (hevc_sps(sub_layers=((1, 0), (0, 1), (1, 1))),))), "1920x1080"),
        "seven-sub-layers": (hvcc((33, (hevc_sps(sub_layers=((1, 1),) * 7),))), "1920x1080"),
        "444-in-luma-samples": (hvcc((33, (hevc_sps(window=(0, 0, 0, 8), chroma=(3, 0)),))), "1920x1080"),
        "separate-planes": (hvcc((33, (hevc_sps(window=(0, 0, 0, 8), chroma=(3, 1)),))), "1920x1080"),
        "422": (hvcc((33, (hevc_sps(window=(0, 0, 0, 8), chroma=(2,)),))), "1920x1080"),
        "window-leaving-nothing": (hvcc((33, (hevc_sps(window=(0, 0, 300, 300)),))), "1920x1088"),
        "sps-in-the-vps-array": (hvcc((32, (hevc_sps(),))), "1920x1080"),
        "annex-b": (box(b"hvcC", b"\0\0\0\1" + hevc_sps()), "1920x1080"),
        "chroma-4": (hvcc((33, (hevc_sps(chroma=(4,)),))), "32x24"),
        "not-an-sps": (hvcc((34, (b"\x44" + hevc_sps()[1:],))), "32x24"),  # the same bytes typed a PPS
    }
    unreadable = {
        **{f"hvcc-cut-{cut}": box(b"hvcC", whole[8:cut]) for cut in range(8, len(whole) - 1)},
        **{f"sps-cut-{cut}": hvcc((33, (hevc_sps()[:cut],))) for cut in range(len(hevc_sps()) - 1)},
    }
    cases.update({name: (config, "32x24") for name, config in unreadable.items()})
    assert {name: sized(entry(32, 24, config, kind=b"hvc1")) for name, (config, _) in cases.items()} == {
        name: size for name, (_, size) in cases.items()
    }
    for at in range(8, len(whole)):  # every byte overwritten: some size or the header's, never a raise
        for value in (0x00, 0x01, 0x7F, 0xFF):
            sized(entry(32, 24, whole[:at] + bytes([value]) + whole[at + 1 :], kind=b"hev1"))
