"""What the gateway tells observers (metrics, logging callbacks) as it happens: guardrail decisions,
money reserved, settled and released, upstream polls, jobs reaching their end, provider callbacks,
creates the provider answered after their record was failed.

``Observer`` does nothing; the server subclasses it (Prometheus, the HTTP logging callback) and the
gateway calls every method through ``Observers``, which never lets an observer's failure reach the
request or the job (it is logged)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from vidgate.gateway.records import JobRecord

log = logging.getLogger("vidgate.gateway")

__all__ = ["Observer", "Observers"]


class Observer:
    """One observer of the gateway; every method is a no-op here."""

    def guardrail_decision(self, guardrail: str, mode: str, decision: str) -> None:
        """``decision``: ``allowed``, ``refused``, ``error_blocked`` (fail closed) or ``error_allowed``."""

    def reserved(self, provider: str, model: str, micros: int) -> None:
        """A reservation was taken for a create on ``provider``/``model`` (public model name)."""

    def settled(self, provider: str, model: str, micros: int) -> None:
        """A completed job was charged ``micros``."""

    def released(self, provider: str, model: str, micros: int) -> None:
        """``micros`` of a reservation were given back without a charge."""

    def polled(self, job: JobRecord) -> None:
        """One upstream status poll of ``job`` was made (``job.upstream_polls`` counts them)."""

    def finished(self, job: JobRecord, seconds: float) -> None:
        """``job`` reached its terminal state ``seconds`` after it was created."""

    def refused(self, guardrail: str, model: str, key_id: str | None, message: str) -> None:
        """A request was refused by ``guardrail`` before anything was reserved."""

    def provider_callback(self, provider: str, outcome: str) -> None:
        """A provider called back (``gateway.provider_callbacks.OUTCOMES``); ``provider`` is the job's,
        ``unknown`` when no job matched."""

    def answered_late(self, provider: str, outcome: str) -> None:
        """A create was accepted by ``provider`` after a resolver had decided its write-ahead record;
        what became of the provider's job: ``cancelled``, ``cancel_owed`` (the first try failed: the
        poller tries again, then reports ``cancelled_later``, ``cancel_given_up`` or, when another video
        took the job meanwhile, ``recorded_elsewhere``), ``cancel_given_up`` / ``cancel_failed`` /
        ``not_cancellable`` (the provider may bill it), ``recorded_elsewhere`` (another video holds it:
        followed and charged). ``gateway.cancels`` tells them apart."""


class Observers(Observer):
    """Fan-out to every registered observer; a failing observer is logged and skipped."""

    def __init__(self, observers: Iterable[Observer] = ()) -> None:
        self.observers: list[Observer] = list(observers)

    def add(self, observer: Observer) -> None:
        self.observers.append(observer)

    def _each(self, method: str, *args: object) -> None:
        for observer in self.observers:
            try:
                getattr(observer, method)(*args)
            except Exception:
                log.exception("observer %s failed on %s", type(observer).__name__, method)

    def guardrail_decision(self, guardrail: str, mode: str, decision: str) -> None:
        self._each("guardrail_decision", guardrail, mode, decision)

    def reserved(self, provider: str, model: str, micros: int) -> None:
        self._each("reserved", provider, model, micros)

    def settled(self, provider: str, model: str, micros: int) -> None:
        self._each("settled", provider, model, micros)

    def released(self, provider: str, model: str, micros: int) -> None:
        self._each("released", provider, model, micros)

    def polled(self, job: JobRecord) -> None:
        self._each("polled", job)

    def finished(self, job: JobRecord, seconds: float) -> None:
        self._each("finished", job, seconds)

    def refused(self, guardrail: str, model: str, key_id: str | None, message: str) -> None:
        self._each("refused", guardrail, model, key_id, message)

    def provider_callback(self, provider: str, outcome: str) -> None:
        self._each("provider_callback", provider, outcome)

    def answered_late(self, provider: str, outcome: str) -> None:
        self._each("answered_late", provider, outcome)
