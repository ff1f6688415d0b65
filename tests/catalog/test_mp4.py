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
    data = box(b"ftyp", b"isom" + bytes(4)) + box(b"moov", mvhd(timescale, duration, version))
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
    data = patched(twelve_seconds, TKHD_WIDTH, TKHD_HEIGHT, STSD_SIZE)
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
    return box(b"ftyp", b"isom" + bytes(4)) + box(b"moov", b"".join(children))


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
