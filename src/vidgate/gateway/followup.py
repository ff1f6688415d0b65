"""Following a job to its end: poll the pinned deployment, apply the state machine, make the money
final (settle or release, exactly once), free the concurrency slot, save.

Used by ``GET /v1/videos/{id}`` when the stored state is stale and by the background poller. The
caller holds the job's lease, so one refresh per job runs at a time across every replica.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable

from vidgate.errors import APIError, InternalServerError, ServiceUnavailableError
from vidgate.gateway import jobs
from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.ports import Stores
from vidgate.gateway.records import JobRecord, SpendEntry
from vidgate.gateway.routing import Router
from vidgate.types import TERMINAL_STATUSES

log = logging.getLogger("vidgate.gateway")
REFRESH_LEASE_SECONDS = 30.0


def deployment_gone(job: JobRecord) -> ServiceUnavailableError:
    """A job whose deployment was removed from the config: never served through another deployment."""
    return ServiceUnavailableError(
        f"The deployment that created video '{job.id}' ({job.deployment_id}) is no longer configured; "
        "restore it in the gateway config to reach this video.",
        code="deployment_unavailable",
    )


def new_lease_owner(prefix: str) -> str:
    return f"{prefix}:{secrets.token_hex(6)}"


class JobKeeper:
    def __init__(
        self, stores: Stores, router: Router, calls: ProviderCalls, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.stores = stores
        self.router = router
        self.calls = calls
        self.clock = clock
        self.listeners: list[Callable[[JobRecord], Awaitable[None]]] = []

    async def announce(self, job: JobRecord) -> None:
        """Tell the listeners (the webhook sender) that ``job`` just reached its terminal state."""
        for listener in list(self.listeners):
            try:
                await listener(job)
            except Exception:
                log.exception("terminal-state listener failed for %s", job.id)

    def due(self, job: JobRecord, now: float) -> bool:
        """Stale (the provider's hint has passed) or terminal with its money not yet final."""
        if not jobs.needs_work(job):
            return False
        if job.status in TERMINAL_STATUSES:
            return job.cost_micros is None
        return job.next_poll_at <= now

    async def refresh(self, job: JobRecord, *, owner_prefix: str) -> JobRecord:
        """Bring a stale job up to date if no one else is doing so; otherwise answer the stored state."""
        owner = new_lease_owner(owner_prefix)
        leased = await self.stores.jobs.try_lease(
            job.id, owner, now=self.clock(), lease_seconds=REFRESH_LEASE_SECONDS
        )
        if leased is None:
            return job
        if not self.due(leased, self.clock()):  # someone finished a refresh just before us
            await self.stores.jobs.release_lease(job.id, owner)
            return leased
        saved, _ = await self.step(leased, owner, keep_lease=False)
        return saved

    async def step(
        self, job: JobRecord, owner: str, *, keep_lease: bool
    ) -> tuple[JobRecord, jobs.Transition]:
        """One poll of a job leased by ``owner``; returns the job as stored afterwards and the transition."""
        now = self.clock()
        was_terminal = job.status in TERMINAL_STATUSES
        if was_terminal:
            transition = jobs.settled_state(job, now)
        else:
            dep = self.router.get(job.deployment_id)
            try:
                if dep is None:
                    raise deployment_gone(job)
                native = await self.calls.retrieve(dep, job.native_id)
            except APIError as exc:
                log.warning("poll of %s (%s) failed: %s", job.id, job.deployment_id, exc)
                transition = jobs.on_poll_error(job, exc, now)
            except Exception as exc:  # an adapter bug must not wedge the job: back off like any failure
                log.exception("poll of %s (%s) raised", job.id, job.deployment_id)
                transition = jobs.on_poll_error(job, InternalServerError(f"poll failed: {exc!r}"), now)
            else:
                transition = jobs.advance(job, native, now)
        jobs.apply(job, transition)
        await self.finish(job, transition)
        if not keep_lease:
            job.lease_owner = None
            job.lease_expires_at = None
        if await self.stores.jobs.save(job):
            if transition.terminal and not was_terminal:
                await self.announce(job)
            return job, transition
        await self.stores.jobs.release_lease(job.id, owner)
        current = await self.stores.jobs.get(job.id)
        return (current or job), transition

    async def finish(self, job: JobRecord, transition: jobs.Transition) -> None:
        """The money and slot effects of ``transition`` (each idempotent), recorded on ``job``."""
        if transition.settle:
            await self.settle(job)
        if transition.release:
            await self.stores.ledger.release(job.owner_key_id, job.id)
            job.cost_micros = 0
        if transition.release_slot:
            await self.stores.admission.release_slot(job.owner_key_id, job.id)

    async def settle(self, job: JobRecord) -> None:
        """Charge the completed job: its seconds x the rate it was reserved at (the exact estimate)."""
        entry = SpendEntry(
            id="spend_" + secrets.token_hex(12),
            key_id=job.owner_key_id,
            job_id=job.id,
            model_name=job.model_name,
            deployment_id=job.deployment_id,
            seconds=float(job.seconds) * job.n,
            size=job.size,
            cost_micros=job.reserved_micros,
            created_at=int(self.clock()),
            metadata={"provider": job.provider},
        )
        await self.stores.ledger.settle(entry)
        job.cost_micros = job.reserved_micros
