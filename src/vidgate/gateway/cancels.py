"""The cancel owed to a provider's job that nobody pays for: one the provider accepted only after the
gateway had failed the video's write-ahead record (``JobStarter._answered_late``). Left running, it bills
the gateway's account, so it is cancelled through the adapter's ``delete`` where the deployment declares
it, and owed durably, like a webhook event: ``JobRecord.cancel_pending`` is saved with the late native
id, the creating process tries at once, and a try that failed (or a process that died before it) is left
to the poller (``JobKeeper.step`` on the terminal job), which tries again with the poll errors' backoff
(``jobs.error_backoff``; failed tries counted in ``poll_failures``: a failed job polls nothing else) and
gives up after ``MAX_TRIES``. A 404 means the job is gone already: as good as cancelled.

Outcomes reported to ``Observer.answered_late`` for these (beside ``not_cancellable`` and
``recorded_elsewhere``, decided before any try): ``cancelled`` (at the create), ``cancel_owed`` (the
create's try failed: left to the poller), ``cancel_failed`` (it failed and could not be owed: the record
could not be saved), then for an owed one ``cancelled_later`` or ``cancel_given_up`` (also when the
deployment's row no longer declares ``delete``; a removed deployment counts as a failed try: it may be
configured again).
"""

from __future__ import annotations

from vidgate.errors import NotFoundError
from vidgate.gateway import jobs
from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.records import JobRecord
from vidgate.gateway.routing import Deployment

# Tried this many times, the backoff doubling from 2 s to its 300 s cap: about an hour of tries. A video
# job runs minutes, rarely past an hour: one still uncancelled by then has finished and is billed anyway,
# so later tries would cost calls and save nothing.
MAX_TRIES = 18
# The creating process's own try comes first: the poller takes the owed cancel only this long after it
# was saved (sooner it would cancel twice; a try slower than this is at worst repeated, and a 404 then
# reads as cancelled).
FIRST_TRY_SECONDS = 30.0


def cancellable(dep: Deployment | None) -> bool:
    """Whether a cancel of a job on ``dep`` can be made: its catalogue row declares ``delete``."""
    return dep is not None and dep.spec.has("delete")


def owe(job: JobRecord, now: float) -> None:
    """Mark the cancel of ``job``'s provider job owed (to be saved with its native id)."""
    job.cancel_pending = True
    job.poll_failures = 0
    job.next_poll_at = now + FIRST_TRY_SECONDS


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


def failed(job: JobRecord, now: float) -> bool:
    """Count a failed try on ``job`` (owing its cancel): True when it is tried again (after the backoff),
    False when given up (no longer owed)."""
    tries = job.poll_failures + 1
    if tries >= MAX_TRIES:
        settled(job)
        return False
    job.poll_failures = tries
    job.next_poll_at = now + jobs.error_backoff(tries)
    return True


def settled(job: JobRecord) -> None:
    """The cancel of ``job``'s provider job is no longer owed (made, or given up)."""
    job.cancel_pending = False
    job.poll_failures = 0
