"""Write-ahead creates: finding the upstream job of a create whose process died during the provider's
call (or whose answer never arrived).

Every create stores its job ``submitting`` (``JobRecord.submitting``) before the provider is called,
with a placeholder native id, the reservation and the slot already held, and the creating process
holding the job's lease (renewed every third of ``SUBMIT_LEASE_SECONDS`` while the call runs). When
the lease lapses with the job still submitting, the poller resolves it (``JobKeeper.resolve``): the
job is looked for at the provider and, when found, recorded and followed like any job (and charged when
it completes); otherwise it is failed ``upstream_outcome_unknown``, its reservation and slot given back.

The client reference is the job itself. The OpenAI Videos API (and Azure's) carries no client metadata
and no idempotency key, so a job is found by listing the deployment's jobs newest first and taking the
first one created since the write-ahead record (less ``CLOCK_SKEW``) with the same prompt, size,
seconds and remix source that no other job of the deployment has recorded. A provider that cannot list
(the Google surfaces, the local renderer) cannot be searched: its unresolved creates are failed.
"""

from __future__ import annotations

from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.ports import Stores
from vidgate.gateway.records import JobRecord
from vidgate.gateway.routing import Deployment
from vidgate.providers.base import ProviderJob

SUBMIT_LEASE_SECONDS = 30.0  # a dead creator's job is resolved within this (plus a poller round)
OUTCOME_UNKNOWN = "upstream_outcome_unknown"
ABANDONED = "create_refused"  # error code of a write-ahead record ended because the create failed
# The code a create is answered with when the provider accepted it after a resolver had failed its record
# (``JobStarter.record``): the video is failed and uncharged, so creating it again is safe.
ANSWERED_LATE = "upstream_answered_late"
CLOCK_SKEW = 120  # seconds the provider's clock may be behind ours
FIND_PAGES = 5
FIND_PAGE_SIZE = 100
# Failed searches (provider errors) before the job is failed as unknown: backing off from 2 s doubling to
# 300 s, ~23 minutes, so a provider whose list fails along with its create (an outage) loses no paid job.
MAX_FIND_FAILURES = 12
# A job a provider's list does not show is looked for again until its record is this old: a create
# cancelled or timed out while out may still be made after the search, and a list may lag a create.
FIND_GRACE_SECONDS = 120
_PLACEHOLDER = "submitting:"
CREATE_LEASE = "create"  # the lease owner prefix of a write-ahead record whose create is running
LOOK_AGAIN_SECONDS = 5.0  # a resolution waiting: for another create of the same request, or a listing


def placeholder(job_id: str) -> str:
    """The native id of a job not yet answered by its provider (unique per deployment, as required)."""
    return _PLACEHOLDER + job_id


def is_placeholder(native_id: str) -> bool:
    """True when no provider job was ever recorded for this native id (never call the provider)."""
    return native_id.startswith(_PLACEHOLDER)


def same_request(job: JobRecord, found: ProviderJob, source_native: str | None) -> bool:
    """Whether the provider's ``found`` is what ``job`` asked for. The prompt must be echoed and equal:
    size and seconds alone are far too common to identify a job."""
    if found.prompt is None or found.prompt != job.prompt:
        return False
    if found.size is not None and found.size != job.size:
        return False
    if found.seconds is not None and found.seconds != job.seconds:
        return False
    return found.remixed_from == source_native


async def create_in_flight(stores: Stores, job: JobRecord, now: float) -> bool:
    """Whether another create of ``job``'s request on its deployment is still running (its write-ahead
    record leased by its live creator). The upstream job ``find`` would match may be that create's,
    about to be recorded by it: the resolver looks again later instead of taking it."""
    asked = (job.prompt, job.size, job.seconds, job.remixed_from)
    return any(
        other.id != job.id
        and (other.lease_owner or "").startswith(CREATE_LEASE + ":")
        and (other.lease_expires_at or 0.0) > now
        and (other.prompt, other.size, other.seconds, other.remixed_from) == asked
        for other in await stores.jobs.submitting_on(job.deployment_id)
    )


async def find(
    stores: Stores, calls: ProviderCalls, dep: Deployment, job: JobRecord
) -> tuple[ProviderJob | None, bool]:
    """The upstream job ``job`` started on ``dep`` (None when it is not there), and whether the provider
    could be searched at all (False: it cannot list, or a remix's source is gone; waiting changes
    nothing). A job another record holds, or whose cancel is owed, is not taken. Provider errors
    propagate (the search is tried again later)."""
    source_native: str | None = None
    if job.remixed_from is not None:
        source = await stores.jobs.get(job.remixed_from)
        if source is None:
            return None, False
        source_native = source.native_id
    since = job.created_at - CLOCK_SKEW
    after: str | None = None
    for _ in range(FIND_PAGES):
        page = await calls.list_page(dep, after=after, limit=FIND_PAGE_SIZE)
        if page is None:
            return None, False
        for found in page.jobs:
            if found.created_at is not None and found.created_at < since:
                return None, True
            if (
                same_request(job, found, source_native)
                and await stores.jobs.find_by_native(dep.id, found.native_id) is None
                # A job whose cancel is owed (a create answered late) is being cancelled: nobody's to take.
                and await stores.cancels.get(dep.id, found.native_id) is None
            ):
                return found, True
        if not page.has_more or not page.jobs:
            return None, True
        after = page.jobs[-1].native_id
    return None, True
