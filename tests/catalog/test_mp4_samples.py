"""``catalog.mp4`` reads the parameter sets in the samples too: the decoder reinitialises at the size an
in-band SPS (H.264, H.265) or AV1 sequence header states, whatever the headers and ``avcC`` say."""

from __future__ import annotations

import io
import struct
import time
from pathlib import Path

import av
import numpy as np
import pytest
from tests.catalog.test_mp4 import (
    HEVC,
    STSD_SIZE,
    TKHD_HEIGHT,
    TKHD_WIDTH,
    Bits,
    avcc,
    box,
    encode,
    entry,
    full,
    hevc_sps,
    hvcc,
    mdhd,
    media_box,
    mvhd,
    patched,
    payload,
    sps,
    stsd,
    stts,
    table,
    tkhd,
)
from tests.catalog.test_vp9 import header, inter, key_frame, size
from tests.support import media

from vidgate.catalog.mp4 import probe, require_video
from vidgate.errors import BadRequestError

STBL = (b"moov", b"trak", b"mdia", b"minf", b"stbl")


def config_swapped(data: bytes, small: bytes, kind: bytes) -> bytes:
    """``data`` with its sample entry's ``kind`` box (``avcC``, ``hvcC``, ``av1C``) replaced by
    ``small``'s, and every ancestor box's size fixed. ffmpeg's muxer writes ``moov`` after ``mdat``, so
    the samples' offsets (``stco``) stay right."""
    assert payload(data, b"mdat") < payload(data, b"moov")
    ancestors = [payload(data, *STBL[:depth]) - 8 for depth in range(1, len(STBL) + 1)]
    ancestors += [payload(data, *STBL, b"stsd") - 8, payload(data, *STBL, b"stsd") + 8]  # stsd, the entry

    def config(file: bytes) -> tuple[int, int]:
        start = file.index(kind, payload(file, *STBL, b"stsd")) - 4
        return start, start + struct.unpack(">I", file[start : start + 4])[0]

    (start, end), (small_start, small_end) = config(data), config(small)
    delta = (small_end - small_start) - (end - start)
    out = bytearray(data[:start] + small[small_start:small_end] + data[end:])
    for at in ancestors:
        out[at : at + 4] = struct.pack(">I", struct.unpack(">I", out[at : at + 4])[0] + delta)
    return bytes(out)


def headers_set(data: bytes, real: tuple[int, int], stated: tuple[int, int]) -> bytes:
    """``tkhd``'s and the sample entry's width and height changed from ``real`` to ``stated``."""
    (width, height), (new_width, new_height) = real, stated
    return patched(
        data,
        (TKHD_WIDTH[0], 76, width << 16, new_width << 16),
        (TKHD_HEIGHT[0], 80, height << 16, new_height << 16),
        (STSD_SIZE[0], 40, width << 16 | height, new_width << 16 | new_height),
    )


CODECS = {
    "h264": ({"x264-params": "repeat-headers=1"}, b"avcC"),
    "h265": ({**HEVC, "x265-params": f"{HEVC['x265-params']}:repeat-headers=1"}, b"hvcC"),
    "av1": ({"codec": "libsvtav1", "preset": "12"}, b"av1C"),
}


@pytest.mark.parametrize("codec", list(CODECS))
def test_an_in_band_parameter_set_larger_than_the_headers_is_the_size(tmp_path: Path, codec: str) -> None:
    """A real file whose ``tkhd``, sample entry and ``avcC``/``hvcC``/``av1C`` were all rewritten to
    320x180: its samples still carry the 640x360 SPS (sequence header) the encoder wrote, the decoder
    decodes 640x360 frames, and the probe prices that."""
    options, kind = CODECS[codec]
    real = encode(
        tmp_path / "real.mp4", 640, 360, "yuv420p", {**options, "preset": options.get("preset", "ultrafast")}
    )
    small = encode(tmp_path / "small.mp4", 320, 180, "yuv420p", dict(options))
    data = headers_set(config_swapped(real, small, kind), (640, 360), (320, 180))
    assert data.count(kind) == 1
    assert len(data) != len(real)
    decoded = media.probe(data)
    assert (decoded.width, decoded.height, decoded.frames) == (640, 360, 2)
    info = probe(data)
    assert info is not None
    assert info.size == "640x360"
    assert probe(real) == info  # the file as written: the same


def with_samples(
    description: bytes,
    *samples: bytes,
    sample_size: int = 0,
    count: int | None = None,
    mdat_last: bool = False,
    compact: int = 0,
) -> bytes:
    """A file whose one video track (32x24 in ``tkhd``) has the sample entry ``description`` and
    ``samples``, in one chunk at the start of ``mdat`` (``sample_size``: stsz's one size for ``count``
    samples instead; ``compact``: their sizes in an ``stz2`` of fields of that many bits); ``mdat``
    after ``moov`` if ``mdat_last``."""
    ftyp = box(b"ftyp", b"isom" + bytes(4))
    count = len(samples) if count is None else count
    sizes = b"".join(struct.pack(">I", len(sample)) for sample in samples) if not sample_size else b""

    def moov(offset: int) -> bytes:
        tables = stsd(description) + stts((count, 1))
        if compact:
            fields = "".join(format(len(sample), f"0{compact}b") for sample in samples)
            fields += "0" * (-len(fields) % 8)
            packed = int(fields, 2).to_bytes(len(fields) // 8, "big")
            tables += full(b"stz2", 0, bytes([0, 0, 0, compact]) + struct.pack(">I", count) + packed)
        else:
            tables += full(b"stsz", 0, struct.pack(">II", sample_size, count) + sizes)
        tables += full(b"stsc", 0, struct.pack(">IIII", 1, 1, count, 1))
        tables += full(b"stco", 0, struct.pack(">II", 1, offset))
        track = box(b"trak", tkhd(1000, size=(32, 24)) + media_box(mdhd(1000, 1000), table(tables)))
        return box(b"moov", mvhd(1000, 1000) + track)

    mdat = box(b"mdat", b"".join(samples))
    if mdat_last:
        return ftyp + moov(len(ftyp) + len(moov(0)) + 8) + mdat
    return ftyp + mdat + moov(len(ftyp) + 8)


def units(*nals: bytes, width: int = 4) -> bytes:
    """A sample of ``nals``, each after its ``width``-byte length."""
    return b"".join(len(nal).to_bytes(width, "big") + nal for nal in nals)


AUD, IDR = b"\x09\xf0", b"\x65\x88\x84"  # an access unit delimiter and the start of an IDR slice
PPS = b"\x68\xce\x38\x80"  # a picture parameter set (nal_unit_type 8)
SMALL = sps((3, 3), None)  # 48x48
TINY = sps((15, 15), None)  # 240x240, a sample of 15 bytes at most (stz2 of 4 bits)
HEVC_AUD = b"\x46\x01\x50"


def sized(data: bytes) -> str | None:
    info = probe(data)
    return "refused" if info is None else info.size


def test_hand_built_in_band_parameter_sets() -> None:
    """Every sample's NAL units are walked in the framing the decoder reads them in (the record's
    length size, Annex B with no record) up to one overrunning its sample; the largest SPS counts."""
    small = entry(32, 24, avcc(SMALL))
    whole = with_samples(small, units(AUD, IDR), units(sps()), mdat_last=True)
    short_lengths = entry(32, 24, box(b"avcC", avcc(SMALL)[8:12] + b"\xfd" + avcc(SMALL)[13:]))  # 2 bytes
    record = avcc(SMALL, pps=(PPS,))[8:]
    two_byte_record = record[:4] + b"\xfd" + record[5:]
    cases = {
        "second-sample": (with_samples(small, units(AUD, IDR), units(AUD, sps(), IDR)), "1920x1080"),
        "largest-of-two": (with_samples(small, units(sps((40, 23), None)), units(sps())), "1920x1080"),
        "two-byte-lengths": (with_samples(short_lengths, units(AUD, sps(), width=2)), "1920x1080"),
        "annex-b-without-avcc": (
            with_samples(entry(32, 24), b"\0\0\0\1" + AUD + b"\0\0\1" + sps() + b"\0\0\1" + IDR),
            "1920x1080",
        ),
        "hevc": (
            with_samples(
                entry(32, 24, hvcc((33, (hevc_sps((64, 64), None),))), kind=b"hvc1"),
                units(HEVC_AUD, hevc_sps()),
            ),
            "1920x1080",
        ),
        "after-an-overrunning-nal": (with_samples(small, b"\0\0\x10\0" + AUD + units(sps())), "48x48"),
        "mdat-last": (whole, "1920x1080"),
        "sps-cut-by-the-file-end": (whole[:-1], "48x48"),
        "sps-sample-past-the-file-end": (whole[: -len(units(sps())) - 1], "48x48"),
        "a-sample-that-is-an-avcc-record": (
            with_samples(small, units(AUD, IDR), avcc(sps(), pps=(PPS,))[8:]),
            "1920x1080",
        ),
        # h264dec.c's is_avcc_extradata wants a PPS too: without one the sample is read as NAL units
        "an-avcc-record-without-a-pps": (with_samples(small, avcc(sps())[8:]), "48x48"),
        "an-avcc-record-sets-the-nal-length-size": (
            with_samples(small, two_byte_record, units(AUD, sps(), width=2)),
            "1920x1080",
        ),
        "a-second-sample-entry": (
            with_samples(small + entry(32, 24, avcc(sps())), units(AUD, IDR)),
            "1920x1080",
        ),
        "stz2-16-bits": (with_samples(small, units(AUD), units(sps()), compact=16), "1920x1080"),
        "stz2-8-bits": (with_samples(small, units(AUD), units(sps()), compact=8), "1920x1080"),
        "stz2-4-bits": (with_samples(small, units(AUD), units(TINY), compact=4), "240x240"),
        "not-an-sps": (with_samples(small, units(b"\x68" + sps()[1:])), "48x48"),
        "unreadable-sps": (with_samples(small, units(sps()[:6])), "48x48"),
        "other-codec": (with_samples(entry(32, 24, kind=b"mp4v"), units(sps())), "32x24"),
        "an-avc-intra-fourcc": (with_samples(entry(32, 24, kind=b"ai5p"), b"\0\0\0\1" + sps()), "1920x1080"),
        "another-h264-fourcc": (with_samples(entry(32, 24, kind=b"AVin"), b"\0\0\1" + sps()), "1920x1080"),
    }
    assert {name: sized(data) for name, (data, _) in cases.items()} == {
        name: size for name, (_, size) in cases.items()
    }


def assert_refused(data: bytes) -> None:
    with pytest.raises(BadRequestError) as caught:
        require_video(data, "video", sized=True)
    assert (caught.value.param, caught.value.code) == ("video", "invalid_video_format")


def test_a_file_past_its_nal_unit_budget_is_refused() -> None:
    """2**21 NAL units are walked per file (a 10-minute 60 fps clip of 16 slices a frame is 648,000);
    one more and the file is refused, so a crafted file of millions of units cannot make the probe slow."""
    small = entry(32, 24, avcc(SMALL))
    at_most = with_samples(small, units(AUD) * (2**21 - 1) + units(sps()))
    started = time.monotonic()
    assert sized(at_most) == "1920x1080"
    assert_refused(with_samples(small, units(AUD) * 2**21 + units(sps())))
    assert time.monotonic() - started < 10


def test_a_file_past_its_parameter_set_budget_is_refused() -> None:
    """1,024 distinct SPSs are parsed per file (identical ones once); one more and the file is refused."""
    distinct = [sps((1 + index % 128, 1 + index // 128), None) for index in range(1025)]
    small = entry(32, 24, avcc(SMALL))
    assert sized(with_samples(small, units(*distinct[:1024]), units(*distinct[:1024]))) == "2048x128"
    assert_refused(with_samples(small, units(*distinct)))


def test_a_file_past_its_sample_budget_is_refused() -> None:
    """2**20 samples are located per file (a 600 s clip at 240 fps has 144,000); more are refused."""
    small = entry(32, 24, avcc(SMALL))
    assert sized(with_samples(small, units(sps()), bytes(2**20 - 1), count=2**20, sample_size=1)) == "48x48"
    assert_refused(with_samples(small, units(sps()), bytes(2**20), count=2**20 + 1, sample_size=1))


def sequence_header(
    size: tuple[int, int] = (1920, 1080),
    reduced: bool = False,
    timing: tuple[int, int] | None = None,
    points: tuple[tuple[int, bool, bool], ...] = ((8, False, False),),
) -> bytes:
    """An AV1 sequence header OBU's payload (AV1 spec 5.5.1) of max frame ``size``; ``timing``:
    (num_ticks_per_picture_minus_1, buffer_delay_length_minus_1) with a decoder model; ``points``: per
    operating point its seq_level_idx and whether it has decoder model and initial display delay
    fields."""
    bits = Bits().u(3, 0).u(1, int(reduced)).u(1, int(reduced))
    if reduced:
        bits.u(5, 8)
    else:
        bits.u(1, timing is not None)
        if timing is not None:
            bits.u(32, 1001).u(32, 60000).u(1, 1).ue(timing[0]).u(1, 1)
            bits.u(5, timing[1]).u(32, 1).u(5, 31).u(5, 31)
        bits.u(1, any(delay for _, _, delay in points)).u(5, len(points) - 1)
        for level, model, delay in points:
            bits.u(12, 0x101).u(5, level).u(1 if level > 7 else 0, 1)
            if timing is not None:
                bits.u(1, int(model)).u(2 * (timing[1] + 1) + 1 if model else 0, 0)
            if any(delay for _, _, delay in points):
                bits.u(1, int(delay)).u(4 if delay else 0, 9)
    bits.u(4, 15).u(4, 15).u(16, size[0] - 1).u(16, size[1] - 1).u(1, 1)  # trailing_one_bit
    padded = bits.bits + "0" * (-len(bits.bits) % 8)
    return int(padded, 2).to_bytes(len(padded) // 8, "big")  # AV1 has no emulation prevention


def obu(kind: int, body: bytes, sized: bool = True, extension: bool = False) -> bytes:
    """An OBU: its header byte (and extension byte), its leb128 size if ``sized``, its payload."""
    header = bytes([kind << 3 | extension << 2 | sized << 1]) + (b"\x08" if extension else b"")
    size = b""
    if sized:
        length = len(body)
        while True:
            size += bytes([(length & 0x7F) | (0x80 if length > 0x7F else 0)])
            length >>= 7
            if not length:
                break
    return header + size + body


def av1c(*obus: bytes) -> bytes:
    return box(b"av1C", b"\x81\x08\x0c\x00" + b"".join(obus))


TEMPORAL_DELIMITER, FRAME = obu(2, b""), obu(6, bytes(40))


def test_hand_built_av1_sequence_headers() -> None:
    """The max frame size of each sequence header in ``av1C`` and in the samples, read past each
    optional field; the largest counts; one cut short leaves the other sizes."""
    small = entry(32, 24, av1c(obu(1, sequence_header((48, 48)))), kind=b"av01")

    def in_samples(header: bytes, **framing: bool) -> str | None:
        return sized(with_samples(small, TEMPORAL_DELIMITER + obu(1, header, **framing) + FRAME))

    long_delay = ((9, True, True), (4, False, True), (12, True, False))
    cases = {
        "av1c": sized(
            with_samples(entry(32, 24, av1c(obu(1, sequence_header())), kind=b"av01"), TEMPORAL_DELIMITER)
        ),
        "in-a-sample": in_samples(sequence_header()),
        "reduced-still-picture": in_samples(sequence_header(reduced=True)),
        "timing-and-decoder-model": in_samples(sequence_header(timing=(59, 20), points=long_delay)),
        "uvlc-of-31-zeros": in_samples(sequence_header(timing=(2**31, 0), points=long_delay)),
        "3840x2160": in_samples(sequence_header((3840, 2160), timing=(0, 4))),
        "extension-byte": in_samples(sequence_header(), extension=True),
        "no-size-field-last": sized(
            with_samples(small, TEMPORAL_DELIMITER + FRAME + obu(1, sequence_header(), sized=False))
        ),
        "cut-short": in_samples(sequence_header()[:8]),
        "size-past-the-sample": sized(
            with_samples(small, TEMPORAL_DELIMITER + obu(1, sequence_header())[:-1])
        ),
        "not-av01": sized(with_samples(entry(32, 24, kind=b"vp09"), obu(1, sequence_header()))),
    }
    expected = dict.fromkeys(cases, "1920x1080")
    expected |= {"3840x2160": "3840x2160", "cut-short": "48x48", "size-past-the-sample": "48x48"}
    assert cases == expected | {"not-av01": "32x24"}


def packets(data: bytes) -> list[bytes]:
    """The samples of ``data``'s video track, as stored (length-prefixed NAL units)."""
    with av.open(io.BytesIO(data), mode="r") as container:
        return [bytes(packet) for packet in container.demux(video=0) if packet.size]


def test_a_resolution_change_mid_stream_is_priced_at_the_larger_size(tmp_path: Path) -> None:
    """Two real 2-frame encodes, 320x180 then 640x360, in one track whose entry holds the first's
    ``avcC``: the decoder switches to 640x360 at the second's keyframe (its in-band SPS), and the probe
    prices that; every byte of that keyframe overwritten never makes the probe raise."""
    options = {"x264-params": "repeat-headers=1"}
    small = encode(tmp_path / "small.mp4", 320, 180, "yuv420p", dict(options))
    large = encode(tmp_path / "large.mp4", 640, 360, "yuv420p", dict(options))
    config = small[small.index(b"avcC") - 4 :]
    config = config[: struct.unpack(">I", config[:4])[0]]
    keyframe = packets(large)[0]
    data = with_samples(entry(320, 180, config), *packets(small), keyframe, *packets(large)[1:])
    with av.open(io.BytesIO(data), mode="r") as container:
        assert [(frame.width, frame.height) for frame in container.decode(video=0)] == [(320, 180)] * 2 + [
            (640, 360)
        ] * 2
    info = probe(data)
    assert info is not None
    assert info.size == "640x360"
    at = data.index(keyframe)
    for offset in range(len(keyframe)):
        for value in (0x00, 0x01, 0x7F, 0xFF):
            probe(data[: at + offset] + bytes([value]) + data[at + offset + 1 :])


def with_entries(descriptions: bytes, *samples: tuple[int, bytes]) -> bytes:
    """A file whose one video track (32x24 in ``tkhd``) has the sample entries ``descriptions`` and
    ``samples``, each (its sample description index, its bytes) in a chunk of its own, ``mdat`` first."""
    ftyp = box(b"ftyp", b"isom" + bytes(4))
    mdat = box(b"mdat", b"".join(sample for _, sample in samples))
    offsets, at = [], len(ftyp) + 8
    for _, sample in samples:
        offsets.append(at)
        at += len(sample)
    tables = stsd(descriptions) + stts((len(samples), 1))
    sizes = [len(sample) for _, sample in samples]
    tables += full(b"stsz", 0, struct.pack(f">II{len(sizes)}I", 0, len(sizes), *sizes))
    runs = b"".join(struct.pack(">III", chunk + 1, 1, index) for chunk, (index, _) in enumerate(samples))
    tables += full(b"stsc", 0, struct.pack(">I", len(samples)) + runs)
    tables += full(b"stco", 0, struct.pack(f">I{len(offsets)}I", len(offsets), *offsets))
    track = box(b"trak", tkhd(1000, size=(32, 24)) + media_box(mdhd(1000, 1000), table(tables)))
    return ftyp + mdat + box(b"moov", mvhd(1000, 1000) + track)


def test_each_sample_entrys_samples_are_read_in_the_framing_the_decoder_has_for_them() -> None:
    """ffmpeg hands the decoder an entry's configuration with the samples ``stsc`` gives that entry
    (and none when the entry has none, or when the index names no entry, which mov.c reads as 0: the
    framing stays), so a second entry's 2-byte NAL lengths hide nothing, nor does an entry without an
    ``avcC`` or an index past the entries."""
    four = entry(32, 24, avcc(SMALL))
    two = entry(32, 24, box(b"avcC", avcc(SMALL)[8:12] + b"\xfd" + avcc(SMALL)[13:]))  # 2-byte lengths
    bare = entry(32, 24)  # no avcC: the decoder keeps the framing it has
    cases = {
        "second-entry-two-byte-lengths": (
            with_entries(four + two, (1, units(AUD, IDR)), (2, units(AUD, sps(), width=2))),
            "1920x1080",
        ),
        "back-to-the-first-entry": (
            with_entries(four + two, (2, units(AUD, width=2)), (1, units(AUD, sps()))),
            "1920x1080",
        ),
        "an-entry-without-avcc-keeps-the-framing": (
            with_entries(four + bare, (1, units(AUD, IDR)), (2, units(AUD, sps()))),
            "1920x1080",
        ),
        "only-the-second-entry": (with_entries(four + two, (2, units(AUD, sps(), width=2))), "1920x1080"),
        "an-index-naming-no-entry-keeps-the-framing": (
            with_entries(four + two, (2, units(AUD, width=2)), (3, units(AUD, sps(), width=2))),
            "1920x1080",
        ),
        "index-zero-keeps-the-framing": (with_entries(four, (0, units(sps()))), "1920x1080"),
    }
    assert {name: sized(data) for name, (data, _) in cases.items()} == {
        name: size for name, (_, size) in cases.items()
    }


def test_a_vp9_track_is_priced_at_the_sizes_its_frames_state(tmp_path: Path) -> None:
    """VP9 has no sequence-level size: each key frame states its own. A real libvpx-vp9 file whose
    ``tkhd`` and sample entry were rewritten to 320x180 still decodes at 640x360, and is priced so."""
    real = encode(tmp_path / "vp9.mp4", 640, 360, "yuv420p", {"codec": "libvpx-vp9", "deadline": "realtime"})
    data = headers_set(real, (640, 360), (320, 180))
    decoded = media.probe(data)
    assert (decoded.width, decoded.height) == (640, 360)
    assert sized(data) == "640x360"
    assert probe(real) == probe(data)


def test_hand_built_vp9_frames() -> None:
    """The largest size any frame states counts: a key frame's, or an inter frame's own (reference
    scaling) after a smaller key frame; a sample that is no VP9 frame is left out."""
    key = key_frame(320, 180)
    scaled = header(size(inter(), 1920, 1080))
    vp09 = entry(32, 24, kind=b"vp09")
    cases = {
        "key-frame": (with_samples(vp09, key), "320x180"),
        "inter-frame-stating-a-larger-size": (with_samples(vp09, key, scaled), "1920x1080"),
        "in-a-superframe": (
            with_samples(vp09, key + scaled + bytes([0xC9, len(key), 0, len(scaled), 0, 0xC9])),
            "1920x1080",
        ),
        "not-a-frame": (with_samples(vp09, bytes(16)), "32x24"),
    }
    assert {name: sized(data) for name, (data, _) in cases.items()} == {
        name: size for name, (_, size) in cases.items()
    }


def prores(path: Path, width: int, height: int) -> bytes:
    """Two frames of ``width``x``height`` ProRes 422 HQ (``apch``) in a QuickTime file, written by PyAV."""
    with av.open(str(path), mode="w", format="mov") as out:
        stream = out.add_stream("prores_ks", rate=24)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv422p10le"
        for index in range(2):
            pixels = np.full((height, width, 3), 40 * index, dtype=np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        out.mux(stream.encode(None))
    return path.read_bytes()


def test_a_prores_track_is_priced_at_the_size_its_frames_state(tmp_path: Path) -> None:
    """ffmpeg's ProRes decoder decodes every frame at the size its frame header states ("picture
    resolution change"): a real file whose ``tkhd`` and sample entry say 320x180 decodes at 640x360."""
    real = prores(tmp_path / "prores.mov", 640, 360)
    data = headers_set(real, (640, 360), (320, 180))
    decoded = media.probe(data)
    assert (decoded.width, decoded.height) == (640, 360)
    assert sized(data) == "640x360"
    assert probe(real) == probe(data)
    header = struct.pack(">I4sHH4sHH", 40, b"icpf", 148, 0, b"Lavc", 1920, 1080) + bytes(20)
    apch = entry(32, 24, kind=b"apch")
    assert sized(with_samples(apch, header)) == "1920x1080"
    assert sized(with_samples(apch, b"\0\0\0\x28frme" + header[8:])) == "32x24"  # no icpf: dropped
