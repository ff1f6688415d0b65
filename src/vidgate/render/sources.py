"""The frames of a render: newly composed, or derived from a source video (an edit or an extension).

A source is decoded with PyAV and scaled to the spec's size; its frames are re-timed at the spec's
frame rate. An edit mixes each source frame with the new prompt's scene under its card; an extension plays
them, then the newly composed seconds.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator

import av
import numpy as np

from vidgate.render.frames import Composer
from vidgate.render.layers import U8
from vidgate.render.spec import MAX_FPS, MAX_SECONDS, RenderSpec

MAX_SOURCE_FRAMES = MAX_SECONDS * MAX_FPS


def _count(data: bytes) -> int:
    """How many frames the source has: the container's count, else counted by demuxing (no decode)."""
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        if stream.frames:
            return min(int(stream.frames), MAX_SOURCE_FRAMES)
        counted = 0
        for packet in container.demux(stream):
            counted += 1 if packet.size else 0
        return min(counted, MAX_SOURCE_FRAMES)


def _decoded(data: bytes, width: int, height: int, limit: int) -> Iterator[U8]:
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        for frame in itertools.islice(container.decode(stream), limit):
            packed = frame.reformat(width=width, height=height, format="yuv420p").to_ndarray()
            yield np.asarray(packed, dtype=np.uint8)


def frames(spec: RenderSpec) -> tuple[int, Iterator[U8]]:
    """The number of frames of ``spec``'s video and the frames (packed yuv420p; each array is only
    valid until the next one is taken)."""
    composer = Composer(spec)
    composed = (composer.frame(i).packed() for i in range(spec.frame_count))
    if spec.source_video is None:
        return spec.frame_count, composed
    count = _count(spec.source_video)
    source = _decoded(spec.source_video, spec.width, spec.height, count)
    if spec.source_mode == "edit":
        return count, (composer.over(frame, i).packed() for i, frame in enumerate(source))
    return count + spec.frame_count, itertools.chain(source, composed)
