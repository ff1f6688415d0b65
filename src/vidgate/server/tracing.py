"""Tracing on (the ``otel`` callback): an OpenTelemetry SDK tracer provider exporting spans in batches
over OTLP/HTTP (protobuf) to the configured endpoint, installed for the gateway's spans
(``gateway.tracing``) for the app's lifetime. Each request is a server span (child of the caller's W3C
``traceparent`` when it sends one); its trace id is answered as ``x-trace-id`` and written into every
log line of the request (``TraceIdFilter``) and into its access line."""

from __future__ import annotations

import logging

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from vidgate import __version__
from vidgate.gateway import tracing

__all__ = ["TraceIdFilter", "start_tracing", "stop_tracing"]


def start_tracing(endpoint: str, *, service_name: str = "vidgate") -> TracerProvider:
    """A tracer provider exporting to ``endpoint`` (an OTLP/HTTP ``.../v1/traces`` URL), installed."""
    resource = Resource.create({SERVICE_NAME: service_name, "service.version": __version__})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    tracing.install(provider.get_tracer("vidgate", __version__))
    return provider


def stop_tracing(provider: TracerProvider) -> None:
    """Export what is buffered and stop tracing."""
    tracing.install(None)
    provider.shutdown()


class TraceIdFilter(logging.Filter):
    """Adds ``trace_id=<32 hex>`` to every record logged inside a traced request or job step (and sets
    ``record.trace_id`` for formatters that name it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        trace_id = tracing.trace_id()
        record.trace_id = trace_id or "-"
        if trace_id is not None and isinstance(record.msg, str) and "trace_id=" not in record.msg:
            record.msg = f"{record.msg} trace_id={trace_id}"
        return True
