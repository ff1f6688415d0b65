"""The gateway's provider exchanges over HTTP/1.1 on asyncio, parsed by llhttp (``httptools``).

Why not aiohttp for these: a small provider call (a create, a poll) cost the gateway 173 µs of CPU
through aiohttp and 84 µs this way (``bench/clients.py`` prints all three clients in one run); at one
connection a create's added latency fell by about 100 µs. That call was the largest piece of a create at
one connection after the two SQLite transactions. The parsing is llhttp's (Node's parser, the one
uvicorn serves with), TLS is the ``ssl`` module's with httpx's trust store, and the body is exactly what
the aiohttp and httpx paths send (``aiohttp_sender.encode``). What this module does itself is small and
checked strictly:

- The request head: the call's headers (printable ASCII only), ``Host``, ``Content-Length`` (``0`` on
  an empty POST/PUT/PATCH, as httpx), and ``Accept``, ``Accept-Encoding: gzip, deflate`` and
  ``User-Agent`` where the call set none. A gzip or deflate reply is decompressed.
- A keep-alive pool per origin (``limit`` exchanges at once; waiting for one counts against the
  pool timeout). An idle connection is dropped after ``KEEPALIVE_SECONDS`` or when the server
  closes it. A reused connection that the server closed just as the request went out gets no byte
  back: an idempotent request is then sent once more on a new connection, anything else fails
  without a retry (the provider may have acted on it), as in aiohttp. A request found unwritable
  (the connection closing) was never sent: it goes once more on a new connection, whatever it is.
- Redirects (when the call follows them) as aiohttp follows them: 303, and 301/302 after a POST,
  become a GET without a body; ``Authorization`` is dropped when the origin changes (except an
  upgrade to https on the same host); at most ``MAX_REDIRECTS``.
- Timeouts and failures map to the same vidgate errors as the other paths, with the same "never
  sent" rule for retries (a refused or timed-out connect, or no free connection in time).

Calls outside that (a proxy in the environment, HEAD, credentials in the URL, a URL or header that is
not plain ASCII) go to ``AiohttpSender``, so they behave as before.
"""

from __future__ import annotations

import asyncio
import functools
import re
import ssl
import urllib.request
import zlib
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any, cast
from urllib.parse import SplitResult, urljoin, urlsplit

import httptools
import httpx

from vidgate.providers.base import HttpCall, HttpReply
from vidgate.transport.aiohttp_sender import AiohttpSender, encode
from vidgate.transport.http import DEFAULT_TIMEOUT, call_timeout, connection_failed, timed_out

# Under the 5 s idle timeout of uvicorn and Node.js servers (httpx and aiohttp_sender keep 5 s): a create
# sent on a connection the server is closing at that moment gets no reply, and its outcome is unknown.
KEEPALIVE_SECONDS = 4.0
MAX_REDIRECTS = 10  # aiohttp's default
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_IDEMPOTENT = frozenset({"GET", "OPTIONS", "TRACE", "PUT", "DELETE"})
_EMPTY_BODY_LENGTH = frozenset({"POST", "PUT", "PATCH"})  # httpx sends Content-Length: 0 on these
_DEFAULT_PORTS = {"http": 80, "https": 443}
_TARGET = re.compile(r"[\x21-\x7e]+")  # a URL as it goes in the request line: no space, no control
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # a header name: an RFC 9110 token
_VALUE = re.compile(r"[\t\x20-\x7e]*")  # a header value: printable ASCII and tabs, no CR or LF
_ONE_WRITE = 64 * 1024  # a body up to this size goes out in the same write as the head


def _user_agent() -> str:
    try:
        return f"vidgate/{version('vidgate')}"
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "vidgate"


USER_AGENT = _user_agent()


@dataclass(frozen=True)
class _Origin:
    scheme: str
    host: str
    port: int


@dataclass(frozen=True)
class _Target:
    """Where a request goes: its origin, the ``Host`` header and the request target, as given."""

    origin: _Origin
    host_header: str
    path: str

    @staticmethod
    def of(url: str) -> _Target | None:
        """None when the URL is one this module leaves to aiohttp (see the module docstring)."""
        if not _TARGET.fullmatch(url):
            return None
        parts = urlsplit(url)
        origin = _origin(parts.scheme, parts.netloc)
        if origin is None:
            return None
        path = parts.path or "/"
        return _Target(origin, parts.netloc, f"{path}?{parts.query}" if parts.query else path)


@functools.lru_cache(maxsize=256)
def _origin(scheme: str, netloc: str) -> _Origin | None:
    """The origin of an http(s) URL's parts (cached: a gateway calls a handful of hosts)."""
    if scheme not in _DEFAULT_PORTS or not netloc or "@" in netloc:
        return None
    parts = SplitResult(scheme, netloc, "", "", "")
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:  # a port that is not a number, or out of range
        return None
    return _Origin(scheme, parts.hostname, port) if parts.hostname else None


def _head(method: str, target: _Target, headers: dict[str, str], body: bytes | None) -> bytes | None:
    """The request head, or None when a header cannot be sent as it is (aiohttp then decides)."""
    names = set()
    lines = [f"{method} {target.path} HTTP/1.1"]
    for name, value in headers.items():
        if not _NAME.fullmatch(name) or not _VALUE.fullmatch(value):
            return None
        names.add(name.lower())
        lines.append(f"{name}: {value}")
    if "host" not in names:
        lines.insert(1, f"Host: {target.host_header}")
    if "content-length" not in names and "transfer-encoding" not in names:
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        elif method in _EMPTY_BODY_LENGTH:
            lines.append("Content-Length: 0")
    if "accept" not in names:
        lines.append("Accept: */*")
    if "accept-encoding" not in names:
        lines.append("Accept-Encoding: gzip, deflate")
    if "user-agent" not in names:
        lines.append(f"User-Agent: {USER_AGENT}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


_Raw = tuple[int, list[tuple[bytes, bytes]], bytes, bool]  # status, headers, body, keep-alive


class _Lost(Exception):
    """The connection ended before the reply did; ``answered``: some of the reply had arrived; ``sent``:
    the request had been written (else it certainly never reached the server)."""

    def __init__(self, why: str, *, answered: bool, sent: bool = True) -> None:
        super().__init__(why)
        self.answered = answered
        self.sent = sent


class _ReadTimeout(Exception):
    pass


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: one exchange at a time, parsed as the bytes arrive."""

    def __init__(self, loop: asyncio.AbstractEventLoop, read_timeout: float | None) -> None:
        self._loop = loop
        self._read_timeout = read_timeout
        self._waiting = read_timeout  # the running exchange's read timeout
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._waiter: asyncio.Future[_Raw] | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._answered = False
        self._headers_done = False
        self._last_read = 0.0
        self._timer: asyncio.TimerHandle | None = None

    # ---- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass, but one in kind

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():  # bytes nobody asked for: not reusable
            self.close()
            return
        self._answered = True
        self._last_read = self._loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(_Lost("the server switched protocols", answered=True))
        except httptools.HttpParserError as exc:
            self._fail(_Lost(f"invalid HTTP reply ({exc})", answered=True))

    def eof_received(self) -> bool:
        return False  # close the transport: connection_lost finishes a reply delimited by the close

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is None or self._waiter.done():
            return
        if exc is None and self._headers_done and self._delimited_by_close():  # a reset truncates it
            self._complete(keep_alive=False)
            return
        why = f"Server disconnected ({exc})" if exc else "Server disconnected"
        self._fail(_Lost(why, answered=self._answered))

    # ---- httptools callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._waiter is None or self._waiter.done():  # more after the reply: the stream is not in step
            self.close()

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._parser.get_status_code() < 200:  # 1xx (100 Continue, 103 Early Hints): the reply follows
            self._headers, self._body, self._headers_done = [], [], False
            return
        self._complete(keep_alive=self._parser.should_keep_alive())

    # ---- the exchange --------------------------------------------------------------------------

    async def exchange(self, head: bytes, body: bytes | None, read_timeout: float | None = None) -> _Raw:
        """Send the request; the reply's status, headers, body and whether the connection may be reused.
        ``read_timeout``: this exchange's own (the call's), else the connection's."""
        if not self.usable:
            raise _Lost("Server disconnected", answered=False, sent=False)
        assert self.transport is not None
        self._headers, self._body = [], []
        self._answered = self._headers_done = False
        waiter: asyncio.Future[_Raw] = self._loop.create_future()
        self._waiter = waiter
        if body is not None and len(body) <= _ONE_WRITE:
            self.transport.write(head + body)
        else:
            self.transport.write(head)
            if body is not None:
                self.transport.write(body)
        self._waiting = self._read_timeout if read_timeout is None else read_timeout
        if self._waiting is not None:
            self._last_read = self._loop.time()
            self._timer = self._loop.call_at(self._last_read + self._waiting, self._check_read)
        try:
            return await waiter
        finally:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._waiter = None

    @property
    def usable(self) -> bool:
        """Open, and not closing (a server's close may be under way before ``connection_lost``)."""
        return not self.closed and self.transport is not None and not self.transport.is_closing()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _check_read(self) -> None:
        """The read timeout, as aiohttp's ``sock_read``: the longest wait for the next bytes."""
        assert self._waiting is not None
        self._timer = None
        if self._waiter is None or self._waiter.done():
            return
        due = self._last_read + self._waiting
        if self._loop.time() < due:
            self._timer = self._loop.call_at(due, self._check_read)
            return
        self._fail(_ReadTimeout())

    def _delimited_by_close(self) -> bool:
        """A reply with neither Content-Length nor chunked encoding ends when the server closes."""
        names = {name.lower() for name, _ in self._headers}
        return b"content-length" not in names and b"transfer-encoding" not in names

    def _complete(self, *, keep_alive: bool) -> None:
        assert self._waiter is not None
        if not self._waiter.done():
            status = self._parser.get_status_code()
            self._waiter.set_result((status, self._headers, b"".join(self._body), keep_alive))
            self._headers, self._body = [], []

    def _fail(self, error: Exception) -> None:
        self.close()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)


class Http1Sender:
    """The gateway's ``Sender``: a keep-alive pool per origin, opened on first use in the running loop."""

    def __init__(
        self,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        *,
        limit: int = 100,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._timeout = timeout
        self._limit = limit
        self._ssl = ssl_context
        self._slots: asyncio.Semaphore | None = None
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._pruning: asyncio.TimerHandle | None = None  # the next sweep of expired idle connections
        self._fallback = AiohttpSender(timeout, limit=limit)
        self._proxied: bool | None = None  # whether the environment names a proxy (then: aiohttp)

    async def aclose(self) -> None:
        if self._pruning is not None:
            self._pruning.cancel()
            self._pruning = None
        for connections in self._idle.values():
            for conn in connections:
                conn.close()
        self._idle.clear()
        await self._fallback.aclose()

    async def exchange(self, call: HttpCall) -> HttpReply:
        """Send ``call`` and read the whole reply; a transport failure raises ``SendFailure``."""
        if self._proxied is None:
            self._proxied = bool(urllib.request.getproxies())
        target = None if self._proxied or call.method == "HEAD" else _Target.of(call.url)
        if target is None:
            return await self._fallback.exchange(call)
        url, headers, body = encode(call)
        method = call.method
        if url != call.url:  # httpx added the query string (``params``)
            target = _Target.of(url)
        head = None if target is None else _head(method, target, headers, body)
        if target is None or head is None:
            return await self._fallback.exchange(call)
        for _ in range(MAX_REDIRECTS + 1):
            reply = await self._send(call, url, target, head, body, idempotent=method in _IDEMPOTENT)
            location = reply.headers.get("location")
            if not (call.follow_redirects and reply.status in _REDIRECTS and location):
                return reply
            following = _redirect(url, method, headers, body, reply.status, location)
            url, method, headers, body = following
            target = _Target.of(url)
            head = None if target is None else _head(method, target, headers, body)
            if target is None or head is None:
                raise connection_failed(
                    _where(call), f"cannot follow the redirect to {url!r}", never_sent=False
                )
        raise connection_failed(_where(call), f"more than {MAX_REDIRECTS} redirects", never_sent=False)

    async def _send(
        self, call: HttpCall, url: str, target: _Target, head: bytes, body: bytes | None, *, idempotent: bool
    ) -> HttpReply:
        where = _where(call)
        limits = self._timeout if call.read_timeout is None else call_timeout(call.read_timeout)
        slots = self._slots_now()
        if slots.locked():
            try:
                async with asyncio.timeout(limits.pool):
                    await slots.acquire()
            except TimeoutError as exc:
                raise timed_out(where, "ConnectTimeout", never_sent=True) from exc
        else:
            await slots.acquire()
        try:
            conn = self._pooled(target.origin)
            reused, retried = conn is not None, False
            while True:
                if conn is None:
                    conn = await self._connect(target.origin, where, limits.connect)
                try:
                    status, raw, content, keep_alive = await conn.exchange(head, body, call.read_timeout)
                except _Lost as lost:
                    stale = reused and not lost.answered and idempotent
                    if (stale or not lost.sent) and not retried:
                        conn.close()  # a stale keep-alive connection, or nothing sent: once more, anew
                        conn, reused, retried = None, False, True
                        continue
                    raise connection_failed(where, lost, never_sent=not lost.sent) from lost
                except _ReadTimeout as exc:
                    raise timed_out(where, "ReadTimeout", never_sent=False) from exc
                except BaseException:  # cancelled mid-exchange: the connection's state is unknown
                    conn.close()
                    raise
                break
            if keep_alive and conn.usable:
                self._keep(target.origin, conn)
            else:
                conn.close()
        finally:
            slots.release()
        headers = _merged(raw)
        return HttpReply(status=status, headers=headers, content=_decoded(content, headers, where), url=url)

    def _slots_now(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._limit)
        return self._slots

    def _keep(self, origin: _Origin, conn: _Connection) -> None:
        loop = asyncio.get_running_loop()
        conn.idle_since = loop.time()
        self._idle.setdefault(origin, []).append(conn)
        if self._pruning is None:
            self._pruning = loop.call_later(KEEPALIVE_SECONDS, self._prune, loop)

    def _prune(self, loop: asyncio.AbstractEventLoop) -> None:
        """Close the idle connections past ``KEEPALIVE_SECONDS`` (as aiohttp's connector does), so an
        origin no longer called holds no socket; again while any stay idle."""
        self._pruning = None
        now = loop.time()
        for origin, idle in list(self._idle.items()):
            fresh = [conn for conn in idle if conn.usable and now - conn.idle_since < KEEPALIVE_SECONDS]
            for conn in idle:
                if conn not in fresh:
                    conn.close()
            if fresh:
                self._idle[origin] = fresh
            else:
                del self._idle[origin]
        if self._idle:
            self._pruning = loop.call_later(KEEPALIVE_SECONDS, self._prune, loop)

    def _pooled(self, origin: _Origin) -> _Connection | None:
        """The most recently used idle connection to ``origin`` still open and fresh, if any."""
        idle = self._idle.get(origin)
        if not idle:
            return None
        now = asyncio.get_running_loop().time()
        while idle:
            conn = idle.pop()
            if conn.usable and now - conn.idle_since < KEEPALIVE_SECONDS:
                return conn
            conn.close()
        return None

    async def _connect(self, origin: _Origin, where: str, connect_timeout: float | None) -> _Connection:
        loop = asyncio.get_running_loop()
        conn = _Connection(loop, self._timeout.read)
        tls: dict[str, Any] = {}
        if origin.scheme == "https":
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()
            tls = {"ssl": self._ssl, "server_hostname": origin.host}
        try:
            async with asyncio.timeout(connect_timeout):
                await loop.create_connection(lambda: conn, origin.host, origin.port, **tls)
        except TimeoutError as exc:
            conn.close()
            raise timed_out(where, "ConnectTimeout", never_sent=True) from exc
        except OSError as exc:  # refused, unreachable, DNS, TLS handshake (ssl.SSLError is an OSError)
            conn.close()
            raise connection_failed(where, exc or type(exc).__name__, never_sent=True) from exc
        return conn


def _where(call: HttpCall) -> str:
    """The call as failures name it (the URL as the flow gave it)."""
    return f"{call.method} {call.url}"


def _redirect(
    url: str,
    method: str,
    headers: dict[str, str],
    body: bytes | None,
    status: int,
    location: str,
) -> tuple[str, str, dict[str, str], bytes | None]:
    """The request a redirect asks for, by aiohttp's rules (see the module docstring)."""
    following = urljoin(url, location)
    if status == 303 or (status in (301, 302) and method == "POST"):
        method, body = "GET", None
        headers = {k: v for k, v in headers.items() if k.lower() not in ("content-length", "content-type")}
    before, after = urlsplit(url), urlsplit(following)
    upgraded = before.hostname == after.hostname and before.scheme == "http" and after.scheme == "https"
    same = (before.scheme, before.hostname, before.port) == (after.scheme, after.hostname, after.port)
    if not same and not upgraded:
        headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    return following, method, headers, body


def _merged(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Lower-case names; a repeated header's values joined with ", " (as httpx and aiohttp_sender)."""
    merged: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        merged[key] = f"{merged[key]}, {text}" if key in merged else text
    return merged


def _decoded(content: bytes, headers: dict[str, str], where: str) -> bytes:
    coding = headers.get("content-encoding", "").strip().lower()
    if not content or coding not in ("gzip", "x-gzip", "deflate"):
        return content
    try:
        if coding == "deflate":  # zlib-wrapped as the RFC says, or raw as some servers send it
            try:
                return zlib.decompress(content)
            except zlib.error:
                return zlib.decompress(content, -zlib.MAX_WBITS)
        return zlib.decompress(content, 16 + zlib.MAX_WBITS)
    except zlib.error as exc:
        raise connection_failed(where, f"cannot decode the {coding} reply ({exc})", never_sent=False) from exc
