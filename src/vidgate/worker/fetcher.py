"""Copies a finished video from its provider into the content store, streamed (bounded memory).

A job is fully done only when it is settled and its content is stored. Fetch failures back off
(``jobs.on_fetch_error``); after too many, or a permanent error (the provider no longer has the file),
the job is parked and its content is served live from the provider while it lasts. Provider errors
met while copying are reported as upstream errors (``JobKeeper.report_upstream``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from vidgate.errors import APIError, BadRequestError, NotFoundError
from vidgate.gateway import jobs as machine
from vidgate.gateway import tracing
from vidgate.gateway.followup import DEPLOYMENT_GONE, deployment_gone
from vidgate.gateway.records import JobRecord
from vidgate.gateway.service import GatewayService
from vidgate.types import CONTENT_VARIANTS

log = logging.getLogger("vidgate.worker")


class ContentFetcher:
    def __init__(self, service: GatewayService, *, variants: tuple[str, ...] = CONTENT_VARIANTS) -> None:
        self.service = service
        self.variants = variants

    async def fetch(self, job: JobRecord, owner: str, *, lease_seconds: float) -> JobRecord:
        """Store every variant the provider has for ``job`` (leased by ``owner``), then save the job with
        ``content_stored`` (or a retry time) and its lease released."""
        svc = self.service
        try:
            async with self._renewing(job, owner, lease_seconds):
                with tracing.span("content copy", {"vidgate.video_id": job.id}, parent=job.trace_parent):
                    await self._copy(job)
        except Exception as exc:  # transient or not, the loop must go on; the job records when to retry
            if isinstance(exc, APIError) and exc.code != DEPLOYMENT_GONE:
                svc.keeper.report_upstream(job.provider, exc)
            permanent = isinstance(exc, NotFoundError | BadRequestError)
            log.warning(
                "content of %s not stored (%s): %s", job.id, "giving up" if permanent else "will retry", exc
            )
            job.next_poll_at = machine.on_fetch_error(job, svc.clock(), permanent=permanent)
            job.poll_failures += 1
        else:
            job.content_stored = True
            job.poll_failures = 0
        job.lease_owner = None
        job.lease_expires_at = None
        if await svc.stores.jobs.save(job):
            return job
        await svc.stores.jobs.release_lease(job.id, owner)
        current = await svc.stores.jobs.get(job.id)
        if current is None or current.deleted:  # deleted while we copied: drop what we wrote
            await svc.stores.content.delete(job.id)
        return current or job

    async def _copy(self, job: JobRecord) -> None:
        svc = self.service
        dep = svc.router.get(job.deployment_id)
        if dep is None:
            raise deployment_gone(job)
        for variant in self.variants:
            try:
                async with svc.calls.open(dep, job.native_id, variant) as stream:
                    await svc.stores.content.put(job.id, variant, stream.chunks, stream.media_type)
            except APIError as exc:
                if variant != "video" and isinstance(exc, BadRequestError):
                    continue  # this provider has no such variant (Veo has no thumbnail)
                raise

    @asynccontextmanager
    async def _renewing(self, job: JobRecord, owner: str, lease_seconds: float) -> AsyncIterator[None]:
        """Keep the lease while a long copy runs; ``job.version`` follows each renewal."""
        svc = self.service

        async def renew() -> None:
            while True:
                await asyncio.sleep(lease_seconds / 3)
                renewed = await svc.stores.jobs.try_lease(
                    job.id, owner, now=svc.clock(), lease_seconds=lease_seconds
                )
                if renewed is None:
                    log.warning("lost the lease on %s while copying its content", job.id)
                    return
                job.version = renewed.version
                job.lease_expires_at = renewed.lease_expires_at

        task = asyncio.create_task(renew())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
