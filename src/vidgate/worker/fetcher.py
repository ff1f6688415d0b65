"""Copies a finished video from its provider into the content store, streamed (bounded memory).

A job is fully done only when it is settled and its content is stored. Fetch failures back off
(``jobs.on_fetch_error``); after too many, or a permanent error (the provider no longer has the file,
or can never make it: ``UpstreamError.permanent``), the job is parked and its content is served live
from the provider while it lasts. Provider errors met while copying are reported as upstream errors
(``JobKeeper.report_upstream``).
"""

from __future__ import annotations

import logging

from vidgate.errors import APIError, BadRequestError, NotFoundError, UpstreamError
from vidgate.gateway import jobs as machine
from vidgate.gateway import leases, tracing
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
            with tracing.span("content copy", {"vidgate.video_id": job.id}, parent=job.trace_parent):
                await leases.held(
                    svc.stores.jobs, job, self._copy(job), seconds=lease_seconds, clock=svc.clock
                )
        except Exception as exc:  # transient or not, the loop must go on; the job records when to retry
            if isinstance(exc, APIError) and exc.code != DEPLOYMENT_GONE:
                svc.keeper.report_upstream(job.provider, exc)
            permanent = isinstance(exc, NotFoundError | BadRequestError) or (
                isinstance(exc, UpstreamError) and exc.permanent
            )
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
