"""Load balancing, cooldowns and fallbacks."""

from __future__ import annotations

import random
from collections import Counter

from tests.gateway.harness import Clock

from vidgate.catalog import find_model
from vidgate.errors import (
    APIConnectionError,
    BadRequestError,
    ContentPolicyViolationError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    ServiceUnavailableError,
    Timeout,
)
from vidgate.gateway.routing import Deployment, Router, fallback_eligible

SPEC = find_model("local/local-1")
assert SPEC is not None


def _dep(dep_id: str, name: str = "m", weight: float = 1.0) -> Deployment:
    assert SPEC is not None
    return Deployment(id=dep_id, model_name=name, provider="local", model="local-1", spec=SPEC, weight=weight)


def test_simple_shuffle_follows_weights() -> None:
    router = Router([_dep("heavy", weight=3), _dep("light", weight=1)], rng=random.Random(7))
    firsts = Counter(router.plan("m")[0].id for _ in range(4000))
    assert 2700 < firsts["heavy"] < 3300
    assert sorted(d.id for d in router.plan("m")) == ["heavy", "light"]


def test_zero_weight_is_tried_last() -> None:
    router = Router([_dep("off", weight=0), _dep("on")], rng=random.Random(1))
    assert {router.plan("m")[0].id for _ in range(50)} == {"on"}


def test_least_busy_prefers_fewer_creates_in_flight() -> None:
    router = Router([_dep("a"), _dep("b"), _dep("c")], strategy="least-busy", rng=random.Random(3))
    with router.in_flight("a"), router.in_flight("a"), router.in_flight("b"):
        assert router.plan("m")[0].id == "c"
        assert [d.id for d in router.plan("m")][1:] == ["b", "a"]
    assert {router.plan("m")[0].id for _ in range(60)} == {"a", "b", "c"}  # idle again: ties at random


def test_cooldown_after_allowed_fails_and_recovery() -> None:
    clock = Clock(now=0.0)
    router = Router(
        [_dep("a"), _dep("b")], cooldown_time=30, allowed_fails=1, clock=clock, rng=random.Random(0)
    )
    router.report_failure("a")
    assert not router.cooling("a")  # one failure is allowed
    router.report_failure("a")
    assert router.cooling("a")
    assert [d.id for d in router.plan("m")] == ["b", "a"]  # cooling: last resort only
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
    assert [d.id for d in router.plan("primary")] == ["p1", "f1", "g1"]
    assert [d.id for d in router.plan("fallback")] == ["f1"]
    router.report_failure("p1")
    assert [d.id for d in router.plan("primary")] == ["f1", "g1", "p1"]
    assert router.get("f1") is not None
    assert router.get("gone") is None
    assert router.model_names() == ["primary", "fallback", "other"]


def test_which_errors_fall_back() -> None:
    assert all(
        fallback_eligible(e)
        for e in (
            RateLimitError("x"),
            ServiceUnavailableError("x"),
            InternalServerError("x"),
            APIConnectionError("x"),
            Timeout("x"),
        )
    )
    assert not any(
        fallback_eligible(e)
        for e in (BadRequestError("x"), ContentPolicyViolationError("x"), NotFoundError("x"))
    )
