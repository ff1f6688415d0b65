"""What to render (``RenderSpec``), what came out (``Rendered``), and the cache key that ties them.

The spec is the whole input: two equal specs produce the same frames, so the key (a SHA-256 over
every field, image bytes included) names a render on disk for as long as the renderer's look
(``RENDERER_VERSION``) stays the same.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

# Bump when frames or encoder settings change, so old cache entries are not served for new specs.
RENDERER_VERSION = 1

MIN_SIDE = 16
MAX_SIDE = 4096
MAX_SECONDS = 120
MAX_FPS = 60
SOURCE_MODES = (None, "edit", "extend")


@dataclass(frozen=True)
class RenderSpec:
    """One video to render. ``image`` (PNG/JPEG/WebP bytes) is the background of the first frames.

    ``source_video`` (MP4 bytes) with ``source_mode``: ``"edit"`` mixes every frame of the source with
    this spec's own scene and draws its prompt card over it (``seconds`` is then the source's length);
    ``"extend"`` plays the source, then ``seconds`` of newly rendered frames."""

    prompt: str
    seconds: int
    width: int
    height: int
    seed: int = 0
    fps: int = 24
    image: bytes | None = None
    source_video: bytes | None = None
    source_mode: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.prompt, str):
            raise ValueError(f"RenderSpec.prompt must be a str, got {type(self.prompt).__name__}")
        if self.image is not None and not isinstance(self.image, bytes):
            raise ValueError(f"RenderSpec.image must be bytes or None, got {type(self.image).__name__}")
        for name, value in (("seconds", self.seconds), ("width", self.width), ("height", self.height)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"RenderSpec.{name} must be an int, got {value!r}")
        if not 1 <= self.seconds <= MAX_SECONDS:
            raise ValueError(f"RenderSpec.seconds must be 1..{MAX_SECONDS}, got {self.seconds}")
        for name, side in (("width", self.width), ("height", self.height)):
            # H.264 in yuv420p subsamples chroma 2x2, so both sides must be even.
            if not MIN_SIDE <= side <= MAX_SIDE or side % 2:
                raise ValueError(
                    f"RenderSpec.{name} must be an even number {MIN_SIDE}..{MAX_SIDE}, got {side}"
                )
        if isinstance(self.fps, bool) or not isinstance(self.fps, int) or not 1 <= self.fps <= MAX_FPS:
            raise ValueError(f"RenderSpec.fps must be an int 1..{MAX_FPS}, got {self.fps!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"RenderSpec.seed must be an int, got {self.seed!r}")
        if (self.source_video is None) != (self.source_mode is None) or self.source_mode not in SOURCE_MODES:
            raise ValueError("RenderSpec.source_video and source_mode ('edit' or 'extend') go together")

    @property
    def frame_count(self) -> int:
        return self.seconds * self.fps

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    def key(self) -> str:
        """SHA-256 hex of every field (and the renderer version): the cache entry's name."""
        digest = hashlib.sha256()
        fields = (RENDERER_VERSION, self.seconds, self.width, self.height, self.seed, self.fps)
        digest.update(("vidgate-render\0" + "\0".join(map(str, fields)) + "\0").encode())
        prompt = self.prompt.encode("utf-8", "surrogatepass")
        digest.update(len(prompt).to_bytes(8, "big") + prompt)
        if self.image is None:
            digest.update(b"\0no-image")
        else:
            digest.update(b"\1" + len(self.image).to_bytes(8, "big") + self.image)
        if self.source_video is not None:  # absent: the key of every earlier render is unchanged
            mode = str(self.source_mode).encode()
            digest.update(b"\2" + mode + len(self.source_video).to_bytes(8, "big") + self.source_video)
        return digest.hexdigest()


@dataclass(frozen=True)
class Rendered:
    """The files of one render: MP4 (H.264, yuv420p), WebP thumbnail, JPEG spritesheet."""

    video: Path
    thumbnail: Path
    spritesheet: Path
