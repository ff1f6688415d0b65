"""Video ids: opaque, lower-case hex, and ordered by creation time; jobs as the videos clients read."""

from __future__ import annotations

import re

from tests.store.factories import make_job

from vidgate.gateway.records import summary
from vidgate.gateway.views import VideoIds, new_video_id, to_list, to_video
from vidgate.types import VIDEO_ID_PREFIX

T0 = 1_800_000_000.0


def _millis(video_id: str) -> int:
    return int(video_id.removeprefix(VIDEO_ID_PREFIX)[:12], 16)


def test_ids_are_video_and_32_lower_case_hex_starting_with_the_creation_millisecond() -> None:
    ids = VideoIds()
    video_id = ids.new(T0 + 0.123)
    assert re.fullmatch(r"video_[0-9a-f]{32}", video_id)
    assert _millis(video_id) == int(T0 * 1000) + 123
    assert len({new_video_id() for _ in range(1000)}) == 1000


def test_ids_sort_by_creation_time_also_within_one_millisecond_and_when_the_clock_steps_back() -> None:
    ids = VideoIds()
    first = ids.new(T0)
    same_ms = [ids.new(T0 + 3.0001) for _ in range(50)]
    stepped_back = ids.new(T0 + 1)
    minted = [first, *same_ms, stepped_back]
    assert minted == sorted(minted)
    assert len(set(minted)) == len(minted)
    assert all(re.fullmatch(r"video_[0-9a-f]{32}", i) for i in minted)
    assert {_millis(i) for i in [*same_ms, stepped_back]} == {int(T0 * 1000) + 3000}
    assert _millis(ids.new(T0 + 4)) == int(T0 * 1000) + 4000  # the clock moved on: time again
    assert VideoIds().new(T0 + 0.002) > VideoIds().new(T0 + 0.001)  # another minter: by time


def test_a_listing_shows_each_job_as_its_own_video_estimates_charges_and_errors_included() -> None:
    running = make_job(
        "video_run", seconds="4", status="in_progress", progress=30, reserved_micros=400_000, n=2
    )
    filtered = make_job(
        "video_done",
        seconds="4",
        status="completed",
        reserved_micros=800_000,
        cost_micros=400_000,
        n=2,
        videos_generated=1,
    )
    failed = make_job(
        "video_fail", seconds="4", status="failed", reserved_micros=400_000, cost_micros=0, error_code="x"
    )
    page = to_list([summary(running), summary(filtered), summary(failed)], True)
    assert page.model_dump(include={"first_id", "last_id", "has_more"}) == {
        "first_id": "video_run",
        "last_id": "video_fail",
        "has_more": True,
    }
    usages = [video.usage.model_dump() if video.usage else None for video in page.data]
    assert usages == [
        {"duration_seconds": 8.0, "cost": 0.4, "currency": "USD", "cost_is_estimate": True},
        {"duration_seconds": 4.0, "cost": 0.4, "currency": "USD", "cost_is_estimate": False},
        {"duration_seconds": 4.0, "cost": 0.0, "currency": "USD", "cost_is_estimate": False},
    ]
    assert [video.error.model_dump() if video.error else None for video in page.data] == [
        None,
        None,
        {"code": "x", "message": "The video could not be generated."},
    ]
    assert page.data == [to_video(job) for job in (running, filtered, failed)]  # as a status poll shows it
    assert to_list([], False).model_dump() == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }
