"""JobStore conformance: round trips, optimistic saves, listing, and leased claims under concurrency."""

from __future__ import annotations

import asyncio

import pytest
from tests.store.conftest import Backend
from tests.store.factories import make_job

from vidgate.errors import ConflictError
from vidgate.gateway.ports import JobStore
from vidgate.gateway.records import JobRecord, JobSummary, summary


async def test_insert_get_round_trip_every_field(backend: Backend) -> None:
    job = make_job(
        "video_" + "a" * 32,
        status="in_progress",
        api_surface="gemini",
        progress=42,
        prompt="a fox, [fault:slow] 🦊",
        n=2,
        completed_at=None,
        expires_at=5000,
        remixed_from="video_" + "b" * 32,
        error_code=None,
        error_message=None,
        reserved_micros=1_234_567,
        cost_micros=None,
        content_stored=False,
        next_poll_at=1_700_000_000.125,
        poll_failures=3,
        native_payload={"id": "native", "nested": {"list": [1, 2.5, None, "x"]}},
        native_id="models/veo-3/operations/" + "z" * 300,
        videos_generated=1,
        webhook_pending=True,
        webhook_failures=2,
        submitting=True,
        callback_url="https://hooks.example.com/v?token=" + "t" * 1900,
    )
    await backend.stores.jobs.insert(job)
    assert await backend.stores.jobs.get(job.id) == job
    page, _ = await backend.stores.jobs.list_for_owner(job.owner_key_id, after=None, limit=1, order="desc")
    assert page == [summary(job)]  # a listing's fewer columns hold the same values
    assert (page[0].reserved_micros, page[0].remixed_from, page[0].videos_generated) == (
        1_234_567,
        "video_" + "b" * 32,
        1,
    )
    assert await backend.stores.jobs.find_by_native("d1", job.native_id) == job
    assert await backend.stores.jobs.find_by_native("d2", job.native_id) is None
    assert await backend.stores.jobs.get("video_missing") is None


async def test_duplicate_id_conflicts(backend: Backend) -> None:
    await backend.stores.jobs.insert(make_job("a"))
    with pytest.raises(ConflictError):
        await backend.stores.jobs.insert(make_job("a", native_id="other"))


async def test_native_id_is_unique_per_deployment(backend: Backend) -> None:
    jobs = backend.stores.jobs
    await jobs.insert(make_job("a", native_id="n"))
    await jobs.insert(make_job("b", native_id="n", deployment_id="d2"))
    with pytest.raises(ConflictError):
        await jobs.insert(make_job("c", native_id="n"))


async def test_a_save_taking_another_jobs_native_id_conflicts_and_writes_nothing(backend: Backend) -> None:
    """Two write-ahead records matched to one upstream job: the second claim is refused whole."""
    jobs = backend.stores.jobs
    await jobs.insert(make_job("a", native_id="n"))
    await jobs.insert(make_job("b", native_id="submitting:b", status="queued"))
    b = await jobs.get("b")
    assert b is not None
    b.native_id, b.status = "n", "completed"
    with pytest.raises(ConflictError):
        await jobs.save(b)
    stored = await jobs.get("b")
    assert stored is not None
    assert (stored.native_id, stored.status) == ("submitting:b", "queued")
    stored.progress = 50  # the job is still saved as usual at its version
    assert await jobs.save(stored)


async def test_submitting_on_lists_a_deployments_write_ahead_records_oldest_first(backend: Backend) -> None:
    jobs = backend.stores.jobs
    await jobs.insert(make_job("late", created_at=300, submitting=True, native_id="submitting:late"))
    await jobs.insert(make_job("early", created_at=200, submitting=True, native_id="submitting:early"))
    await jobs.insert(make_job("recorded", created_at=250, native_id="n"))
    await jobs.insert(make_job("elsewhere", deployment_id="d2", submitting=True, native_id="submitting:x"))
    assert [j.id for j in await jobs.submitting_on("d1")] == ["early", "late"]
    assert [j.id for j in await jobs.submitting_on("d2")] == ["elsewhere"]
    assert await jobs.submitting_on("d3") == []


async def test_save_is_optimistic_by_version(backend: Backend) -> None:
    jobs = backend.stores.jobs
    await jobs.insert(make_job("a"))
    first, second = await jobs.get("a"), await jobs.get("a")
    assert first is not None
    assert second is not None
    first.progress = 10
    first.status = "in_progress"
    assert await jobs.save(first) is True
    assert first.version == 1
    first.progress = 20
    assert await jobs.save(first) is True  # the same object saves again
    second.progress = 99
    assert await jobs.save(second) is False  # lost the race
    assert await jobs.save(make_job("ghost")) is False
    stored = await jobs.get("a")
    assert stored is not None
    assert (stored.progress, stored.status, stored.version) == (20, "in_progress", 2)


async def test_concurrent_saves_of_one_version_have_one_winner(backend: Backend) -> None:
    jobs = backend.stores.jobs
    await jobs.insert(make_job("a"))
    copies = [await jobs.get("a") for _ in range(20)]
    for i, copy in enumerate(copies):
        assert copy is not None
        copy.progress = i
    results = await asyncio.gather(*(jobs.save(c) for c in copies if c is not None))
    assert sum(results) == 1
    stored = await jobs.get("a")
    assert stored is not None
    assert stored.version == 1
    assert stored.progress == results.index(True)


async def test_save_many_has_each_save_s_outcome_in_one_call(backend: Backend) -> None:
    jobs = backend.stores.jobs
    for name in ("b", "a", "c"):
        await jobs.insert(make_job(name))
    b, a, c = await jobs.get("b"), await jobs.get("a"), await jobs.get("c")
    stale = await jobs.get("c")
    assert b is not None
    assert a is not None
    assert c is not None
    assert stale is not None
    b.progress, a.progress, c.progress, stale.progress = 1, 2, 3, 99
    # Callers' order kept (b before a, though a sorts first); the second save of c's version loses, as
    # it would alone; an unknown job is not saved.
    assert await jobs.save_many([b, a, c, stale, make_job("ghost")]) == [True, True, True, False, False]
    assert (b.version, a.version, c.version, stale.version) == (1, 1, 1, 0)
    stored = [await jobs.get(name) for name in ("a", "b", "c")]
    assert [(j.progress, j.version) for j in stored if j is not None] == [(2, 1), (1, 1), (3, 1)]
    assert await jobs.save_many([]) == []
    a.progress = 5
    assert await jobs.save_many([a]) == [True]  # the same object saves again at its new version
    assert a.version == 2


async def test_list_pages_both_orders_and_hides_others_and_deleted(backend: Backend) -> None:
    jobs = backend.stores.jobs
    for i in range(5):
        await jobs.insert(make_job(f"j{i}", created_at=100 + i))
    await jobs.insert(make_job("j2b", created_at=102))  # same second as j2: the id breaks the tie
    await jobs.insert(make_job("other", owner="k2", created_at=50))
    await jobs.insert(make_job("gone", created_at=103, deleted=True))

    assert await jobs.list_for_owner("k1", after=None, limit=10, order="asc") == (
        await _summaries(jobs, "j0", "j1", "j2", "j2b", "j3", "j4"),
        False,
    )
    pages: list[list[str]] = []
    after: str | None = None
    for _ in range(6):  # six jobs of k1: at most six pages
        page, more = await jobs.list_for_owner("k1", after=after, limit=2, order="desc")
        pages.append([j.id for j in page])
        if not more:
            break
        after = page[-1].id
    assert pages == [["j4", "j3"], ["j2b", "j2"], ["j1", "j0"]]

    page, more = await jobs.list_for_owner("k1", after="j2", limit=2, order="asc")
    assert ([j.id for j in page], more) == (["j2b", "j3"], True)
    page, more = await jobs.list_for_owner("k1", after="gone", limit=10, order="asc")  # deleted cursor
    assert ([j.id for j in page], more) == (["j3", "j4"], False)  # ("gone", 103) < ("j3", 103)
    assert await jobs.list_for_owner("k1", after="other", limit=10, order="asc") == ([], False)
    assert await jobs.list_for_owner("k1", after="nope", limit=10, order="desc") == ([], False)
    assert await jobs.list_for_owner("k2", after=None, limit=1, order="desc") == (
        await _summaries(jobs, "other"),
        False,
    )
    assert await jobs.list_for_owner("k3", after=None, limit=5, order="asc") == ([], False)
    # limit 0 (OpenAI's range is 0..100): an empty page, has_more saying whether any job lies past it
    assert await jobs.list_for_owner("k1", after=None, limit=0, order="desc") == ([], True)
    assert await jobs.list_for_owner("k1", after="j0", limit=0, order="desc") == ([], False)
    assert await jobs.list_for_owner("k3", after=None, limit=0, order="asc") == ([], False)


async def test_listing_every_owner_pages_across_owners(backend: Backend) -> None:
    jobs = backend.stores.jobs
    await jobs.insert(make_job("a0", owner="k1", created_at=100))
    await jobs.insert(make_job("b0", owner="k2", created_at=101))
    await jobs.insert(make_job("a1", owner="k1", created_at=102))
    await jobs.insert(make_job("gone", owner="k2", created_at=103, deleted=True))
    page, more = await jobs.list_for_owner(None, after=None, limit=2, order="desc")
    assert ([j.id for j in page], more) == (["a1", "b0"], True)
    page, more = await jobs.list_for_owner(None, after="b0", limit=2, order="desc")
    assert ([j.id for j in page], more) == (["a0"], False)
    page, more = await jobs.list_for_owner(None, after="a0", limit=5, order="asc")
    assert ([j.id for j in page], more) == (["b0", "a1"], False)


async def test_count_by_status_skips_deleted(backend: Backend) -> None:
    jobs = backend.stores.jobs
    assert await jobs.count_by_status() == {}
    for i, status in enumerate(["queued", "queued", "in_progress", "completed", "failed", "completed"]):
        await jobs.insert(make_job(f"j{i}", status=status))
    await jobs.insert(make_job("gone", status="completed", deleted=True))
    assert await jobs.count_by_status() == {"queued": 2, "in_progress": 1, "completed": 2, "failed": 1}


async def test_get_returns_deleted_jobs(backend: Backend) -> None:
    await backend.stores.jobs.insert(make_job("gone", deleted=True))
    got = await backend.stores.jobs.get("gone")
    assert got is not None
    assert got.deleted


async def test_claim_due_leases_exclusively_and_takes_over_expired_leases(backend: Backend) -> None:
    jobs = backend.stores.jobs
    await jobs.insert(make_job("late", next_poll_at=10, created_at=5))
    await jobs.insert(make_job("early", next_poll_at=10, created_at=1))
    await jobs.insert(make_job("b", next_poll_at=50))
    await jobs.insert(make_job("done", status="completed", cost_micros=0, content_stored=True))

    first = await jobs.claim_due("w1", now=20, lease_seconds=30, limit=10)
    assert [j.id for j in first] == ["early", "late"]  # by next_poll_at, then created_at
    assert all(j.lease_owner == "w1" and j.lease_expires_at == 50 and j.version == 1 for j in first)
    assert await jobs.claim_due("w2", now=20, lease_seconds=30, limit=10) == []
    assert await jobs.try_lease("early", "w2", now=20, lease_seconds=30) is None

    taken = await jobs.claim_due("w2", now=60, lease_seconds=30, limit=10)  # w1 "crashed"
    assert sorted(j.id for j in taken) == ["b", "early", "late"]
    assert await jobs.save(first[0]) is False  # the crashed worker's copy is outdated
    assert await jobs.claim_due("w3", now=60, lease_seconds=30, limit=0) == []


async def test_claim_due_respects_limit_and_order(backend: Backend) -> None:
    jobs = backend.stores.jobs
    for i in range(5):
        await jobs.insert(make_job(f"j{i}", next_poll_at=10 - i))
    claimed = await jobs.claim_due("w", now=100, lease_seconds=5, limit=2)
    assert [j.id for j in claimed] == ["j4", "j3"]


async def test_claim_due_takes_terminal_jobs_until_settled_and_stored(backend: Backend) -> None:
    jobs = backend.stores.jobs
    await jobs.insert(make_job("unsettled", status="completed", content_stored=True))
    await jobs.insert(make_job("unstored", status="completed", cost_micros=5))
    await jobs.insert(make_job("failed-unreleased", status="failed"))
    await jobs.insert(make_job("failed-released", status="failed", cost_micros=0))
    await jobs.insert(make_job("deleted", status="completed", deleted=True))
    await jobs.insert(make_job("finished", status="completed", cost_micros=5, content_stored=True))
    await jobs.insert(make_job("running", status="in_progress"))
    await jobs.insert(
        make_job("owes-webhook", status="failed", cost_micros=0, webhook_pending=True)  # else finished
    )
    claimed = await jobs.claim_due("w", now=1, lease_seconds=5, limit=10)
    assert sorted(j.id for j in claimed) == [
        "failed-unreleased",
        "owes-webhook",
        "running",
        "unsettled",
        "unstored",
    ]
    owes = next(j for j in claimed if j.id == "owes-webhook")
    owes.webhook_pending, owes.lease_owner, owes.lease_expires_at = False, None, None
    assert await jobs.save(owes) is True  # delivered: off the queue

    # Finishing the work through save takes the job off the queue.
    running = next(j for j in claimed if j.id == "running")
    running.status, running.cost_micros, running.content_stored = "completed", 7, True
    assert await jobs.save(running) is True
    await jobs.release_lease("running", "w")
    later = await jobs.claim_due("w", now=100, lease_seconds=5, limit=10)
    assert sorted(j.id for j in later) == ["failed-unreleased", "unsettled", "unstored"]


async def test_concurrent_claimers_never_share_a_job(backend: Backend) -> None:
    jobs = backend.stores.jobs
    total = 60
    for i in range(total):
        await jobs.insert(make_job(f"j{i:02d}", next_poll_at=float(i % 7)))
    stores = [backend.stores, await backend.another()] if backend.is_sql else [backend.stores]

    async def worker(n: int) -> list[str]:
        mine: list[str] = []
        store = stores[n % len(stores)].jobs
        for _ in range(total + 1):  # each claim takes at least one of the jobs, or ends the loop
            batch = await store.claim_due(f"w{n}", now=100, lease_seconds=300, limit=3)
            if not batch:
                return mine
            assert all(j.lease_owner == f"w{n}" for j in batch)
            mine += [j.id for j in batch]
        raise AssertionError(f"worker {n} kept claiming: {mine}")

    claimed = await asyncio.gather(*(worker(n) for n in range(12)))
    everything = [job_id for batch in claimed for job_id in batch]
    assert len(everything) == len(set(everything)) == total
    for job_id in everything[:5]:
        stored = await jobs.get(job_id)
        assert stored is not None
        assert stored.lease_owner is not None
        assert job_id in claimed[int(stored.lease_owner[1:])]


async def test_try_lease_is_exclusive_renewable_and_expires(backend: Backend) -> None:
    jobs = backend.stores.jobs
    await jobs.insert(make_job("a"))
    leased = await jobs.try_lease("a", "w1", now=10, lease_seconds=30)
    assert leased is not None
    assert (leased.lease_owner, leased.lease_expires_at, leased.version) == ("w1", 40, 1)
    assert await jobs.try_lease("a", "w2", now=39.9, lease_seconds=30) is None
    renewed = await jobs.try_lease("a", "w1", now=20, lease_seconds=30)
    assert renewed is not None
    assert renewed.lease_expires_at == 50
    assert await jobs.try_lease("missing", "w1", now=20, lease_seconds=30) is None

    await jobs.release_lease("a", "w2")  # not the holder: no effect
    held = await jobs.get("a")
    assert held is not None
    assert held.lease_owner == "w1"
    taken = await jobs.try_lease("a", "w2", now=50, lease_seconds=30)  # expired
    assert taken is not None
    assert taken.lease_owner == "w2"
    await jobs.release_lease("a", "w2")
    free = await jobs.get("a")
    assert free is not None
    assert (free.lease_owner, free.lease_expires_at) == (None, None)
    assert free.version == taken.version + 1  # releasing is a write too
    assert await jobs.try_lease("a", "w3", now=51, lease_seconds=30) is not None


async def test_concurrent_try_lease_has_one_winner(backend: Backend) -> None:
    await backend.stores.jobs.insert(make_job("a"))
    stores = [backend.stores, await backend.another()] if backend.is_sql else [backend.stores]

    async def attempt(n: int) -> JobRecord | None:
        return await stores[n % len(stores)].jobs.try_lease("a", f"w{n}", now=10, lease_seconds=30)

    results = await asyncio.gather(*(attempt(n) for n in range(20)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    stored = await backend.stores.jobs.get("a")
    assert stored is not None
    assert stored.lease_owner == winners[0].lease_owner


async def test_a_submitting_job_is_claimed_only_once_its_creators_lease_lapsed(backend: Backend) -> None:
    jobs = backend.stores.jobs
    job = make_job(
        "video_wal", submitting=True, lease_owner="create:1", lease_expires_at=130.0, next_poll_at=130.0
    )
    await jobs.insert(job)
    assert await jobs.claim_due("w", now=120.0, lease_seconds=30, limit=10) == []
    renewed = await jobs.try_lease(job.id, "create:1", now=125.0, lease_seconds=30)  # the creator renews
    assert renewed is not None
    assert renewed.lease_expires_at == 155.0
    assert await jobs.claim_due("w", now=140.0, lease_seconds=30, limit=10) == []
    [claimed] = await jobs.claim_due("w", now=156.0, lease_seconds=30, limit=10)
    assert (claimed.id, claimed.submitting, claimed.lease_owner) == (job.id, True, "w")


async def _summaries(jobs: JobStore, *ids: str) -> list[JobSummary]:
    """The jobs ``ids`` as a listing shows them."""
    records = [await jobs.get(job_id) for job_id in ids]
    return [summary(job) for job in records if job is not None]
