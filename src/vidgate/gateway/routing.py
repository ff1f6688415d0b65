"""Deployments and how a create picks one: load balancing, cooldowns after upstream failures, and
fallbacks to other public model names.

Only creates are routed. Every follow-up (status, content, remix, delete) goes to the deployment that
created the job, looked up by id with ``Router.get``; a job is never moved to another deployment.

A create is a paid call, so a failed one falls back only when the provider certainly did not start a
job (``create_failure``): an explicit refusal (429, 503), a connection that was never established, or
the provider refusing the gateway's own credentials (401/403). A failure after the request may have
reached the provider (read timeout, connection broken mid-request, 500/502/504, anything else 5xx) is
*ambiguous*: the provider may have created a paid job the gateway knows nothing about, and another
deployment would make a second one. It is answered with ``upstream_outcome_unknown`` (502, or 504 for
timeouts) and not retried. A 4xx about the request itself never falls back either: every deployment
would refuse it the same way.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from vidgate.catalog import ModelSpec
from vidgate.errors import APIConnectionError, APIError, Timeout
from vidgate.providers.base import Credentials

RoutingStrategy = Literal["simple-shuffle", "least-busy"]
ROUTING_STRATEGIES: tuple[str, ...] = ("simple-shuffle", "least-busy")


@dataclass(frozen=True)
class Deployment:
    """One configured upstream: a public model name served by ``provider``'s ``model`` with these
    credentials. ``spec`` is the catalogue row that validates requests and prices them."""

    id: str
    model_name: str
    provider: str
    model: str  # the name the provider's wire format wants (an Azure deployment name, ...)
    spec: ModelSpec
    credentials: Credentials = field(default_factory=Credentials)
    price_per_second: Decimal | None = None  # overrides the catalogue's rate
    rpm: int | None = None
    weight: float = 1.0
    allow_retired: bool = False  # the operator keeps serving the model past its retirement date
    drop_params: bool = False  # leave out parameters the model cannot honour (catalog.drop), not a 400
    provider_callbacks: bool = False  # creates register the gateway's callback URL with the provider
    # The longest wait in seconds for the provider to connect or send its next bytes (LiteLLM's
    # ``timeout``); None: the transport's default (10 s to connect, 600 s between bytes).
    timeout: float | None = None


CreateFailure = Literal["refused", "ambiguous", "rejected"]
UPSTREAM_AUTH_FAILED = "upstream_authentication_failed"  # the code of ``calls.upstream_auth_failed``


def create_failure(error: APIError) -> CreateFailure:
    """What a failed create tells about the provider's side.

    ``refused``: no job was started (429, 503, the connection was never established, the provider
    refused the gateway's credentials): safe to try another deployment. ``ambiguous``: the request may
    have reached the provider and a job may exist (timeouts, a connection broken after sending, 5xx,
    a 408 reply). ``rejected``: the provider refused the request itself (4xx): final."""
    if error.code == UPSTREAM_AUTH_FAILED or (error.provider is not None and error.status_code in (401, 403)):
        return "refused"
    if isinstance(error, APIConnectionError) and error.never_sent:  # whichever client sent it
        return "refused"
    if error.status_code in (429, 503):
        return "refused"
    if error.status_code == 408 or error.status_code >= 500 or isinstance(error, APIConnectionError):
        return "ambiguous"
    return "rejected"


def outcome_unknown(dep: Deployment, error: APIError) -> APIError:
    """The answer to an ambiguous create failure: 504 for a timeout, else 502, in OpenAI's envelope."""
    timed_out = isinstance(error, Timeout) or error.status_code in (408, 504)
    return APIError(
        f"Creating the video on deployment '{dep.id}' ({dep.model_name}) failed after the request may have "
        f"reached the provider ({error.message}), so the upstream outcome is unknown: the provider may have "
        "started a job. The gateway did not retry it on another deployment (that could start a second "
        "paid job). It looks for the job at the provider: if found, the video appears in your list and "
        "is charged as usual; if not, it is listed as failed and nothing is charged.",
        status_code=504 if timed_out else 502,
        code="upstream_outcome_unknown",
        type="upstream_error",
        provider=dep.provider,
    )


@dataclass
class _Health:
    failures: int = 0
    cooldown_until: float = 0.0
    in_flight: int = 0


class Router:
    """Picks deployments for a public model name. State (cooldowns, in-flight counts) is per process."""

    def __init__(
        self,
        deployments: Iterable[Deployment],
        *,
        strategy: RoutingStrategy = "simple-shuffle",
        fallbacks: dict[str, list[str]] | None = None,
        cooldown_time: float = 30.0,
        allowed_fails: int = 0,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.deployments: tuple[Deployment, ...] = tuple(deployments)
        self.strategy = strategy
        self.fallbacks = {k: list(v) for k, v in (fallbacks or {}).items()}
        self.cooldown_time = cooldown_time
        self.allowed_fails = allowed_fails
        self._clock = clock
        self._rng = rng or random.Random()
        self._by_id = {d.id: d for d in self.deployments}
        self._by_name: dict[str, list[Deployment]] = {}
        for dep in self.deployments:
            self._by_name.setdefault(dep.model_name, []).append(dep)
        self._health: dict[str, _Health] = {d.id: _Health() for d in self.deployments}

    # ---- lookups -------------------------------------------------------------------------------

    def model_names(self) -> list[str]:
        return list(self._by_name)

    def has_model(self, model_name: str) -> bool:
        return model_name in self._by_name

    def get(self, deployment_id: str) -> Deployment | None:
        """The pinned deployment of a job, or None if it is no longer configured."""
        return self._by_id.get(deployment_id)

    def deployments_for(self, model_name: str) -> list[Deployment]:
        return list(self._by_name.get(model_name, ()))

    # ---- choosing ------------------------------------------------------------------------------

    def cooling(self, deployment_id: str) -> bool:
        return self._health[deployment_id].cooldown_until > self._clock()

    def order(self, model_name: str) -> list[Deployment]:
        """The model's deployments in the order to try them: healthy ones by the strategy, then those
        cooling down (still worth a try when nothing else is left)."""
        healthy, cooling = self._split(self.deployments_for(model_name))
        return healthy + cooling

    def plan(self, model_name: str, *, may_use: Callable[[str], bool]) -> list[Deployment]:
        """Every deployment a create may try: the healthy ones of the model, then of each fallback model
        the caller ``may_use`` (``Principal.may_use``: a key limited to some models never reaches
        another through a fallback) in order; deployments cooling down come last (a last resort,
        soonest-recovering first)."""
        healthy: list[Deployment] = []
        cooling: list[Deployment] = []
        seen: set[str] = set()
        for name in [model_name, *(f for f in self.fallbacks.get(model_name, []) if may_use(f))]:
            fresh = [d for d in self.deployments_for(name) if d.id not in seen]
            seen.update(d.id for d in fresh)
            ok, cool = self._split(fresh)
            healthy += ok
            cooling += cool
        return healthy + sorted(cooling, key=lambda d: self._health[d.id].cooldown_until)

    def _split(self, deps: list[Deployment]) -> tuple[list[Deployment], list[Deployment]]:
        now = self._clock()
        healthy = [d for d in deps if self._health[d.id].cooldown_until <= now]
        cooling = [d for d in deps if self._health[d.id].cooldown_until > now]
        return self._arrange(healthy), sorted(cooling, key=lambda d: self._health[d.id].cooldown_until)

    def _arrange(self, deps: list[Deployment]) -> list[Deployment]:
        if len(deps) <= 1:
            return deps
        if self.strategy == "least-busy":
            shuffled = deps[:]
            self._rng.shuffle(shuffled)  # ties broken at random
            return sorted(shuffled, key=lambda d: self._health[d.id].in_flight)
        remaining = deps[:]
        ordered: list[Deployment] = []
        while remaining:  # weighted sampling without replacement
            weights = [max(d.weight, 0.0) for d in remaining]
            if sum(weights) <= 0:
                weights = [1.0] * len(remaining)
            pick = self._rng.choices(range(len(remaining)), weights=weights)[0]
            ordered.append(remaining.pop(pick))
        return ordered

    # ---- feedback ------------------------------------------------------------------------------

    @contextmanager
    def in_flight(self, deployment_id: str) -> Iterator[None]:
        """Counts a create in progress on the deployment (what least-busy balances)."""
        health = self._health[deployment_id]
        health.in_flight += 1
        try:
            yield
        finally:
            health.in_flight -= 1

    def health(self, deployment_id: str) -> tuple[float, int]:
        """Seconds of cooldown left (0 when healthy) and creates in flight, in this process."""
        health = self._health[deployment_id]
        return max(0.0, health.cooldown_until - self._clock()), health.in_flight

    def report_failure(self, deployment_id: str) -> None:
        """An upstream failure: more than ``allowed_fails`` in a row cools it down for ``cooldown_time``."""
        health = self._health[deployment_id]
        health.failures += 1
        if health.failures > self.allowed_fails:
            health.cooldown_until = self._clock() + self.cooldown_time
            health.failures = 0

    def report_success(self, deployment_id: str) -> None:
        health = self._health[deployment_id]
        health.failures = 0
        health.cooldown_until = 0.0
