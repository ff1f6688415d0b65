"""Selecting and running guardrails: LiteLLM's key fields, concurrency, failure modes, decisions."""

from __future__ import annotations

import asyncio

import pytest
from tests.support.guards import configured, guardrails

from vidgate.errors import ContentPolicyViolationError, ServiceUnavailableError
from vidgate.gateway.guardrails import GuardInput, Verdict
from vidgate.gateway.observer import Observer
from vidgate.gateway.records import KeyRecord


async def allow(subject: GuardInput) -> Verdict:
    return Verdict.allow()


async def refuse(subject: GuardInput) -> Verdict:
    return Verdict.refuse("not today", "prompt")


async def explode(subject: GuardInput) -> Verdict:
    raise RuntimeError("backend down")


async def hang(subject: GuardInput) -> Verdict:
    await asyncio.sleep(60)
    return Verdict.allow()


class Decisions(Observer):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []
        self.refusals: list[str] = []

    def guardrail_decision(self, guardrail: str, mode: str, decision: str) -> None:
        self.seen.append((guardrail, mode, decision))

    def refused(self, guardrail: str, model: str, key_id: str | None, message: str) -> None:
        self.refusals.append(guardrail)


def key(**metadata: object) -> KeyRecord:
    return KeyRecord(id="key_1", key_hash="h", key_prefix="sk-", metadata=dict(metadata))


SUBJECT = GuardInput(mode="pre_call", model="m", texts=(("prompt", "a cat"),), key_id="key_1")


def test_selection_follows_litellms_key_fields() -> None:
    engine = guardrails(
        configured(allow, name="global-a"),
        configured(allow, name="global-b"),
        configured(allow, name="opt-in", default_on=False),
        configured(allow, name="output", modes=("post_call",)),
    )

    def names(k: KeyRecord | None, mode: str = "pre_call") -> list[str]:
        return [g.name for g in engine.active(k, mode)]  # type: ignore[arg-type]

    assert names(None) == ["global-a", "global-b"]  # the master key: the default ones
    assert names(key()) == ["global-a", "global-b"]
    assert names(key(guardrails=["opt-in"])) == ["global-a", "global-b", "opt-in"]
    assert names(key(disable_global_guardrails=True)) == []
    assert names(key(disable_global_guardrails=True, guardrails=["opt-in"])) == ["opt-in"]
    assert names(key(opted_out_global_guardrails=["global-a"])) == ["global-b"]
    assert names(key(guardrails={"global-b": False, "opt-in": True})) == ["global-a", "opt-in"]
    assert names(key(), "post_call") == ["output"]


async def test_a_refusal_is_a_400_naming_the_guardrail_and_counted() -> None:
    decisions = Decisions()
    engine = guardrails(configured(allow, name="ok"), configured(refuse, name="strict"), observer=decisions)
    with pytest.raises(ContentPolicyViolationError) as caught:
        await engine.pre_call(key(), SUBJECT)
    error = caught.value
    assert (error.status_code, error.code, error.type, error.param) == (
        400, "content_policy_violation", "content_policy_violation", "prompt",
    )  # fmt: skip
    assert error.message == "Your request was refused by the guardrail 'strict': not today."
    assert sorted(decisions.seen) == [("ok", "pre_call", "allowed"), ("strict", "pre_call", "refused")]
    assert decisions.refusals == ["strict"]


async def test_errors_and_timeouts_fail_closed_by_default() -> None:
    decisions = Decisions()
    engine = guardrails(
        configured(explode, name="broken"), configured(hang, name="slow", timeout=0.05), observer=decisions
    )
    with pytest.raises(ServiceUnavailableError) as caught:
        await engine.pre_call(key(), SUBJECT)
    assert (caught.value.status_code, caught.value.code) == (503, "guardrail_unavailable")
    assert "'broken'" in caught.value.message
    assert sorted(decisions.seen) == [
        ("broken", "pre_call", "error_blocked"),
        ("slow", "pre_call", "error_blocked"),
    ]


async def test_fail_open_lets_the_request_through_but_a_refusal_still_wins() -> None:
    decisions = Decisions()
    engine = guardrails(configured(explode, name="lenient", fail_open=True), observer=decisions)
    await engine.pre_call(key(), SUBJECT)
    assert decisions.seen == [("lenient", "pre_call", "error_allowed")]
    both = guardrails(configured(explode, name="broken"), configured(refuse, name="strict"))
    with pytest.raises(ContentPolicyViolationError, match="strict"):
        await both.pre_call(key(), SUBJECT)
