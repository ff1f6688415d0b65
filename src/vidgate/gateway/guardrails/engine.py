"""Which guardrails run for a request, running them, and what their answers mean.

Selection follows LiteLLM's key fields (in the key's ``metadata``): every ``default_on`` guardrail of
the mode runs unless the key sets ``disable_global_guardrails: true`` or names it in
``opted_out_global_guardrails``; a key adds others by name in ``guardrails`` (a list, or LiteLLM's
older ``{name: true|false}`` form, where ``false`` also skips a default one). The master key gets the
default ones.

The selected guardrails run concurrently, each within its ``timeout``. Any refusal wins: 400
``content_policy_violation`` naming the guardrail (pre-call), or the job failed with that code
(post-call). A guardrail that raised or timed out follows its ``unreachable_fallback``: ``fail_closed``
(default) refuses with 503 ``guardrail_unavailable`` (pre-call; nothing was reserved or sent) or fails
the job (post-call); ``fail_open`` lets it through. Each decision is logged and reported to the
observer (``guardrail_decision``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from vidgate.errors import ContentPolicyViolationError, ServiceUnavailableError
from vidgate.gateway import tracing
from vidgate.gateway.guardrails.base import GuardInput, Mode, Verdict
from vidgate.gateway.guardrails.loading import ConfiguredGuardrail
from vidgate.gateway.observer import Observer
from vidgate.gateway.records import KeyRecord

log = logging.getLogger("vidgate.gateway")

CONTENT_POLICY = "content_policy_violation"
UNAVAILABLE = "guardrail_unavailable"

__all__ = ["CONTENT_POLICY", "UNAVAILABLE", "Guardrails", "Outcome"]


@dataclass(frozen=True)
class Outcome:
    """What the selected guardrails decided: nothing to object (both None), or the first refusal
    (``refused_by`` and its verdict), or the first guardrail that failed closed (``unavailable``)."""

    refused_by: str | None = None
    verdict: Verdict | None = None
    unavailable: str | None = None

    @property
    def allowed(self) -> bool:
        return self.refused_by is None and self.unavailable is None


class Guardrails:
    def __init__(self, configured: Sequence[ConfiguredGuardrail], observer: Observer | None = None) -> None:
        self.configured = tuple(configured)
        self.names = frozenset(g.name for g in self.configured)
        self.observer = observer or Observer()

    def __bool__(self) -> bool:
        return bool(self.configured)

    def has_mode(self, mode: Mode) -> bool:
        return any(mode in g.modes for g in self.configured)

    def active(self, key: KeyRecord | None, mode: Mode) -> list[ConfiguredGuardrail]:
        """The guardrails of ``mode`` that run for ``key`` (see the module docstring)."""
        meta = key.metadata if key is not None else {}
        named = meta.get("guardrails")
        added: set[str] = set()
        skipped: set[str] = set()
        if isinstance(named, list):
            added = {n for n in named if isinstance(n, str)}
        elif isinstance(named, dict):
            added = {n for n, on in named.items() if on is True}
            skipped = {n for n, on in named.items() if on is False}
        opted_out = meta.get("opted_out_global_guardrails")
        if isinstance(opted_out, list):
            skipped |= {n for n in opted_out if isinstance(n, str)}
        no_defaults = meta.get("disable_global_guardrails") is True
        unknown = added - self.names
        if unknown:
            log.warning(
                "key %s names guardrails that are not configured: %s",
                key.id if key else "master",
                sorted(unknown),
            )
        return [
            g
            for g in self.configured
            if mode in g.modes
            and (g.name in added or (g.default_on and not no_defaults and g.name not in skipped))
        ]

    async def run(self, guards: Sequence[ConfiguredGuardrail], subject: GuardInput) -> Outcome:
        """Run ``guards`` over ``subject`` concurrently; the outcome (refusals first, in config order)."""
        if not guards:
            return Outcome()
        with tracing.span(
            "guardrails", {"vidgate.guardrail.mode": subject.mode, "vidgate.guardrails": len(guards)}
        ) as span:
            results = await asyncio.gather(*(self._one(g, subject) for g in guards))
            outcome = Outcome()
            for guard, result in zip(guards, results, strict=True):
                if isinstance(result, Verdict) and not result.allowed and outcome.refused_by is None:
                    outcome = Outcome(refused_by=guard.name, verdict=result)
            if outcome.refused_by is None:
                for guard, result in zip(guards, results, strict=True):
                    if isinstance(result, BaseException) and not guard.fail_open:
                        outcome = Outcome(unavailable=guard.name)
                        break
            span.set_attribute("vidgate.guardrail.allowed", outcome.allowed)
            return outcome

    async def _one(self, guard: ConfiguredGuardrail, subject: GuardInput) -> Verdict | BaseException:
        try:
            verdict = await asyncio.wait_for(guard.guard.check(subject), guard.timeout)
        except Exception as exc:
            decision = "error_allowed" if guard.fail_open else "error_blocked"
            log.warning(
                "guardrail %s (%s) failed on %s: %r (%s)", guard.name, guard.kind, subject.mode, exc, decision
            )
            self.observer.guardrail_decision(guard.name, subject.mode, decision)
            return exc
        decision = "allowed" if verdict.allowed else "refused"
        self.observer.guardrail_decision(guard.name, subject.mode, decision)
        if not verdict.allowed:
            log.warning(
                "guardrail %s refused a %s check (model %s, key %s, video %s): %s",
                guard.name,
                subject.mode,
                subject.model,
                subject.key_id or "master",
                subject.video_id or "-",
                verdict.reason,
            )
        return verdict

    async def pre_call(self, key: KeyRecord | None, subject: GuardInput) -> None:
        """Raise the 400 (refused) or 503 (a guardrail failed closed) for a request, or return."""
        outcome = await self.run(self.active(key, "pre_call"), subject)
        if outcome.refused_by is not None:
            assert outcome.verdict is not None
            message = (
                f"Your request was refused by the guardrail '{outcome.refused_by}': {outcome.verdict.reason}."
            )
            self.observer.refused(outcome.refused_by, subject.model, subject.key_id, message)
            raise ContentPolicyViolationError(message, param=outcome.verdict.param, code=CONTENT_POLICY)
        if outcome.unavailable is not None:
            raise ServiceUnavailableError(
                f"The guardrail '{outcome.unavailable}' could not check this request, so it was not sent; "
                "retry shortly.",
                code=UNAVAILABLE,
                retry_after=1.0,
            )

    async def aclose(self) -> None:
        for g in self.configured:
            try:
                await g.guard.aclose()
            except Exception:
                log.exception("closing guardrail %s failed", g.name)
