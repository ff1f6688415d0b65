"""The sans-I/O provider interface: replies, outcome/advance/drive, and BaseProvider's absent operations."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from vidgate.catalog.pricing import Usage
from vidgate.errors import (
    APIError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    UnsupportedOperationError,
    error_class_for_status,
)
from vidgate.providers.base import (
    BaseProvider,
    Capability,
    Credentials,
    Flow,
    HttpCall,
    HttpReply,
    ProviderJob,
    advance,
    drive,
    outcome,
)
from vidgate.types import VideoError

CREDS = Credentials(api_key="k")


def error_for(reply: HttpReply) -> APIError:
    return error_class_for_status(reply.status)(f"HTTP {reply.status}", status_code=reply.status)


def reply(status: int = 200, body: bytes = b"", **headers: str) -> HttpReply:
    return HttpReply(status=status, headers={k.lower(): v for k, v in headers.items()}, content=body)


def two_step() -> Flow[str]:
    """Start a job, then poll it; a 404 on the poll means 'gone' (the flow catches it and carries on)."""
    created = yield HttpCall("POST", "https://p.test/jobs", json={"prompt": "p"}, retry_safe=False)
    job_id = created.json()["id"]
    try:
        polled = yield HttpCall("GET", f"https://p.test/jobs/{job_id}")
    except NotFoundError:
        return f"{job_id}:gone"
    return f"{job_id}:{polled.json()['status']}"


# ---- HttpReply ----------------------------------------------------------------------------------


def test_reply_ok_json_and_headers() -> None:
    r = reply(201, b'{"a": 1}', **{"Content-Type": "application/json"})
    assert r.ok
    assert r.json() == {"a": 1}
    assert r.header("content-type") == "application/json"
    assert r.header("Content-Type") == "application/json"
    assert r.header("x-missing") is None
    assert reply(204).json() is None
    assert not reply(302).ok
    assert not reply(199).ok
    assert reply(299).ok


def test_reply_json_on_garbage_raises_value_error() -> None:
    with pytest.raises(ValueError, match="Expecting value"):
        reply(200, b"<html>").json()


def test_http_call_defaults() -> None:
    call = HttpCall("GET", "https://p.test/x")
    assert call.retry_safe is True
    assert call.follow_redirects is True
    assert call.ok_statuses == frozenset()
    assert (call.json, call.data, call.files) == (None, None, None)


# ---- outcome / advance --------------------------------------------------------------------------


def test_outcome_passes_2xx_and_ok_statuses_and_maps_the_rest() -> None:
    call = HttpCall("GET", "https://p.test/x")
    ok = reply(200)
    assert outcome(call, ok, error_for) is ok
    mapped = outcome(call, reply(404), error_for)
    assert isinstance(mapped, NotFoundError)
    assert mapped.status_code == 404
    wanted = HttpCall("GET", "https://p.test/x", ok_statuses=frozenset({404, 302}))
    not_found = reply(404)
    assert outcome(wanted, not_found, error_for) is not_found
    assert isinstance(outcome(wanted, reply(429), error_for), RateLimitError)


def test_advance_starts_sends_and_throws() -> None:
    flow = two_step()
    first = advance(flow, None)
    assert (first.method, first.url, first.retry_safe) == ("POST", "https://p.test/jobs", False)
    second = advance(flow, reply(200, b'{"id": "j1"}'))
    assert (second.method, second.url) == ("GET", "https://p.test/jobs/j1")
    with pytest.raises(StopIteration) as stop:
        advance(flow, NotFoundError("no such job"))
    assert stop.value.value == "j1:gone"


def test_advance_throws_an_uncaught_error_out_of_the_flow() -> None:
    flow = two_step()
    advance(flow, None)
    with pytest.raises(RateLimitError):
        advance(flow, RateLimitError("slow down"))


# ---- drive --------------------------------------------------------------------------------------


def test_drive_returns_result_and_calls() -> None:
    result, calls = drive(two_step(), [reply(200, b'{"id": "j1"}'), reply(200, b'{"status": "queued"}')])
    assert result == "j1:queued"
    assert [(c.method, c.url) for c in calls] == [
        ("POST", "https://p.test/jobs"),
        ("GET", "https://p.test/jobs/j1"),
    ]


def test_drive_throws_mapped_errors_into_the_flow() -> None:
    result, calls = drive(two_step(), [reply(200, b'{"id": "j2"}'), reply(404)], error_for)
    assert result == "j2:gone"
    assert len(calls) == 2


def test_drive_propagates_errors_the_flow_does_not_catch() -> None:
    with pytest.raises(RateLimitError):
        drive(two_step(), [reply(429)], error_for)


def test_drive_without_error_mapper_hands_error_replies_to_the_flow() -> None:
    def status_only() -> Flow[int]:
        got = yield HttpCall("GET", "https://p.test/x")
        return got.status

    assert drive(status_only(), [reply(503)]) == (503, [HttpCall("GET", "https://p.test/x")])


def test_drive_fails_on_an_unexpected_call() -> None:
    with pytest.raises(AssertionError, match=r"unexpected call: GET https://p\.test/jobs/j1"):
        drive(two_step(), [reply(200, b'{"id": "j1"}')])


def test_drive_fails_when_recorded_replies_are_left_over() -> None:
    with pytest.raises(AssertionError, match="1 recorded replies unused"):
        drive(two_step(), [reply(200, b'{"id": "j1"}'), reply(404), reply(200)], error_for)


# ---- BaseProvider -------------------------------------------------------------------------------


class Minimal(BaseProvider):
    name: ClassVar[str] = "minimal"


def test_capability_names() -> None:
    assert [c.value for c in Capability] == ["create", "retrieve", "download", "remix", "list", "delete"]


@pytest.mark.parametrize("operation", ["remix", "list", "delete"])
def test_absent_operations_raise_unsupported(operation: str) -> None:
    provider = Minimal()
    flows: dict[str, Flow[object]] = {
        "remix": provider.remix("v1", "again", CREDS),
        "list": provider.list(CREDS, after=None, limit=10, order="desc"),
        "delete": provider.delete("v1", CREDS),
    }
    with pytest.raises(UnsupportedOperationError) as caught:
        drive(flows[operation], [])
    err = caught.value
    assert (err.operation, err.provider, err.status_code) == (operation, "minimal", 400)
    assert err.message == f"Provider 'minimal' does not support '{operation}'."


def test_absent_operation_makes_no_call() -> None:
    flow = Minimal().remix("v1", "again", CREDS)
    with pytest.raises(UnsupportedOperationError):
        advance(flow, None)


# ---- a provider's numbers stay in range (they reach the store and the client) --------------------


@pytest.mark.parametrize("value", [10**20, 253_402_300_800, -1, True, 1.5, "1800000000"])
def test_a_time_that_is_no_epoch_second_is_dropped(value: Any) -> None:
    job = ProviderJob(
        native_id="n", status="completed", model="m", created_at=value, completed_at=value, expires_at=value
    )
    assert (job.created_at, job.completed_at, job.expires_at) == (None, None, None)


def test_times_hints_and_progress_in_range_are_kept_and_progress_is_clamped() -> None:
    job = ProviderJob(
        native_id="n",
        status="in_progress",
        model="m",
        completed_at=1_800_000_000,
        poll_after_ms=5_000,
        progress=40,
    )
    assert (job.completed_at, job.poll_after_ms, job.progress) == (1_800_000_000, 5_000, 40)
    assert ProviderJob(native_id="n", status="queued", model="m", progress=10**30).progress == 100
    assert ProviderJob(native_id="n", status="queued", model="m", progress=-4).progress == 0
    assert ProviderJob(native_id="n", status="queued", model="m", progress=True).progress == 0
    assert ProviderJob(native_id="n", status="queued", model="m", poll_after_ms=10**12).poll_after_ms is None


def test_an_error_code_is_cut_to_what_the_store_holds() -> None:
    job = ProviderJob(
        native_id="n", status="failed", model="m", error=VideoError(code="x" * 1000, message="m")
    )
    assert job.error is not None
    assert (len(job.error.code), job.error.message) == (255, "m")


@pytest.mark.parametrize(
    ("reported", "read"), [(5_760, 5_760), (0, 0), (-5, None), (True, None), (2.0, None), (10**20, 2**53)]
)
def test_a_token_count_that_is_no_count_is_not_reported(reported: object, read: int | None) -> None:
    """Not reported: the job is charged its bound, never less (a negative read as 0 charged nothing)."""
    assert Usage(output_tokens=reported).output_tokens == read  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["9" * 33, "1280x720\x00", "\ud800x720"])
def test_a_size_the_store_cannot_hold_is_not_reported(text: str) -> None:
    """The remix records ``native.size or source.size``: over 32 characters (PostgreSQL's column), a
    NUL or an unpaired surrogate failed the record's save after the provider had made the job."""
    job = ProviderJob(native_id="n", status="queued", model="m", size=text, seconds=text[:17])
    assert (job.size, job.seconds) == (None, None)
    kept = ProviderJob(native_id="n", status="queued", model="m", size="1" * 32, seconds="1" * 16)
    assert (kept.size, kept.seconds) == ("1" * 32, "1" * 16)


@pytest.mark.parametrize("native_id", ["n" * 1025, "task\x00", "task\udc80"])
def test_a_job_id_the_store_cannot_hold_makes_the_reply_unusable(native_id: str) -> None:
    with pytest.raises(InternalServerError) as caught:
        ProviderJob(native_id=native_id, status="queued", model="m")
    assert caught.value.status_code == 500
    assert "job id cannot be stored" in caught.value.message
    assert ProviderJob(native_id="n" * 1024, status="queued", model="m").native_id == "n" * 1024
