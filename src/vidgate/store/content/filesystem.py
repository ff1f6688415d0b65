"""Finished videos on the local filesystem (or any mounted volume shared by the replicas).

Layout: ``<root>/<2 hex of sha256(job id)>/<job id>/<variant>`` plus ``<variant>.type`` holding the media
type; the two-character fan-out keeps directories small with millions of jobs. A write goes to a temp
file in the same directory, is fsynced, then ``os.replace``d over the final name, so a reader sees the
old object or the whole new one, never half a file; the media type is published before the data.
Reads stream in 256 KiB chunks through anyio's worker threads, so the event loop never blocks on disk
(64 KiB chunks cost a thread hop per 64 KiB and held streaming to ~0.8 of a plain server's rate; 1 MiB
chunks were no faster and ten concurrent downloads held ~40 MB more memory; ``bench/sidebyside.py``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio

from vidgate.errors import NotFoundError
from vidgate.gateway.records import ContentInfo

CHUNK = 64 * 1024  # writes
READ_CHUNK = 256 * 1024
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
    ) -> AsyncIterator[bytes]:
        """Bytes ``start..end`` (inclusive, clamped to the size); NotFoundError if nothing is stored."""
        target = self._path(job_id, variant)
        try:
            handle = await anyio.open_file(target, "rb")
        except FileNotFoundError:
            raise NotFoundError(f"No stored {variant} for '{job_id}'.") from None
        async with handle:
            remaining = None if end is None else end + 1 - max(start, 0)
            if start > 0:
                await handle.seek(start)
            while remaining is None or remaining > 0:
                chunk = await handle.read(READ_CHUNK if remaining is None else min(READ_CHUNK, remaining))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

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


def _unlink_quietly(path: Path) -> None:
    path.unlink(missing_ok=True)
