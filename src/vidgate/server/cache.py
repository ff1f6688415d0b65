"""Finished videos' JSON, kept in memory for a moment, so status polls of done jobs skip the database.

A video that is terminal and whose cost is settled can no longer change, except by being deleted.
Its rendered body is cached per (owner, id) for ``ttl`` seconds: a delete through this process
forgets it at once; a delete through another replica shows here within ``ttl`` (the same bound as the
gateway's key cache). Ownership needs no extra check: an entry is found only under its owner.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from vidgate.types import TERMINAL_STATUSES, Video


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
        self._entries: dict[tuple[str, str], CachedVideo] = {}

    def get(self, owner: str, video_id: str) -> CachedVideo | None:
        hit = self._entries.get((owner, video_id))
        if hit is None:
            return None
        if hit.expires <= time.monotonic():
            self._entries.pop((owner, video_id), None)
            return None
        return hit

    def offer(self, owner: str, video: Video, body: bytes) -> None:
        """Keep ``body`` if ``video`` is final (terminal, cost settled)."""
        if self.ttl <= 0 or video.status not in TERMINAL_STATUSES:
            return
        if video.usage is not None and video.usage.cost_is_estimate:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        cost = video.usage.cost if video.usage is not None else None
        self._entries[(owner, video.id)] = CachedVideo(body, video.model, cost, time.monotonic() + self.ttl)

    def forget(self, video_id: str) -> None:
        for entry in [k for k in self._entries if k[1] == video_id]:
            del self._entries[entry]
