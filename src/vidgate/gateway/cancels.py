"""The cancel owed to a provider's job that nobody pays for: one the provider accepted only after the
gateway had resolved the video's write-ahead record (``JobStarter._answered_late``: failed it, or recorded
on it another upstream job its search found). Left running, it bills the gateway's account, so it is
cancelled through the adapter's ``delete`` where the deployment declares it.

It is owed durably, in a store of its own (``OwedCancelStore``: one row per deployment and native id),
not on the video's jobs row: a late job its record does not hold is owed all the same, and its tries move
no job's poll or webhook schedule. The creating process saves the row first, holding its lease for
``FIRST_TRY_SECONDS`` (``owed``), then tries at once; a try that failed, or a process that died before
it, leaves the row to the poller, which claims due rows every round (``retry``) and tries again with the
poll errors' backoff (``jobs.error_backoff``), giving up after ``MAX_TRIES``. A 404 means the job is gone
already: as good as cancelled. A job another video holds meanwhile (a search for that video's record took
it) is that video's, paid for: never cancelled, no longer owed.

Outcomes reported to ``Observer.answered_late`` for these (beside ``not_cancellable`` and
``recorded_elsewhere``, decided before any try): ``cancelled`` (at the create), ``cancel_owed`` (the
create's try failed: left to the poller), ``cancel_failed`` (it failed and could not be owed: the row
could not be saved), then for an owed one ``cancelled_later``, ``cancel_given_up`` (also when the
deployment's row no longer declares ``delete``; a removed deployment counts as a failed try: it may be
configured again) or ``recorded_elsewhere``.
"""

from __future__ import annotations

import logging
from typing import Literal

from vidgate.errors import APIError, NotFoundError, ServiceUnavailableError
from vidgate.gateway import jobs
from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.followup import DEPLOYMENT_GONE, JobKeeper
from vidgate.gateway.ports import OwedCancelStore
from vidgate.gateway.records import JobRecord, OwedCancel
from vidgate.gateway.routing import Deployment

log = logging.getLogger("vidgate.gateway")
# Tried this many times, the backoff doubling from 2 s to its 300 s cap: about an hour of tries. A video
# job runs minutes, rarely past an hour: one still uncancelled by then has finished and is billed anyway,
# so later tries would cost calls and save nothing.
MAX_TRIES = 18
# The creating process's own try comes first: it holds the row's lease this long, and the poller takes
# the row only then (sooner it would cancel twice; a try slower than this is at worst repeated, and a 404
# then reads as cancelled).
FIRST_TRY_SECONDS = 30.0
CREATE_LEASE = "late-create"  # the lease owner prefix of the creating process's own try

Stored = Literal["cancelled", "owed", "given_up"]


def cancellable(dep: Deployment | None) -> bool:
    """Whether a cancel of a job on ``dep`` can be made: its catalogue row declares ``delete``."""
    return dep is not None and dep.spec.has("delete")


def owed(record: JobRecord, native_id: str, owner: str, now: float) -> OwedCancel:
    """The cancel owed to ``native_id``, the late job of ``record``'s create, leased by ``owner`` (the
    creating process, trying it first) until the poller may take it."""
    return OwedCancel(
        deployment_id=record.deployment_id,
        native_id=native_id,
        video_id=record.id,
        provider=record.provider,
        created_at=int(now),
        next_try_at=now + FIRST_TRY_SECONDS,
        lease_owner=owner,
        lease_expires_at=now + FIRST_TRY_SECONDS,
    )


async def cancel(calls: ProviderCalls, dep: Deployment, native_id: str) -> Exception | None:
    """One try of the cancel of ``native_id`` on ``dep``: None when cancelled or already gone (404),
    else what failed."""
    try:
        await calls.delete(dep, native_id)
    except NotFoundError:
        return None
    except Exception as exc:  # a provider error, or an adapter bug: tried again all the same
        return exc
    return None


async def tried(
    store: OwedCancelStore, cancel: OwedCancel, owner: str, error: Exception | None, now: float
) -> Stored | None:
    """Store the result of ``owner``'s try of ``cancel`` (``error`` None: made): no longer owed
    (``cancelled``, or ``given_up`` at its ``MAX_TRIES``th failure), or one more failed try, due again
    after the backoff (``owed``). None when another worker had stored it first (settled it, or took the
    row once this one's lease lapsed): its outcome is reported there."""
    if error is None:
        return "cancelled" if await store.settle(cancel.deployment_id, cancel.native_id) else None
    tries = cancel.tries + 1
    if tries >= MAX_TRIES:
        return "given_up" if await store.settle(cancel.deployment_id, cancel.native_id) else None
    due = now + jobs.error_backoff(tries)
    if await store.failed(cancel.deployment_id, cancel.native_id, owner, next_try_at=due):
        return "owed"
    return None


async def retry(keeper: JobKeeper, cancel: OwedCancel, owner: str) -> None:
    """One more try of ``cancel``, claimed by ``owner`` (the poller), its result stored and, once no
    longer owed, reported (``Observer.answered_late``)."""
    store = keeper.stores.cancels
    where = f"{cancel.native_id} ({cancel.video_id}) on {cancel.deployment_id}"
    holder = await keeper.stores.jobs.find_by_native(cancel.deployment_id, cancel.native_id)
    if holder is not None and holder.id != cancel.video_id:
        log.warning("%s is %s's now: not cancelled", where, holder.id)
        if await store.settle(cancel.deployment_id, cancel.native_id):
            keeper.observer.answered_late(cancel.provider, "recorded_elsewhere")
        return
    dep = keeper.router.get(cancel.deployment_id)
    if dep is not None and not cancellable(dep):  # its row no longer declares ``delete``
        log.error("%s can no longer be cancelled, giving up: it may be billed", where)
        if await store.settle(cancel.deployment_id, cancel.native_id):
            keeper.observer.answered_late(cancel.provider, "cancel_given_up")
        return
    if dep is None:
        error: Exception | None = ServiceUnavailableError(
            f"The deployment {cancel.deployment_id} is no longer configured.", code=DEPLOYMENT_GONE
        )
    else:
        error = await cancel_once(keeper, dep, cancel.native_id)
    stored = await tried(store, cancel, owner, error, keeper.clock())
    if stored == "cancelled":
        log.warning("%s cancelled late", where)
        keeper.observer.answered_late(cancel.provider, "cancelled_later")
    elif stored == "given_up":
        log.error("cancelling %s failed %d times, giving up (it may be billed): %r", where, MAX_TRIES, error)
        keeper.observer.answered_late(cancel.provider, "cancel_given_up")
    elif stored == "owed":
        log.warning("cancelling %s, try %d, failed: %r", where, cancel.tries + 1, error)


async def cancel_once(keeper: JobKeeper, dep: Deployment, native_id: str) -> Exception | None:
    """``cancel``, a provider error reported as one no client sees (``JobKeeper.report_upstream``)."""
    error = await cancel(keeper.calls, dep, native_id)
    if isinstance(error, APIError):
        keeper.report_upstream(dep.provider, error)
    return error
