"""ContentStore conformance (memory and filesystem): ranges, bounded chunks, atomic publication."""

from __future__ import annotations

import asyncio
import errno
import io
import os
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from tests.store.factories import chunks

from vidgate.errors import NotFoundError
from vidgate.gateway.ports import ContentStore
from vidgate.store.content import FileContentStore, filesystem
from vidgate.store.content.filesystem import READ_CHUNK as CHUNK
from vidgate.store.memory import MemoryContentStore

DATA = bytes(range(256)) * 8000  # 2 048 000 bytes: several 512 KiB read chunks


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


def _count_preadv(monkeypatch: pytest.MonkeyPatch, fail: OSError | None) -> list[int]:
    """Replace the store's ``os.preadv``: each call is counted (its flags recorded) and fails with
    ``fail`` when given; the returned list fills as the store calls it."""
    calls: list[int] = []
    real = os.preadv

    def preadv(fd: int, buffers: list[bytearray], offset: int, flags: int = 0) -> int:
        calls.append(flags)
        if fail is not None:
            raise fail
        return real(fd, buffers, offset, flags)

    monkeypatch.setattr(os, "preadv", preadv)
    return calls


@pytest.mark.skipif(filesystem._NOWAIT is None, reason="preadv(RWF_NOWAIT) is Linux-only")
async def test_filesystem_reads_cached_bytes_on_the_loop_with_nowait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileContentStore(tmp_path)
    await store.put("video_1", "video", chunks([DATA]), "video/mp4")
    calls = _count_preadv(monkeypatch, None)
    threads = _count_thread_reads(monkeypatch)
    assert await _read(store, "video_1", "video", start=7, end=len(DATA) - 3) == DATA[7:-2]
    assert calls == [filesystem._NOWAIT] * 4  # 2 047 992 bytes: four chunks, all from the page cache
    assert threads == []


@pytest.mark.skipif(filesystem._NOWAIT is None, reason="preadv(RWF_NOWAIT) is Linux-only")
async def test_filesystem_reads_uncached_chunks_in_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileContentStore(tmp_path)
    await store.put("video_1", "video", chunks([DATA]), "video/mp4")
    calls = _count_preadv(monkeypatch, BlockingIOError(errno.EAGAIN, "would block"))
    threads = _count_thread_reads(monkeypatch)
    assert await _read(store, "video_1", "video") == DATA
    # Each read (four chunks, then the one that finds the end) is tried without waiting first, and
    # done by a worker thread when that would block.
    assert (len(calls), threads) == (5, [0, CHUNK, 2 * CHUNK, 3 * CHUNK, len(DATA)])


@pytest.mark.skipif(filesystem._NOWAIT is None, reason="preadv(RWF_NOWAIT) is Linux-only")
async def test_filesystem_without_nowait_support_falls_back_to_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileContentStore(tmp_path)
    await store.put("video_1", "video", chunks([DATA]), "video/mp4")
    calls = _count_preadv(monkeypatch, OSError(errno.EOPNOTSUPP, "Operation not supported"))
    threads = _count_thread_reads(monkeypatch)
    assert await _read(store, "video_1", "video", start=1) == DATA[1:]
    assert len(calls) == 1  # refused once (e.g. NFS): the rest of the stream does not ask again
    assert threads == [1, 1 + CHUNK, 1 + 2 * CHUNK, 1 + 3 * CHUNK, len(DATA)]


async def test_filesystem_read_error_propagates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileContentStore(tmp_path)
    await store.put("video_1", "video", chunks([DATA]), "video/mp4")
    _count_preadv(monkeypatch, OSError(errno.EIO, "Input/output error"))

    def broken(file: io.FileIO, buffer: bytearray, position: int) -> int:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(filesystem, "_read_at", broken)
    with pytest.raises(OSError, match="Input/output error"):
        await _read(store, "video_1", "video")


async def test_filesystem_read_lets_other_tasks_run_between_chunks(tmp_path: Path) -> None:
    """Cached chunks never wait on anything, so the reader yields to the loop itself after each."""
    store = FileContentStore(tmp_path)
    await store.put("video_1", "video", chunks([DATA]), "video/mp4")
    ticks: list[int] = []
    seen: list[int] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            ticks.append(1)
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    async for _ in store.read("video_1", "video"):
        seen.append(len(ticks))
    stop.set()
    await task
    assert len(seen) == 4
    assert seen == sorted(set(seen))  # the ticker ran between every two chunks (none waited on a thread)


def _count_thread_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the chunks the store reads in a worker thread (``_read_at``), by position."""
    positions: list[int] = []
    real = filesystem._read_at

    def counted(file: io.FileIO, buffer: bytearray, position: int) -> int:
        positions.append(position)
        return real(file, buffer, position)

    monkeypatch.setattr(filesystem, "_read_at", counted)
    return positions
