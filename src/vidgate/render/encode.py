"""Encoding: frames -> H.264 MP4 (yuv420p, moov first so it streams), WebP thumbnail, JPEG spritesheet.

x264 is deterministic for fixed settings, and the MP4 muxer is told to write no wall-clock metadata,
so equal specs give byte-identical files. ``ultrafast`` keeps an 8 s 720p render well under real time
on one core; CRF 26 keeps the files small for the flat, synthetic frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

from vidgate.render.color import AV_RANGE_MPEG, AV_SMPTE170M
from vidgate.render.sources import frames
from vidgate.render.spec import RenderSpec
from vidgate.settings import RENDER_THREADS, env


@dataclass(frozen=True)
class EncoderSettings:
    codec: str = "libx264"
    preset: str = "ultrafast"
    crf: int = 26
    threads: int = 1  # measured: 1 thread is fastest overall at 720p/1080p (bench/render.py)
    gop_seconds: int = 2
    sprite_tiles: int = 10
    sprite_columns: int = 5
    sprite_tile_width: int = 256

    def describe(self) -> str:
        return (
            f"{self.codec} preset={self.preset} crf={self.crf} threads={self.threads} "
            f"gop={self.gop_seconds}s pix_fmt=yuv420p movflags=+faststart"
        )


SETTINGS = EncoderSettings()


def _threads(settings: EncoderSettings) -> int:
    """``$VIDGATE_RENDER_THREADS`` overrides (0 = x264 picks). x264's output depends on its thread
    count, so keep one value wherever identical output for equal specs matters."""
    override = env(RENDER_THREADS)
    return int(override) if override and override.isdigit() else settings.threads


def sprite_indices(frame_count: int, tiles: int) -> list[int]:
    """Evenly spaced frame indices, first and last included."""
    if tiles <= 1 or frame_count <= 1:
        return [0]
    return sorted({round(i * (frame_count - 1) / (tiles - 1)) for i in range(tiles)})


def encode(
    spec: RenderSpec, video: Path, thumbnail: Path, spritesheet: Path, settings: EncoderSettings = SETTINGS
) -> None:
    """Render every frame of ``spec`` and write the three files (to exactly these paths)."""
    frame_count, pictures = frames(spec)
    thumb_index = frame_count // 2
    sprite_at = set(sprite_indices(frame_count, settings.sprite_tiles))
    tile_w = min(settings.sprite_tile_width, spec.width)
    tile_h = max(2, round(spec.height * tile_w / spec.width))
    tiles: list[Image.Image] = []
    thumb: Image.Image | None = None
    with av.open(
        str(video), mode="w", format="mp4", options={"movflags": "+faststart", "fflags": "+bitexact"}
    ) as out:
        stream = out.add_stream(settings.codec, rate=spec.fps)
        assert isinstance(stream, av.VideoStream)
        stream.width = spec.width
        stream.height = spec.height
        stream.pix_fmt = "yuv420p"
        tick = Fraction(1, spec.fps)  # the stream's own time_base changes once the muxer opens
        stream.time_base = tick
        context = stream.codec_context
        context.thread_count = _threads(settings)
        context.colorspace = context.color_primaries = context.color_trc = AV_SMPTE170M
        context.color_range = AV_RANGE_MPEG
        stream.options = {
            "preset": settings.preset,
            "crf": str(settings.crf),
            "g": str(settings.gop_seconds * spec.fps),
            "flags": "+bitexact",
        }
        frame = None
        for index, packed in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(packed, format="yuv420p")
            if index == thumb_index:
                thumb = _picture(frame)
            if index in sprite_at:
                tiles.append(_picture(frame).resize((tile_w, tile_h), Image.Resampling.BILINEAR))
            frame.pts = index
            frame.time_base = tick
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    if frame is None:
        raise ValueError("the source video has no frames")
    if thumb is None or not tiles:  # a source that decoded to fewer frames than its header said
        thumb = thumb or _picture(frame)
        tiles = tiles or [_picture(frame).resize((tile_w, tile_h), Image.Resampling.BILINEAR)]
    thumb.save(thumbnail, format="WEBP", quality=80, method=0)
    _sheet(tiles, settings.sprite_columns).save(spritesheet, format="JPEG", quality=80)


def _picture(frame: av.VideoFrame) -> Image.Image:
    return Image.fromarray(frame.to_ndarray(format="rgb24"))


def _sheet(tiles: list[Image.Image], columns: int) -> Image.Image:
    cols = min(columns, len(tiles))
    rows = -(-len(tiles) // cols)
    tw, th = tiles[0].size
    sheet = Image.new("RGB", (cols * tw, rows * th), (0, 0, 0))
    for i, tile in enumerate(tiles):
        sheet.paste(tile, ((i % cols) * tw, (i // cols) * th))
    return sheet
