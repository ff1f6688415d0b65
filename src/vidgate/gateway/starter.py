"""Starting a paid job: the steps every create surface shares (``/v1/videos`` create, remix, edits and
extensions, the Google pass-through's ``predictLongRunning``), kept in one place so that the surfaces
cannot drift apart on limits, money or fallbacks.

A start is: the pre-call guardrails over the request's content (``gateway.guardrails``: a refusal is a
400 with nothing counted, reserved or sent) -> the key's rate limit -> for each candidate deployment in
the order given (validated and priced by the surface): the deployment's own requests-per-minute limit
-> the caller's exact reservation, then its concurrency slot (``admit``) -> the write-ahead record (the
job stored ``submitting``, its lease held and renewed by this process while the provider's create
runs; ``gateway.submitting``) -> the surface's own provider call. Reservation, slot and record are one
transaction when the stores offer it (``Stores.starts``). When that
call fails, ``routing.create_failure`` decides: a definite refusal (429, 503, connection never
established, the provider refusing the gateway's credentials) ends the write-ahead record (failed and
hidden: no job exists), gives the slot and the reservation back, cools the deployment down and tries the
next candidate (at most ``1 + num_retries`` tries per public model name); a 4xx about the request ends
it the same way and is answered as it is; an ambiguous failure (timeout, connection broken after
sending, 5xx) cools the deployment down and answers 502/504 ``upstream_outcome_unknown`` without trying
elsewhere, because the provider may have started a paid job and a second deployment would start another:
the write-ahead record is handed to the poller at once, which records and charges the job when it finds
it upstream, else fails it and gives the reservation and the slot back. The surface then turns the
provider's answer into a ``JobRecord`` (``new_job``) and ``record`` stores it over the write-ahead
record, pinned to the deployment that accepted it. An answer that comes after another replica's resolver
resolved the record (this process stalled past its lease) leaves that decision standing: the provider's
job is cancelled where the provider can (owed durably, retried by the poller: ``gateway.cancels``); a
failed record also records it and answers the create 502 ``upstream_answered_late`` (``_answered_late``).

Refused attempts never reach a client as such, so they are reported to the upstream-error hook, except
the error the caller is answered with when it carries its provider (the server counts that one).

Crashes: the reservation is taken before the slot and the write-ahead record right after both, so a
process killed at any point leaves either a reservation with no job row (the poller releases it and
its slot after ``STRANDED_AFTER_SECONDS``) or a ``submitting`` job whose lease lapses within
``SUBMIT_LEASE_SECONDS`` (the poller resolves it: found upstream and recorded, or failed).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

from vidgate.catalog import to_micros
from vidgate.catalog.pricing import has_video, inputs_of, request_estimate, token_bound
from vidgate.errors import APIError, ConflictError, RateLimitError
from vidgate.gateway import cancels, leases, provider_callbacks, submitting, tracing
from vidgate.gateway import jobs as machine
from vidgate.gateway.auth import Principal
from vidgate.gateway.followup import JobKeeper, new_lease_owner
from vidgate.gateway.guardrails import GuardInput
from vidgate.gateway.guardrails.engine import Guardrails
from vidgate.gateway.keys import MAX_LIMIT
from vidgate.gateway.lifecycle import check_active
from vidgate.gateway.ports import Stores
from vidgate.gateway.records import ApiSurface, JobRecord, KeyRecord, OwedCancel
from vidgate.gateway.routing import Deployment, Router, create_failure, outcome_unknown
from vidgate.gateway.views import new_video_id
from vidgate.providers.base import ProviderJob
from vidgate.types import VideoRequest

log = logging.getLogger("vidgate.gateway")
R = TypeVar("R")
# The write-ahead record follows the reservation within milliseconds: a reservation this old with no
# job row belongs to a process that died in between, and the poller gives it and its slot back
# (``Ledger.stranded``).
STRANDED_AFTER_SECONDS = 30
_SAVE_ATTEMPTS = 5
WRITE_AHEAD_VERSION = 0  # the version a write-ahead record is inserted with (``record`` saves over it)

__all__ = [
    "STRANDED_AFTER_SECONDS",
    "JobStarter",
    "Priced",
    "Started",
    "deployments_busy",
    "new_job",
    "price_for",
]


def deployments_busy(model: str) -> RateLimitError:
    """Every candidate was at its own requests-per-minute limit (nothing was tried upstream)."""
    return RateLimitError(
        f"Every deployment of model '{model}' is at its requests-per-minute limit; retry shortly.",
        code="deployment_rate_limited",
        retry_after=1.0,
    )


@dataclass(frozen=True)
class Priced:
    """A request checked against one deployment's catalogue row, and what it reserves there."""

    dep: Deployment
    req: VideoRequest
    micros: int  # the upper bound reserved
    token_bound: int = 0  # output tokens the reservation covers (token-priced rows)
    token_micros: int = 0  # the part of ``micros`` that pays for those tokens
    dropped: tuple[str, ...] = ()  # parameters left out under drop_params (catalog.drop)


def price_for(dep: Deployment, req: VideoRequest) -> Priced:
    """``req`` on ``dep`` with its upper-bound estimate (the deployment's own $/s when it sets one), so
    both surfaces reserve the same amount for the same video. A retired model is refused here (400)."""
    check_active(dep)
    spec = dep.spec
    inputs = inputs_of(req)
    usd = request_estimate(spec, req, price_override=dep.price_per_second)
    video = has_video(inputs)
    bound = token_bound(spec, seconds=req.seconds, size=req.size, n=req.n, input_video=video)
    token_micros = to_micros(Decimal(bound) * spec.token_price(req.size, input_video=video))
    return Priced(dep, req, to_micros(usd), token_bound=bound, token_micros=token_micros)


@dataclass(frozen=True)
class Started(Generic[R]):
    """A provider accepted the create: on which candidate, under which new job id, and its answer."""

    priced: Priced
    job_id: str
    answer: R
    callback_hash: str | None = None  # the job's ``provider_callback_hash`` (record it with the job)


def slot_limit(key: KeyRecord) -> int:
    """The slots ``key`` may hold. A key without ``max_parallel_requests`` still takes one per running
    job (never refused), so a limit set later counts the jobs already running."""
    return MAX_LIMIT if key.max_parallel_requests is None else key.max_parallel_requests


def new_job(
    job_id: str,
    p: Principal,
    priced: Priced,
    native_id: str,
    *,
    prompt: str | None,
    surface: ApiSurface,
    now: float,
    remixed_from: str | None = None,
    size: str | None = None,
    seconds: str | None = None,
    task: str = "generate",
    source_video_id: str | None = None,
    callback_url: str | None = None,
) -> JobRecord:
    """The record of a job just accepted upstream: owned by the caller, pinned to its deployment, with
    its reservation. ``size``/``seconds`` override the request's when the provider decided them."""
    return JobRecord(
        id=job_id,
        owner_key_id=p.owner_id,
        model_name=priced.dep.model_name,
        deployment_id=priced.dep.id,
        provider=priced.dep.provider,
        native_id=native_id,
        status="queued",
        created_at=int(now),
        size=size or priced.req.size,
        seconds=seconds or str(priced.req.seconds),
        api_surface=surface,
        prompt=prompt,
        n=priced.req.n,
        remixed_from=remixed_from,
        reserved_micros=priced.micros,
        token_bound=priced.token_bound,
        token_micros=priced.token_micros,
        task=task,
        source_video_id=source_video_id,
        callback_url=callback_url,
    )


class JobStarter:
    """Admission, deployment fallback and the first save of a job, for every surface that starts one."""

    def __init__(
        self,
        stores: Stores,
        router: Router,
        keeper: JobKeeper,
        *,
        num_retries: int,
        clock: Callable[[], float] = time.time,
        guardrails: Guardrails | None = None,
        public_base_url: str | None = None,
        current: Callable[[Principal], Awaitable[Principal]] | None = None,
    ) -> None:
        self.public_base_url = public_base_url  # where providers call back (``provider_callbacks``)
        # The caller's key as it is now (``Authenticator.current``): limits are read after the screen.
        self.current = current
        self.stores = stores
        self.router = router
        self.keeper = keeper
        self.tries_per_model = 1 + num_retries
        self.clock = clock
        # The pre-call guardrails, run first by every start (``screen``).
        self.guardrails = guardrails or Guardrails(())
        self.observer = keeper.observer

    async def screen(self, p: Principal, model: str, subject: VideoRequest) -> None:
        """The pre-call guardrails over ``subject``'s prompt, images and videos: raises the 400 (or,
        for a guardrail that failed closed, the 503) before anything is counted, reserved or sent."""
        if self.guardrails:
            key = p.key
            await self.guardrails.pre_call(
                key, GuardInput.of_request(subject, model=model, key_id=key.id if key else None)
            )

    # ---- the caller's limits -------------------------------------------------------------------

    async def check_rate(self, key: KeyRecord | None, now: float) -> None:
        """Count one create against the key's requests-per-minute limit (429 when over)."""
        if key is not None and key.rpm_limit is not None:
            await self.stores.admission.check_rate(key.id, key.rpm_limit, now=now)

    async def admit(self, p: Principal, job_id: str, micros: int) -> None:
        """The caller's own limits: the exact reservation, then a concurrency slot (429 when over).
        Reserving first means a slot is never held without a reservation the poller can find."""
        key = p.key
        if key is None:
            return
        await self.stores.ledger.reserve(key, job_id, micros, now=int(self.clock()))
        try:
            await self.stores.admission.acquire_slot(key.id, job_id, slot_limit(key))
        except BaseException:
            await self.stores.ledger.release(key.id, job_id)
            raise

    async def give_back(self, p: Principal, job_id: str, candidate: Priced) -> None:
        """Undo ``admit`` for a job that was never created (or never stored)."""
        if p.key is not None:
            if await self.stores.ledger.release(p.key.id, job_id):
                self.observer.released(candidate.dep.provider, candidate.dep.model_name, candidate.micros)
            await self.stores.admission.release_slot(p.key.id, job_id)

    # ---- trying deployments --------------------------------------------------------------------

    async def start(
        self,
        p: Principal,
        model: str,
        candidates: Iterable[Priced],
        call: Callable[[Priced], Awaitable[R]],
        *,
        draft: Callable[[Priced, str], JobRecord],
        now: float,
        subject: VideoRequest,
        label: str = "create",
        on_write_ahead: Callable[[str], Awaitable[None]] | None = None,
        offer_callback: bool = False,
    ) -> Started[R]:
        """Screen ``subject`` (the request as validated: what the guardrails check), check the key's
        rate limit, then run the surface's ``call`` on ``candidates`` in order until one accepts (the
        module docstring says which failures move on). ``draft`` builds the job's
        write-ahead record for a candidate and a new job id (``new_job`` with a placeholder native id);
        ``on_write_ahead(job_id)`` runs once it is stored (an idempotency key links to the job there).
        ``model`` is the public name the caller asked for (named in the 429 when every deployment is
        busy); ``label`` names the surface in the logs. ``offer_callback``: the surface's ``call`` starts
        the job with ``Priced.dep``'s credentials (a create), so a deployment with ``provider_callbacks``
        gets a callback in them (``Credentials.provider_callback``: a fresh per-job secret, stored
        hashed on the write-ahead record)."""
        await self.screen(p, model, subject)
        if self.current is not None:  # an upload and the screen take time: a key changed meanwhile counts
            p = await self.current(p)
        # The key's rate limit is counted first, once; in the first attempt's transaction when that
        # attempt takes one (``Stores.starts``) and no deployment limit has to be checked before it.
        rate_due = p.key is not None and p.key.rpm_limit is not None
        if rate_due and not self._one_step(p):
            await self.check_rate(p.key, now)
            rate_due = False
        refused: list[tuple[str, APIError]] = []
        shown: BaseException | None = None
        last_error: APIError | None = None
        tries: dict[str, int] = {}
        try:
            for candidate in candidates:
                dep = candidate.dep
                if tries.get(dep.model_name, 0) >= self.tries_per_model:
                    continue
                if rate_due and dep.rpm is not None:  # the key's limit before the deployment's
                    rate_due = False
                    await self.check_rate(p.key, now)
                if dep.rpm is not None and not await self._deployment_rate_ok(dep, now):
                    last_error = last_error or deployments_busy(model)
                    continue
                tries[dep.model_name] = tries.get(dep.model_name, 0) + 1
                job_id = new_video_id(now)
                owner = new_lease_owner(submitting.CREATE_LEASE)
                count_rate, rate_due = rate_due, False
                callback_hash: str | None = None
                if offer_callback and dep.provider_callbacks and self.public_base_url is not None:
                    issued, callback_hash = provider_callbacks.issue(self.public_base_url, job_id)
                    creds = dataclasses.replace(dep.credentials, provider_callback=issued)
                    called_back = dataclasses.replace(dep, credentials=creds)
                    candidate = dataclasses.replace(candidate, dep=called_back)
                record = draft(candidate, job_id)
                record.provider_callback_hash = callback_hash
                with tracing.span("admission", {"vidgate.deployment": dep.id, "vidgate.video_id": job_id}):
                    await self._admit_and_write_ahead(p, candidate, record, owner, now, count_rate=count_rate)
                try:
                    if on_write_ahead is not None:
                        await on_write_ahead(job_id)
                except BaseException:  # nothing was sent
                    await self.give_back(p, job_id, candidate)
                    await self._abandon(job_id)
                    raise
                try:
                    with (
                        self.router.in_flight(dep.id),
                        tracing.span(
                            f"provider {label}",
                            {
                                "vidgate.provider": dep.provider,
                                "vidgate.model": dep.model,
                                "vidgate.video_id": job_id,
                            },
                            kind=tracing.SpanKind.CLIENT,
                        ),
                    ):
                        self.keeper.creating.add(job_id)
                        try:  # the lease renewed while the create runs, so the poller resolves the
                            # record only once this process is gone
                            answer = await leases.held(
                                self.stores.jobs,
                                record,
                                call(candidate),
                                seconds=submitting.SUBMIT_LEASE_SECONDS,
                                clock=self.clock,
                            )
                        finally:
                            self.keeper.creating.discard(job_id)
                except BaseException as exc:
                    # Anything but a definite refusal may have reached the provider: an ambiguous error,
                    # and a cancellation (the server shutting down, the client's task cancelled) or a bug
                    # while the call was out. The poller finds the job upstream, or fails it.
                    if not isinstance(exc, APIError) or create_failure(exc) == "ambiguous":
                        await self._hand_over(job_id, owner)
                    else:  # money and slot back first: a crash between the two leaves the record to
                        await self.give_back(p, job_id, candidate)  # the poller, never money held
                        await self._abandon(job_id)
                    if not isinstance(exc, APIError):
                        raise
                    last_error = self._refusal(dep, exc, label)
                    refused.append((dep.provider, last_error))
                    continue
                self.router.report_success(dep.id)
                return Started(candidate, job_id, answer, callback_hash)
            if rate_due:  # no attempt was made: the request still counts against the key's limit
                await self.check_rate(p.key, now)
            raise last_error or deployments_busy(model)
        except BaseException as exc:
            shown = exc
            raise
        finally:
            self._count_refusals(refused, shown)

    # ---- the write-ahead record ----------------------------------------------------------------

    def _one_step(self, p: Principal) -> bool:
        """Whether this caller's admission and write-ahead record go in one transaction."""
        return self.stores.starts is not None and p.key is not None

    async def _admit_and_write_ahead(
        self, p: Principal, candidate: Priced, job: JobRecord, owner: str, now: float, *, count_rate: bool
    ) -> None:
        """(``count_rate``: the key's rate limit,) ``admit``, then ``job`` stored ``submitting`` and
        leased by ``owner`` (given back if a step fails); in one transaction on stores that can
        (``Stores.starts``)."""
        job.trace_parent = tracing.traceparent()
        job.submitting = True
        job.version = WRITE_AHEAD_VERSION
        job.native_id = submitting.placeholder(job.id)
        job.lease_owner = owner
        job.lease_expires_at = now + submitting.SUBMIT_LEASE_SECONDS
        job.next_poll_at = now + submitting.SUBMIT_LEASE_SECONDS
        starts, key = self.stores.starts, p.key
        if starts is not None and key is not None:
            await starts.admit_and_insert(
                key,
                job,
                candidate.micros,
                rpm_limit=key.rpm_limit if count_rate else None,
                slot_limit=slot_limit(key),
                now=now,
            )
            self.observer.reserved(candidate.dep.provider, candidate.dep.model_name, candidate.micros)
            return
        if count_rate:
            await self.check_rate(key, now)
        await self.admit(p, job.id, candidate.micros)
        if key is not None:
            self.observer.reserved(candidate.dep.provider, candidate.dep.model_name, candidate.micros)
        try:
            await self.stores.jobs.insert(job)
        except BaseException:
            await self.give_back(p, job.id, candidate)
            raise

    async def _hand_over(self, job_id: str, owner: str) -> None:
        """Leave the write-ahead record of a create with an unknown outcome (timeout, 5xx, connection
        broken after sending) to the poller at once: it looks for the job upstream and records and
        charges it when found, else fails it and gives the money and the slot back."""
        for _ in range(_SAVE_ATTEMPTS):
            job = await self.stores.jobs.get(job_id)
            if job is None or not job.submitting or job.lease_owner != owner:
                return
            job.lease_owner = None
            job.lease_expires_at = None
            job.next_poll_at = self.clock()
            if await self.stores.jobs.save(job):
                return
        log.error("could not hand %s over to the poller; it resolves it when the lease lapses", job_id)

    async def _abandon(self, job_id: str) -> None:
        """End the write-ahead record of a create the provider refused (or that was cancelled): no
        job exists, so it is failed, its money final at 0, and hidden (never listed or served)."""
        for _ in range(_SAVE_ATTEMPTS):
            job = await self.stores.jobs.get(job_id)
            if job is None or not job.submitting:
                return
            job.submitting = False
            job.status = "failed"
            job.error_code = submitting.ABANDONED
            job.cost_micros = 0
            job.deleted = True
            job.lease_owner = None
            job.lease_expires_at = None
            if await self.stores.jobs.save(job):
                return
        log.error("could not end the write-ahead record of %s; the poller will resolve it", job_id)

    def _refusal(self, dep: Deployment, error: APIError, label: str) -> APIError:
        """``error``, a failed create on ``dep``, when it is a definite refusal (the next candidate may be
        tried); raises it when it is about the request, ``upstream_outcome_unknown`` when ambiguous."""
        failure = create_failure(error)
        if failure == "rejected":
            raise error
        self.router.report_failure(dep.id)
        if failure == "ambiguous":  # a job may exist upstream: never start a second one elsewhere
            log.error("%s on %s has an unknown outcome, not retried elsewhere: %s", label, dep.id, error)
            raise outcome_unknown(dep, error) from error
        log.warning(
            "%s on %s (%s) refused, trying the next deployment: %s", label, dep.id, dep.model_name, error
        )
        return error

    async def _deployment_rate_ok(self, dep: Deployment, now: float) -> bool:
        assert dep.rpm is not None
        try:
            await self.stores.admission.check_rate(f"deployment:{dep.id}", dep.rpm, now=now)
        except APIError:
            return False
        return True

    def _count_refusals(self, refused: list[tuple[str, APIError]], shown: BaseException | None) -> None:
        for provider, error in refused:
            if error is not shown or error.provider is None:
                self.keeper.report_upstream(provider, error)

    # ---- the first save --------------------------------------------------------------------------

    async def _answered_late(self, stored: JobRecord, native_id: str) -> JobRecord:
        """The provider accepted a create as ``native_id`` after a resolver had decided its write-ahead
        record (``stored``: failed and released, or, rarely, recorded with another upstream job it
        found). The provider's job is not left unknown: its cancel is owed durably where the adapter can
        make one (``delete``; ``gateway.cancels``), it is recorded on a failed record (traceable, and no
        search for another record takes it), then the cancel is tried. Logged and reported
        (``Observer.answered_late``). A failed record is answered 502 ``upstream_answered_late``:
        nothing was charged, so creating the video again is safe."""
        outcome = await self._late_job(stored, native_id)
        detail = {
            "cancelled": "cancelled there",
            "cancel_owed": "its cancel failed: the poller tries it again",
            "cancel_failed": "its cancel failed: the provider may bill it",
            "not_cancellable": "the provider cannot cancel it: it may bill it",
            "recorded_elsewhere": "another video holds it and is charged for it",
        }[outcome]
        log.error(
            "create of %s on %s answered %s after the record was resolved (%s): %s",
            stored.id,
            stored.deployment_id,
            native_id,
            stored.status,
            detail,
        )
        self.observer.answered_late(stored.provider, outcome)
        if stored.status != "failed":  # followed (and charged) with the upstream job its resolver found
            return stored
        raise APIError(
            f"Video '{stored.id}' failed: the provider accepted it only after the gateway had stopped "
            "waiting for its answer and failed it. Nothing was charged; create the video again.",
            status_code=502,
            code=submitting.ANSWERED_LATE,
            type="upstream_error",
        )

    async def _late_job(self, stored: JobRecord, native_id: str) -> str:
        """Owe the cancel of the late ``native_id`` where one can be made (saved before anything else: a
        crash from here on leaves it to the poller), record it on ``stored`` when that holds no upstream
        job, then try the cancel at once unless another record holds the job;
        ``Observer.answered_late``'s outcome."""
        dep = self.router.get(stored.deployment_id)
        owner = new_lease_owner(cancels.CREATE_LEASE)
        owing = cancels.owed(stored, native_id, owner, self.clock()) if cancels.cancellable(dep) else None
        owed = owing is not None and await self._owe(owing)
        if not await self._record_late(stored, native_id) or await self._held_elsewhere(stored, native_id):
            if owed:  # that record's video is charged for it: nothing is owed
                await self._settle_quietly(owing)
            return "recorded_elsewhere"
        if dep is None or owing is None:
            return "not_cancellable"
        error = await cancels.cancel_once(self.keeper, dep, native_id)
        if error is not None:
            log.error("cancelling %s (%s) on %s failed: %r", native_id, stored.id, dep.id, error)
        if owed:
            await self._cancel_tried(owing, owner, error)
        if error is None:
            return "cancelled"
        return "cancel_owed" if owed else "cancel_failed"

    async def _owe(self, owing: OwedCancel) -> bool:
        """Save ``owing`` (its first try leased to this process); False when it could not be saved (the
        cancel is then tried once, not owed)."""
        try:
            await self.stores.cancels.owe(owing)
        except Exception:
            log.exception("could not owe the cancel of %s (%s): tried once", owing.native_id, owing.video_id)
            return False
        return True

    async def _settle_quietly(self, owing: OwedCancel | None) -> None:
        """No longer owe ``owing``; when that fails, the poller finds the job held and settles it."""
        if owing is None:
            return
        try:
            await self.stores.cancels.settle(owing.deployment_id, owing.native_id)
        except Exception:
            log.exception("could not settle the cancel of %s (%s)", owing.native_id, owing.video_id)

    async def _record_late(self, stored: JobRecord, native_id: str) -> bool:
        """Record ``native_id`` on ``stored`` when it holds no upstream job (a failed record: traceable,
        and no search for another record takes the job); False when another record holds it."""
        for _ in range(_SAVE_ATTEMPTS):
            current = await self.stores.jobs.get(stored.id)
            if current is None or not submitting.is_placeholder(current.native_id):
                return True
            current.native_id = native_id
            current.error_message = (
                "The provider accepted this video only after the gateway had stopped waiting for its "
                "answer and failed it; the provider's job was cancelled where the provider allows it. "
                "Not charged."
            )
            try:
                if await self.stores.jobs.save(current):
                    return True
            except ConflictError:  # another record holds it (a search matched it by its request)
                return False
        log.error("could not record %s on %s; cancelling it anyway", native_id, stored.id)
        return True

    async def _held_elsewhere(self, stored: JobRecord, native_id: str) -> bool:
        holder = await self.stores.jobs.find_by_native(stored.deployment_id, native_id)
        return holder is not None and holder.id != stored.id

    async def _cancel_tried(self, owing: OwedCancel, owner: str, error: Exception | None) -> None:
        """Store the result of the first try of the cancel owed as ``owing``: no longer owed, or one
        failed try (the poller's next after the backoff). A store that fails here leaves it owed as
        saved: the poller tries it after ``FIRST_TRY_SECONDS`` (a 404 then reads as cancelled)."""
        try:
            await cancels.tried(self.stores.cancels, owing, owner, error, self.clock())
        except Exception:
            log.exception(
                "could not store the cancel of %s (%s): the poller makes it", owing.native_id, owing.video_id
            )

    async def record(self, p: Principal, job: JobRecord, native: ProviderJob, now: float) -> JobRecord:
        """Store a job the provider just accepted over its write-ahead record, in the state its answer
        puts it in; a provider that finished at once has its money made final here. If the store
        fails, the record stays ``submitting`` and the poller resolves it once the lease lapses; if a
        resolver decided the record first, its decision stands (``_answered_late``). Returns the job as
        stored."""
        job.trace_parent = job.trace_parent or tracing.traceparent()  # the create's trace, for its polls
        transition = await self.keeper.checked(job, machine.advance(job, native, now), now)
        machine.apply(job, transition)
        job.submitting = False
        job.lease_owner = None
        job.lease_expires_at = None
        # First over the write-ahead record as inserted (no read): that fails only when something
        # wrote it since (a lease renewal of a slow create, the poller), and the loop below looks.
        job.version = WRITE_AHEAD_VERSION
        try:
            saved = await self.stores.jobs.save(job)
            for _ in range(0 if saved else _SAVE_ATTEMPTS):
                stored = await self.stores.jobs.get(job.id)
                if stored is None or not stored.submitting:  # the poller resolved it meanwhile: its result
                    log.error("job %s (%s) was resolved before its create answered", job.id, job.native_id)
                    if stored is None:
                        raise APIError(f"Video '{job.id}' was lost while being created.", status_code=500)
                    if stored.native_id == job.native_id:  # found upstream: this create's own job
                        return stored
                    return await self._answered_late(stored, job.native_id)
                # Still submitting, maybe claimed by a resolver of another replica (this one's waits for
                # the create): it moves nothing before its decision is saved, so this save makes it lose.
                job.version = stored.version
                if await self.stores.jobs.save(job):
                    saved = True
                    break
        except ConflictError:
            # Another record holds this upstream job (a resolver matched it by its request): that one is
            # charged for it; this record is left to the poller, which finds nothing left and releases it.
            log.error("job %s: its upstream job %s is recorded by another job", job.id, job.native_id)
            raise APIError(
                f"Video '{job.id}' could not be recorded: the provider's job is recorded as another video "
                "of yours with the same request. This one is listed as failed and not charged.",
                status_code=502,
                code=submitting.OUTCOME_UNKNOWN,
                type="upstream_error",
            ) from None
        if not saved:
            # The provider made the job; its write-ahead record stays for the poller, which records (and
            # charges) it. An unknown outcome, not a 409 "retry": a retry would start a second paid job,
            # and this code keeps an Idempotency-Key bound to the record.
            raise APIError(
                f"Video '{job.id}' was accepted by the provider but could not be recorded yet; the gateway "
                f"records it shortly: poll GET /v1/videos/{job.id} instead of creating it again.",
                status_code=502,
                code=submitting.OUTCOME_UNKNOWN,
                type="upstream_error",
            )
        if transition.terminal:
            stored = await self.stores.jobs.get(job.id)
            if stored is not None:
                await self.keeper.finish(stored, transition)
                self.keeper.became_terminal(stored)
                await self.stores.jobs.save(stored)  # lost race: the poller has it, effects are idempotent
                job = stored
        return job
