"""Guardrails made of a test's own function, for tests of the pipeline around them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from vidgate.gateway.guardrails import ConfiguredGuardrail, GuardInput, Guardrails, Verdict
from vidgate.gateway.guardrails.base import Mode
from vidgate.gateway.observer import Observer

Check = Callable[[GuardInput], Awaitable[Verdict]]


class FunctionGuard:
    def __init__(self, check: Check) -> None:
        self._check = check
        self.closed = False

    async def check(self, subject: GuardInput) -> Verdict:
        return await self._check(subject)

    async def aclose(self) -> None:
        self.closed = True


def configured(
    check: Check,
    *,
    name: str = "test-guard",
    modes: tuple[Mode, ...] = ("pre_call",),
    default_on: bool = True,
    fail_open: bool = False,
    timeout: float = 5.0,
) -> ConfiguredGuardrail:
    return ConfiguredGuardrail(
        name=name,
        kind="test",
        modes=frozenset(modes),
        default_on=default_on,
        fail_open=fail_open,
        timeout=timeout,
        guard=FunctionGuard(check),
    )


def guardrails(*guards: ConfiguredGuardrail, observer: Observer | None = None) -> Guardrails:
    return Guardrails(guards, observer)
