"""ContentStore conformance (memory and filesystem): ranges, bounded chunks, atomic publication."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from tests.store.factories import chunks

from vidgate.errors import NotFoundError
from vidgate.gateway.ports import ContentStore
from vidgate.store.content import FileContentStore
from vidgate.store.content.filesystem import READ_CHUNK as CHUNK
from vidgate.store.memory import MemoryContentStore

DATA = bytes(range(256)) * 4000  # 1 024 000 bytes: several 256 KiB read chunks


@pytest.fixture(params=["memory", "filesystem"])
def content(request: pytest.FixtureRequest, tmp_path: Path) -> ContentStore:
    if request.param == "memory":
        return MemoryContentStore()
    return FileContentStore(tmp_path / "content")


async def _read(store: ContentStore, job_id: str, variant: str, **span: int) -> bytes:
    parts = [c async for c in store.read(job_id, variant, **span)]
    assert all(0 < len(p) <= CHUNK for p in parts)
    return b"".join(parts)


async def _failing() -> AsyncIterator[bytes]:
    yield b"half"
    raise OSError("upstream broke")


async def test_put_stat_and_read_whole(content: ContentStore) -> None:
    size = await content.put("video_1", "video", chunks([DATA[:1000], DATA[1000:]]), "video/mp4")
    assert size == len(DATA)
    info = await content.stat("video_1", "video")
    assert info is not None
    assert (info.size, info.media_type) == (len(DATA), "video/mp4")
    assert await _read(content, "video_1", "video") == DATA
    assert await content.stat("video_1", "thumbnail") is None
    assert await content.stat("video_2", "video") is None


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (0, 0),
        (10, 19),
        (0, CHUNK - 1),
        (CHUNK - 1, CHUNK),
        (100_000, None),
        (len(DATA) - 5, None),
        (len(DATA) - 5, len(DATA) + 100),  # end is clamped to the size
        (5, 4),  # empty
        (len(DATA), None),  # past the end: empty
    ],
)
async def test_ranges_are_inclusive_and_clamped(content: ContentStore, start: int, end: int | None) -> None:
    await content.put("video_1", "video", chunks([DATA]), "video/mp4")
    span = {"start": start} if end is None else {"start": start, "end": end}
    expected = DATA[start:] if end is None else DATA[start : end + 1]
    assert await _read(content, "video_1", "video", **span) == expected


async def test_failed_put_publishes_nothing_and_keeps_the_old_object(content: ContentStore) -> None:
    with pytest.raises(OSError, match="upstream broke"):
        await content.put("video_1", "thumbnail", _failing(), "image/webp")
    assert await content.stat("video_1", "thumbnail") is None
    await content.put("video_1", "video", chunks([b"old"]), "video/mp4")
    with pytest.raises(OSError, match="upstream broke"):
        await content.put("video_1", "video", _failing(), "video/mp4")
    assert await _read(content, "video_1", "video") == b"old"


async def test_missing_object_is_not_found_and_delete_removes_all_variants(content: ContentStore) -> None:
    with pytest.raises(NotFoundError):
        await _read(content, "video_1", "video")
    await content.put("video_1", "video", chunks([b"v"]), "video/mp4")
    await content.put("video_1", "thumbnail", chunks([b"t"]), "image/webp")
    await content.put("video_2", "video", chunks([b"keep"]), "video/mp4")
    await content.delete("video_1")
    await content.delete("video_1")  # idempotent
    assert await content.stat("video_1", "video") is None
    assert await content.stat("video_1", "thumbnail") is None
    assert await _read(content, "video_2", "video") == b"keep"


async def test_filesystem_overwrite_is_atomic_for_readers(tmp_path: Path) -> None:
    store = FileContentStore(tmp_path)
    old, new = b"o" * (3 * CHUNK), b"n" * (5 * CHUNK)
    await store.put("video_1", "video", chunks([old]), "video/mp4")
    halfway, writer_may_finish = asyncio.Event(), asyncio.Event()

    async def slow_new() -> AsyncIterator[bytes]:
        yield new[: 2 * CHUNK]
        halfway.set()  # resumed: the first part is written to disk
        await writer_may_finish.wait()
        yield new[2 * CHUNK :]

    writing = asyncio.create_task(store.put("video_1", "video", slow_new(), "video/mp4"))
    await halfway.wait()
    during = await _read(store, "video_1", "video")  # the writer is half way through
    writer_may_finish.set()
    assert await writing == len(new)
    after = await _read(store, "video_1", "video")
    assert (during, after) == (old, new)
    assert [p async for p in anyio.Path(tmp_path).rglob(".tmp-*")] == []


async def test_filesystem_layout_and_unsafe_names(tmp_path: Path) -> None:
    store = FileContentStore(tmp_path)
    await store.put("video_abc", "video", chunks([b"x"]), "video/mp4")
    stored = store.job_dir("video_abc") / "video"
    assert stored.read_bytes() == b"x"
    assert stored.parent.parent.parent == tmp_path
    for job_id, variant in [
        ("../etc", "video"),
        ("video_abc", "../../x"),
        ("video_abc", "video.type"),
        ("", "v"),
    ]:
        with pytest.raises(ValueError, match="not a safe name"):
            await store.put(job_id, variant, chunks([b"x"]), "video/mp4")


async def test_filesystem_store_survives_a_new_instance(tmp_path: Path) -> None:
    await FileContentStore(tmp_path).put("video_1", "spritesheet", chunks([b"jpg"]), "image/jpeg")
    info = await FileContentStore(tmp_path).stat("video_1", "spritesheet")
    assert info is not None
    assert (info.size, info.media_type) == (3, "image/jpeg")
