"""OpenTelemetry spans of the gateway's steps (admission, guardrails, the provider call, each poll,
settlement, the content copy), through the OpenTelemetry API only: without a tracer installed
(``install``, done by the server when tracing is configured) every span is a no-op.

A job keeps the W3C ``traceparent`` of the request that created it (``JobRecord.trace_parent``), so
the background poller's spans for it (polls, settlement, content copy) join the create's trace, in
whichever replica runs them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = ["SpanKind", "enabled", "install", "parent_context", "span", "trace_id", "traceparent"]

_PROPAGATOR = TraceContextTextMapPropagator()
_tracer: trace.Tracer = trace.NoOpTracer()
_enabled = False


def install(tracer: trace.Tracer | None) -> None:
    """Trace with ``tracer`` from now on (None: stop tracing)."""
    global _tracer, _enabled
    _tracer = tracer if tracer is not None else trace.NoOpTracer()
    _enabled = tracer is not None


def enabled() -> bool:
    return _enabled


def parent_context(carrier: Mapping[str, str] | None) -> Context | None:
    """The context of a W3C ``traceparent`` (a request's headers, a job's stored value), or None."""
    if not _enabled or not carrier:
        return None
    return _PROPAGATOR.extract(dict(carrier))


@contextmanager
def span(
    name: str,
    attributes: Mapping[str, str | int | float | bool | None] | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    parent: str | None = None,
    context: Context | None = None,
) -> Iterator[Span]:
    """A span around a step, as a child of the current span, or of ``parent`` (a stored
    ``traceparent``) / ``context`` when given. An exception ends it with an error status."""
    if not _enabled:
        yield trace.INVALID_SPAN
        return
    if context is None and parent:
        context = parent_context({"traceparent": parent})
    attrs = {k: v for k, v in (attributes or {}).items() if v is not None}
    with _tracer.start_as_current_span(name, context=context, kind=kind, attributes=attrs) as current:
        yield current


def traceparent() -> str | None:
    """The current span as a W3C ``traceparent`` value (None when not tracing)."""
    if not _enabled:
        return None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def trace_id() -> str | None:
    """The current trace id (32 hex), or None when not tracing."""
    if not _enabled:
        return None
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None
