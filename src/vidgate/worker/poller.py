"""The background poller: moves every job to its terminal state even when no client polls.

Each round claims due jobs with a lease (``JobStore.claim_due``), so replicas never poll the same job
at once and a crashed replica's jobs are taken over when its leases expire. A round claims up to
``batch`` jobs in one statement and works ``concurrency`` at a time; a job that waited its turn long
enough for its lease to run down (a third of it) is leased again before it is worked, or left to the
replica that took it meanwhile. For each job: one poll of the pinned deployment, the state machine, the
money made final exactly once (the ledger is idempotent per job, so re-doing a step after a crash is
harmless), the slot freed, the owed webhook event sent (``worker.webhooks``), the content copied. The
saves that end the polls of a round are written together (``worker.saves``: one transaction for those
that arrive while the previous one is written).

Each round also claims up to ``CANCEL_BATCH`` due cancels owed to provider jobs nobody pays for (creates
answered late, ``gateway.cancels``) and tries them beside the jobs, within the same ``concurrency``.
Their lease is not renewed while a try runs: one that outlasts it may be tried twice, which is harmless
(a job already cancelled or gone reads as cancelled).

Every ``reap_interval`` seconds (and in the first round after a start) a round also gives back
reservations and slots stranded by a process that died between reserving and storing the job's
write-ahead record (``Ledger.stranded``; releasing is idempotent, so replicas doing it at once are
harmless). Jobs stored write-ahead whose creator died are claimed like any due job once their lease
lapses and resolved by ``JobKeeper.resolve``.

Readiness asks :meth:`Poller.health`: a poller that stopped, or whose last good round is older than
``stale_after`` (by default ``STALE_ROUNDS`` intervals plus the longest failure backoff), is not alive.

Start it from the server's lifespan (``start()`` / ``await stop()``), or drive it in tests with
``run_once()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable

from vidgate.gateway import cancels, leases
from vidgate.gateway import jobs as machine
from vidgate.gateway.idempotency import WINDOW_SECONDS as IDEMPOTENCY_WINDOW
from vidgate.gateway.records import JobRecord, OwedCancel
from vidgate.gateway.service import GatewayService
from vidgate.gateway.starter import STRANDED_AFTER_SECONDS
from vidgate.worker.callbacks import private_destination
from vidgate.worker.fetcher import ContentFetcher
from vidgate.worker.saves import SaveGroup
from vidgate.worker.webhooks import MAX_ATTEMPTS, Delivery, WebhookSender

log = logging.getLogger("vidgate.worker")
MAX_IDLE_BACKOFF = 30.0
REAP_INTERVAL = 15.0
REAP_BATCH = 100
STALE_ROUNDS = 10
CANCEL_BATCH = 8  # owed cancels claimed a round at most (rare: creates answered late)


def _more_to_do(job: JobRecord) -> bool:
    """Whether a just-polled job needs more from this round (a webhook event, a content copy), so the
    poller keeps its lease; otherwise the poll's save releases it (one write per poll, not two)."""
    if job.deleted:
        return False
    return job.webhook_pending or (job.status == "completed" and not job.content_stored)


class Poller:
    def __init__(
        self,
        service: GatewayService,
        *,
        worker_id: str | None = None,
        interval: float = 1.0,
        lease_seconds: float = 30.0,
        batch: int = 32,
        concurrency: int = 8,
        fetcher: ContentFetcher | None = None,
        reap_interval: float = REAP_INTERVAL,
        stale_after: float | None = None,
    ) -> None:
        self.service = service
        self.worker_id = worker_id or f"poller-{secrets.token_hex(6)}"
        self.interval = interval
        self.lease_seconds = lease_seconds
        self.batch = batch
        self.fetcher = fetcher or ContentFetcher(service)
        self.reap_interval = reap_interval
        self._next_reap = 0.0
        default_stale = STALE_ROUNDS * interval + MAX_IDLE_BACKOFF
        self.stale_after = stale_after if stale_after is not None else default_stale
        self.last_good_round: float | None = None  # service clock time; the start counts as one
        self.webhooks: WebhookSender | None = None
        config = service.config
        if config.webhook_url and config.webhook_secret:
            self.webhooks = WebhookSender(config.webhook_url, config.webhook_secret, service.runner.client)
        # Per-job callback URLs are signed with the same secret (``gateway.callbacks``).
        self.callbacks: WebhookSender | None = None
        if config.webhook_secret:
            self.callbacks = WebhookSender(None, config.webhook_secret, service.runner.client)
        self.saves = SaveGroup(service.stores.jobs)  # a round's saves written together
        self._limit = asyncio.Semaphore(concurrency)
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _deliver(self, job: JobRecord) -> list[Delivery]:
        """One attempt per destination ``job``'s event goes to, at the same time (two slow receivers
        take one ``DELIVERY_TIMEOUT`` of the lease, not two); empty when it has none any more."""
        sends: list[Awaitable[Delivery]] = []
        if self.webhooks is not None:
            sends.append(self.webhooks.send_job(job))
        if job.callback_url and self.callbacks is not None:
            sends.append(self._callback(job, job.callback_url, self.callbacks))
        return list(await asyncio.gather(*sends))

    async def _callback(self, job: JobRecord, url: str, sender: WebhookSender) -> Delivery:
        if not self.service.config.allow_private_callback_urls:
            private = await private_destination(url)
            if private is not None:
                log.error("callback of %s not sent: its host resolves to %s (private)", job.id, private)
                return "rejected"
        return await sender.send_job(job, url=url)

    # ---- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Run in the background (claiming, among others, the jobs that owe a webhook event)."""
        if self._task is None:
            self._stop.clear()
            self.last_good_round = self.service.clock()
            self._task = asyncio.create_task(self._loop(), name=f"vidgate-poller-{self.worker_id}")

    async def stop(self) -> None:
        """Finish the current round and stop (leases of unfinished work simply expire)."""
        self._stop.set()
        if self._task is not None:
            task, self._task = self._task, None
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """Start the next round now (a provider callback just finished a job: copy its content)."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def health(self) -> str | None:
        """None while alive; else why not (readiness names the poller and the log says why)."""
        if not self.running:
            return "the poller is not running"
        assert self.last_good_round is not None
        age = self.service.clock() - self.last_good_round
        if age > self.stale_after:
            return f"the poller's last good round was {age:.0f} s ago (bound {self.stale_after:.0f} s)"
        return None

    async def _loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            await self._reap_when_due()
            try:
                handled = await self.run_once()
                failures = 0
                self.last_good_round = self.service.clock()
            except Exception:
                failures += 1
                log.exception("poller round failed (%d in a row)", failures)
                handled = 0
            if handled >= self.batch:
                continue  # more may be due right now
            wait = self.interval if failures == 0 else min(self.interval * 2**failures, MAX_IDLE_BACKOFF)
            await self._pause(wait)

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when stopped or woken."""
        stop = asyncio.ensure_future(self._stop.wait())
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({stop, woken}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            woken.cancel()
        self._wake.clear()

    # ---- one round -----------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim the jobs and the owed cancels that are due and work them; the number claimed. One
        claim statement for the round's jobs: claiming as workers freed up cost a claim per few polls
        and broke up the round's grouped saves (604 against 406 µs of CPU per poll, ``bench/poller.py``)."""
        svc = self.service
        claimed_at = svc.clock()
        claimed = await svc.stores.jobs.claim_due(
            self.worker_id, now=claimed_at, lease_seconds=self.lease_seconds, limit=self.batch
        )
        owed = await self._owed_cancels(claimed_at)
        if claimed or owed:
            await asyncio.gather(
                *(self._guarded(job, claimed_at) for job in claimed),
                *(self._cancel(cancel) for cancel in owed),
            )
        return len(claimed) + len(owed)

    async def _owed_cancels(self, now: float) -> list[OwedCancel]:
        """The owed cancels due now, leased to this worker (none when the claim fails: the jobs claimed
        are worked all the same, and the cancels claimed next round)."""
        try:
            return await self.service.stores.cancels.claim_due(
                self.worker_id, now=now, lease_seconds=self.lease_seconds, limit=CANCEL_BATCH
            )
        except Exception:
            log.exception("claiming owed cancels failed; tried again next round")
            return []

    async def _cancel(self, cancel: OwedCancel) -> None:
        async with self._limit:
            try:
                await cancels.retry(self.service.keeper, cancel, self.worker_id)
            except Exception:
                log.exception(
                    "poller: the cancel of %s (%s) failed this round; its lease will expire and it is "
                    "retried",
                    cancel.native_id,
                    cancel.video_id,
                )

    async def _reap_when_due(self) -> None:
        now = self.service.clock()
        if now < self._next_reap:
            return
        self._next_reap = now + self.reap_interval
        try:
            await self.reap_once()
        except Exception:  # never in the way of polling; tried again after the interval
            log.exception("releasing stranded reservations failed")

    async def reap_once(self) -> int:
        """Give back the reservations (and slots) of creates that died with their process; how many.
        Also drops expired idempotency keys."""
        svc = self.service
        before = int(svc.clock() - STRANDED_AFTER_SECONDS)
        stranded = await svc.stores.ledger.stranded(before=before, limit=REAP_BATCH)
        for key_id, job_id in stranded:
            log.warning("releasing the reservation and slot of %s: its create never stored a job", job_id)
            await svc.stores.ledger.release(key_id, job_id)
            await svc.stores.admission.release_slot(key_id, job_id)
        expired = int(svc.clock() - IDEMPOTENCY_WINDOW)
        await svc.stores.idempotency.prune(before=expired, limit=REAP_BATCH)
        return len(stranded)

    async def _guarded(self, job: JobRecord, claimed_at: float) -> None:
        async with self._limit:
            try:
                fresh = await self._still_ours(job, claimed_at)
                if fresh is not None:
                    await self.work(fresh)
            except Exception:
                log.exception(
                    "poller: job %s failed this round; its lease will expire and it is retried", job.id
                )

    async def _still_ours(self, job: JobRecord, claimed_at: float) -> JobRecord | None:
        """``job`` as claimed, or, when it waited its turn for a third of its lease or more (slow polls
        ahead of it), leased again first: its step renews the lease only once it runs, so a lease run
        down meanwhile could be taken by another replica and the job polled twice. None: another
        replica holds it now."""
        now = self.service.clock()
        if now - claimed_at < self.lease_seconds / 3:
            return job
        return await self.service.stores.jobs.try_lease(
            job.id, self.worker_id, now=now, lease_seconds=self.lease_seconds
        )

    async def work(self, job: JobRecord) -> JobRecord:
        """Poll, settle or release, free the slot, send the owed webhook, fetch the content: everything
        due for one leased job."""
        keeper = self.service.keeper
        saved, _ = await keeper.step(
            job,
            self.worker_id,
            keep_lease=_more_to_do,
            save=self.saves.save,
            lease_seconds=self.lease_seconds,
        )
        if saved.lease_owner != self.worker_id:  # released with the save (nothing more to do), or lost
            return saved
        if saved.webhook_pending and not saved.deleted:
            saved = await self.send_webhook(saved)
            if saved.lease_owner != self.worker_id:
                return saved
        if saved.status == "completed" and not saved.content_stored and not saved.deleted:
            return await self.fetcher.fetch(saved, self.worker_id, lease_seconds=self.lease_seconds)
        await self.service.stores.jobs.release_lease(saved.id, self.worker_id)
        return saved

    async def send_webhook(self, job: JobRecord) -> JobRecord:
        """One delivery attempt of the event ``job`` owes (leased by this worker, lease kept), to the
        global webhook and to the job's ``callback_url``: clear the mark when every destination took it
        or refused it for good, else count the failure and come back after a backoff."""
        svc = self.service
        results = await leases.held(
            svc.stores.jobs, job, self._deliver(job), seconds=self.lease_seconds, clock=svc.clock
        )
        if not results:  # owed while webhooks were configured; they are not any more
            log.warning("dropping the webhook event of %s: no webhook is configured for it", job.id)
            job.webhook_pending = False
        elif "retry" in results and job.webhook_failures + 1 < MAX_ATTEMPTS:
            job.webhook_failures += 1
            job.next_poll_at = svc.clock() + machine.error_backoff(job.webhook_failures)
        else:
            if any(result != "delivered" for result in results):
                log.error("webhook event of %s not delivered (%s); giving up", job.id, ", ".join(results))
            job.webhook_pending = False
        if await self.saves.save(job):
            return job
        current = await svc.stores.jobs.get(job.id)  # someone else wrote it: theirs to finish
        return current or job
