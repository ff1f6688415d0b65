"""The poller's job saves, written together (``JobStore.save_many``).

Every poll ends with a save of its job, and a round works its jobs concurrently, so saves arrive a few
at a time. Each was its own write transaction: on PostgreSQL a BEGIN, UPDATE and COMMIT round trip and
a pool checkout per poll, on SQLite a savepoint and a thread hop per poll (a fifth of the poller's CPU
on PostgreSQL with 10,000 pending jobs, ``bench/poller.py --py-spy``). Here the saves waiting when the
previous write ends go as one: the first save is written at once (no added wait when the poller is
idle) and the ones arriving meanwhile join the next write. ``bench/poller.py --jobs 10000`` run at the
same time as the one-save-per-write poller (and the claim index before 0013): 895 -> 768 us of gateway
CPU per upstream poll on SQLite, 941 -> 757 on PostgreSQL.

Each save keeps its own outcome (the store checks every job's version), so the lease and version
guarantees are those of ``JobStore.save``. If a group fails as a whole (one job's row is refused, the
database is down), each of its jobs is saved again alone, so only the failing one sees the error.
"""

from __future__ import annotations

import asyncio

from vidgate.gateway.ports import JobStore
from vidgate.gateway.records import JobRecord

GROUP_MAX = 64  # saves written together at most


class SaveGroup:
    def __init__(self, jobs: JobStore, *, most: int = GROUP_MAX) -> None:
        self._jobs = jobs
        self._most = most
        self._queued: list[tuple[JobRecord, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def save(self, job: JobRecord) -> bool:
        """``JobStore.save(job)``, written with the other saves waiting at the time."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queued.append((job, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_queued())
        return await future

    async def _write_queued(self) -> None:
        while self._queued:
            group = [(job, f) for job, f in self._queued[: self._most] if not f.cancelled()]
            del self._queued[: self._most]
            if not group:
                continue  # cancelled before written: not written
            try:
                saved = await self._jobs.save_many([job for job, _ in group])
            except Exception as exc:
                await self._one_by_one(group, exc)
                continue
            except BaseException as exc:  # the writer itself was cancelled: so is every save it held
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                raise
            for (_, future), ok in zip(group, saved, strict=True):
                if not future.done():
                    future.set_result(ok)

    async def _one_by_one(self, group: list[tuple[JobRecord, asyncio.Future[bool]]], exc: Exception) -> None:
        if len(group) == 1:
            if not group[0][1].done():
                group[0][1].set_exception(exc)
            return
        for job, future in group:
            try:
                ok = await self._jobs.save(job)
            except Exception as alone:
                if not future.done():
                    future.set_exception(alone)
                continue
            if not future.done():
                future.set_result(ok)
