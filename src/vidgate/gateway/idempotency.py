"""``Idempotency-Key`` on paid POSTs (create, remix, the pass-through's ``predictLongRunning``), with
Stripe's semantics, scoped per virtual key and durable (``IdempotencyStore``, in the database):

- The first request with a key claims it; its job is linked to the key as soon as the job's
  write-ahead record is stored (before the provider call).
- The same key with the same request within ``WINDOW_SECONDS`` answers the job that request started,
  as it is now (same video id; no second provider call, no second charge), also after a restart.
- The same key while the first request is still in flight (no job yet, or the job still
  ``submitting``) answers 409 ``idempotency_key_in_use`` with Retry-After, as Stripe does: never a
  second upstream call. A request that died before its write-ahead record frees its key after
  ``UNLINKED_STALE_SECONDS`` plus the slowest guardrail's timeout; one that died during the provider
  call is resolved by the poller.
- The same key with a different request (other operation, parameters or body) is 422
  ``idempotency_key_reused``.
- A request refused before anything started upstream (400, 402, 404, 429, a definite provider
  refusal) frees its key, so a retry runs afresh. One whose outcome at the provider is unknown keeps it:
  a retry answers 409 while the poller looks for the job upstream, then the job (recorded when found,
  else failed ``upstream_outcome_unknown``), never a second paid job. A create the provider accepted
  only after that failure (502 ``upstream_answered_late``: failed, uncharged) frees it like a refusal.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from vidgate.errors import APIError, BadRequestError, ConflictError
from vidgate.gateway.auth import Principal
from vidgate.gateway.ports import Stores
from vidgate.gateway.records import IdempotencyRecord, JobRecord
from vidgate.gateway.submitting import ABANDONED, OUTCOME_UNKNOWN

T = TypeVar("T")
WINDOW_SECONDS = 24 * 3600
# Admission and validation take milliseconds; a claim this old without a job died. The pre-call
# guardrails run before the job is linked and may each take their ``timeout``: ``Idempotency`` adds the
# longest configured one, or a live request's claim would be taken over and a retry start a second job.
UNLINKED_STALE_SECONDS = 60
MAX_KEY_LENGTH = 255
HEADER = "Idempotency-Key"
Link = Callable[[str], Awaitable[None]]


def _plain(value: Any) -> str:
    """JSON for what json cannot write: bytes (an uploaded image) by digest, anything else by repr."""
    if isinstance(value, bytes | bytearray):
        return "sha256:" + hashlib.sha256(value).hexdigest()
    return repr(value)


def fingerprint(operation: str, request: Any) -> str:
    """A stable digest of what was asked (the operation and its parsed parameters)."""
    text = json.dumps([operation, request], sort_keys=True, default=_plain, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_key(value: str | None) -> str | None:
    """The header's value, or None when absent; a 400 for an empty, too long or non-ASCII key."""
    if value is None:
        return None
    if not 1 <= len(value) <= MAX_KEY_LENGTH or not value.isascii() or not value.isprintable():
        raise BadRequestError(
            f"Invalid '{HEADER}' header: expected 1 to {MAX_KEY_LENGTH} printable ASCII characters.",
            param=HEADER,
            code="invalid_idempotency_key",
        )
    return value


async def _no_link(job_id: str) -> None:
    return None


class Idempotency:
    def __init__(
        self, stores: Stores, *, clock: Callable[[], float] = time.time, slowest_guardrail: float = 0.0
    ) -> None:
        """``slowest_guardrail``: the longest pre-call guardrail timeout, in seconds (see
        ``UNLINKED_STALE_SECONDS``)."""
        self.stores = stores
        self.clock = clock
        self.unlinked_stale = UNLINKED_STALE_SECONDS + math.ceil(slowest_guardrail)

    async def once(
        self,
        p: Principal,
        key: str | None,
        digest: Callable[[], str],
        run: Callable[[Link], Awaitable[T]],
        replay: Callable[[JobRecord], Awaitable[T]],
    ) -> T:
        """``run(link)`` the first time ``key`` is used by this caller (``link(job_id)`` records the
        job it starts); afterwards ``replay`` that job, or refuse as the module docstring says.
        ``digest`` fingerprints the request, only when there is a key (it digests image bytes)."""
        if key is None:
            return await run(_no_link)
        now = int(self.clock())
        fingerprinted = digest()
        mine = IdempotencyRecord(p.owner_id, key, fingerprinted, secrets.token_hex(16), now)
        held = await self.stores.idempotency.claim(
            mine, replace_before=now - WINDOW_SECONDS, unlinked_before=now - self.unlinked_stale
        )
        if held.claim != mine.claim:
            return await replay(await self._earlier(held, fingerprinted))
        linked = False

        async def link(job_id: str) -> None:
            nonlocal linked
            await self.stores.idempotency.link(p.owner_id, key, mine.claim, job_id)
            linked = True

        try:
            return await run(link)
        except BaseException as exc:
            unknown = isinstance(exc, APIError) and exc.code == OUTCOME_UNKNOWN
            if not linked or (isinstance(exc, APIError) and not unknown):
                await self.stores.idempotency.forget(p.owner_id, key, mine.claim)
            raise

    async def _earlier(self, held: IdempotencyRecord, digest: str) -> JobRecord:
        """The job of the earlier request that holds the key, when it can be answered with."""
        if held.fingerprint != digest:
            raise APIError(
                f"This '{HEADER}' was already used with a different request in the last 24 hours; "
                "use a new key for a new request.",
                status_code=422,
                param=HEADER,
                code="idempotency_key_reused",
                type="invalid_request_error",
            )
        job = None if held.job_id is None else await self.stores.jobs.get(held.job_id)
        if job is None or job.submitting:
            raise ConflictError(
                f"A request with this '{HEADER}' is still in progress; retry it shortly to get its result.",
                param=HEADER,
                code="idempotency_key_in_use",
                retry_after=1.0,
            )
        if job.deleted and job.error_code == ABANDONED:
            raise APIError(
                "The earlier request with this Idempotency-Key failed with an unknown outcome at the "
                "provider; it is not repeated (that could start a second paid job). Use a new key to "
                "try again.",
                status_code=502,
                code=OUTCOME_UNKNOWN,
                type="upstream_error",
            )
        return job
