"""Prometheus instruments, one registry per app (so several apps in one process never clash).

Requests and latency are counted by the request middleware (route template, not raw path, so the
label set stays bounded); jobs by status and spend are read from the gateway when scraped (they are
facts of the shared database, true across replicas; the per-status count is an index-only read of
``ix_jobs_deleted_status``, so it needs no cache). Upstream errors are counted as they pass: those a
request answers with by the error handlers, and those no client sees (background and refresh polls,
content copies, create attempts that fell back) through ``GatewayService.on_upstream_error``. Creates
resolved as ``upstream_outcome_unknown`` after a crash are counted through the job keeper's
``on_outcome_unknown`` (``vidgate_creates_outcome_unknown_total``: alert on any increase).
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

disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series: half the scrape size, and nothing alerts on them

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "vidgate_requests",
            "HTTP requests answered",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "vidgate_request_duration_seconds",
            "Time to answer a request (to the start of the response body for streams)",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
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
        self._request_children: dict[tuple[str, str, int], Counter] = {}
        self._latency_children: dict[tuple[str, str], Histogram] = {}

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one request (children cached: the label lookup is the costly part)."""
        key = (route, method, status)
        counter = self._request_children.get(key)
        if counter is None:
            counter = self._request_children[key] = self.requests.labels(route, method, str(status))
        counter.inc()
        lkey = (route, method)
        hist = self._latency_children.get(lkey)
        if hist is None:
            hist = self._latency_children[lkey] = self.latency.labels(route, method)
        hist.observe(seconds)

    def count_upstream_error(self, provider: str, status: int) -> None:
        """The gateway service's ``on_upstream_error`` hook."""
        self.upstream_errors.labels(provider, str(status)).inc()

    def count_outcome_unknown(self, provider: str) -> None:
        """The job keeper's ``on_outcome_unknown`` hook."""
        self.outcome_unknown.labels(provider).inc()

    def set_jobs(self, counts: dict[str, int]) -> None:
        for status in ("queued", "in_progress", "completed", "failed"):
            self.jobs.labels(status).set(counts.get(status, 0))

    def render(self) -> bytes:
        return generate_latest(self.registry)
