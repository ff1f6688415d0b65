"""The HTTP/1.1 protocol ``vidgate serve`` runs: uvicorn's (llhttp through httptools), except that a
request its parser refuses is answered in the API's JSON error envelope instead of uvicorn's plain-text
400 "Invalid HTTP request received.", and that a poll of finished work is answered in the protocol.

Such a request never reaches the app: llhttp stops at the first byte HTTP does not allow (a raw
non-ASCII byte in the path, a control character in a header), before uvicorn has a scope to hand over,
so no middleware or route can answer it. The one hook is the protocol's ``send_400_response``, which
this subclass overrides (``tests/server/test_http_protocol.py`` holds it to uvicorn's behaviour over a
real socket). The path was not parsed either: the envelope is Google's when the request line at the
start of the bytes that failed names a Google route (``/gemini``, ``/vertex_ai``), else OpenAI's.

A GET the express lanes answer from memory (``server/express.py``: a finished video's status, a done
Gemini operation) is written as soon as its headers are parsed (``GatewayApp.answer_now``, logged and
measured by ``RequestLogMiddleware.answer_now``): no task, no ASGI messages, one write. Such polls are
the gateway's most frequent request; this took a cached status poll from 73-81 to 61-65 µs of CPU
(``bench/ab.py --what status --connections 16``, both orders). The reply is the bytes uvicorn writes
for the route's (its default headers first, ``connection: close`` when the connection ends; the tests
compare the two over a socket), and the request then completes as uvicorn completes one (pipelined
requests, the keep-alive timer). Anything else, a client not reading its replies (writes paused), or an
app uvicorn wrapped (``--forwarded-allow-ips`` turns on its proxy-headers middleware) runs the app.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from vidgate.errors import BadRequestError
from vidgate.server.google_errors import google_error_body, google_surface

MESSAGE = (
    "The request is not valid HTTP/1.1: its request line or a header holds a byte HTTP does not allow "
    "(a path and query must be ASCII: percent-encode any other byte)."
)
_REQUEST_LINE = re.compile(rb"[A-Z]{1,20} (/[^ ?\r\n]*)")


def refusal_body(received: bytes) -> bytes:
    """The JSON answer to a request the parser refused, ``received`` being the bytes that failed."""
    err = BadRequestError(MESSAGE, code="invalid_http_request")
    line = _REQUEST_LINE.match(received)
    surface = google_surface(line.group(1).decode("latin-1")) if line is not None else None
    if surface is not None:
        return orjson.dumps(google_error_body(err, surface)[1])
    return orjson.dumps(err.to_openai())


class GatewayHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a JSON 400 for what its parser refuses and polls of finished
    work answered without running the app."""

    _received = b""

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        """Where uvicorn starts the app on a request whose headers are in: a GET the app answers now is
        written here instead."""
        answer_now = getattr(app, "answer_now", None)
        if answer_now is not None and cycle.scope["method"] == "GET" and not self.flow.write_paused:
            reply = answer_now(cycle.scope)
            if reply is not None:
                self._write_now(cycle, *reply)
                return
        # A request read with one answered here (pipelined, the same bytes): that answer armed the
        # keep-alive timer, which nothing else would stop before it closed this one's connection.
        self._unset_keepalive_if_required()
        super()._start_asgi_task(cycle, app)

    def _write_now(
        self, cycle: RequestResponseCycle, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        """Write the 200 reply to ``cycle``'s request and complete it as uvicorn's ``send`` does."""
        cycle.response_started = cycle.response_complete = True
        self._reply(b"HTTP/1.1 200 OK\r\n", headers, body, close=not cycle.keep_alive)
        self.on_response_complete()

    def _reply(self, status: bytes, headers: list[tuple[bytes, bytes]], body: bytes, *, close: bool) -> None:
        """One write of a whole reply as uvicorn lays it out: the status line, its default headers, then
        ``headers``, ``connection: close`` when ``close`` (and the connection closed after it)."""
        content = [status]
        for name, value in (*self.server_state.default_headers, *headers):
            content += [name, b": ", value, b"\r\n"]
        if close:
            content.append(b"connection: close\r\n")
        content += [b"\r\n", body]
        self.transport.write(b"".join(content))
        if close:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        self._received = data  # what a refusal reads the request line from (a reference, not a copy)
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        """As uvicorn's (the status line, its default headers, ``connection: close``, then close), with a
        JSON body; ``msg`` is uvicorn's fixed plain-text one."""
        body = refusal_body(self._received)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode("ascii")),
        ]
        self._reply(b"HTTP/1.1 400 Bad Request\r\n", headers, body, close=True)
