from __future__ import annotations

import time

import pytest

from vidgate.server.cache import FinishedVideos
from vidgate.types import Video, VideoUsage


def video(status: str = "completed", estimate: bool = False, vid: str = "video_1") -> Video:
    return Video(
        id=vid,
        model="m",
        status=status,
        created_at=1,
        size="320x180",
        seconds="1",
        usage=VideoUsage(duration_seconds=1, cost=0.1, cost_is_estimate=estimate),
    )


def test_only_final_videos_are_kept_and_only_for_their_owner() -> None:
    cache = FinishedVideos(ttl=60)
    cache.offer("alice", video("in_progress"), b"running")
    cache.offer("alice", video("completed", estimate=True, vid="video_2"), b"unsettled")
    assert cache.get("alice", "video_1") is None
    assert cache.get("alice", "video_2") is None
    cache.offer("alice", video("completed"), b"done")
    hit = cache.get("alice", "video_1")
    assert hit is not None
    assert hit.body == b"done"
    assert hit.cost == 0.1
    assert cache.get("bob", "video_1") is None


def test_entries_expire_and_forget_drops_every_owner(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = FinishedVideos(ttl=2)
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now)
    cache.offer("alice", video("failed"), b"failed")
    assert cache.get("alice", "video_1") is not None
    monkeypatch.setattr(time, "monotonic", lambda: now + 2.5)
    assert cache.get("alice", "video_1") is None
    cache.offer("alice", video(), b"again")
    cache.forget("video_1")
    assert cache.get("alice", "video_1") is None


def test_a_zero_ttl_disables_it() -> None:
    cache = FinishedVideos(ttl=0)
    cache.offer("alice", video(), b"x")
    assert cache.get("alice", "video_1") is None


def test_views_are_kept_apart_and_forgotten_with_the_video() -> None:
    cache = FinishedVideos(ttl=60)
    cache.offer("alice", video(), b"video json")
    cache.keep_view("alice", "video_1", "models/m/operations/video_1", b"operation json")
    view = cache.get("alice", "video_1", "models/m/operations/video_1")
    assert view is not None
    assert view.body == b"operation json"
    plain = cache.get("alice", "video_1")
    assert plain is not None
    assert plain.body == b"video json"
    assert cache.get("bob", "video_1", "models/m/operations/video_1") is None
    cache.forget("video_1")
    assert cache.get("alice", "video_1", "models/m/operations/video_1") is None
    assert cache.get("alice", "video_1") is None
