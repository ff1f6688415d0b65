"""Normalises the ``video`` argument of ``edit``/``extend``/``create_character`` (the SDK's own, so a
bad one is a 400 naming ``video`` before any network call).

Accepted: ``{"id": "video_..."}`` or an id string (a video this SDK or the gateway issued), or an MP4
as a path (``str``/``Path`` to an existing file), raw ``bytes``, an open binary file, or a
``(filename, bytes | file[, mime])`` tuple. An upload must be an MP4 whose header gives its duration
(``catalog.mp4``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from vidgate.catalog.mp4 import VideoInfo, require_video
from vidgate.errors import BadRequestError

_FORMS = (
    "{'id': 'video_...'} or a video id, or an MP4 as a path, bytes, an open binary file or a "
    "(filename, bytes) tuple"
)


@dataclass(frozen=True)
class VideoArg:
    """Exactly one of ``video_id`` and ``data`` (an MP4, with ``info`` read from its header)."""

    video_id: str | None = None
    data: bytes | None = None
    filename: str = "video.mp4"
    info: VideoInfo | None = None


def _bad(message: str) -> BadRequestError:
    return BadRequestError(message, param="video", code="invalid_value")


def _upload(data: object, filename: str | None) -> VideoArg:
    if hasattr(data, "read"):
        data = data.read()
    if not isinstance(data, bytes | bytearray | memoryview):
        raise _bad(f"'video' content must be bytes or a binary file; got {type(data).__name__}.")
    raw = bytes(data)
    if not raw:
        raise _bad("'video' is empty.")
    info = require_video(raw, "video")
    return VideoArg(data=raw, filename=os.path.basename(filename) if filename else "video.mp4", info=info)


def to_video_arg(value: object, *, allow_id: bool = True) -> VideoArg:
    """``value`` in any accepted form (ids only when ``allow_id``)."""
    if isinstance(value, Mapping):
        video_id = value.get("id") if set(value) == {"id"} else None
        if not allow_id or not isinstance(video_id, str) or not video_id:
            raise _bad(f"A dict 'video' must be exactly {{'id': str}}. Accepted forms: {_FORMS}.")
        return VideoArg(video_id=video_id)
    if isinstance(value, str):
        path = Path(value)
        if path.is_file():
            return _upload(path.read_bytes(), path.name)
        if allow_id and value.strip() and "/" not in value and not value.endswith(".mp4"):
            return VideoArg(video_id=value)
        raise _bad(f"'video' names no existing file: {value[:200]!r}. Accepted forms: {_FORMS}.")
    if isinstance(value, PurePath):
        if not Path(value).is_file():
            raise _bad(f"'video' names no existing file: {str(value)[:200]!r}.")
        return _upload(Path(value).read_bytes(), value.name)
    if isinstance(value, tuple) and len(value) in (2, 3):
        name: Any = value[0]
        if name is not None and not isinstance(name, str):
            raise _bad("The filename in 'video' must be a string.")
        return _upload(value[1], name)
    if isinstance(value, bytes | bytearray | memoryview) or hasattr(value, "read"):
        name = getattr(value, "name", None)
        return _upload(value, name if isinstance(name, str) else None)
    raise _bad(f"Unsupported type {type(value).__name__} for 'video'. Accepted forms: {_FORMS}.")
