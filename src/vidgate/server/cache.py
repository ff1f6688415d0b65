"""Finished videos' JSON, kept in memory for a moment, so status polls of done jobs skip the database.

A video that is terminal and whose cost is settled can no longer change, except by being deleted.
Its rendered body is cached per (owner, id) for ``ttl`` seconds: a delete through this process
forgets it at once; a delete through another replica shows here within ``ttl`` (the same bound as the
gateway's key cache). Ownership needs no extra check: an entry is found only under its owner.

Other renderings of a finished job (the Gemini pass-through's done operation, under the name the client
wrote; a finished Interaction) are kept the same way under a ``view`` of their own, and forgotten with
the job. A view larger than ``MAX_VIEW_BYTES`` (an inline base64 video) is not kept: the cache stays small.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from vidgate.types import TERMINAL_STATUSES, Video

MAX_VIEW_BYTES = 64 * 1024


@dataclass(frozen=True)
class CachedVideo:
    body: bytes
    model: str
    cost: float | None
    expires: float


class FinishedVideos:
    def __init__(self, *, ttl: float = 2.0, max_entries: int = 100_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[tuple[str, str, str], CachedVideo] = {}

    def get(self, owner: str, video_id: str, view: str = "") -> CachedVideo | None:
        hit = self._entries.get((owner, video_id, view))
        if hit is None:
            return None
        if hit.expires <= time.monotonic():
            self._entries.pop((owner, video_id, view), None)
            return None
        return hit

    def offer(self, owner: str, video: Video, body: bytes) -> None:
        """Keep ``body`` if ``video`` is final (terminal, cost settled)."""
        if self.ttl <= 0 or video.status not in TERMINAL_STATUSES:
            return
        if video.usage is not None and video.usage.cost_is_estimate:
            return
        cost = video.usage.cost if video.usage is not None else None
        self.keep(owner, video.id, "", CachedVideo(body, video.model, cost, time.monotonic() + self.ttl))

    def keep_view(self, owner: str, video_id: str, view: str, body: bytes) -> None:
        """Keep ``body``, another rendering (``view``) of a job the caller knows is finished."""
        if self.ttl > 0 and len(body) <= MAX_VIEW_BYTES:
            self.keep(owner, video_id, view, CachedVideo(body, "", None, time.monotonic() + self.ttl))

    def keep(self, owner: str, video_id: str, view: str, entry: CachedVideo) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[(owner, video_id, view)] = entry

    def forget(self, video_id: str) -> None:
        for entry in [k for k in self._entries if k[1] == video_id]:
            del self._entries[entry]
