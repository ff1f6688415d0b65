"""In-memory stores: every port of ``vidgate.gateway.ports`` in one process, for tests and as the
reference behaviour that the SQL and Redis stores must match (the conformance suite runs on all).

Semantics every backend shares (the ports' docstrings, made precise):

- Records go in and come out as copies: mutating a returned record never changes the store.
- ``KeyStore.create`` / ``JobStore.insert`` raise ConflictError for a duplicate id (or key hash; or
  for a job, the same ``(deployment_id, native_id)``).
  ``KeyStore.save`` writes only admin-editable fields; the counters (spend_micros, total_spend_micros,
  reserved_micros, active_jobs) belong to the Ledger and Admission; ``budget_reset_at`` too, except
  that a save changing ``budget_duration`` writes the caller's ``budget_reset_at`` (a new period).
- ``JobStore.save(job)`` succeeds only when the stored version equals ``job.version``; it then stores
  ``version + 1`` and also sets ``job.version`` to it, so the caller can save the same object again.
  Taking or releasing a lease is a write too: it bumps the version.
- ``JobStore.get`` returns deleted jobs too (``deleted=True``); ``list_for_owner`` skips them. An
  ``after`` cursor that is not one of the owner's jobs gives an empty page.
- ``claim_due`` takes jobs where ``gateway.jobs.needs_work(job)`` and ``next_poll_at <= now`` and the
  lease is free (``lease_expires_at`` None or ``<= now``), oldest ``next_poll_at`` first.
  ``try_lease`` also succeeds when ``worker_id`` already holds the lease (renewal).
- Ledger: a reservation per job id moves reserved -> settled or reserved -> released, once. ``reserve``
  for a job that already has one is a no-op. ``settle``/``release`` of a job with no reservation (the
  master key reserves nothing) record the outcome (and the spend log) the same way. The budget
  period rolls over (spend -> 0, new ``budget_reset_at``) in ``reserve`` and ``settle`` when ``now``
  (the entry's ``created_at`` for settle) reached ``budget_reset_at``. A key without ``max_budget`` has
  no limit but its reservations and spend are still counted. ``spend_logs`` answers newest first,
  ``start <= created_at <= end``. ``stranded`` lists held reservations taken (``reserve``'s ``now``)
  before ``before`` whose job id is not in the job store, oldest first.
- Admission: ``check_rate`` allows ``limit`` requests in any 60 s sliding window; a refused request
  is not counted; ``retry_after`` is the seconds until the oldest counted request leaves the window.
  ``acquire_slot`` is idempotent per job id; slots also show in the key's ``active_jobs``.
- IdempotencyStore: one record per (owner, key); ``claim`` replaces an expired or never-linked stale
  record first and otherwise keeps the stored one (the first claim wins); ``link`` and ``forget`` act
  only for the request holding the ``claim``; ``prune`` drops the oldest records first.
- OwedCancelStore: one record per (deployment_id, native_id); ``owe`` keeps the stored one (False);
  ``claim_due`` takes those with ``next_try_at <= now`` and a free lease (as jobs), soonest due first;
  ``failed`` acts only for the lease's holder; ``settle`` deletes whoever holds it.
- ContentStore: ``put`` publishes the object only after the last chunk (a failed put leaves nothing);
  ``read`` of a missing object raises NotFoundError; ``end`` is inclusive and clamped to the size.
"""

from __future__ import annotations

import builtins
import copy
import threading
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from vidgate.catalog import from_micros
from vidgate.errors import (
    BudgetExceededError,
    ConflictError,
    NotFoundError,
    RateLimitError,
)
from vidgate.gateway.auth import revoked_key
from vidgate.gateway.budget import roll_period
from vidgate.gateway.jobs import needs_work
from vidgate.gateway.ports import (
    MAX_SUBMITTING,
    Admission,
    CharacterStore,
    ContentStore,
    IdempotencyStore,
    JobStarts,
    JobStore,
    KeyStore,
    Ledger,
    OwedCancelStore,
)
from vidgate.gateway.records import (
    KEY_ADMIN_FIELDS,
    KEY_SORT_FIELDS,
    CharacterRecord,
    ContentInfo,
    IdempotencyRecord,
    JobRecord,
    JobSummary,
    KeyQuery,
    KeyRecord,
    OwedCancel,
    ReservationState,
    SpendEntry,
    summary,
)
from vidgate.store.readiness import outcome

CHUNK = 64 * 1024
RATE_WINDOW = 60.0


def _usd(micros: int) -> str:
    return f"${from_micros(micros):.6f}".rstrip("0").rstrip(".")


class _State:
    """Everything, behind one lock (held only by code that never awaits)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.keys: dict[str, KeyRecord] = {}
        self.jobs: dict[str, JobRecord] = {}

    def roll(self, key: KeyRecord, now: int) -> None:
        ended, reset_at = roll_period(key.budget_duration, key.budget_reset_at, now)
        if ended:
            key.spend_micros = 0
        key.budget_reset_at = reset_at


class MemoryKeyStore:
    def __init__(self, state: _State) -> None:
        self._s = state

    async def create(self, key: KeyRecord) -> None:
        with self._s.lock:
            if key.id in self._s.keys:
                raise ConflictError(f"Key id '{key.id}' already exists.")
            if any(k.key_hash == key.key_hash for k in self._s.keys.values()):
                raise ConflictError("A key with this secret already exists.")
            self._s.keys[key.id] = copy.deepcopy(key)

    async def get(self, key_id: str) -> KeyRecord | None:
        with self._s.lock:
            found = self._s.keys.get(key_id)
            return copy.deepcopy(found) if found else None

    async def get_by_hash(self, key_hash: str) -> KeyRecord | None:
        with self._s.lock:
            for key in self._s.keys.values():
                if key.key_hash == key_hash:
                    return copy.deepcopy(key)
            return None

    async def list(self) -> list[KeyRecord]:
        with self._s.lock:
            return [
                copy.deepcopy(k) for k in sorted(self._s.keys.values(), key=lambda k: (k.created_at, k.id))
            ]

    async def page(self, query: KeyQuery) -> tuple[builtins.list[KeyRecord], int]:
        with self._s.lock:
            found = [k for k in self._s.keys.values() if _key_matches(k, query)]
            field = KEY_SORT_FIELDS[query.sort]
            present = [k for k in found if getattr(k, field) is not None]
            absent = [k for k in found if getattr(k, field) is None]
            present.sort(key=lambda k: (getattr(k, field), k.id), reverse=query.descending)
            absent.sort(key=lambda k: k.id, reverse=query.descending)
            ordered = present + absent  # absent values last, whichever the direction
            chosen = ordered[query.offset : query.offset + query.limit]
            return [copy.deepcopy(k) for k in chosen], len(found)

    async def save(self, key: KeyRecord) -> None:
        with self._s.lock:
            stored = self._s.keys.get(key.id)
            if stored is None:
                raise NotFoundError(f"Key '{key.id}' not found.")
            if stored.budget_duration != key.budget_duration:  # a new period starts at the caller's date
                stored.budget_reset_at = key.budget_reset_at
            for name in KEY_ADMIN_FIELDS:
                setattr(stored, name, copy.deepcopy(getattr(key, name)))

    async def delete(self, key_id: str) -> bool:
        with self._s.lock:
            return self._s.keys.pop(key_id, None) is not None


def _key_matches(key: KeyRecord, query: KeyQuery) -> bool:
    def alias_has(text: str) -> bool:
        return key.alias is not None and text.lower() in key.alias.lower()

    return (
        (query.token is None or query.token in (key.id, key.key_hash))
        and (query.alias is None or key.alias == query.alias)
        and (query.alias_contains is None or alias_has(query.alias_contains))
        and (query.search is None or query.search in (key.id, key.key_hash) or alias_has(query.search))
        and (query.revoked is None or key.revoked == query.revoked)
    )


class MemoryJobStore:
    def __init__(self, state: _State) -> None:
        self._s = state

    async def insert(self, job: JobRecord) -> None:
        with self._s.lock:
            if job.id in self._s.jobs:
                raise ConflictError(f"Job '{job.id}' already exists.")
            if any(
                j.deployment_id == job.deployment_id and j.native_id == job.native_id
                for j in self._s.jobs.values()
            ):
                raise ConflictError(
                    f"Deployment '{job.deployment_id}' already has a job for '{job.native_id}'."
                )
            self._s.jobs[job.id] = copy.deepcopy(job)

    async def get(self, job_id: str) -> JobRecord | None:
        with self._s.lock:
            found = self._s.jobs.get(job_id)
            return copy.deepcopy(found) if found else None

    async def list_for_owner(
        self, owner_key_id: str | None, *, after: str | None, limit: int, order: Literal["asc", "desc"]
    ) -> tuple[list[JobSummary], bool]:
        with self._s.lock:
            mine = [j for j in self._s.jobs.values() if owner_key_id in (None, j.owner_key_id)]
            if after is not None:
                cursor = next((j for j in mine if j.id == after), None)
                if cursor is None:
                    return [], False
                mark = (cursor.created_at, cursor.id)
                if order == "asc":
                    mine = [j for j in mine if (j.created_at, j.id) > mark]
                else:
                    mine = [j for j in mine if (j.created_at, j.id) < mark]
            live = sorted((j for j in mine if not j.deleted), key=lambda j: (j.created_at, j.id))
            if order == "desc":
                live.reverse()
            page = live[: max(limit, 0)]
            return [summary(j) for j in page], len(live) > len(page)

    async def save(self, job: JobRecord) -> bool:
        with self._s.lock:
            stored = self._s.jobs.get(job.id)
            if stored is None or stored.version != job.version:
                return False
            if stored.native_id != job.native_id and any(
                j.deployment_id == job.deployment_id and j.native_id == job.native_id
                for j in self._s.jobs.values()
            ):
                raise ConflictError(
                    f"Deployment '{job.deployment_id}' already has a job for '{job.native_id}'."
                )
            job.version += 1
            self._s.jobs[job.id] = copy.deepcopy(job)
            return True

    async def save_many(self, jobs: Sequence[JobRecord]) -> list[bool]:
        return [await self.save(job) for job in jobs]

    async def claim_due(
        self, worker_id: str, *, now: float, lease_seconds: float, limit: int
    ) -> list[JobRecord]:
        with self._s.lock:
            due = [
                j
                for j in self._s.jobs.values()
                if needs_work(j) and j.next_poll_at <= now and _lease_free(j, now)
            ]
            due.sort(key=lambda j: (j.next_poll_at, j.created_at, j.id))
            claimed = []
            for job in due[: max(limit, 0)]:
                _take_lease(job, worker_id, now, lease_seconds)
                claimed.append(copy.deepcopy(job))
            return claimed

    async def try_lease(
        self, job_id: str, worker_id: str, *, now: float, lease_seconds: float
    ) -> JobRecord | None:
        with self._s.lock:
            job = self._s.jobs.get(job_id)
            if job is None or not (_lease_free(job, now) or job.lease_owner == worker_id):
                return None
            _take_lease(job, worker_id, now, lease_seconds)
            return copy.deepcopy(job)

    async def release_lease(self, job_id: str, worker_id: str) -> None:
        with self._s.lock:
            job = self._s.jobs.get(job_id)
            if job is not None and job.lease_owner == worker_id:
                job.lease_owner = None
                job.lease_expires_at = None
                job.version += 1

    async def find_by_native(self, deployment_id: str, native_id: str) -> JobRecord | None:
        with self._s.lock:
            for job in self._s.jobs.values():
                if job.deployment_id == deployment_id and job.native_id == native_id:
                    return copy.deepcopy(job)
            return None

    async def submitting_on(self, deployment_id: str) -> list[JobRecord]:
        with self._s.lock:
            found = [j for j in self._s.jobs.values() if j.submitting and j.deployment_id == deployment_id]
            found.sort(key=lambda j: (j.created_at, j.id))
            return [copy.deepcopy(j) for j in found[:MAX_SUBMITTING]]

    async def count_by_status(self) -> dict[str, int]:
        with self._s.lock:
            counts: dict[str, int] = {}
            for job in self._s.jobs.values():
                if not job.deleted:
                    counts[job.status] = counts.get(job.status, 0) + 1
            return counts


def _lease_free(job: JobRecord, now: float) -> bool:
    return job.lease_expires_at is None or job.lease_expires_at <= now


def _take_lease(job: JobRecord, worker_id: str, now: float, lease_seconds: float) -> None:
    job.lease_owner = worker_id
    job.lease_expires_at = now + lease_seconds
    job.version += 1


class MemoryOwedCancelStore:
    """Owed cancels in a dict keyed by (deployment id, native id), copied in and out."""

    def __init__(self, state: _State) -> None:
        self._s = state
        self._owed: dict[tuple[str, str], OwedCancel] = {}

    async def owe(self, cancel: OwedCancel) -> bool:
        with self._s.lock:
            at = (cancel.deployment_id, cancel.native_id)
            if at in self._owed:
                return False
            self._owed[at] = copy.copy(cancel)
            return True

    async def get(self, deployment_id: str, native_id: str) -> OwedCancel | None:
        with self._s.lock:
            found = self._owed.get((deployment_id, native_id))
            return None if found is None else copy.copy(found)

    async def claim_due(
        self, worker_id: str, *, now: float, lease_seconds: float, limit: int
    ) -> list[OwedCancel]:
        with self._s.lock:
            due = [
                c
                for c in self._owed.values()
                if c.next_try_at <= now and (c.lease_expires_at is None or c.lease_expires_at <= now)
            ]
            due.sort(key=lambda c: (c.next_try_at, c.deployment_id, c.native_id))
            claimed = []
            for cancel in due[: max(limit, 0)]:
                cancel.lease_owner = worker_id
                cancel.lease_expires_at = now + lease_seconds
                claimed.append(copy.copy(cancel))
            return claimed

    async def failed(self, deployment_id: str, native_id: str, worker_id: str, *, next_try_at: float) -> bool:
        with self._s.lock:
            cancel = self._owed.get((deployment_id, native_id))
            if cancel is None or cancel.lease_owner != worker_id:
                return False
            cancel.tries += 1
            cancel.next_try_at = next_try_at
            cancel.lease_owner = None
            cancel.lease_expires_at = None
            return True

    async def settle(self, deployment_id: str, native_id: str) -> bool:
        with self._s.lock:
            return self._owed.pop((deployment_id, native_id), None) is not None


@dataclass
class _Reservation:
    key_id: str
    micros: int
    state: ReservationState
    at: int = 0  # when it was reserved
    cost: int = 0  # the settled cost


@dataclass
class MemoryLedger:
    _s: _State
    _reservations: dict[str, _Reservation] = field(default_factory=dict)
    _log: list[SpendEntry] = field(default_factory=list)

    async def reserve(self, key: KeyRecord, job_id: str, micros: int, *, now: int) -> None:
        with self._s.lock:
            if job_id in self._reservations:
                return
            stored = self._s.keys.get(key.id)
            if stored is None:
                raise NotFoundError(f"Key '{key.id}' not found.")
            if stored.revoked:
                raise revoked_key()
            self._s.roll(stored, now)
            budget = stored.max_budget_micros
            if budget is not None and stored.spend_micros + stored.reserved_micros + micros > budget:
                raise budget_exceeded(stored, micros)
            stored.reserved_micros += micros
            self._reservations[job_id] = _Reservation(stored.id, micros, "reserved", now)

    async def settle(self, entry: SpendEntry) -> bool:
        with self._s.lock:
            found = self._reservations.get(entry.job_id)
            if found is not None and found.state != "reserved":
                return False
            key = self._s.keys.get(entry.key_id)
            if key is not None:
                if found is not None:
                    key.reserved_micros -= found.micros
                self._s.roll(key, entry.created_at)
                key.spend_micros += entry.cost_micros
                key.total_spend_micros += entry.cost_micros
            micros = found.micros if found is not None else 0
            self._reservations[entry.job_id] = _Reservation(
                entry.key_id, micros, "settled", cost=entry.cost_micros
            )
            self._log.append(copy.deepcopy(entry))
            return True

    async def release(self, key_id: str, job_id: str) -> bool:
        with self._s.lock:
            found = self._reservations.get(job_id)
            if found is not None and found.state != "reserved":
                return False
            if found is not None and (key := self._s.keys.get(found.key_id)) is not None:
                key.reserved_micros -= found.micros
            self._reservations[job_id] = _Reservation(key_id, found.micros if found else 0, "released")
            return True

    async def charged(self, job_id: str) -> int:
        with self._s.lock:
            found = self._reservations.get(job_id)
            return found.cost if found is not None and found.state == "settled" else 0

    async def spend_logs(
        self, *, key_id: str | None, start: int | None, end: int | None, limit: int
    ) -> list[SpendEntry]:
        with self._s.lock:
            rows = [
                e
                for e in self._log
                if (key_id is None or e.key_id == key_id)
                and (start is None or e.created_at >= start)
                and (end is None or e.created_at <= end)
            ]
            rows.sort(key=lambda e: (e.created_at, e.id), reverse=True)
            return [copy.deepcopy(e) for e in rows[: max(limit, 0)]]

    async def total_spend(self) -> int:
        with self._s.lock:
            return sum(e.cost_micros for e in self._log)

    async def stranded(self, *, before: int, limit: int) -> list[tuple[str, str]]:
        with self._s.lock:
            held = [
                (r.at, job_id, r.key_id)
                for job_id, r in self._reservations.items()
                if r.state == "reserved" and r.at < before and job_id not in self._s.jobs
            ]
        return [(key_id, job_id) for _, job_id, key_id in sorted(held)[: max(limit, 0)]]

    def reservation_state(self, job_id: str) -> ReservationState | None:
        """For tests: the job's reservation state, or None if it never had one."""
        with self._s.lock:
            found = self._reservations.get(job_id)
            return found.state if found else None


def budget_exceeded(key: KeyRecord, micros: int) -> BudgetExceededError:
    """The 429 every Ledger raises when a reservation does not fit (same words on every backend)."""
    budget = key.max_budget_micros or 0
    left = max(budget - key.spend_micros - key.reserved_micros, 0)
    return BudgetExceededError(
        f"Budget exceeded: this request costs {_usd(micros)} but the key has {_usd(left)} "
        f"left (max_budget {_usd(budget)}, spent {_usd(key.spend_micros)}, reserved for running jobs "
        f"{_usd(key.reserved_micros)}).",
        code="budget_exceeded",
    )


@dataclass
class MemoryAdmission:
    _s: _State
    _hits: dict[str, deque[float]] = field(default_factory=dict)
    _slots: dict[str, set[str]] = field(default_factory=dict)

    async def check_rate(self, key_id: str, limit_per_minute: int, *, now: float) -> None:
        with self._s.lock:
            hits = self._hits.setdefault(key_id, deque())
            while hits and hits[0] <= now - RATE_WINDOW:
                hits.popleft()
            if len(hits) >= limit_per_minute:
                wait = hits[0] + RATE_WINDOW - now if hits else RATE_WINDOW
                raise rate_limited(limit_per_minute, wait)
            hits.append(now)

    async def acquire_slot(self, key_id: str, job_id: str, limit: int) -> None:
        with self._s.lock:
            held = self._slots.setdefault(key_id, set())
            if job_id in held:
                return
            if len(held) >= limit:
                raise slots_full(limit)
            held.add(job_id)
            self._sync(key_id)

    async def release_slot(self, key_id: str, job_id: str) -> None:
        with self._s.lock:
            self._slots.get(key_id, set()).discard(job_id)
            self._sync(key_id)

    def _sync(self, key_id: str) -> None:
        key = self._s.keys.get(key_id)
        if key is not None:
            key.active_jobs = len(self._slots.get(key_id, ()))


def rate_limited(limit: int, retry_after: float) -> RateLimitError:
    return RateLimitError(
        f"Rate limit reached: this key allows {limit} requests per minute. "
        f"Retry after {max(retry_after, 0):.1f}s.",
        code="rate_limit_exceeded",
        retry_after=max(retry_after, 0.0),
    )


def slots_full(limit: int) -> RateLimitError:
    return RateLimitError(
        f"Too many concurrent jobs: this key allows {limit} video jobs in progress at once "
        "(max_parallel_requests). Wait for one to finish.",
        code="max_parallel_requests_exceeded",
    )


@dataclass
class MemoryContentStore:
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _objects: dict[tuple[str, str], tuple[bytes, str]] = field(default_factory=dict)

    async def put(self, job_id: str, variant: str, chunks: AsyncIterator[bytes], media_type: str) -> int:
        parts = [chunk async for chunk in chunks]
        data = b"".join(parts)
        with self._lock:
            self._objects[(job_id, variant)] = (data, media_type)
        return len(data)

    async def stat(self, job_id: str, variant: str) -> ContentInfo | None:
        with self._lock:
            found = self._objects.get((job_id, variant))
        return ContentInfo(size=len(found[0]), media_type=found[1]) if found else None

    def read(
        self, job_id: str, variant: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        return self._read(job_id, variant, start, end)

    async def _read(self, job_id: str, variant: str, start: int, end: int | None) -> AsyncIterator[bytes]:
        with self._lock:
            found = self._objects.get((job_id, variant))
        if found is None:
            raise NotFoundError(f"No stored {variant} for '{job_id}'.")
        data = found[0]
        stop = len(data) if end is None else min(end + 1, len(data))
        for offset in range(start, stop, CHUNK):
            yield data[offset : min(offset + CHUNK, stop)]

    async def delete(self, job_id: str) -> None:
        with self._lock:
            for key in [k for k in self._objects if k[0] == job_id]:
                del self._objects[key]

    async def probe(self) -> None:
        """Memory always takes writes."""


class MemoryIdempotencyStore:
    """Idempotency records in a dict keyed by (owner, key); every operation is atomic under the lock."""

    def __init__(self, state: _State) -> None:
        self._s = state
        self._records: dict[tuple[str, str], IdempotencyRecord] = {}

    async def claim(
        self, record: IdempotencyRecord, *, replace_before: int, unlinked_before: int
    ) -> IdempotencyRecord:
        with self._s.lock:
            at = (record.owner_key_id, record.key)
            held = self._records.get(at)
            if held is not None and (
                held.created_at < replace_before
                or (held.job_id is None and held.created_at < unlinked_before)
            ):
                held = None
            if held is None:
                held = self._records[at] = copy.copy(record)
            return copy.copy(held)

    async def link(self, owner_key_id: str, key: str, claim: str, job_id: str) -> None:
        with self._s.lock:
            held = self._records.get((owner_key_id, key))
            if held is not None and held.claim == claim:
                held.job_id = job_id

    async def forget(self, owner_key_id: str, key: str, claim: str) -> None:
        with self._s.lock:
            held = self._records.get((owner_key_id, key))
            if held is not None and held.claim == claim:
                del self._records[(owner_key_id, key)]

    async def prune(self, *, before: int, limit: int) -> int:
        with self._s.lock:
            old = sorted((r.created_at, at) for at, r in self._records.items() if r.created_at < before)
            for _, at in old[: max(limit, 0)]:
                del self._records[at]
            return min(len(old), max(limit, 0))


class MemoryCharacterStore:
    """Characters in a dict, copied in and out."""

    def __init__(self, state: _State) -> None:
        self._s = state
        self._records: dict[str, CharacterRecord] = {}

    async def insert(self, character: CharacterRecord) -> None:
        with self._s.lock:
            if character.id in self._records:
                raise ConflictError(f"Character '{character.id}' already exists.")
            self._records[character.id] = copy.copy(character)

    async def get(self, character_id: str) -> CharacterRecord | None:
        with self._s.lock:
            found = self._records.get(character_id)
            return None if found is None else copy.copy(found)


class MemoryStores:
    """Every port over one shared in-process state."""

    def __init__(self) -> None:
        self._state = _State()
        self.memory_ledger = MemoryLedger(self._state)
        self.keys: KeyStore = MemoryKeyStore(self._state)
        self.jobs: JobStore = MemoryJobStore(self._state)
        self.ledger: Ledger = self.memory_ledger
        self.admission: Admission = MemoryAdmission(self._state)
        self.content: ContentStore = MemoryContentStore()
        self.idempotency: IdempotencyStore = MemoryIdempotencyStore(self._state)
        self.characters: CharacterStore = MemoryCharacterStore(self._state)
        self.cancels: OwedCancelStore = MemoryOwedCancelStore(self._state)
        self.starts: JobStarts | None = None  # in memory each step costs nothing: one by one
        self.closed = False

    async def probe(self) -> dict[str, Exception | None]:
        db_error = ConnectionError("memory stores are closed") if self.closed else None
        return {"db": db_error, "content": await outcome(self.content.probe())}

    async def close(self) -> None:
        self.closed = True
