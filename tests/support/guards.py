"""Guardrails made of a test's own function, for tests of the pipeline around them."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from vidgate.gateway.guardrails import ConfiguredGuardrail, GuardInput, Verdict
from vidgate.gateway.guardrails.base import Mode
from vidgate.gateway.guardrails.engine import Guardrails
from vidgate.gateway.guardrails.loading import factories
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


PLUGIN_ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "vidgate_test_guard"


@contextmanager
def guard_plugin(site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``tests/fixtures/vidgate_test_guard`` installed as pip would: a dist-info registering
    ``no_word = vidgate_test_guard:build`` in the ``vidgate.guardrails`` group."""
    dist = site / "vidgate_test_guard-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: vidgate-test-guard\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[vidgate.guardrails]\nno_word = vidgate_test_guard:build\n")
    monkeypatch.syspath_prepend(str(PLUGIN_ROOT))
    monkeypatch.syspath_prepend(str(site))
    factories.cache_clear()
    try:
        yield
    finally:
        factories.cache_clear()
        for name in [m for m in sys.modules if m.split(".")[0] == "vidgate_test_guard"]:
            del sys.modules[name]
