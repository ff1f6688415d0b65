"""One structured JSON log line per request, request ids, and request metrics, in one ASGI middleware.
With tracing on, the middleware also opens the request's server span (``server/tracing.py``).

The line carries the request id (also answered as ``x-request-id``), method, route, status, latency,
and what the handler learned (key alias, model, video id, cost). Full request/response logging
(``request_logging`` in the config) adds the bodies, with secrets, image bytes and base64 redacted.
Nothing here touches the database: per-request overhead stays a few microseconds.

Query strings carry secrets too: Google's clients send the API key as ``?key=`` (the Gemini
pass-through accepts it), ``GET /key/info?key=sk-...`` names a key. Every query string that reaches a
log line goes through ``redact_query``: ours (full logging), and, through ``QueryRedactingFilter``,
uvicorn's own access log (when enabled), httpx's request lines, and the gateway's own warnings (an
upstream error's message names the URL it failed on).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vidgate.gateway import tracing
from vidgate.server import errors  # module import: errors renders through exposure and this module
from vidgate.server.logstream import LoopBatchingStreamHandler
from vidgate.server.metrics import Metrics
from vidgate.server.redaction import (
    REDACTED,
    SECRET_FIELDS,
    looks_like_key,
    redact_detail,
    redact_query,
    redact_url,
)

access_log = logging.getLogger("vidgate.access")
error_log = logging.getLogger("vidgate.server")

CAPTURE_LIMIT = 64 * 1024
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "x-vidgate-api-key",
        "x-litellm-api-key",
        "api-key",
        "x-api-key",
        "x-goog-api-key",
        "cookie",
    }
)
_SECRET_HEADER_WORDS = ("auth", "token", "secret", "key", "cookie", "signature", "credential", "password")
_BASE64 = re.compile(r"^[A-Za-z0-9+/=_\-\s]{256,}$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


_ID_PREFIX = secrets.token_hex(6)  # this process; the counter makes each id unique within it
_ID_COUNTER = itertools.count(1)


def _new_id_prefix() -> None:
    global _ID_PREFIX
    _ID_PREFIX = secrets.token_hex(6)


os.register_at_fork(after_in_child=_new_id_prefix)  # a forked worker is another process: another prefix


def lean_log_records() -> None:
    """Skip what no vidgate log line shows (thread, process and caller of each record): the logging
    docs' "Optimization" settings. Creating the access line's record cost ~15 % of a cached status
    poll's CPU, most of it ``os.getpid()`` and the caller's stack walk. Process-wide, so only the
    server ``vidgate serve`` runs sets it (``app_from_env``), not an app embedded elsewhere."""
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None


def new_request_id() -> str:
    """A request id unique across processes and requests: a random per-process prefix and a counter
    (ids need to be unique, not unguessable; ``secrets`` per request was a syscall on every poll)."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER):012x}"


@dataclass
class LogContext:
    """What a handler tells the access log about its request."""

    request_id: str
    key_alias: str | None = None
    key_id: str | None = None
    model: str | None = None
    video_id: str | None = None
    cost: float | None = None


def log_context(scope_state: dict[str, Any]) -> LogContext:
    ctx = scope_state.get("log")
    if not isinstance(ctx, LogContext):
        ctx = scope_state["log"] = LogContext(request_id=new_request_id())
    return ctx


class ExpressAnswer(Protocol):
    """A complete 200 reply given without routing (``server/express.py``), and the route it stands for."""

    @property
    def body(self) -> bytes: ...
    @property
    def headers(self) -> list[tuple[bytes, bytes]]: ...
    @property
    def route(self) -> Any: ...


Express = Callable[[Scope, LogContext], ExpressAnswer | None]


_EXPRESS_ASKED = "vidgate.express_asked"  # scope key: ``answer_now`` asked the lanes and had no answer


class RequestLogMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): no extra task or queue per request. ``express`` may answer a
    request before the app sees it (logged, measured and labelled the same way). A request body is
    bounded in size (``max_body_bytes``: 413) and in the wait for its next bytes (``body_timeout``
    seconds: 408, connection closed); uvicorn bounds neither."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        full_logging: bool = False,
        max_body_bytes: int = 64 << 20,
        body_timeout: float = 30.0,
        express: Express | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.full_logging = full_logging
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.express = express

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if tracing.enabled():
            parent = tracing.parent_context(_trace_headers(scope))
            method = scope.get("method", "")
            with tracing.span(
                f"{method} {scope.get('path', '')}", kind=tracing.SpanKind.SERVER, context=parent
            ) as span:
                span.set_attribute("http.request.method", method)
                await self._handle(scope, receive, send, tracing.trace_id(), span)
            return
        await self._handle(scope, receive, send, None, None)

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, trace_id: str | None, span: Any
    ) -> None:
        started = time.perf_counter()
        ctx = _request_context(scope)
        if self.express is not None and self.full_logging is False:
            status = await self._express(scope, send, ctx, trace_id)
            if status is not None:
                self._done(scope, status, started, ctx, trace_id, span, None)
                return
        rid = ctx.request_id.encode()
        status = 500
        response_started = False
        capture = _Capture() if self.full_logging else None

        body_done = False  # the last body message arrived: later receives wait for a disconnect, unbounded
        stalled = False  # the body stopped arriving: its answer closes the connection (the rest may follow)

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", rid)]
                if stalled:
                    message["headers"].append((b"connection", b"close"))
                if trace_id is not None:
                    message["headers"].append((b"x-trace-id", trace_id.encode()))
                if capture is not None:
                    capture.response_headers(message["headers"])
            elif capture is not None and message["type"] == "http.response.body":
                capture.response_body(message.get("body", b""))
            await send(message)

        received = 0
        limit = self.max_body_bytes
        body_timeout = self.body_timeout

        async def receive_wrapper() -> Message:
            nonlocal received, body_done, stalled
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout(body_timeout):
                    message = await receive()
            except TimeoutError:
                stalled = True
                raise _body_timeout(body_timeout) from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            if message["type"] == "http.request":
                body = message.get("body", b"")
                received += len(body)
                if received > limit:
                    raise _too_large(limit)
                if capture is not None:
                    capture.request_body(body)
            return message

        method = scope.get("method", "")
        has_body = method not in ("GET", "HEAD", "DELETE", "OPTIONS")
        try:
            if has_body and _declared_length(scope) > limit:
                raise _too_large(limit)
            # Without full logging ``_express`` has asked already; with it, captured like any reply.
            answer = self.express(scope, ctx) if self.express is not None and self.full_logging else None
            if answer is not None:
                scope["route"] = answer.route
                await send_wrapper({"type": "http.response.start", "status": 200, "headers": answer.headers})
                await send_wrapper({"type": "http.response.body", "body": answer.body})
            else:
                await self.app(scope, receive_wrapper if has_body else receive, send_wrapper)
        except (errors.PayloadTooLargeError, errors.RequestTimeoutError) as exc:
            status = exc.status_code
            if not response_started:
                await errors.error_response_at(scope.get("path", ""), exc)(scope, receive, send_wrapper)
        except Exception:
            _log_unhandled(scope)
            status = 500
            if not response_started:
                await errors.unexpected_error(scope.get("path", ""))(scope, receive, send_wrapper)
        finally:
            self._done(scope, status, started, ctx, trace_id, span, capture)

    def answer_now(self, scope: Scope) -> tuple[list[tuple[bytes, bytes]], bytes] | None:
        """The express answer to ``scope`` for a server that writes it itself instead of running the app
        (``server/http_protocol.py``: no task, no ASGI messages), logged and measured as ``__call__``
        logs and measures it: its headers (``x-request-id`` included) and body. None when there is none,
        or when ``__call__`` has more to do around it (a trace span, full logging): then the app runs
        as usual and does not ask the express lanes again."""
        if self.express is None or self.full_logging or tracing.enabled():
            return None
        started = time.perf_counter()
        ctx = _request_context(scope)
        reply = self._express_reply(scope, ctx, None)
        if reply is None:
            scope[_EXPRESS_ASKED] = True
            return None
        self._done(scope, 200, started, ctx, None, None, None)
        return reply

    async def _express(self, scope: Scope, send: Send, ctx: LogContext, trace_id: str | None) -> int | None:
        """Send the express answer to this request, if there is one: its status, else None (nothing
        sent). No send or receive wrappers: the reply is known whole before its first byte."""
        reply = None if scope.get(_EXPRESS_ASKED) else self._express_reply(scope, ctx, trace_id)
        if reply is None:
            return None
        headers, body = reply
        try:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        except Exception:
            _log_unhandled(scope)
            return 500
        return 200

    def _express_reply(
        self, scope: Scope, ctx: LogContext, trace_id: str | None
    ) -> tuple[list[tuple[bytes, bytes]], bytes] | None:
        """The express answer's headers and body, its route set on ``scope``; None: the app answers."""
        assert self.express is not None
        try:
            answer = self.express(scope, ctx)
        except Exception:
            _log_unhandled(scope)
            return None  # the app answers it (or fails it) the normal way
        if answer is None:
            return None
        scope["route"] = answer.route
        headers = [*answer.headers, (b"x-request-id", ctx.request_id.encode())]
        if trace_id is not None:
            headers.append((b"x-trace-id", trace_id.encode()))
        return headers, answer.body

    def _done(
        self,
        scope: Scope,
        status: int,
        started: float,
        ctx: LogContext,
        trace_id: str | None,
        span: Any,
        capture: _Capture | None,
    ) -> None:
        """The request's metrics, span attributes and access line."""
        elapsed = time.perf_counter() - started
        method = scope.get("method", "")
        route = scope.get("route")
        label = getattr(route, "path", None) or "unmatched"
        self.metrics.observe_request(label, method, status, elapsed)
        if span is not None:
            span.update_name(f"{method} {label}")
            span.set_attribute("http.route", label)
            span.set_attribute("http.response.status_code", status)
            span.set_attribute("vidgate.request_id", ctx.request_id)
        if access_log.isEnabledFor(logging.INFO):
            line: dict[str, Any] = {
                "ts": round(time.time(), 3),
                "request_id": ctx.request_id,
                "method": method,
                "path": scope.get("path"),
                "route": label,
                "status": status,
                "latency_ms": round(elapsed * 1000, 3),
                "key_alias": ctx.key_alias,
                "key_id": ctx.key_id,
                "model": ctx.model,
                "video_id": ctx.video_id,
                "cost": ctx.cost,
                "trace_id": trace_id,
            }
            if capture is not None:
                line["request"] = capture.request_summary(scope)
                line["response"] = capture.response_summary()
            write_access_line(orjson.dumps(line).decode())


def _log_unhandled(scope: Scope) -> None:
    error_log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))


def write_access_line(text: str) -> None:
    """One access line (INFO is known to be enabled). Straight to vidgate's batching handler when the
    logger does nothing else with it (``vidgate serve``'s logging config: that one handler, no filter,
    no propagation, the bare message); otherwise through ``logging`` as any record."""
    handlers = access_log.handlers
    if len(handlers) == 1 and not access_log.propagate and not access_log.filters:
        handler = handlers[0]
        if isinstance(handler, LoopBatchingStreamHandler) and handler.passes_messages():
            handler.line(text)
            return
    access_log.info(text)


def _too_large(limit: int) -> errors.PayloadTooLargeError:
    return errors.PayloadTooLargeError(
        f"The request body is larger than the {limit} bytes allowed.", code="body_too_large"
    )


def _body_timeout(seconds: float) -> errors.RequestTimeoutError:
    return errors.RequestTimeoutError(
        f"The request body stopped arriving: no bytes for {seconds:g} seconds. Send the whole body "
        "(as many bytes as its Content-Length says) without pausing.",
        code="request_body_timeout",
    )


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


def _trace_headers(scope: Scope) -> dict[str, str]:
    """The W3C trace-context headers of a request (``traceparent``, ``tracestate``)."""
    out: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        if name in (b"traceparent", b"tracestate"):
            out[name.decode()] = value.decode("latin-1")
    return out


def _request_context(scope: Scope) -> LogContext:
    """The request's log context (its id the client's valid ``X-Request-Id`` or a new one), kept in
    ``scope["state"]`` for the routes to fill in."""
    ctx = LogContext(request_id=_incoming_request_id(scope) or new_request_id())
    scope.setdefault("state", {})["log"] = ctx
    return ctx


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            return text if _REQUEST_ID.match(text) else None
    return None


class _Capture:
    """Bounded copies of the bodies for full request/response logging."""

    def __init__(self) -> None:
        self._request = bytearray()
        self._request_size = 0
        self._response = bytearray()
        self._response_size = 0
        self._response_type = ""

    def request_body(self, chunk: bytes) -> None:
        self._request_size += len(chunk)
        if len(self._request) < CAPTURE_LIMIT:
            self._request += chunk[: CAPTURE_LIMIT - len(self._request)]

    def response_headers(self, headers: list[tuple[bytes, bytes]]) -> None:
        for name, value in headers:
            if name.lower() == b"content-type":
                self._response_type = value.decode("latin-1")

    def response_body(self, chunk: bytes) -> None:
        self._response_size += len(chunk)
        if self._response_type.startswith("application/json") and len(self._response) < CAPTURE_LIMIT:
            self._response += chunk[: CAPTURE_LIMIT - len(self._response)]

    def request_summary(self, scope: Scope) -> dict[str, Any]:
        headers: dict[str, str] = {}
        ctype = ""
        for raw_name, raw_value in scope.get("headers", ()):
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            if name == "content-type":
                ctype = value
            headers[name] = REDACTED if secret_header(name, value) else value
        query = redact_query(scope.get("query_string", b"").decode("latin-1"))
        return {
            "headers": headers,
            "query": query or None,
            "body": summarize_body(bytes(self._request), ctype, self._request_size),
        }

    def response_summary(self) -> dict[str, Any]:
        if self._response_type.startswith("application/json"):
            body = summarize_body(bytes(self._response), self._response_type, self._response_size)
        else:
            body = f"[{self._response_size} bytes of {self._response_type or 'unknown type'}]"
        return {"content_type": self._response_type or None, "body": body}


def summarize_body(raw: bytes, content_type: str, total: int) -> Any:
    """A body fit for a log: JSON parsed and redacted, multipart as fields with files summarized."""
    if total == 0:
        return None
    if total > len(raw):
        return f"[{total} bytes, not logged: larger than {CAPTURE_LIMIT}]"
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == "application/json" or (not ctype and raw[:1] in (b"{", b"[")):
        try:
            return redact(orjson.loads(raw))
        except orjson.JSONDecodeError:
            return f"[{total} bytes of invalid JSON]"
    if ctype == "multipart/form-data":
        return _multipart_fields(raw, content_type)
    return f"[{total} bytes of {ctype or 'unknown type'}]"


def redact(value: Any, field: str | None = None) -> Any:
    """Secrets become ``[redacted]``; data URLs and long base64 become a length note."""
    if field is not None and field.lower() in SECRET_FIELDS and value is not None:
        return "[redacted]"
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, field) for v in value]
    if isinstance(value, str):
        if value.startswith("data:"):
            return f"[data URL, {len(value)} chars redacted]"
        if len(value) >= 256 and _BASE64.match(value):
            return f"[base64, {len(value)} chars redacted]"
        if looks_like_key(value):
            return REDACTED
    return value


def secret_header(name: str, value: str) -> bool:
    """A header that may carry a credential: a known one, one named like one (``proxy-authorization``,
    ``x-auth-token``, ...), or one whose value holds something shaped like a vidgate key."""
    lowered = name.lower()
    if lowered in SECRET_HEADERS or any(word in lowered for word in _SECRET_HEADER_WORDS):
        return True
    return any(looks_like_key(part) for part in value.split())


class QueryRedactingFilter(logging.Filter):
    """Rewrites the arguments of a log record that carry a URL with a query string (uvicorn's access
    line passes the request target as an argument, httpx the request URL) through ``redact_url``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and args:
            record.args = tuple(_redact_arg(a) for a in args)
        elif isinstance(record.msg, str) and not args:
            record.msg = redact_detail(record.msg)
        return True


def _redact_arg(arg: object) -> object:
    if isinstance(arg, str):
        return redact_detail(arg)
    if isinstance(arg, httpx.URL) and arg.query:
        return redact_url(str(arg))
    if isinstance(arg, BaseException):  # "Request timed out: GET url?...", a provider's key echo
        text = str(arg)
        redacted = redact_detail(text)
        return arg if redacted == text else redacted
    return arg


# Loggers whose lines may carry a URL (logger filters do not apply to child loggers: each is named).
# Not ``vidgate.access``: its JSON lines redact their query themselves.
REDACTED_LOGGERS = (
    "uvicorn.access",
    "uvicorn.error",
    "httpx",
    "vidgate.gateway",
    "vidgate.worker",
    "vidgate.server",
)


def install_query_redaction(names: tuple[str, ...] = REDACTED_LOGGERS) -> None:
    """Attach one ``QueryRedactingFilter`` to each named logger (idempotent: apps built in one process
    share the loggers)."""
    for name in names:
        target = logging.getLogger(name)
        if not any(isinstance(f, QueryRedactingFilter) for f in target.filters):
            target.addFilter(QueryRedactingFilter())


def _multipart_fields(raw: bytes, content_type: str) -> dict[str, Any]:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        return {"_": f"[{len(raw)} bytes of multipart without boundary]"}
    fields: dict[str, Any] = {}
    for part in raw.split(b"--" + match.group(1).encode()):
        head, sep, body = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        disposition = head.decode("latin-1")
        name = re.search(r'name="([^"]*)"', disposition)
        if name is None:
            continue
        filename = re.search(r'filename="([^"]*)"', disposition)
        body = body.removesuffix(b"\r\n")
        if filename is not None:
            fields[name.group(1)] = f"[file '{filename.group(1)}', {len(body)} bytes]"
        else:
            fields[name.group(1)] = redact(body.decode("utf-8", "replace"), name.group(1))
    return fields
