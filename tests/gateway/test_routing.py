"""Load balancing, cooldowns and fallbacks."""

from __future__ import annotations

import random
from collections import Counter

import httpx
from tests.gateway.harness import Clock

from vidgate.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ContentPolicyViolationError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    Timeout,
)
from vidgate.gateway.calls import upstream_auth_failed
from vidgate.gateway.routing import Deployment, Router, create_failure, outcome_unknown
from vidgate.providers.catalogue import find_model

SPEC = find_model("local/local-1")
assert SPEC is not None


def _dep(dep_id: str, name: str = "m", weight: float = 1.0) -> Deployment:
    assert SPEC is not None
    return Deployment(id=dep_id, model_name=name, provider="local", model="local-1", spec=SPEC, weight=weight)


def test_simple_shuffle_follows_weights() -> None:
    router = Router([_dep("heavy", weight=3), _dep("light", weight=1)], rng=random.Random(7))
    firsts = Counter(router.plan("m", may_use=_anyone)[0].id for _ in range(4000))
    assert 2700 < firsts["heavy"] < 3300
    assert sorted(d.id for d in router.plan("m", may_use=_anyone)) == ["heavy", "light"]


def test_zero_weight_is_tried_last() -> None:
    router = Router([_dep("off", weight=0), _dep("on")], rng=random.Random(1))
    assert {router.plan("m", may_use=_anyone)[0].id for _ in range(50)} == {"on"}


def test_least_busy_prefers_fewer_creates_in_flight() -> None:
    router = Router([_dep("a"), _dep("b"), _dep("c")], strategy="least-busy", rng=random.Random(3))
    with router.in_flight("a"), router.in_flight("a"), router.in_flight("b"):
        assert router.plan("m", may_use=_anyone)[0].id == "c"
        assert [d.id for d in router.plan("m", may_use=_anyone)][1:] == ["b", "a"]
    assert {router.plan("m", may_use=_anyone)[0].id for _ in range(60)} == {
        "a",
        "b",
        "c",
    }  # idle again: ties at random


def test_cooldown_after_allowed_fails_and_recovery() -> None:
    clock = Clock(now=0.0)
    router = Router(
        [_dep("a"), _dep("b")], cooldown_time=30, allowed_fails=1, clock=clock, rng=random.Random(0)
    )
    router.report_failure("a")
    assert not router.cooling("a")  # one failure is allowed
    router.report_failure("a")
    assert router.cooling("a")
    assert [d.id for d in router.plan("m", may_use=_anyone)] == ["b", "a"]  # cooling: last resort only
    clock.advance(30)
    assert not router.cooling("a")
    router.report_failure("b")
    router.report_success("b")
    router.report_failure("b")
    assert not router.cooling("b")  # a success resets the count


def test_fallbacks_come_after_the_models_own_deployments() -> None:
    clock = Clock(now=0.0)
    router = Router(
        [_dep("p1", "primary"), _dep("f1", "fallback"), _dep("g1", "other")],
        fallbacks={"primary": ["fallback", "other"]},
        clock=clock,
    )
    assert [d.id for d in router.plan("primary", may_use=_anyone)] == ["p1", "f1", "g1"]
    assert [d.id for d in router.plan("fallback", may_use=_anyone)] == ["f1"]
    router.report_failure("p1")
    assert [d.id for d in router.plan("primary", may_use=_anyone)] == ["f1", "g1", "p1"]
    assert router.get("f1") is not None
    assert router.get("gone") is None
    assert router.model_names() == ["primary", "fallback", "other"]


def test_a_fallback_the_caller_may_not_use_is_not_planned() -> None:
    router = Router(
        [_dep("p1", "primary"), _dep("f1", "fallback"), _dep("g1", "other")],
        fallbacks={"primary": ["fallback", "other"]},
        clock=Clock(now=0.0),
    )
    assert [d.id for d in router.plan("primary", may_use=lambda name: name != "fallback")] == ["p1", "g1"]


def _anyone(model_name: str) -> bool:
    return True


def _caused(error: APIError, cause: BaseException) -> APIError:
    error.__cause__ = cause  # as the runners raise transport errors: ``raise mapped from httpx_error``
    return error


def test_only_definite_refusals_fall_back() -> None:
    request = httpx.Request("POST", "http://upstream/v1/videos")
    refused = [
        RateLimitError("x", provider="openai"),
        ServiceUnavailableError("x", provider="openai"),
        APIConnectionError("x", never_sent=True),  # refused, DNS, TLS handshake (any client)
        Timeout("x", never_sent=True),  # connecting, or waiting for a pooled connection, timed out
        AuthenticationError("x", provider="gemini"),  # the provider refused the gateway's key
        PermissionDeniedError("x", provider="vertex_ai"),
        upstream_auth_failed(_dep("d1"), AuthenticationError("bad key", provider="openai")),
    ]
    ambiguous = [
        InternalServerError("x", provider="openai"),
        APIError("x", status_code=502, provider="openai"),
        APIError("x", status_code=504, provider="openai"),
        APIError("x", status_code=599, provider="openai"),
        Timeout("x", provider="openai"),  # a 408 reply
        Timeout("x"),  # no answer in time
        APIConnectionError("x"),  # broken after sending
        # the cause an older runner chained does not count: only the error's own ``never_sent``
        _caused(APIConnectionError("x"), httpx.ConnectError("refused", request=request)),
    ]
    rejected = [
        BadRequestError("x", provider="openai"),
        ContentPolicyViolationError("x", provider="openai"),
        NotFoundError("x", provider="openai"),
        APIError("x", status_code=422, provider="openai"),
        AuthenticationError("x"),  # not from a provider
    ]
    assert [create_failure(e) for e in refused] == ["refused"] * len(refused)
    assert [create_failure(e) for e in ambiguous] == ["ambiguous"] * len(ambiguous)
    assert [create_failure(e) for e in rejected] == ["rejected"] * len(rejected)


def test_an_ambiguous_failure_is_answered_as_an_unknown_upstream_outcome() -> None:
    dep = _dep("d1")
    timed_out = outcome_unknown(dep, _caused(Timeout("read timed out"), httpx.ReadTimeout("t")))
    broken = outcome_unknown(dep, InternalServerError("boom", provider="local"))
    assert (timed_out.status_code, broken.status_code) == (504, 502)
    for error in (timed_out, broken):
        body = error.to_openai()["error"]
        assert (body["type"], body["code"]) == ("upstream_error", "upstream_outcome_unknown")
        assert "outcome is unknown" in body["message"]
        assert error.provider == "local"
