"""The job state machine, pure: what a provider reply (or a failed poll) means for a stored job.

No I/O and no clock: ``now`` is passed in. ``advance`` and ``on_poll_error`` return a ``Transition``
(new fields plus the effects the caller must perform: settle, release, free the slot, fetch content);
``apply`` writes it into the record. Terminal states are sticky: once completed or failed, a job never
changes status again, whatever a provider says later.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import orjson

from vidgate.errors import APIError, NotFoundError
from vidgate.gateway.records import JobRecord, VideoFacts
from vidgate.providers.base import MAX_ERROR_CODE, ProviderJob
from vidgate.types import TERMINAL_STATUSES, VideoStatus

MIN_POLL_SECONDS = 0.2  # never poll a provider more often than this, whatever its hint
MAX_POLL_SECONDS = 60.0
ERROR_BACKOFF_BASE = 2.0
ERROR_BACKOFF_MAX = 300.0
MAX_NOT_FOUND = 3  # consecutive 404s from the provider before a job is declared lost
MAX_JOB_AGE = 24 * 3600  # a job not finished after a day is failed (and its reservation released)
MAX_FETCH_ATTEMPTS = 10
PARKED = 253402300799.0  # 9999-12-31: "never poll again" (content could not be fetched; served live)
MAX_PAYLOAD_CHARS = 65536  # a larger provider reply (inline video bytes) is not kept (its JSON text's size)
# A job whose provider calls back is polled only as a fallback (a lost or refused callback), this often.
CALLBACK_POLL_SECONDS = 120.0

_ORDER: dict[str, int] = {"queued": 0, "in_progress": 1, "completed": 2, "failed": 2}


def needs_work(job: JobRecord) -> bool:
    """True while the poller still has something to do for ``job``: it is not terminal, or its money
    is not final (``cost_micros`` is None until settled; a failed job is set to 0 when its reservation
    is released), or its terminal-state webhook is still owed, or it completed and its content is not
    in the content store yet. Deleted jobs never need work (delete settles or releases first, and
    cancels upstream). A cancel owed to a late provider job is not the job's work: it has a store of its
    own (``gateway.cancels``). Every ``JobStore.claim_due`` uses exactly this."""
    if job.deleted:
        return False
    if job.status not in TERMINAL_STATUSES:
        return True
    if job.cost_micros is None or job.webhook_pending:
        return True
    return job.status == "completed" and not job.content_stored


def billable_videos(job: VideoFacts) -> int:
    """The videos a completed job is charged for: those the provider returned (never more than asked
    for), or all ``n`` when the provider does not report a count."""
    if job.videos_generated is None:
        return job.n
    return max(0, min(job.videos_generated, job.n))


def settled_cost(job: JobRecord) -> int:
    """The actual charge for a completed job, never more than its reservation (the ledger releases the
    rest): the non-token part per video generated, plus the reported output tokens at the reserved
    token rate (the reserved bound when none are reported)."""
    if job.n <= 0:
        return job.reserved_micros
    fixed = (job.reserved_micros - job.token_micros) * billable_videos(job) // job.n
    if job.token_bound <= 0:
        return fixed
    if job.output_tokens is None:
        return fixed + job.token_micros * billable_videos(job) // job.n
    used = min(max(job.output_tokens, 0), job.token_bound)
    return fixed + job.token_micros * used // job.token_bound


@dataclass(frozen=True)
class Transition:
    status: VideoStatus
    progress: int
    completed_at: int | None
    expires_at: int | None
    error_code: str | None
    error_message: str | None
    next_poll_at: float
    poll_failures: int
    native_payload: dict[str, Any] | None = None  # None: keep the stored one
    videos_generated: int | None = None  # None: keep the stored count
    output_tokens: int | None = None  # None: keep the stored figure
    outputs: tuple[str, ...] | None = None  # None: keep the stored references
    settle: bool = False  # completed and not yet settled: turn the reservation into spend
    release: bool = False  # failed and not yet released: drop the reservation
    release_slot: bool = False  # terminal: give the concurrency slot back (idempotent)

    def __post_init__(self) -> None:
        """The error text stays storable: it is a provider's (its failure reply, or the message of the
        404 that lost the job), saved after the job's money moved, and a NUL (PostgreSQL) or a lone
        surrogate (SQLite and PostgreSQL; JSON's ``\\ud800``) failed every save: released, never
        failed, every poll a 500."""
        if self.error_code is not None:
            object.__setattr__(self, "error_code", storable(self.error_code)[:MAX_ERROR_CODE])
        if self.error_message is not None:
            object.__setattr__(self, "error_message", storable(self.error_message))

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


def storable(text: str) -> str:
    """``text`` as every store holds it: without NUL characters, lone surrogates replaced by ``?``."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def poll_delay(job: JobRecord, hint_ms: int | None, now: float) -> float:
    """Seconds until the next status poll: the provider's hint within bounds, else by the job's age
    (young jobs are polled every second, old ones less often); a job whose provider calls back is
    polled only as a fallback, every ``CALLBACK_POLL_SECONDS``."""
    if job.provider_callback_hash is not None:
        return CALLBACK_POLL_SECONDS
    if hint_ms is not None and hint_ms >= 0:
        return min(max(hint_ms / 1000.0, MIN_POLL_SECONDS), MAX_POLL_SECONDS)
    age = now - job.created_at
    if age < 30:
        return 1.0
    if age < 300:
        return 5.0
    return 15.0


def error_backoff(failures: int, retry_after: float | None = None) -> float:
    """Seconds to wait after ``failures`` failures in a row (Retry-After wins when the provider sent one)."""
    if retry_after is not None and retry_after > 0:
        return float(min(retry_after, ERROR_BACKOFF_MAX))
    return float(min(ERROR_BACKOFF_BASE * (2 ** max(failures - 1, 0)), ERROR_BACKOFF_MAX))


def _with_effects(job: JobRecord, t: Transition) -> Transition:
    """``t`` plus what is still owed for its status: money made final, slot freed. (Copying the content
    is the poller's, decided from the saved job: ``completed`` and not ``content_stored``.)"""
    unsettled = job.cost_micros is None
    return replace(
        t,
        settle=t.status == "completed" and unsettled,
        release=t.status == "failed" and unsettled,
        release_slot=t.status in TERMINAL_STATUSES,
    )


def _payload(raw: Any) -> dict[str, Any] | None:
    """The provider's reply to keep with the job, or None (too big, or not JSON). Sized by orjson, as
    the store writes it: the stdlib's encoder cost every create and poll ~10 µs for a 300-byte reply,
    orjson ~1. What orjson refuses (an integer past 64 bits, a key that is not text) is sized by the
    stdlib's, as the store writes that too."""
    if not raw:
        return None
    data = dict(raw)
    try:
        size = len(orjson.dumps(data, default=str))
    except TypeError:  # orjson.JSONEncodeError
        try:
            size = len(json.dumps(data, default=str))
        except (TypeError, ValueError):
            return None
    return data if size <= MAX_PAYLOAD_CHARS else None


def settled_state(job: JobRecord, now: float) -> Transition:
    """A terminal job re-visited (after a crash, or for its content): same state, pending effects."""
    return _with_effects(
        job,
        Transition(
            status=job.status,
            progress=job.progress,
            completed_at=job.completed_at,
            expires_at=job.expires_at,
            error_code=job.error_code,
            error_message=job.error_message,
            next_poll_at=now,
            poll_failures=job.poll_failures,
        ),
    )


def advance(job: JobRecord, native: ProviderJob, now: float) -> Transition:
    """The job after the provider reported ``native``."""
    if job.status in TERMINAL_STATUSES:
        return settled_state(job, now)
    status: VideoStatus = native.status
    if _ORDER.get(status, 0) < _ORDER[job.status]:
        status = job.status  # never back from in_progress to queued
    payload = _payload(native.raw)
    if status == "completed":
        done = Transition(
            status="completed",
            progress=100,
            completed_at=native.completed_at or int(now),
            expires_at=native.expires_at,
            error_code=None,
            error_message=None,
            next_poll_at=now,
            poll_failures=0,
            native_payload=payload,
            videos_generated=len(native.outputs) if native.outputs else None,
            output_tokens=native.usage.output_tokens if native.usage is not None else None,
            outputs=tuple(native.outputs) if native.outputs else None,
        )
        return _with_effects(job, done)
    if status == "failed":
        error = native.error
        done = Transition(
            status="failed",
            progress=job.progress,
            completed_at=None,
            expires_at=None,
            error_code=error.code if error else "video_generation_failed",
            error_message=error.message if error else "The video could not be generated.",
            next_poll_at=now,
            poll_failures=0,
            native_payload=payload,
        )
        return _with_effects(job, done)
    if now - job.created_at > MAX_JOB_AGE:
        return _lost(
            job, now, "timeout", f"The provider did not finish the video within {MAX_JOB_AGE // 3600} hours."
        )
    progress = max(job.progress, min(max(int(native.progress or 0), 0), 99))
    return Transition(
        status=status,
        progress=progress,
        completed_at=None,
        expires_at=None,
        error_code=None,
        error_message=None,
        next_poll_at=now + poll_delay(job, native.poll_after_ms, now),
        poll_failures=0,
        native_payload=payload,
    )


def on_poll_error(job: JobRecord, error: APIError, now: float) -> Transition:
    """The job after a status poll failed: back off (never hot-loop); a job the provider keeps
    answering 404 for, or that is older than ``MAX_JOB_AGE``, is failed."""
    if job.status in TERMINAL_STATUSES:
        return settled_state(job, now)
    failures = job.poll_failures + 1
    if isinstance(error, NotFoundError) and failures >= MAX_NOT_FOUND:
        return _lost(job, now, "not_found", f"The provider no longer knows this video: {error.message}")
    if now - job.created_at > MAX_JOB_AGE:
        return _lost(
            job, now, "timeout", f"The provider did not finish the video within {MAX_JOB_AGE // 3600} hours."
        )
    return replace(look_again(job, now, error_backoff(failures, error.retry_after)), poll_failures=failures)


def look_again(job: JobRecord, now: float, seconds: float) -> Transition:
    """The job as it is, looked at again in ``seconds``; nothing failed, so nothing is counted."""
    return Transition(
        status=job.status,
        progress=job.progress,
        completed_at=None,
        expires_at=None,
        error_code=None,
        error_message=None,
        next_poll_at=now + seconds,
        poll_failures=job.poll_failures,
    )


def lost(job: JobRecord, now: float, code: str, message: str) -> Transition:
    """Failed with ``code`` (reservation released, slot freed), whatever the provider would say."""
    return _lost(job, now, code, message)


def _lost(job: JobRecord, now: float, code: str, message: str) -> Transition:
    return _with_effects(
        job,
        Transition(
            status="failed",
            progress=job.progress,
            completed_at=None,
            expires_at=None,
            error_code=code,
            error_message=message,
            next_poll_at=now,
            poll_failures=0,
        ),
    )


def on_fetch_error(job: JobRecord, now: float, *, permanent: bool) -> float:
    """When to try fetching a completed job's content again: backoff, and after ``MAX_FETCH_ATTEMPTS``
    (or a permanent error) never: the job is parked and its content is served live from the provider."""
    failures = job.poll_failures + 1
    if permanent or failures >= MAX_FETCH_ATTEMPTS:
        return PARKED
    return now + error_backoff(failures)


def apply(job: JobRecord, t: Transition) -> None:
    """Write ``t``'s fields into ``job`` (effects are the caller's to perform)."""
    job.status = t.status
    job.progress = t.progress
    if t.status == "completed":
        job.completed_at = t.completed_at
    if t.expires_at is not None:
        job.expires_at = t.expires_at
    job.error_code = t.error_code
    job.error_message = t.error_message
    job.next_poll_at = t.next_poll_at
    job.poll_failures = t.poll_failures
    if t.native_payload is not None:
        job.native_payload = t.native_payload
    if t.videos_generated is not None:
        job.videos_generated = t.videos_generated
    if t.output_tokens is not None:
        job.output_tokens = t.output_tokens
    if t.outputs is not None:
        job.outputs = t.outputs
