"""Ports: what the gateway needs from storage, as Protocols. ``vidgate.store`` implements them
(memory; SQLite/PostgreSQL through SQLAlchemy; Redis). The domain never imports a driver.

Every money operation is idempotent per job id, so a crash between two steps is repaired by simply
running the step again (a restarted poller re-settles a job: the second settle is a no-op).

``vidgate.store.memory`` is the reference behaviour: its module docstring spells out the exact
semantics (copies, versions, leases, cursors, reservation states, rate window) every backend matches.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Sequence
from typing import Literal, Protocol, TypeAlias

from vidgate.gateway.records import (
    CharacterRecord,
    ContentInfo,
    IdempotencyRecord,
    JobRecord,
    JobSummary,
    KeyQuery,
    KeyRecord,
    OwedCancel,
    SpendEntry,
)

MAX_SUBMITTING = 1000  # write-ahead records ``JobStore.submitting_on`` returns (creates in flight)
Chunk: TypeAlias = bytes | memoryview
"""A piece of a stored object as read: a store may hand out a view of a buffer it filled (and never
reuses), so streaming a file costs no extra copy; ASGI bodies, ``b"".join`` and ``bytearray +=``
take either."""


class KeyStore(Protocol):
    async def create(self, key: KeyRecord) -> None: ...
    async def get(self, key_id: str) -> KeyRecord | None: ...
    async def get_by_hash(self, key_hash: str) -> KeyRecord | None: ...
    async def list(self) -> list[KeyRecord]: ...
    async def page(self, query: KeyQuery) -> tuple[builtins.list[KeyRecord], int]:
        """The keys of one page of ``query`` and how many keys match it in all, as one reading."""
        ...

    async def save(self, key: KeyRecord) -> None:
        """Persist admin-editable fields (alias, models, limits, budget, metadata, revoked).
        Never overwrites the counters (spend, reserved, active_jobs): those change only through
        ``Ledger`` and ``Admission``. ``budget_reset_at`` is written only when ``budget_duration``
        changes (the caller's value then starts the new period); otherwise the ledger owns it."""
        ...

    async def delete(self, key_id: str) -> bool: ...


class JobStore(Protocol):
    async def insert(self, job: JobRecord) -> None: ...
    async def get(self, job_id: str) -> JobRecord | None: ...
    async def list_for_owner(
        self, owner_key_id: str | None, *, after: str | None, limit: int, order: Literal["asc", "desc"]
    ) -> tuple[list[JobSummary], bool]:
        """The owner's non-deleted jobs by (created_at, id), after the job ``after``, as a listing shows
        them; and has_more. ``owner_key_id`` None: every owner's (the master key's view)."""
        ...

    async def save(self, job: JobRecord) -> bool:
        """Write ``job`` if the stored version equals ``job.version`` (then bump it). False: lost race.
        ConflictError: another job of its deployment has its ``native_id`` (nothing written)."""
        ...

    async def save_many(self, jobs: Sequence[JobRecord]) -> list[bool]:
        """``save`` of each job in order, with the same outcome per job, as one write (the poller's
        concurrent saves: one transaction instead of one each). An error fails the whole call."""
        ...

    async def claim_due(
        self, worker_id: str, *, now: float, lease_seconds: float, limit: int
    ) -> list[JobRecord]:
        """Atomically lease up to ``limit`` non-terminal (or terminal but unsettled/unstored) jobs whose
        ``next_poll_at <= now`` and whose lease is free or expired. Two workers never get the same job."""
        ...

    async def try_lease(
        self, job_id: str, worker_id: str, *, now: float, lease_seconds: float
    ) -> JobRecord | None:
        """Lease one job if its lease is free or expired (one refresh per job at a time)."""
        ...

    async def release_lease(self, job_id: str, worker_id: str) -> None: ...
    async def find_by_native(self, deployment_id: str, native_id: str) -> JobRecord | None:
        """The job recorded for a provider's job (write-ahead resolution skips jobs already recorded)."""
        ...

    async def submitting_on(self, deployment_id: str) -> list[JobRecord]:
        """The write-ahead records (``submitting``) of creates on ``deployment_id``, the oldest
        ``MAX_SUBMITTING``: a resolver checks that none of them is about to record the upstream job
        it would take."""
        ...

    async def count_by_status(self) -> dict[str, int]:
        """Non-deleted jobs per status, for ``/metrics`` (statuses with no job may be absent)."""
        ...


class OwedCancelStore(Protocol):
    """Cancels owed to provider jobs nobody pays for (``gateway.cancels``), one per (deployment id,
    native id), tried under a lease so two replicas rarely try one at once (a double try is harmless:
    a job already cancelled or gone reads as cancelled)."""

    async def owe(self, cancel: OwedCancel) -> bool:
        """Store ``cancel`` as given (its lease too: the creating process holds its first try). False,
        writing nothing, when that (deployment, native id) is owed already."""
        ...

    async def get(self, deployment_id: str, native_id: str) -> OwedCancel | None: ...

    async def claim_due(
        self, worker_id: str, *, now: float, lease_seconds: float, limit: int
    ) -> list[OwedCancel]:
        """Atomically lease up to ``limit`` owed cancels whose ``next_try_at <= now`` and whose lease is
        free or expired, soonest due first. Two workers never get the same one."""
        ...

    async def failed(self, deployment_id: str, native_id: str, worker_id: str, *, next_try_at: float) -> bool:
        """One more failed try of a cancel leased by ``worker_id``: ``tries`` + 1, due again at
        ``next_try_at``, lease released. False, writing nothing, when ``worker_id`` no longer holds it
        (another worker took it once the lease lapsed, or it was settled)."""
        ...

    async def settle(self, deployment_id: str, native_id: str) -> bool:
        """The cancel is no longer owed (made, or given up): delete it, whoever holds it. False when it
        was not owed (settled already)."""
        ...


class Ledger(Protocol):
    """Budget reservations and settled spend, exact under concurrency and across replicas."""

    async def reserve(self, key: KeyRecord, job_id: str, micros: int, *, now: int) -> None:
        """Reserve ``micros`` against the key's budget atomically; raises BudgetExceededError when
        spend + reservations + micros would exceed max_budget. Resets spend when the period ended."""
        ...

    async def settle(self, entry: SpendEntry) -> bool:
        """Turn the job's reservation into spend (``entry.cost_micros``) and write the spend log,
        once. Returns False if the job was already settled or released."""
        ...

    async def release(self, key_id: str, job_id: str) -> bool:
        """Drop the job's reservation (failed/filtered/create error), once."""
        ...

    async def charged(self, job_id: str) -> int:
        """Micro-USD the job was charged: its settled cost; 0 when its reservation was released, is
        still held, or never existed. A settle or release that found the money already final reads
        it here, so the job shows what the ledger holds, not what the refused step would have done."""
        ...

    async def spend_logs(
        self, *, key_id: str | None, start: int | None, end: int | None, limit: int
    ) -> list[SpendEntry]: ...

    async def total_spend(self) -> int:
        """Micro-USD settled ever, over every key (deleted ones and the master key's included)."""
        ...

    async def stranded(self, *, before: int, limit: int) -> list[tuple[str, str]]:
        """(key id, job id) of up to ``limit`` reservations still held, taken before ``before``, whose
        job was never stored: the process that reserved them died while the provider's create ran.
        Nothing else would ever give them (and the job's slot) back; the poller releases them."""
        ...


class Admission(Protocol):
    """Rate limits and concurrent-job slots (in Redis when configured, shared by all replicas)."""

    async def check_rate(self, key_id: str, limit_per_minute: int, *, now: float) -> None:
        """Count one request; raises RateLimitError (with retry_after) when over the limit."""
        ...

    async def acquire_slot(self, key_id: str, job_id: str, limit: int) -> None:
        """Take one concurrent-job slot; raises RateLimitError when all are taken."""
        ...

    async def release_slot(self, key_id: str, job_id: str) -> None:
        """Give the job's slot back (idempotent)."""
        ...


class IdempotencyStore(Protocol):
    """Idempotency keys of paid POSTs, durable (a restart keeps them), one record per (owner, key)."""

    async def claim(
        self, record: IdempotencyRecord, *, replace_before: int, unlinked_before: int
    ) -> IdempotencyRecord:
        """Store ``record`` unless its (owner, key) has a record already; the stored one is replaced
        first when created before ``replace_before`` (expired) or, still without a job, before
        ``unlinked_before`` (its request died before starting one). Returns the record stored now:
        ``record`` (same ``claim``) when this request holds the key, else the other request's."""
        ...

    async def link(self, owner_key_id: str, key: str, claim: str, job_id: str) -> None:
        """Record the job started by the request holding ``claim``."""
        ...

    async def forget(self, owner_key_id: str, key: str, claim: str) -> None:
        """Drop the record held by ``claim`` (its request ended with nothing to replay)."""
        ...

    async def prune(self, *, before: int, limit: int) -> int:
        """Delete up to ``limit`` records created before ``before``; how many."""
        ...


class CharacterStore(Protocol):
    """Characters, owner-scoped: ``get`` returns any record; the caller checks the owner."""

    async def insert(self, character: CharacterRecord) -> None: ...
    async def get(self, character_id: str) -> CharacterRecord | None: ...


class ContentStore(Protocol):
    """Finished videos, kept by the gateway. Writes are atomic (a reader never sees half a file)."""

    async def put(self, job_id: str, variant: str, chunks: AsyncIterator[bytes], media_type: str) -> int: ...
    async def stat(self, job_id: str, variant: str) -> ContentInfo | None: ...
    def read(
        self, job_id: str, variant: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[Chunk]:
        """Bytes ``start..end`` (inclusive end, as in HTTP Range) in bounded chunks."""
        ...

    async def delete(self, job_id: str) -> None: ...

    async def probe(self) -> None:
        """Write and delete a small file (readiness); raise if the store cannot take writes now."""
        ...


class JobStarts(Protocol):
    """The caller's admission and a job's write-ahead record as one step, for stores that keep the
    rate window, the ledger, the slots and the jobs in one database: one transaction instead of four."""

    async def admit_and_insert(
        self,
        key: KeyRecord,
        job: JobRecord,
        micros: int,
        *,
        rpm_limit: int | None,
        slot_limit: int | None,
        now: float,
    ) -> None:
        """``Admission.check_rate`` when ``rpm_limit`` is set (its refusal raised, nothing else done),
        then ``Ledger.reserve(key, job.id, micros)``, ``Admission.acquire_slot`` when ``slot_limit`` is
        set and ``JobStore.insert(job)``: all three, or (raising the refusal or error that stopped
        them) none of them, the counted request staying counted as when the steps run one by one."""
        ...


class Stores(Protocol):
    keys: KeyStore
    jobs: JobStore
    ledger: Ledger
    admission: Admission
    content: ContentStore
    idempotency: IdempotencyStore
    characters: CharacterStore
    cancels: OwedCancelStore
    starts: JobStarts | None  # None: the three steps are taken one by one

    async def probe(self) -> dict[str, Exception | None]:
        """Readiness: prove each component takes writes now (a real write each), by component name
        (``db``, ``content``, and ``redis`` when configured): None when it did, else the error."""
        ...

    async def close(self) -> None: ...
