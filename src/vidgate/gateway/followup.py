"""Following a job to its end: poll the pinned deployment, apply the state machine, make the money
final (settle or release, exactly once), free the concurrency slot, save.

Used by ``GET /v1/videos/{id}`` when the stored state is stale and by the background poller. The
caller holds the job's lease, so one refresh per job runs at a time across every replica; it is renewed
while the provider or the output check is out (``leases``), and a step moves money only once its
decision is saved under it, so a step that lost it anyway changes nothing.

With webhooks configured (``webhooks = True``), the save that makes a job terminal also marks its
event as owed (``webhook_pending``), in the same write: the poller of whichever replica claims the job
next sends it and clears the mark, so an event survives the death of the process that saw the job
finish.

Poll errors never reach a client (the job backs off and is polled again), so they are reported to
``on_upstream_error`` (provider, status) as they happen: the server counts them in its metrics.

A job about to complete first passes ``output_check`` when one is set (the post-call guardrails over
its output, ``guardrails.output``): a refusal fails it instead, and its reservation is released, not
charged. If the check cannot run (the output could not be read), the job backs off as after a failed
poll and is checked again later, still unsettled. Every poll, settlement and terminal state is reported to
``observer`` and traced (``gateway.tracing``) under the trace of the request that created the job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from vidgate.errors import APIError, ConflictError, InternalServerError, ServiceUnavailableError
from vidgate.gateway import jobs, leases, submitting, tracing
from vidgate.gateway.auth import MASTER_OWNER
from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.entropy import pool
from vidgate.gateway.observer import Observers
from vidgate.gateway.ports import Stores
from vidgate.gateway.records import JobRecord, SpendEntry
from vidgate.gateway.routing import Router
from vidgate.providers.base import ProviderJob
from vidgate.types import TERMINAL_STATUSES

log = logging.getLogger("vidgate.gateway")
R = TypeVar("R")
REFRESH_LEASE_SECONDS = 30.0
DEPLOYMENT_GONE = "deployment_unavailable"


def deployment_gone(job: JobRecord) -> ServiceUnavailableError:
    """A job whose deployment was removed from the config: never served through another deployment."""
    return ServiceUnavailableError(
        f"The deployment that created video '{job.id}' ({job.deployment_id}) is no longer configured; "
        "restore it in the gateway config to reach this video.",
        code=DEPLOYMENT_GONE,
    )


def new_lease_owner(prefix: str) -> str:
    return f"{prefix}:{pool.token_hex(6)}"


class JobKeeper:
    def __init__(
        self, stores: Stores, router: Router, calls: ProviderCalls, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.stores = stores
        self.router = router
        self.calls = calls
        self.clock = clock
        self.webhooks = False  # mark terminal transitions as owing a webhook event
        self.on_upstream_error: Callable[[str, int], None] | None = None
        # Called with the provider of each write-ahead create failed as ``upstream_outcome_unknown``, once
        # that decision is saved.
        self.on_outcome_unknown: Callable[[str], None] | None = None
        self.observer = Observers()
        # The post-call guardrails: (job about to complete, now) -> None, or (error code, message) to fail it.
        self.output_check: Callable[[JobRecord], Awaitable[tuple[str, str] | None]] | None = None
        # Write-ahead records whose create runs in this process (``JobStarter``): not resolved meanwhile.
        self.creating: set[str] = set()

    def report_upstream(self, provider: str, error: APIError) -> None:
        """Tell ``on_upstream_error`` about a provider error no client will see (the server counts
        those that reach it itself)."""
        hook = self.on_upstream_error
        if hook is None:
            return
        try:
            hook(error.provider or provider, error.status_code)
        except Exception:
            log.exception("upstream-error hook failed")

    async def checked(self, job: JobRecord, transition: jobs.Transition, now: float) -> jobs.Transition:
        """``transition``, or, when it completes ``job`` and the output check refuses the output, the
        job failed with the check's code (its reservation released, nothing charged)."""
        if self.output_check is None or transition.status != "completed" or job.status == "completed":
            return transition
        try:
            refusal = await self.output_check(job)
        except Exception as exc:  # the output could not be checked now: not completed, polled again later
            log.warning("post-call guardrails of %s could not run, retried later: %r", job.id, exc)
            reason = (
                exc if isinstance(exc, APIError) else InternalServerError(f"output check failed: {exc!r}")
            )
            return jobs.on_poll_error(job, reason, now)
        if refusal is None:
            return transition
        code, message = refusal
        return jobs.lost(job, now, code, message)

    def became_terminal(self, job: JobRecord) -> None:
        """``job`` has just reached its terminal state, its money moved (to be saved by the caller):
        report it (observers read its cost) and owe its webhook event."""
        self.observer.finished(job, max(self.clock() - job.created_at, 0.0))
        self.owe_event(job)

    def owe_event(self, job: JobRecord) -> None:
        """Mark ``job``'s terminal-state webhook event owed (the global webhook's, and its own
        ``callback_url``'s)."""
        if self.webhooks or job.callback_url:
            job.webhook_pending = True
            job.webhook_failures = 0

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
        self,
        job: JobRecord,
        owner: str,
        *,
        keep_lease: bool | Callable[[JobRecord], bool],
        reported: ProviderJob | None = None,
        save: Callable[[JobRecord], Awaitable[bool]] | None = None,
        lease_seconds: float = REFRESH_LEASE_SECONDS,
    ) -> tuple[JobRecord, jobs.Transition]:
        """One poll of a job leased by ``owner``; returns the job as stored afterwards and the transition.
        ``keep_lease`` may decide from the job as polled (the poller keeps it only when more work is
        due), so a job with nothing more to do has its lease released in the same save. ``reported``:
        the state a verified provider callback reported, applied instead of a poll. ``save``: how the
        job is saved (default ``JobStore.save``; the poller writes its concurrent saves together).
        ``lease_seconds``: the lease ``owner`` took, renewed while the provider or the output check is
        out (``leases.held``). A transition that moves money or ends the job is saved (lease kept)
        before it does: a step that lost its lease meanwhile, or whose write-ahead record its create
        recorded, loses that save and moves nothing on its stale view."""
        now = self.clock()
        was_terminal = job.status in TERMINAL_STATUSES
        resolving = job.submitting
        if was_terminal:
            transition = jobs.settled_state(job, now)
        elif job.submitting:
            transition = await self.resolve(job, now, lease_seconds=lease_seconds)
            transition = await self._held(job, self.checked(job, transition, now), lease_seconds)
        else:
            transition = await self._held(job, self._polled(job, reported, now), lease_seconds)
        jobs.apply(job, transition)
        ends = transition.terminal and not was_terminal
        if ends:  # owed in the save that stores the decision
            self.owe_event(job)
        save = save or self.stores.jobs.save
        if (transition.settle or transition.release or ends) and not await save(job):
            return await self._lost(job, owner), transition
        if resolving and ends and transition.error_code == submitting.OUTCOME_UNKNOWN:
            self._outcome_unknown(job)
        await self.finish(job, transition)  # else only a terminal job's slot: freed on any view
        if ends:
            self.observer.finished(job, max(self.clock() - job.created_at, 0.0))
        if not (keep_lease(job) if callable(keep_lease) else keep_lease):
            job.lease_owner = None
            job.lease_expires_at = None
        if await save(job):
            return job, transition
        return await self._lost(job, owner), transition

    async def _held(self, job: JobRecord, work: Awaitable[R], lease_seconds: float) -> R:
        return await leases.held(self.stores.jobs, job, work, seconds=lease_seconds, clock=self.clock)

    async def _lost(self, job: JobRecord, owner: str) -> JobRecord:
        """The job as stored by whoever wrote it since ``owner``'s step read it (theirs to finish)."""
        await self.stores.jobs.release_lease(job.id, owner)
        return await self.stores.jobs.get(job.id) or job

    async def _polled(self, job: JobRecord, reported: ProviderJob | None, now: float) -> jobs.Transition:
        """The transition a poll of ``job`` (or the state its provider ``reported``) leads to, checked."""
        if reported is not None:
            return await self.checked(job, jobs.advance(job, reported, now), now)
        dep = self.router.get(job.deployment_id)
        try:
            if dep is None:
                raise deployment_gone(job)
            job.upstream_polls += 1
            self.observer.polled(job)
            with tracing.span(
                "provider poll",
                {
                    "vidgate.provider": job.provider,
                    "vidgate.video_id": job.id,
                    "vidgate.poll": job.upstream_polls,
                },
                kind=tracing.SpanKind.CLIENT,
                parent=job.trace_parent,
            ):
                native = await self.calls.retrieve(dep, job.native_id)
        except APIError as exc:
            log.warning("poll of %s (%s) failed: %s", job.id, job.deployment_id, exc)
            if dep is not None:
                self.report_upstream(job.provider, exc)
            return jobs.on_poll_error(job, exc, now)
        except Exception as exc:  # an adapter bug must not wedge the job: back off like any failure
            log.exception("poll of %s (%s) raised", job.id, job.deployment_id)
            return jobs.on_poll_error(job, InternalServerError(f"poll failed: {exc!r}"), now)
        return await self.checked(job, jobs.advance(job, native, now), now)

    async def resolve(
        self, job: JobRecord, now: float, *, lease_seconds: float = REFRESH_LEASE_SECONDS
    ) -> jobs.Transition:
        """A job stored write-ahead whose creator is gone (its lease lapsed): recorded when found at
        the provider (``submitting.find``), else failed ``upstream_outcome_unknown`` (counted by ``step``
        once saved). A create still running in this process (its renewals stalled) is left to record
        its job."""
        dep = self.router.get(job.deployment_id)
        if job.id in self.creating or (
            dep is not None and await submitting.create_in_flight(self.stores, job, now)
        ):
            return jobs.look_again(job, now, submitting.LOOK_AGAIN_SECONDS)
        try:
            found, searched = (
                (None, False)
                if dep is None
                else await self._held(job, submitting.find(self.stores, self.calls, dep, job), lease_seconds)
            )
        except APIError as exc:
            log.warning("search for the submitted job %s (%s) failed: %s", job.id, job.deployment_id, exc)
            self.report_upstream(job.provider, exc)
            if job.poll_failures + 1 < submitting.MAX_FIND_FAILURES:
                return jobs.on_poll_error(job, exc, now)
            found, searched = None, False
        if found is None and searched and now - job.created_at < submitting.FIND_GRACE_SECONDS:
            return jobs.look_again(job, now, submitting.LOOK_AGAIN_SECONDS)  # not listed yet
        if found is None:  # reported by ``step`` once this decision is saved (it may lose)
            job.submitting = False
            return jobs.lost(
                job,
                now,
                submitting.OUTCOME_UNKNOWN,
                "The gateway stopped before the provider confirmed this video; it was not found at the "
                "provider and was not charged.",
            )
        placeholder = job.native_id
        job.native_id, job.submitting = found.native_id, False
        # The claim on the upstream job is saved before any money moves: two records of one prompt can
        # match one upstream job (resolved in one round), and only the record that claims it may be
        # charged for it; the other looks again (it no longer matches what is claimed).
        try:
            claimed = await self.stores.jobs.save(job)
        except ConflictError:
            claimed = False
        if not claimed:
            job.native_id, job.submitting = placeholder, True
            taken = ServiceUnavailableError(f"The upstream job {found.native_id} was claimed meanwhile.")
            return jobs.on_poll_error(job, taken, now)
        log.warning("create of %s found at the provider after a restart as %s", job.id, found.native_id)
        return jobs.advance(job, found, now)

    def _outcome_unknown(self, job: JobRecord) -> None:
        """Log and count a write-ahead record failed ``upstream_outcome_unknown``, once that decision is
        saved: a resolver whose save lost (the create recorded its job first) resolved nothing."""
        log.error(
            "create of %s on %s has an unknown outcome (its process stopped before the provider "
            "answered and no matching job was found upstream): failed, reservation and slot released",
            job.id,
            job.deployment_id,
        )
        hook = self.on_outcome_unknown
        if hook is None:
            return
        try:
            hook(job.provider)
        except Exception:
            log.exception("outcome-unknown hook failed")

    async def finish(self, job: JobRecord, transition: jobs.Transition) -> None:
        """The money and slot effects of ``transition`` (each idempotent), recorded on ``job``."""
        if transition.settle:
            await self.settle(job)
        if transition.release:
            if await self.stores.ledger.release(job.owner_key_id, job.id):
                self.observer.released(job.provider, job.model_name, job.reserved_micros)
                job.cost_micros = 0
            else:  # settled or released already (a concurrent step): the job shows what was charged
                job.cost_micros = await self.stores.ledger.charged(job.id)
        if transition.release_slot:
            await self.stores.admission.release_slot(job.owner_key_id, job.id)

    async def settle(self, job: JobRecord) -> None:
        """Charge the completed job for the videos it produced: per video, its seconds x the rate it was
        reserved at (the exact estimate); videos the provider filtered out are not charged (Google bills
        only generated videos), and the ledger releases the rest of the reservation."""
        cost = jobs.settled_cost(job)
        entry = SpendEntry(
            id="spend_" + pool.token_hex(12),
            key_id=job.owner_key_id,
            job_id=job.id,
            model_name=job.model_name,
            deployment_id=job.deployment_id,
            seconds=float(job.seconds) * jobs.billable_videos(job),
            size=job.size,
            cost_micros=cost,
            created_at=int(self.clock()),
            metadata={"provider": job.provider, "videos": jobs.billable_videos(job), "requested": job.n},
        )
        with tracing.span(
            "settlement", {"vidgate.video_id": job.id, "vidgate.cost_micros": cost}, parent=job.trace_parent
        ):
            settled = await self.stores.ledger.settle(entry)
        if not settled:  # settled or released already: the job shows what the ledger charged, never
            # a cost it refused (a reservation released meanwhile was never charged)
            cost = await self.stores.ledger.charged(job.id)
        elif job.owner_key_id != MASTER_OWNER:  # the master key reserves nothing
            self.observer.settled(job.provider, job.model_name, cost)
            self.observer.released(job.provider, job.model_name, max(job.reserved_micros - cost, 0))
        job.cost_micros = cost
