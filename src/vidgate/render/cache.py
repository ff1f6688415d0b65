"""The render cache: one directory per spec key, filled atomically, shared by threads and processes.

Each file is written under a unique temporary name and moved into place with ``os.replace``, so a
reader sees a whole file or none. A per-key lock (a thread lock plus ``flock`` on a lock file where the
platform has it) makes concurrent renders of one spec wait for the first instead of encoding it again;
without ``flock`` they may both encode, which wastes time but stays correct.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vidgate.render.spec import Rendered
from vidgate.settings import LOCAL_DIR, env

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

VIDEO_NAME = "video.mp4"
THUMBNAIL_NAME = "thumbnail.webp"
SPRITESHEET_NAME = "spritesheet.jpg"

_STRIPES = 64
_locks = [threading.Lock() for _ in range(_STRIPES)]  # bounded: keys share stripes by hash


def default_cache_dir() -> Path:
    """``$VIDGATE_LOCAL_DIR/renders``, else ``~/.cache/vidgate/renders``."""
    base = env(LOCAL_DIR)
    if base:
        return Path(base).expanduser() / "renders"
    return Path.home() / ".cache" / "vidgate" / "renders"


def entry(cache_dir: Path, key: str) -> Rendered:
    folder = cache_dir / key
    return Rendered(
        video=folder / VIDEO_NAME, thumbnail=folder / THUMBNAIL_NAME, spritesheet=folder / SPRITESHEET_NAME
    )


def complete(rendered: Rendered) -> bool:
    return all(p.is_file() for p in (rendered.video, rendered.thumbnail, rendered.spritesheet))


def temp_path(final: Path) -> Path:
    """A name no other thread or process will use, in the same directory (so os.replace is atomic)."""
    return final.with_name(f".{final.name}.{os.getpid()}.{threading.get_ident()}.tmp{final.suffix}")


@contextmanager
def locked(cache_dir: Path, key: str) -> Iterator[None]:
    with _locks[int(key[:8], 16) % _STRIPES]:
        if fcntl is None:  # pragma: no cover - Windows
            yield
            return
        lock_path = cache_dir / key / ".lock"
        with open(lock_path, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
