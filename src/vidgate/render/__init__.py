"""The local renderer: a prompt becomes a real, deterministic H.264 MP4 plus thumbnail and spritesheet.

Used by the ``local`` provider and by every emulator to serve real videos. ``render`` is cached by
the spec's hash, so a second request for the same video costs a few ``stat`` calls.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from vidgate.render import cache as _cache
from vidgate.render import encode as _encode
from vidgate.render.spec import Rendered, RenderSpec

__all__ = ["RenderSpec", "Rendered", "render"]


def render(spec: RenderSpec, cache_dir: Path | None = None) -> Rendered:
    """Render ``spec`` (or find it in the cache) and return the paths of its video, thumbnail and spritesheet.

    Safe to call concurrently for one spec from threads and processes: one of them encodes, the rest
    wait and reuse its files. ``cache_dir`` defaults to ``$VIDGATE_LOCAL_DIR/renders``.
    """
    root = Path(cache_dir) if cache_dir is not None else _cache.default_cache_dir()
    key = spec.key()
    out = _cache.entry(root, key)
    if _cache.complete(out):
        return out
    out.video.parent.mkdir(parents=True, exist_ok=True)
    with _cache.locked(root, key):
        if _cache.complete(out):
            return out
        temps = [_cache.temp_path(p) for p in (out.video, out.thumbnail, out.spritesheet)]
        try:
            _encode.encode(spec, temps[0], temps[1], temps[2])
            # The video last: ``complete`` also checks the others, but a present MP4 is the usual signal.
            os.replace(temps[1], out.thumbnail)
            os.replace(temps[2], out.spritesheet)
            os.replace(temps[0], out.video)
        finally:
            for temp in temps:
                with contextlib.suppress(FileNotFoundError):
                    temp.unlink()
    return out
