"""The gateway's request/reply exchanges with providers on aiohttp: those ``http1_sender`` hands over (a
proxy in the environment, HEAD, credentials in the URL, a URL or header that is not plain ASCII).

Why not httpx here: a small provider call (a create, a poll) costs about a quarter of the CPU through
aiohttp's C parser and thin client (``bench/clients.py`` prints both in one run). What goes on the wire
is built exactly as the httpx path builds it (``encode``: forms, multipart and query strings through
``httpx.Request``; a JSON body, and a body-less call to a URL httpx keeps, encoded directly to the same
request, header names as the call gives them), the TLS trust is httpx's, and failures map to the same
vidgate errors with the same "never sent" rule for retries. Streams (downloads) stay on httpx;
the SDK does not use this module at all (aiohttp is a ``vidgate[server]`` dependency only).
"""

from __future__ import annotations

import json
import re
import ssl
import urllib.request

import aiohttp
import httpx
from yarl import URL

from vidgate.providers.base import HttpCall, HttpReply
from vidgate.transport.http import (
    DEFAULT_TIMEOUT,
    SendFailure,
    call_timeout,
    connection_failed,
    request_kwargs,
    timed_out,
)

KEEPALIVE_SECONDS = 5.0  # httpx's keep-alive expiry: an idle connection is not reused after it


class AiohttpSender:
    """One pooled aiohttp session (opened on first use, inside the running loop)."""

    def __init__(self, timeout: httpx.Timeout = DEFAULT_TIMEOUT, *, limit: int = 100) -> None:
        self._timeout = _client_timeout(timeout)
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._ssl: ssl.SSLContext | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._ssl = httpx.create_ssl_context()
            connector = aiohttp.TCPConnector(
                limit=self._limit, keepalive_timeout=KEEPALIVE_SECONDS, ssl=self._ssl
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                # HTTP(S)_PROXY / NO_PROXY are honoured as httpx honours them; without any set, aiohttp
                # would still look them (and ~/.netrc) up in a worker thread on every request, which
                # tripled the CPU of a call (bench/clients.py).
                trust_env=bool(urllib.request.getproxies()),
                auto_decompress=True,
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def exchange(self, call: HttpCall) -> HttpReply:
        """Send ``call`` and read the whole reply; a transport failure raises ``SendFailure``."""
        url, headers, body = encode(call)
        session = self._open()
        try:
            async with session.request(
                call.method,
                URL(url, encoded=True),  # already encoded: aiohttp must not re-quote (signed URLs)
                data=body,
                headers=headers,
                skip_auto_headers=_NO_TYPE if call.method in _BODY_METHODS and not _typed(headers) else None,
                allow_redirects=call.follow_redirects,
                timeout=self._timeout
                if call.read_timeout is None
                else _client_timeout(call_timeout(call.read_timeout)),
            ) as response:
                content = await response.read()
                merged: dict[str, str] = {}
                for name, value in response.headers.items():
                    key = name.lower()
                    merged[key] = f"{merged[key]}, {value}" if key in merged else value
                return HttpReply(
                    status=response.status, headers=merged, content=content, url=str(response.url)
                )
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise failure(exc, call) from exc


def _client_timeout(timeout: httpx.Timeout) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(
        total=None,
        connect=timeout.pool,  # waiting for a pooled connection and connecting
        sock_connect=timeout.connect,
        sock_read=timeout.read,
    )


# aiohttp labels an untyped POST/PUT/PATCH (even an empty one) application/octet-stream; httpx sends
# no type. Asked per request, only then: a skip list makes aiohttp rebuild the header set of the request.
_NO_TYPE = ("Content-Type",)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _typed(headers: dict[str, str]) -> bool:
    return any(name.lower() == "content-type" for name in headers)


# A URL httpx leaves as it is: lower-case http(s) scheme and host, no default port, and a path and query
# of characters it does not percent-encode (percent escapes already made), with no "." or ".." segment
# for it to remove. Checked against httpx itself by tests/transport/test_aiohttp_sender.py.
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_PORT = r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
_NORMAL_URL = re.compile(
    rf"(?:http://{_LABEL}(?:\.{_LABEL})*(?::(?!80(?![0-9])){_PORT})?"
    rf"|https://{_LABEL}(?:\.{_LABEL})*(?::(?!443(?![0-9])){_PORT})?)"
    r"(?:/(?:[A-Za-z0-9\-_~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2}|\.(?![./?]|$))*)*"
    r"(?:\?(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*)?"
)


def encode(call: HttpCall) -> tuple[str, dict[str, str], bytes | None]:
    """The URL, headers and body the httpx path would send for ``call``. A plain JSON call (a create)
    and a call with no body to a URL httpx would not change (a poll, a delete) are encoded here the
    way httpx encodes them: through ``httpx.Request`` a poll's encoding cost 36 µs of CPU, more than
    the rest of its exchange. Anything else goes through ``httpx.Request``, so forms, multipart and
    query strings stay byte-identical."""
    if call.files is None and call.data is None and not call.params:
        if call.json is not None:
            body = json.dumps(call.json, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            headers = dict(call.headers)
            headers.setdefault("Content-Type", "application/json")
            return call.url, headers, body.encode("utf-8")
        if _NORMAL_URL.fullmatch(call.url):
            return call.url, dict(call.headers), None
    request = httpx.Request(call.method, call.url, **request_kwargs(call))
    content = request.read()
    built = {k: v for k, v in request.headers.items() if k.lower() != "host"}
    return str(request.url), built, content if content else None


def failure(exc: BaseException, call: HttpCall) -> SendFailure:
    where = f"{call.method} {call.url}"
    if isinstance(exc, aiohttp.ConnectionTimeoutError):  # waiting for a connection: never sent
        return timed_out(where, "ConnectTimeout", never_sent=True)
    if isinstance(exc, TimeoutError):  # aiohttp's read timeouts are TimeoutErrors too
        return timed_out(where, "ReadTimeout", never_sent=False)
    never = isinstance(exc, aiohttp.ClientConnectorError)  # DNS, refused, TLS handshake
    return connection_failed(where, exc or type(exc).__name__, never_sent=never)
