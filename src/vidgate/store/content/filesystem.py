"""Finished videos on the local filesystem (or any mounted volume shared by the replicas).

Layout: ``<root>/<2 hex of sha256(job id)>/<job id>/<variant>`` plus ``<variant>.type`` holding the media
type; the two-character fan-out keeps directories small with millions of jobs. A write goes to a temp
file in the same directory, is fsynced, then ``os.replace``d over the final name, so a reader sees the
old object or the whole new one, never half a file; the media type is published before the data.
Reads come in 512 KiB chunks (1 MiB was no faster and held more memory). On Linux a chunk is first
read on the event loop with ``preadv(RWF_NOWAIT)``, a copy from the page cache that fails with EAGAIN
rather than wait for the disk; only such a chunk (and every chunk off Linux, or where the filesystem
refuses the flag) is read in a worker thread. So the loop never waits on a disk, and a cached video
(the usual case: just stored, or being watched) costs no thread hop per chunk. A hop took 0.1-0.3 ms
on the 2-core bench machine, several times the ~30 us read: with one per 256 KiB chunk, downloads ran
at 0.7-0.9 of a plain server; without, at 1.0-1.2 and ~40 % less CPU per GB
(``bench/sidebyside.py --only content``). Each chunk is a view of its own new buffer, never reused, so
bytes a transport still holds stay intact.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import io
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import anyio.to_thread

from vidgate.errors import NotFoundError
from vidgate.gateway.ports import Chunk
from vidgate.gateway.records import ContentInfo

CHUNK = 64 * 1024  # writes
READ_CHUNK = 512 * 1024
# preadv2's "fail rather than wait for the disk" flag (Linux 4.14+); None where os has no such call.
_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None) if hasattr(os, "preadv") else None
_NOWAIT_REFUSED = {errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS}  # a kernel or filesystem without it
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_TYPE_SUFFIX = ".type"
_TEMP_PREFIX = ".tmp-"


def _checked(value: str, param: str) -> str:
    if not _SAFE_NAME.match(value) or value.endswith(_TYPE_SUFFIX) or ".." in value:
        raise ValueError(f"{param}: {value!r} is not a safe name (letters, digits, '_', '-', '.')")
    return value


class FileContentStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def job_dir(self, job_id: str) -> Path:
        fan = hashlib.sha256(_checked(job_id, "job_id").encode()).hexdigest()[:2]
        return self.root / fan / job_id

    def _path(self, job_id: str, variant: str) -> Path:
        return self.job_dir(job_id) / _checked(variant, "variant")

    async def put(self, job_id: str, variant: str, chunks: AsyncIterator[bytes], media_type: str) -> int:
        target = self._path(job_id, variant)
        await anyio.Path(target.parent).mkdir(parents=True, exist_ok=True)
        await _write_atomic(target.with_name(target.name + _TYPE_SUFFIX), _one(media_type.encode()))
        return await _write_atomic(target, chunks)

    async def stat(self, job_id: str, variant: str) -> ContentInfo | None:
        target = self._path(job_id, variant)
        try:
            size = (await anyio.Path(target).stat()).st_size
            media_type = (await anyio.Path(target.with_name(target.name + _TYPE_SUFFIX)).read_text()).strip()
        except FileNotFoundError:
            return None
        return ContentInfo(size=size, media_type=media_type or "application/octet-stream")

    async def read(
        self, job_id: str, variant: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[Chunk]:
        """Bytes ``start..end`` (inclusive, clamped to the size); NotFoundError if nothing is stored."""
        target = self._path(job_id, variant)
        try:
            file = await anyio.to_thread.run_sync(io.FileIO, target)
        except FileNotFoundError:
            raise NotFoundError(f"No stored {variant} for '{job_id}'.") from None
        try:
            position = max(start, 0)
            stop = None if end is None else end + 1
            nowait = _NOWAIT
            while stop is None or position < stop:
                buffer = bytearray(READ_CHUNK if stop is None else min(READ_CHUNK, stop - position))
                got = None
                if nowait is not None:
                    try:
                        got = os.preadv(file.fileno(), [buffer], position, nowait)
                    except BlockingIOError:
                        pass  # not (all) in the page cache: a worker thread waits for the disk
                    except OSError as exc:
                        if exc.errno not in _NOWAIT_REFUSED:
                            raise
                        nowait = None  # this filesystem does not do RWF_NOWAIT: threads from now on
                if got is None:
                    got = await anyio.to_thread.run_sync(_read_at, file, buffer, position)
                else:
                    await asyncio.sleep(0)  # nothing above waited: let the loop's other tasks run
                if not got:
                    return
                position += got
                yield memoryview(buffer)[:got]
        finally:
            file.close()

    async def delete(self, job_id: str) -> None:
        await anyio.to_thread.run_sync(shutil.rmtree, self.job_dir(job_id), True)

    async def probe(self) -> None:
        """Write, fsync and delete a probe file under the root (readiness): raises if ``put`` would fail."""
        await anyio.Path(self.root).mkdir(parents=True, exist_ok=True)
        probe = self.root / f"{_TEMP_PREFIX}probe-{uuid.uuid4().hex}"
        try:
            await _write_atomic(probe, _one(b"probe"))
        finally:
            await anyio.Path(probe).unlink(missing_ok=True)


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _write_atomic(target: Path, chunks: AsyncIterator[bytes]) -> int:
    temp = target.with_name(f"{_TEMP_PREFIX}{target.name}-{uuid.uuid4().hex}")
    size = 0
    try:
        async with await anyio.open_file(temp, "wb") as out:
            async for chunk in chunks:
                await out.write(chunk)
                size += len(chunk)
            await out.flush()
            await anyio.to_thread.run_sync(os.fsync, out.wrapped.fileno())
        await anyio.to_thread.run_sync(os.replace, temp, target)
    except BaseException:
        await anyio.to_thread.run_sync(_unlink_quietly, temp)
        raise
    return size


def _read_at(file: io.FileIO, buffer: bytearray, position: int) -> int:
    file.seek(position)
    return file.readinto(buffer) or 0


def _unlink_quietly(path: Path) -> None:
    path.unlink(missing_ok=True)
