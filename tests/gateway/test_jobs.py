"""Every transition of the pure job state machine."""

from __future__ import annotations

from typing import Any

import pytest
from tests.gateway.harness import T0, job_record

from vidgate.catalog import Usage
from vidgate.errors import APIError, NotFoundError, RateLimitError, ServiceUnavailableError
from vidgate.gateway import jobs
from vidgate.gateway.records import JobRecord
from vidgate.providers.base import ProviderJob
from vidgate.types import VideoError


def _job(**fields: Any) -> JobRecord:
    return job_record("video_x", "k1", **fields)


def _native(status: str, **fields: Any) -> ProviderJob:
    return ProviderJob(native_id="n", status=status, model="m", **fields)  # type: ignore[arg-type]


NOW = T0 + 10


def test_queued_to_in_progress_follows_the_poll_hint() -> None:
    job = _job()
    t = jobs.advance(job, _native("in_progress", progress=40, poll_after_ms=500), NOW)
    assert (t.status, t.progress, t.next_poll_at, t.terminal) == ("in_progress", 40, NOW + 0.5, False)
    assert (t.settle, t.release, t.release_slot) == (False, False, False)
    jobs.apply(job, t)
    assert (job.status, job.progress, job.next_poll_at) == ("in_progress", 40, NOW + 0.5)


def test_a_job_whose_provider_calls_back_is_polled_only_as_a_slow_fallback() -> None:
    job = _job(provider_callback_hash="0" * 64)
    t = jobs.advance(job, _native("in_progress", progress=40, poll_after_ms=500), NOW)
    assert t.next_poll_at == NOW + jobs.CALLBACK_POLL_SECONDS == NOW + 120
    assert jobs.advance(_job(), _native("in_progress", poll_after_ms=500), NOW).next_poll_at == NOW + 0.5


@pytest.mark.parametrize(
    ("hint", "delay"), [(1, jobs.MIN_POLL_SECONDS), (10**9, jobs.MAX_POLL_SECONDS), (2500, 2.5)]
)
def test_poll_hint_is_bounded(hint: int, delay: float) -> None:
    t = jobs.advance(_job(), _native("queued", poll_after_ms=hint), NOW)
    assert t.next_poll_at == pytest.approx(NOW + delay)


@pytest.mark.parametrize(("age", "delay"), [(10, 1.0), (100, 5.0), (1000, 15.0)])
def test_without_a_hint_older_jobs_are_polled_less_often(age: float, delay: float) -> None:
    t = jobs.advance(_job(), _native("queued"), T0 + age)
    assert t.next_poll_at == T0 + age + delay


def test_status_and_progress_never_go_backwards() -> None:
    job = _job(status="in_progress", progress=60)
    t = jobs.advance(job, _native("queued", progress=5), NOW)
    assert (t.status, t.progress) == ("in_progress", 60)
    t = jobs.advance(job, _native("in_progress", progress=250), NOW)
    assert t.progress == 99  # only completion reaches 100


def test_completed_settles_fetches_and_frees_the_slot() -> None:
    job = _job(status="in_progress", progress=50)
    t = jobs.advance(
        job, _native("completed", completed_at=int(T0) + 5, expires_at=int(T0) + 3600, raw={"a": 1}), NOW
    )
    assert (t.status, t.progress, t.completed_at, t.expires_at) == (
        "completed",
        100,
        int(T0) + 5,
        int(T0) + 3600,
    )
    assert (t.settle, t.release, t.release_slot) == (True, False, True)
    jobs.apply(job, t)
    assert (job.status, job.completed_at, job.native_payload) == ("completed", int(T0) + 5, {"a": 1})


def test_completed_without_a_timestamp_uses_now() -> None:
    assert jobs.advance(_job(), _native("completed"), NOW).completed_at == int(NOW)


def test_failed_releases_with_the_providers_reason() -> None:
    native = _native("failed", error=VideoError(code="moderation_blocked", message="blocked"))
    t = jobs.advance(_job(progress=30), native, NOW)
    assert (t.status, t.error_code, t.error_message, t.progress) == (
        "failed",
        "moderation_blocked",
        "blocked",
        30,
    )
    assert (t.settle, t.release, t.release_slot) == (False, True, True)
    plain = jobs.advance(_job(), _native("failed"), NOW)
    assert (plain.error_code, plain.completed_at) == ("video_generation_failed", None)


@pytest.mark.parametrize("terminal", ["completed", "failed"])
@pytest.mark.parametrize("later", ["queued", "in_progress", "completed", "failed"])
def test_terminal_states_are_sticky(terminal: str, later: str) -> None:
    job = _job(status=terminal, progress=100, cost_micros=0, content_stored=True, error_code="e")
    t = jobs.advance(job, _native(later, progress=3), NOW)
    assert (t.status, t.progress, t.error_code) == (terminal, 100, "e")
    assert (t.settle, t.release) == (False, False)


def test_a_revisited_terminal_job_owes_what_is_missing() -> None:
    unsettled = jobs.advance(_job(status="completed", content_stored=True), _native("in_progress"), NOW)
    assert unsettled.settle
    unstored = jobs.settled_state(_job(status="completed", cost_micros=5), NOW)
    assert (unstored.settle, unstored.release_slot) == (False, True)
    unreleased = jobs.settled_state(_job(status="failed"), NOW)
    assert (unreleased.release, unreleased.settle) == (True, False)


def test_poll_errors_back_off_exponentially_with_a_cap() -> None:
    job = _job()
    delays = []
    for _ in range(10):
        t = jobs.on_poll_error(job, ServiceUnavailableError("down"), NOW)
        jobs.apply(job, t)
        delays.append(t.next_poll_at - NOW)
    assert delays[:4] == [2.0, 4.0, 8.0, 16.0]
    assert delays[-1] == jobs.ERROR_BACKOFF_MAX
    assert job.status == "queued"
    assert job.poll_failures == 10


def test_retry_after_wins_and_success_resets_failures() -> None:
    job = _job(poll_failures=3)
    t = jobs.on_poll_error(job, RateLimitError("slow down", retry_after=7), NOW)
    assert t.next_poll_at == NOW + 7
    assert t.poll_failures == 4
    jobs.apply(job, t)
    assert jobs.advance(job, _native("in_progress"), NOW).poll_failures == 0


def test_a_job_the_provider_keeps_404ing_is_failed() -> None:
    job = _job()
    for _ in range(jobs.MAX_NOT_FOUND - 1):
        t = jobs.on_poll_error(job, NotFoundError("gone"), NOW)
        assert t.status == "queued"
        jobs.apply(job, t)
    t = jobs.on_poll_error(job, NotFoundError("gone"), NOW)
    assert (t.status, t.error_code, t.release) == ("failed", "not_found", True)


@pytest.mark.parametrize("error", [None, APIError("boom")])
def test_jobs_older_than_the_limit_time_out(error: APIError | None) -> None:
    late = T0 + jobs.MAX_JOB_AGE + 1
    job = _job()
    t = (
        jobs.advance(job, _native("in_progress"), late)
        if error is None
        else jobs.on_poll_error(job, error, late)
    )
    assert (t.status, t.error_code, t.release) == ("failed", "timeout", True)


def test_poll_errors_on_a_terminal_job_change_nothing() -> None:
    t = jobs.on_poll_error(
        _job(status="completed", cost_micros=1, content_stored=True), NotFoundError("x"), NOW
    )
    assert t.status == "completed"


def test_content_fetch_backoff_then_parked() -> None:
    job = _job(status="completed", cost_micros=1)
    assert jobs.on_fetch_error(job, NOW, permanent=False) == NOW + 2.0
    assert jobs.on_fetch_error(job, NOW, permanent=True) == jobs.PARKED
    job.poll_failures = jobs.MAX_FETCH_ATTEMPTS - 1
    assert jobs.on_fetch_error(job, NOW, permanent=False) == jobs.PARKED


def test_large_provider_payloads_are_not_kept() -> None:
    job = _job(native_payload={"old": True})
    t = jobs.advance(job, _native("completed", raw={"video": "x" * (jobs.MAX_PAYLOAD_CHARS + 1)}), NOW)
    jobs.apply(job, t)
    assert job.native_payload == {"old": True}


def test_payload_orjson_refuses_is_sized_and_kept() -> None:
    """An integer past 64 bits (orjson refuses it) is kept when small, and still refused when large."""
    job = _job()
    jobs.apply(job, jobs.advance(job, _native("completed", raw={"n": 2**70}), NOW))
    assert job.native_payload == {"n": 2**70}
    big = {"n": 2**70, "video": "x" * jobs.MAX_PAYLOAD_CHARS}
    job = _job(native_payload={"old": True})
    jobs.apply(job, jobs.advance(job, _native("completed", raw=big), NOW))
    assert job.native_payload == {"old": True}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, True),
        ({"status": "in_progress"}, True),
        ({"status": "completed"}, True),
        ({"status": "completed", "cost_micros": 5}, True),
        ({"status": "completed", "cost_micros": 5, "content_stored": True}, False),
        ({"status": "failed"}, True),
        ({"status": "failed", "cost_micros": 0}, False),
        ({"status": "queued", "deleted": True}, False),
    ],
)
def test_needs_work(fields: dict[str, Any], expected: bool) -> None:
    assert jobs.needs_work(_job(**fields)) is expected


def test_completion_records_how_many_videos_came_back_and_only_those_are_charged() -> None:
    job = _job(status="in_progress", n=3, reserved_micros=900_001)
    t = jobs.advance(job, _native("completed", outputs=("files/a", "inline:1")), NOW)
    assert (t.videos_generated, t.settle) == (2, True)
    jobs.apply(job, t)
    assert (job.videos_generated, jobs.billable_videos(job), jobs.settled_cost(job)) == (2, 2, 600_000)
    assert job.outputs == ("files/a", "inline:1")  # kept for a later edit or extension of this job
    # A re-visit after a crash (no provider reply at hand) settles from the stored count.
    again = jobs.settled_state(job, NOW + 5)
    jobs.apply(job, again)
    assert (job.videos_generated, jobs.settled_cost(job)) == (2, 600_000)
    # Providers that report no outputs (OpenAI, Azure, local) are charged for every video asked for.
    silent = _job(status="in_progress", n=2, reserved_micros=400_000)
    jobs.apply(silent, jobs.advance(silent, _native("completed"), NOW))
    assert (silent.videos_generated, jobs.settled_cost(silent)) == (None, 400_000)
    # Never more than was reserved, whatever a provider reports.
    assert jobs.settled_cost(_job(n=1, reserved_micros=10, videos_generated=4)) == 10


def test_an_owed_webhook_keeps_a_finished_job_in_the_work_queue() -> None:
    done = _job(status="completed", cost_micros=1, content_stored=True)
    assert not jobs.needs_work(done)
    done.webhook_pending = True
    assert jobs.needs_work(done)
    done.deleted = True
    assert not jobs.needs_work(done)


def test_token_priced_jobs_settle_the_reported_tokens_and_keep_them_across_a_restart() -> None:
    # Reserved $0.05 = $0.01 flat + 5,000 tokens for $0.04; the provider reports 2,000 tokens.
    job = _job(status="in_progress", n=1, reserved_micros=50_000, token_bound=5_000, token_micros=40_000)
    t = jobs.advance(job, _native("completed", usage=Usage(output_tokens=2_000)), NOW)
    jobs.apply(job, t)
    assert (job.output_tokens, jobs.settled_cost(job)) == (2_000, 26_000)  # $0.01 + 2,000 x $0.000008
    jobs.apply(job, jobs.settled_state(job, NOW + 5))  # a re-visit keeps the stored figure
    assert jobs.settled_cost(job) == 26_000
    # No usage reported: the reserved bound; more than the bound reported: capped at the reservation.
    assert (
        jobs.settled_cost(_job(n=1, reserved_micros=50_000, token_bound=5_000, token_micros=40_000)) == 50_000
    )
    over = _job(n=1, reserved_micros=50_000, token_bound=5_000, token_micros=40_000, output_tokens=9_000)
    assert jobs.settled_cost(over) == 50_000
