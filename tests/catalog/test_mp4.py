"""``catalog.mp4``: duration and frame size from the MP4 header, no decoder; anything else is None."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

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
