"""Inspect rendered media in tests: decode an MP4 with PyAV, list its top-level boxes."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    pix_fmt: str
    width: int
    height: int
    frames: int
    duration: float  # container duration, seconds
    fps: float


def probe(source: Path | bytes) -> VideoInfo:
    """Decode every frame (so a corrupt file fails here) and report what the file is."""
    handle = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    with av.open(handle, mode="r") as container:
        stream = container.streams.video[0]
        frames = 0
        for _ in container.decode(stream):  # one frame at a time: a 4k video does not fit in memory
            frames += 1
        return VideoInfo(
            codec=stream.codec_context.name,
            pix_fmt=stream.codec_context.pix_fmt or "",
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            frames=frames,
            duration=(container.duration or 0) / 1_000_000,
            fps=float(stream.average_rate or 0),
        )


def decode_frames(source: Path | bytes, indices: list[int] | None = None) -> list[np.ndarray]:
    """Decoded RGB frames (all, or only ``indices``)."""
    handle = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    wanted = set(indices) if indices is not None else None
    out: list[np.ndarray] = []
    with av.open(handle, mode="r") as container:
        for i, frame in enumerate(container.decode(container.streams.video[0])):
            if wanted is None or i in wanted:
                out.append(frame.to_ndarray(format="rgb24"))
    return out


def top_level_boxes(path: Path) -> list[str]:
    """MP4 top-level box types in file order (``moov`` before ``mdat`` means it streams)."""
    data = path.read_bytes()
    boxes: list[str] = []
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = len(data) - pos
        boxes.append(kind.decode("latin-1"))
        pos += size
    return boxes
