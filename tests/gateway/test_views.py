"""Video ids: opaque, lower-case hex, and ordered by creation time."""

from __future__ import annotations

import re

from vidgate.gateway.views import VideoIds, new_video_id
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
