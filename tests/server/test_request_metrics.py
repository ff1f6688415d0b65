"""The per-request series expose exactly what prometheus_client's own Counter and Histogram do for the
same observations (the library is the reference)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from vidgate.server.metrics import LATENCY_BUCKETS
from vidgate.server.request_metrics import RequestMetrics

OBSERVED = [
    ("/v1/videos/{video_id}", "GET", 200, 0.0004),
    ("/v1/videos/{video_id}", "GET", 200, 0.0005),  # on a bound: counted in that bucket (le)
    ("/v1/videos/{video_id}", "GET", 404, 0.0031),
    ("/v1/videos", "POST", 200, 0.012),
    ("/v1/videos", "POST", 429, 0.0007),
    ("/v1/videos", "POST", 200, 45.0),  # beyond the last bound: +Inf only
    ("unmatched", "GET", 404, 0.00001),
]


def test_the_exposition_equals_prometheus_clients_for_the_same_observations() -> None:
    reference = CollectorRegistry()
    counter = Counter(
        "vidgate_requests", "HTTP requests answered", ["route", "method", "status"], registry=reference
    )
    histogram = Histogram(
        "vidgate_request_duration_seconds",
        "Time to answer a request (to the start of the response body for streams)",
        ["route", "method"],
        buckets=LATENCY_BUCKETS,
        registry=reference,
    )
    ours = CollectorRegistry()
    metrics = RequestMetrics(LATENCY_BUCKETS)
    ours.register(metrics)
    for route, method, status, seconds in OBSERVED:
        counter.labels(route, method, str(status)).inc()
        histogram.labels(route, method).observe(seconds)
        metrics.observe(route, method, status, seconds)
    assert generate_latest(ours).decode() == generate_latest(reference).decode()


def test_figures_written_in_the_test() -> None:
    registry = CollectorRegistry()
    metrics = RequestMetrics((0.001, 0.01))
    registry.register(metrics)
    for seconds in (0.0005, 0.001, 0.002, 5.0):
        metrics.observe("/v1/videos", "GET", 200, seconds)
    text = generate_latest(registry).decode()
    assert 'vidgate_requests_total{method="GET",route="/v1/videos",status="200"} 4.0' in text
    assert 'vidgate_request_duration_seconds_bucket{le="0.001",method="GET",route="/v1/videos"} 2.0' in text
    assert 'vidgate_request_duration_seconds_bucket{le="0.01",method="GET",route="/v1/videos"} 3.0' in text
    assert 'vidgate_request_duration_seconds_bucket{le="+Inf",method="GET",route="/v1/videos"} 4.0' in text
    assert 'vidgate_request_duration_seconds_count{method="GET",route="/v1/videos"} 4.0' in text
    assert 'vidgate_request_duration_seconds_sum{method="GET",route="/v1/videos"} 5.0035' in text
