"""Provider callbacks: a provider tells the gateway a job changed state instead of being polled.

A deployment with ``provider_callbacks: true`` gets, on each create, a callback URL
``{public_base_url}/provider_callbacks/{video id}?token={secret}`` (``issue``; a query parameter
named ``token`` is redacted in every log): the secret is fresh per job
(256 bits), and only its sha256 is stored (``JobRecord.provider_callback_hash``), compared in constant
time. A delivery (``CallbackIntake.receive``) is accepted only when the URL's job and secret match,
and the provider's adapter (``CallbackReader.parse_callback``) verified the provider's own signature
where it signs (Replicate's Standard Webhooks, fal's ED25519, BFL's HMAC) and read the state it reports
about *this* job. The state machine then advances the job at once, with the same effects as a poll
(settlement, slot, webhook mark; the poller copies the content in its next round).

Providers retry deliveries (fal up to 10 times over 2 h), and an attacker may replay one: a delivery
about a finished job changes nothing and is answered 200, and the state machine never moves a job
backwards. A forged delivery (unknown job, wrong secret, bad or stale signature, another job's id) is
answered 404/401 and changes nothing. Polling stays on as the fallback, every
``jobs.CALLBACK_POLL_SECONDS``, for a callback that never comes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vidgate.errors import APIError, ConflictError, NotFoundError, ServiceUnavailableError
from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.followup import JobKeeper, deployment_gone, new_lease_owner
from vidgate.gateway.ports import Stores
from vidgate.gateway.routing import Router
from vidgate.providers.base import (
    CallbackAnswer,
    CallbackDelivery,
    InvalidCallback,
    ProviderCallback,
    ProviderJob,
)
from vidgate.types import TERMINAL_STATUSES

log = logging.getLogger("vidgate.gateway")
PATH = "/provider_callbacks"
SECRET_BYTES = 32
LEASE_SECONDS = 30.0
LEASE_TRIES = 5  # a job leased by a poll or a concurrent duplicate: wait for it this many times
LEASE_PAUSE = 0.05  # seconds, doubled per try
BUSY_RETRY_AFTER = 5.0


_JOB_ID = re.compile(r"video_[0-9a-f]{32}")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def issue(public_base_url: str, job_id: str) -> tuple[ProviderCallback, str]:
    """A new callback for ``job_id`` and the hash to store with the job."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    url = f"{public_base_url}{PATH}/{job_id}?token={secret}"  # token_urlsafe needs no escaping
    return ProviderCallback(url=url, secret=secret), digest(secret)


#: What became of a delivery (``Observer.provider_callback``, ``vidgate_provider_callbacks_total``).
OUTCOMES = (
    "accepted",  # the job advanced
    "duplicate",  # its job had already ended (a provider's retry, or a replay)
    "challenge",  # a URL check, answered
    "forged",  # wrong token for a known job, a bad or stale signature, or another job's body
    "unknown_job",  # no such job, a deleted one, or one registered no callback
    "early",  # the create had not recorded the job yet: the provider delivers again
    "busy",  # the job's lease stayed taken: the provider delivers again
    "unverifiable",  # what verification needs (signing keys) could not be fetched
    "error",  # anything else (the deployment gone, the store failing)
)


@dataclass
class _Seen:
    """What one delivery is reported as; set as ``receive`` learns it."""

    provider: str = "unknown"
    outcome: str = "error"


@dataclass(frozen=True)
class CallbackReply:
    """What the provider is answered (200: received; duplicates too)."""

    body: Mapping[str, Any] = field(default_factory=lambda: {"received": True})


def _unknown() -> NotFoundError:
    # One answer for an unknown job, a job without a callback and a wrong secret: no oracle.
    return NotFoundError("No such provider callback.", code="callback_not_found")


def _early() -> ConflictError:
    return ConflictError(
        "The job is still being created; deliver again shortly.",
        code="callback_early",
        retry_after=BUSY_RETRY_AFTER,
    )


def refused(reason: str) -> APIError:
    return APIError(
        f"The callback was refused: {reason}.",
        status_code=401,
        code="invalid_callback",
        type="invalid_request_error",
    )


class CallbackIntake:
    def __init__(
        self,
        stores: Stores,
        router: Router,
        calls: ProviderCalls,
        keeper: JobKeeper,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.stores = stores
        self.router = router
        self.calls = calls
        self.keeper = keeper
        self.clock = clock
        self.on_applied: Callable[[], None] | None = None  # the server wakes the poller (content copy)

    async def receive(
        self, job_id: str, secret: str, headers: Mapping[str, str], body: bytes
    ) -> CallbackReply:
        """Verify one delivery and advance its job; raises the APIError to answer otherwise. Every
        delivery is reported to the observers with its outcome (``OUTCOMES``), whatever it is."""
        seen = _Seen()
        try:
            return await self._receive(seen, job_id, secret, headers, body)
        finally:
            self.keeper.observer.provider_callback(seen.provider, seen.outcome)

    async def _receive(
        self, seen: _Seen, job_id: str, secret: str, headers: Mapping[str, str], body: bytes
    ) -> CallbackReply:
        job = await self.stores.jobs.get(job_id) if _JOB_ID.fullmatch(job_id) else None
        expected = job.provider_callback_hash if job is not None else None
        # Compared even when there is nothing to compare with, so timing says nothing either.
        matches = hmac.compare_digest(digest(secret), expected or "0" * 64)
        if job is not None:
            seen.provider = job.provider
        if job is None or expected is None or job.deleted:
            seen.outcome = "unknown_job"
            raise _unknown()
        if not matches:
            seen.outcome = "forged"
            raise _unknown()  # the same answer as an unknown job: no oracle
        dep = self.router.get(job.deployment_id)
        if dep is None:
            raise deployment_gone(job)
        delivery = CallbackDelivery(
            native_id=job.native_id,
            headers={k.lower(): v for k, v in headers.items()},
            body=body,
            secret=secret,
            now=self.clock(),
        )
        try:
            reported = await self.calls.parse_callback(dep, delivery)
        except (InvalidCallback, APIError) as exc:
            if job.submitting:  # read against a placeholder id: tell the provider to come back
                seen.outcome = "early"
                raise _early() from exc
            if isinstance(exc, APIError):  # fetching what verification needs failed: not the caller's
                log.warning("provider callback for %s not verifiable now: %s", job_id, exc)
                seen.outcome = "unverifiable"
                raise ServiceUnavailableError(
                    "The callback cannot be verified now; deliver again shortly.",
                    code="callback_unverifiable",
                    retry_after=BUSY_RETRY_AFTER,
                ) from exc
            log.warning("provider callback for %s refused: %s", job_id, exc)
            seen.outcome = "forged"
            raise refused(str(exc)) from exc
        if isinstance(reported, CallbackAnswer):  # a URL check: answered even while the create runs
            seen.outcome = "challenge"
            return CallbackReply(reported.body)
        if job.submitting:  # the create's answer (the native id) is not recorded yet: the provider retries
            seen.outcome = "early"
            raise _early()
        if reported.native_id != job.native_id:
            log.warning("provider callback for %s names another job (%s)", job_id, reported.native_id)
            seen.outcome = "forged"
            raise refused("it is about another job")
        if job.status in TERMINAL_STATUSES:
            seen.outcome = "duplicate"
            return CallbackReply()  # a duplicate or a replay: the job is final, nothing changes
        try:
            seen.outcome = await self._apply(job_id, reported)
        except ConflictError:
            seen.outcome = "busy"
            raise
        return CallbackReply()

    async def _apply(self, job_id: str, reported: ProviderJob) -> str:
        """Advance the job under its lease; the outcome (``accepted``, or ``duplicate`` when a concurrent
        delivery finished it first). Raises 409 ``callback_busy`` when the lease stays taken."""
        owner = new_lease_owner("callback")
        pause = LEASE_PAUSE
        for _ in range(LEASE_TRIES):
            leased = await self.stores.jobs.try_lease(
                job_id, owner, now=self.clock(), lease_seconds=LEASE_SECONDS
            )
            if leased is not None:
                break
            await asyncio.sleep(pause)
            pause *= 2
        else:
            raise ConflictError(
                "The job is busy; deliver again shortly.", code="callback_busy", retry_after=BUSY_RETRY_AFTER
            )
        if leased.status in TERMINAL_STATUSES:  # a concurrent duplicate finished it
            await self.stores.jobs.release_lease(job_id, owner)
            return "duplicate"
        saved, transition = await self.keeper.step(
            leased, owner, keep_lease=False, reported=reported, lease_seconds=LEASE_SECONDS
        )
        log.info("provider callback moved %s to %s", job_id, saved.status)
        if transition.terminal and self.on_applied is not None:
            self.on_applied()
        return "accepted"
