"""Prometheus instruments, one registry per app (so several apps in one process never clash).

Requests and latency are counted by the request middleware (route template, not raw path, so the
label set stays bounded); jobs by status and spend are read from the gateway when scraped (they are
facts of the shared database, true across replicas; the per-status count is an index-only read of
``ix_jobs_deleted_status``, so it needs no cache). Upstream errors are counted as they pass: those a
request answers with by the error handlers, and those no client sees (background and refresh polls,
content copies, create attempts that fell back) through ``GatewayService.on_upstream_error``. Creates
resolved as ``upstream_outcome_unknown`` after a crash are counted through the job keeper's
``on_outcome_unknown`` (``vidgate_creates_outcome_unknown_total``: alert on any increase), and those
the provider accepted after that through the observer (``vidgate_creates_answered_late_total``).

``Metrics`` is also a gateway ``Observer``: guardrail decisions, upstream polls (each, and per job when
it ends), job durations per provider and model, money reserved, settled and released (USD, by
provider and public model name), and provider callbacks by outcome are counted as the gateway reports
them, in this replica.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from vidgate.errors import APIError, UnsupportedOperationError, UpstreamError
from vidgate.gateway.observer import Observer
from vidgate.gateway.records import JobRecord
from vidgate.server.request_metrics import RequestMetrics

disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series: half the scrape size, and nothing alerts on them

POLL_BUCKETS = (1, 2, 3, 5, 10, 20, 50, 100, 200, 500)
JOB_SECONDS_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600, 86400)
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics(Observer):
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.request_metrics = RequestMetrics(LATENCY_BUCKETS)
        self.registry.register(self.request_metrics)
        self.jobs = Gauge("vidgate_jobs", "Jobs in the store by status", ["status"], registry=self.registry)
        self.spend = Gauge(
            "vidgate_spend_usd",
            "Settled spend in USD, lifetime, every key (deleted ones too)",
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "vidgate_upstream_errors",
            "Errors from providers (on requests, background polls and content copies), by provider and "
            "status (the provider's HTTP status; 502 connection failed, 408/504 timed out)",
            ["provider", "status"],
            registry=self.registry,
        )
        self.submitted = Counter(
            "vidgate_jobs_submitted",
            "Video jobs accepted (creates and remixes), by public model name",
            ["model"],
            registry=self.registry,
        )
        self.outcome_unknown = Counter(
            "vidgate_creates_outcome_unknown",
            "Creates whose process stopped before the provider answered and whose job was not found "
            "upstream afterwards: failed upstream_outcome_unknown, not charged (alert on any increase: "
            "the provider may have generated a video nobody pays for)",
            ["provider"],
            registry=self.registry,
        )
        self.late_creates = Counter(
            "vidgate_creates_answered_late",
            "Creates the provider accepted only after the gateway had resolved their record (failed it "
            "upstream_outcome_unknown, or recorded another upstream job of the same request on it), by "
            "provider and what became of the provider's job: cancelled; "
            "cancel_owed (the first cancel failed: the poller retries it, and counts it again as "
            "cancelled_later, cancel_given_up or recorded_elsewhere); cancel_given_up, cancel_failed "
            "(failed, could not be owed) or not_cancellable (alert on these three: the provider may bill a "
            "video nobody pays for); recorded_elsewhere (another video holds it and is charged)",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.guardrail_decisions = Counter(
            "vidgate_guardrail_decisions",
            "Guardrail decisions by guardrail, mode (pre_call, post_call) and decision (allowed, refused, "
            "error_blocked: failed closed, error_allowed: failed open)",
            ["guardrail", "mode", "decision"],
            registry=self.registry,
        )
        self.upstream_polls = Counter(
            "vidgate_upstream_polls", "Status polls sent to providers", ["provider"], registry=self.registry
        )
        self.polls_per_job = Histogram(
            "vidgate_job_upstream_polls",
            "Status polls sent upstream for one job, observed when the job ends",
            ["provider"],
            buckets=POLL_BUCKETS,
            registry=self.registry,
        )
        self.job_duration = Histogram(
            "vidgate_job_duration_seconds",
            "From create to the terminal state, by provider, public model name and final status",
            ["provider", "model", "status"],
            buckets=JOB_SECONDS_BUCKETS,
            registry=self.registry,
        )
        self.provider_callbacks = Counter(
            "vidgate_provider_callbacks",
            "Provider callbacks received, by the job's provider (unknown: no job matched) and outcome: "
            "accepted (the job advanced), duplicate (its job had already ended), challenge (a URL check "
            "answered), forged (wrong token, bad signature or another job's body), unknown_job, early "
            "(the create was still running), busy (the job stayed leased), unverifiable (signing keys "
            "could not be fetched), error",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.money = {
            kind: Counter(
                f"vidgate_money_{kind}_usd",
                f"USD {kind} (reserved: taken at create; settled: charged; released: given back uncharged)",
                ["provider", "model"],
                registry=self.registry,
            )
            for kind in ("reserved", "settled", "released")
        }

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one request (``vidgate_requests``, ``vidgate_request_duration_seconds``)."""
        self.request_metrics.observe(route, method, status, seconds)

    def count_upstream_error(self, provider: str, status: int) -> None:
        """The gateway service's ``on_upstream_error`` hook."""
        self.upstream_errors.labels(provider, str(status)).inc()

    def count_request_error(self, err: APIError) -> None:
        """A provider's error a request answers with (``err.provider`` set), by the status the provider
        answered: an ``UpstreamError``'s ``provider_status``, not the 502 the caller gets for it. An
        operation the provider declares absent was refused here, with no provider call: not counted."""
        assert err.provider is not None
        if isinstance(err, UnsupportedOperationError) and not err.answered:
            return
        status = err.provider_status if isinstance(err, UpstreamError) else err.status_code
        self.count_upstream_error(err.provider, status)

    def count_outcome_unknown(self, provider: str) -> None:
        """The job keeper's ``on_outcome_unknown`` hook."""
        self.outcome_unknown.labels(provider).inc()

    # ---- the gateway's Observer ----------------------------------------------------------------

    def guardrail_decision(self, guardrail: str, mode: str, decision: str) -> None:
        self.guardrail_decisions.labels(guardrail, mode, decision).inc()

    def reserved(self, provider: str, model: str, micros: int) -> None:
        self.money["reserved"].labels(provider, model).inc(micros / 1_000_000)

    def settled(self, provider: str, model: str, micros: int) -> None:
        self.money["settled"].labels(provider, model).inc(micros / 1_000_000)

    def released(self, provider: str, model: str, micros: int) -> None:
        self.money["released"].labels(provider, model).inc(micros / 1_000_000)

    def answered_late(self, provider: str, outcome: str) -> None:
        self.late_creates.labels(provider, outcome).inc()

    def provider_callback(self, provider: str, outcome: str) -> None:
        self.provider_callbacks.labels(provider, outcome).inc()

    def polled(self, job: JobRecord) -> None:
        self.upstream_polls.labels(job.provider).inc()

    def finished(self, job: JobRecord, seconds: float) -> None:
        self.polls_per_job.labels(job.provider).observe(job.upstream_polls)
        self.job_duration.labels(job.provider, job.model_name, job.status).observe(seconds)

    def set_jobs(self, counts: dict[str, int]) -> None:
        for status in ("queued", "in_progress", "completed", "failed"):
            self.jobs.labels(status).set(counts.get(status, 0))

    def render(self) -> bytes:
        return generate_latest(self.registry)
