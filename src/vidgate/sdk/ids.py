"""Self-describing video ids for direct (serverless) SDK use.

A direct-mode id carries everything a follow-up call needs, so ``video_status(video_id=...)`` works with
no ``model`` argument and no local state:

    "video_" + base64url(payload), no padding
    payload = "vg1" US provider US model US native_id US seconds US size US created_at   (US = "\\x1f")

``vg1`` is the format version; ``seconds``, ``size`` and ``created_at`` may be empty. They are kept
because some providers (Gemini, Vertex) do not echo them on a status poll. The alphabet is
``[A-Za-z0-9_-]``, so the id is URL-safe even when the native id is a Gemini operation name with
slashes. The id is not signed or secret: it holds no credentials, and every follow-up still needs the
caller's own key (the gateway, not the SDK, is where opaque owner-checked ids live).

Any other string (``"video_1234567890"``, a raw OpenAI id, a Gemini operation name) is *foreign*:
``decode`` returns None and the caller falls back to the ``model`` argument.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

PREFIX = "video_"
VERSION = "vg1"
_SEP = "\x1f"
_FIELDS = 7
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class VideoRef:
    """What a direct-mode id points at: a job of ``provider`` for ``model`` known there as ``native_id``."""

    provider: str
    model: str
    native_id: str
    seconds: str | None = None
    size: str | None = None
    created_at: int | None = None

    @property
    def model_id(self) -> str:
        return f"{self.provider}/{self.model}"


def encode(ref: VideoRef) -> str:
    for name in ("provider", "model", "native_id"):
        value = getattr(ref, name)
        if not value or _SEP in value:
            raise ValueError(f"cannot encode a video id with {name}={value!r}")
    fields = [
        VERSION,
        ref.provider,
        ref.model,
        ref.native_id,
        ref.seconds or "",
        ref.size or "",
        "" if ref.created_at is None else str(ref.created_at),
    ]
    raw = _SEP.join(fields).encode("utf-8")
    return PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(video_id: str) -> VideoRef | None:
    """The reference inside a vidgate id, or None when ``video_id`` is not one (a foreign id)."""
    if not isinstance(video_id, str) or not video_id.startswith(PREFIX):
        return None
    body = video_id[len(PREFIX) :]
    if not _ALPHABET.fullmatch(body) or len(body) % 4 == 1:
        return None
    try:
        text = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    fields = text.split(_SEP)
    if len(fields) != _FIELDS or fields[0] != VERSION or not all(fields[1:4]):
        return None
    created = fields[6]
    return VideoRef(
        provider=fields[1],
        model=fields[2],
        native_id=fields[3],
        seconds=fields[4] or None,
        size=fields[5] or None,
        created_at=int(created) if created.isascii() and created.isdigit() and len(created) <= 19 else None,
    )
