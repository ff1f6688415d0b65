"""Keeping a job's lease while slow work on it runs: a create's provider call (its write-ahead record),
a poll and its output check, a write-ahead search, a webhook delivery, a content copy.

Leases are short so that a dead process's jobs are taken over soon; a live one renews what it holds, so
no other replica takes the job in the middle of its step. A renewal is the holder's
``JobStore.try_lease``, and it counts only when it leaves the job at the version after the one the holder
knows: a larger one means someone wrote the job in between (the lease lapsed and was taken, the record
was resolved, the video deleted). The holder then gives back the lease it just took and stops renewing,
keeping its old version, so its next save loses instead of writing over that writer's work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from vidgate.gateway.ports import JobStore
from vidgate.gateway.records import JobRecord

log = logging.getLogger("vidgate.gateway")
R = TypeVar("R")


async def held(
    jobs: JobStore, job: JobRecord, work: Awaitable[R], *, seconds: float, clock: Callable[[], float]
) -> R:
    """Await ``work`` while renewing ``job``'s lease (held by ``job.lease_owner`` for ``seconds``) every
    third of ``seconds``; ``job.version`` and ``job.lease_expires_at`` follow each renewal. Nothing may
    save ``job`` while ``work`` runs (a renewal and a save would each make the other look lost)."""
    owner = job.lease_owner
    if owner is None:
        return await work
    every = seconds / 3
    done = asyncio.Event()

    async def renew() -> None:
        while not done.is_set():
            try:
                renewed = await jobs.try_lease(job.id, owner, now=clock(), lease_seconds=seconds)
            except Exception:  # the store is down: the next renewal tries again
                log.warning("renewing the lease of %s failed", job.id, exc_info=True)
            else:
                if renewed is None or renewed.version != job.version + 1:
                    log.warning("lost the lease of %s (%s) while working it", job.id, owner)
                    if renewed is not None:  # taken again after another writer: not ours to keep
                        await jobs.release_lease(job.id, owner)
                    return
                job.version = renewed.version
                job.lease_expires_at = renewed.lease_expires_at
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), every)

    # A timer, and a renewing task only once it fires: most work ends well within it, and a task each
    # (started, then cancelled and awaited) cost every create two loop turns.
    renewal: asyncio.Task[None] | None = None

    def start_renewing() -> None:
        nonlocal renewal
        renewal = asyncio.create_task(renew(), name=f"vidgate-lease-{job.id}")

    timer = asyncio.get_running_loop().call_later(every, start_renewing)
    try:
        return await work
    finally:
        timer.cancel()
        if renewal is not None:  # not cancelled: a renewal already written must be followed, or the
            done.set()  # holder's next save would lose to its own lease
            await renewal
