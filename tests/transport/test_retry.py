"""The retry policy: which statuses are retried for which calls, Retry-After parsing, jittered backoff."""

from __future__ import annotations

import email.utils
import random
from types import SimpleNamespace

import httpx
import pytest

from vidgate.transport import retry as retry_module
from vidgate.transport.retry import RETRY_STATUSES_SAFE, RETRY_STATUSES_UNSAFE, RetryPolicy, parse_retry_after

NOW = 1_700_000_000.0


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_safe_calls_retry_transient_statuses(status: int) -> None:
    assert RetryPolicy().retry_status(status, retry_safe=True)


@pytest.mark.parametrize("status", [200, 201, 302, 400, 401, 403, 404, 422, 501])
def test_nothing_else_is_retried(status: int) -> None:
    assert not RetryPolicy().retry_status(status, retry_safe=True)
    assert not RetryPolicy().retry_status(status, retry_safe=False)


@pytest.mark.parametrize(
    ("status", "retried"), [(429, True), (503, True), (500, False), (502, False), (504, False)]
)
def test_unsafe_calls_retry_only_explicit_refusals(status: int, retried: bool) -> None:
    """A paid create is re-sent only when the provider certainly did not act on it."""
    assert RetryPolicy().retry_status(status, retry_safe=False) is retried


def test_unsafe_statuses_are_a_subset_of_safe_ones() -> None:
    assert {429, 503} == RETRY_STATUSES_UNSAFE
    assert RETRY_STATUSES_UNSAFE <= RETRY_STATUSES_SAFE


@pytest.mark.parametrize("retry_after", [0.0, 0.25, 1.0, 59.5, 60.0])
def test_delay_honours_retry_after_within_the_cap(retry_after: float) -> None:
    assert RetryPolicy().delay(0, retry_after) == retry_after
    assert RetryPolicy().delay(5, retry_after) == retry_after


@pytest.mark.parametrize("retry_after", [-1.0, 60.1, 3600.0, float("inf"), float("nan")])
def test_delay_ignores_unreasonable_retry_after(retry_after: float) -> None:
    delay = RetryPolicy(base_delay=0.5).delay(0, retry_after)
    assert 0.25 <= delay <= 0.5


def test_max_retry_after_is_configurable() -> None:
    assert RetryPolicy(max_retry_after=300).delay(0, 120.0) == 120.0


class FixedRandom:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (6, 30.0), (20, 30.0)]
)
def test_backoff_is_jittered_between_half_and_full_ceiling(
    monkeypatch: pytest.MonkeyPatch, attempt: int, ceiling: float
) -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=30.0)
    monkeypatch.setattr(retry_module, "random", FixedRandom(0.0))
    assert policy.delay(attempt) == ceiling / 2
    monkeypatch.setattr(retry_module, "random", FixedRandom(1.0))
    assert policy.delay(attempt) == ceiling


def test_backoff_samples_stay_in_bounds_and_vary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry_module, "random", random.Random(1234))
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    samples = [policy.delay(2) for _ in range(500)]
    assert all(2.0 <= s <= 4.0 for s in samples)
    assert len(set(samples)) > 400  # jittered, so concurrent clients do not retry in lockstep
    assert min(samples) < 2.2
    assert max(samples) > 3.8


def test_policy_defaults() -> None:
    policy = RetryPolicy()
    assert (policy.max_retries, policy.base_delay, policy.max_delay, policy.max_retry_after) == (
        2,
        0.5,
        30.0,
        60.0,
    )


# ---- parse_retry_after --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # the precise header wins
        ({"retry-after-ms": "soon", "retry-after": "9"}, 9.0),  # a broken one falls back
        ({}, None),
        ({"retry-after": ""}, None),
        ({"retry-after": "tomorrow-ish"}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    assert parse_retry_after(headers, now=NOW) == seconds


def test_parse_retry_after_http_date() -> None:
    date = email.utils.formatdate(NOW + 7, usegmt=True)
    assert date.endswith("GMT")
    assert parse_retry_after({"retry-after": date}, now=NOW) == 7.0


def test_parse_retry_after_http_date_without_zone_is_utc() -> None:
    date = email.utils.formatdate(NOW + 30, usegmt=True).replace("GMT", "-0000")
    assert parse_retry_after({"retry-after": date}, now=NOW) == 30.0


def test_parse_retry_after_past_date_is_zero() -> None:
    date = email.utils.formatdate(NOW - 100, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=NOW) == 0.0


def test_parse_retry_after_defaults_to_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry_module, "time", SimpleNamespace(time=lambda: NOW))
    assert parse_retry_after({"retry-after": email.utils.formatdate(NOW + 12, usegmt=True)}) == 12.0


def test_parse_retry_after_reads_httpx_headers_case_insensitively() -> None:
    assert parse_retry_after(httpx.Headers({"Retry-After": "4"})) == 4.0
    assert parse_retry_after(httpx.Headers({"Retry-After-Ms": "40"})) == 0.04


def test_parse_retry_after_without_a_mapping() -> None:
    assert parse_retry_after(object()) is None
