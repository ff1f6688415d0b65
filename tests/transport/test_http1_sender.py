"""``Http1Sender`` against scripted loopback servers: what it does itself (keep-alive, the reply framings,
decompression, redirects, a stale pooled connection, the pool's limit, cancellation, TLS, a header that
cannot go on the wire) and what it hands to aiohttp. The behaviour it shares with the aiohttp sender
(the wire, encoded URLs, timeouts, proxies) is tested on both in ``test_aiohttp_sender.py``."""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ipaddress
import json
import socket
import ssl
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tests.support.live import live_server

from vidgate.errors import APIConnectionError, Timeout
from vidgate.providers.base import HttpCall, HttpReply
from vidgate.transport import AsyncRunner, RetryPolicy, http1_sender
from vidgate.transport.http import SendFailure
from vidgate.transport.http1_sender import MAX_REDIRECTS, USER_AGENT, Http1Sender

Reader = asyncio.StreamReader
Writer = asyncio.StreamWriter


async def read_request(reader: Reader) -> tuple[str, dict[str, str], bytes]:
    """One request off the stream: its request line, headers (lower-case names) and body."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    line, *fields = head[:-4].split("\r\n")
    headers = {}
    for text in fields:
        name, _, value = text.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return line, headers, body


def reply(status: int, body: bytes = b"", *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status} X", *headers]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


Script = Callable[[Reader, Writer, int], Awaitable[None]]


@asynccontextmanager
async def scripted(script: Script) -> AsyncIterator[str]:
    """A loopback server running ``script(reader, writer, n)`` for its n-th connection (from 0)."""
    opened = 0

    async def serve(reader: Reader, writer: Writer) -> None:
        nonlocal opened
        n, opened = opened, opened + 1
        try:
            await script(reader, writer, n)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):  # the test ended
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


async def get_once(script: Script) -> HttpReply:
    """``GET /`` from a fresh sender to a server running ``script``."""
    async with scripted(script) as base:
        sender = Http1Sender()
        try:
            return await sender.exchange(HttpCall("GET", base + "/"))
        finally:
            await sender.aclose()


async def test_connections_are_kept_alive_and_reused() -> None:
    seen: list[tuple[int, str]] = []

    async def script(reader: Reader, writer: Writer, n: int) -> None:
        while True:
            line, _, _ = await read_request(reader)
            seen.append((n, line))
            writer.write(reply(200, b"ok"))

    async with scripted(script) as base:
        sender = Http1Sender()
        try:
            for _ in range(3):
                assert (await sender.exchange(HttpCall("GET", base + "/a"))).content == b"ok"
        finally:
            await sender.aclose()
    assert seen == [(0, "GET /a HTTP/1.1")] * 3


async def test_an_idle_connection_is_closed_after_the_keep_alive_expiry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Even when no later call to that origin comes to find it expired, as aiohttp's connector does."""
    monkeypatch.setattr(http1_sender, "KEEPALIVE_SECONDS", 0.2)
    closed = asyncio.Event()

    async def script(reader: Reader, writer: Writer, n: int) -> None:
        await read_request(reader)
        writer.write(reply(200, b"ok"))
        assert await reader.read() == b""  # the client closed it
        closed.set()

    async with scripted(script) as base:
        sender = Http1Sender()
        try:
            await sender.exchange(HttpCall("GET", base + "/"))
            async with asyncio.timeout(5):
                await closed.wait()
        finally:
            await sender.aclose()


async def test_a_reply_that_closes_the_connection_is_not_reused() -> None:
    async def script(reader: Reader, writer: Writer, n: int) -> None:
        await read_request(reader)
        writer.write(reply(200, str(n).encode(), "Connection: close"))

    async with scripted(script) as base:
        sender = Http1Sender()
        try:
            got = [(await sender.exchange(HttpCall("GET", base + "/"))).content for _ in range(2)]
        finally:
            await sender.aclose()
    assert got == [b"0", b"1"]


@pytest.mark.parametrize(
    ("framing", "raw"),
    [
        (
            "chunked",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        ),
        ("close-delimited", b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello world"),
        ("after 103", b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + reply(200, b"hello world")),
    ],
)
async def test_reply_framings(framing: str, raw: bytes) -> None:
    async def script(reader: Reader, writer: Writer, n: int) -> None:
        await read_request(reader)
        writer.write(raw)
        await writer.drain()

    got = await get_once(script)
    assert (got.status, got.content) == (200, b"hello world"), framing
    assert "link" not in got.headers  # the 103's headers are not the reply's


async def test_a_reply_delimited_by_the_close_and_cut_by_a_reset_is_a_connection_error() -> None:
    async def script(reader: Reader, writer: Writer, n: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npart of it")
        await writer.drain()
        await asyncio.sleep(0.05)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = reset
        writer.transport.abort()

    async with scripted(script) as base:
        runner = AsyncRunner(retry=RetryPolicy(max_retries=0), sender=Http1Sender())
        try:
            with pytest.raises(APIConnectionError, match="Server disconnected"):
                await runner.send(HttpCall("GET", base + "/"))
        finally:
            await runner.aclose()


@pytest.mark.parametrize(
    ("coding", "encoded"),
    [
        ("gzip", gzip.compress(b'{"id": "v"}')),
        ("deflate", zlib.compress(b'{"id": "v"}')),
        ("deflate", zlib.compress(b'{"id": "v"}')[2:-4]),  # raw deflate, as some servers send it
    ],
)
async def test_compressed_replies_are_decoded(coding: str, encoded: bytes) -> None:
    asked: list[dict[str, str]] = []

    async def script(reader: Reader, writer: Writer, n: int) -> None:
        _, headers, _ = await read_request(reader)
        asked.append(headers)
        writer.write(reply(200, encoded, f"Content-Encoding: {coding}", f"Content-Length: {len(encoded)}"))

    got = await get_once(script)
    assert got.json() == {"id": "v"}
    assert asked[0]["accept-encoding"] == "gzip, deflate"
    assert asked[0]["user-agent"] == USER_AGENT


async def test_a_reply_that_does_not_decode_is_a_connection_error() -> None:
    async def script(reader: Reader, writer: Writer, n: int) -> None:
        await read_request(reader)
        writer.write(reply(200, b"not gzip", "Content-Encoding: gzip", "Content-Length: 8"))

    async with scripted(script) as base:
        sender = Http1Sender()
        runner = AsyncRunner(retry=RetryPolicy(max_retries=0), sender=sender)
        try:
            with pytest.raises(APIConnectionError, match="cannot decode the gzip reply"):
                await runner.send(HttpCall("GET", base + "/"))
        finally:
            await runner.aclose()


def stale_after_first(seen: list[tuple[int, str]]) -> Script:
    """Answers the first request of connection 0 keeping it alive, then closes it without answering
    the next (a server's keep-alive timeout racing the request); later connections answer everything."""

    async def script(reader: Reader, writer: Writer, n: int) -> None:
        while True:
            line, _, _ = await read_request(reader)
            seen.append((n, line))
            if n == 0 and len(seen) > 1:
                return  # closed, nothing answered
            writer.write(reply(200, f"{n}".encode()))

    return script


async def test_an_idempotent_request_on_a_stale_connection_is_sent_again_on_a_new_one() -> None:
    seen: list[tuple[int, str]] = []
    async with scripted(stale_after_first(seen)) as base:
        sender = Http1Sender()
        try:
            await sender.exchange(HttpCall("GET", base + "/first"))
            again = await sender.exchange(HttpCall("GET", base + "/second"))
        finally:
            await sender.aclose()
    assert again.content == b"1"
    assert seen == [(0, "GET /first HTTP/1.1"), (0, "GET /second HTTP/1.1"), (1, "GET /second HTTP/1.1")]


async def test_a_create_on_a_stale_connection_fails_and_is_not_sent_again() -> None:
    """The provider may have acted on it: the runner must not retry it either (not "never sent")."""
    seen: list[tuple[int, str]] = []
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async with scripted(stale_after_first(seen)) as base:
        runner = AsyncRunner(retry=RetryPolicy(max_retries=2), sleep=sleep, sender=Http1Sender())
        try:
            await runner.send(HttpCall("GET", base + "/first"))
            with pytest.raises(APIConnectionError, match="Server disconnected"):
                await runner.send(HttpCall("POST", base + "/v1/videos", json={}, retry_safe=False))
        finally:
            await runner.aclose()
    assert seen == [(0, "GET /first HTTP/1.1"), (0, "POST /v1/videos HTTP/1.1")]
    assert slept == []


async def test_a_create_on_a_pooled_connection_already_closing_goes_on_a_new_one() -> None:
    """Closing under way (the server's close read, ``connection_lost`` not yet delivered): nothing can be
    written on it, so nothing was sent, and even a create may go on a new connection (the pool skips it;
    were it handed out, the exchange would find it unwritable and go again on a new one)."""
    seen: list[tuple[int, str]] = []

    async def script(reader: Reader, writer: Writer, n: int) -> None:
        while True:
            line, _, _ = await read_request(reader)
            seen.append((n, line))
            writer.write(reply(200, f"{n}".encode()))

    async with scripted(script) as base:
        sender = Http1Sender()
        try:
            await sender.exchange(HttpCall("GET", base + "/first"))
            [[pooled]] = sender._idle.values()
            assert pooled.transport is not None
            pooled.transport.close()  # closing now; its connection_lost comes on a later loop turn
            created = await sender.exchange(HttpCall("POST", base + "/v1/videos", json={}, retry_safe=False))
        finally:
            await sender.aclose()
    assert created.content == b"1"
    assert seen == [(0, "GET /first HTTP/1.1"), (1, "POST /v1/videos HTTP/1.1")]


async def test_redirects_change_method_and_credentials_as_aiohttp_does() -> None:
    seen: list[tuple[str, str | None, bytes]] = []
    other_origin = ""

    async def other(reader: Reader, writer: Writer, n: int) -> None:
        while True:
            line, headers, body = await read_request(reader)
            seen.append((line, headers.get("authorization"), body))
            writer.write(reply(200, b"there"))

    async def script(reader: Reader, writer: Writer, n: int) -> None:
        while True:
            line, headers, body = await read_request(reader)
            seen.append((line, headers.get("authorization"), body))
            path = line.split()[1]
            if path == "/see-other":
                writer.write(reply(303, b"", "Location: /landed"))
            elif path == "/temporary":
                writer.write(reply(307, b"", "Location: /landed"))
            elif path == "/away":
                writer.write(reply(302, b"", f"Location: {other_origin}/elsewhere"))
            else:
                writer.write(reply(200, b"here"))

    async with scripted(other) as there, scripted(script) as base:
        other_origin = there
        sender = Http1Sender()
        auth = {"Authorization": "Bearer sk"}
        try:
            landed = await sender.exchange(HttpCall("POST", base + "/see-other", headers=auth, json={"a": 1}))
            kept = await sender.exchange(HttpCall("POST", base + "/temporary", headers=auth, json={"a": 1}))
            away = await sender.exchange(HttpCall("GET", base + "/away", headers=auth))
        finally:
            await sender.aclose()
    assert (landed.status, landed.url, kept.url, away.content) == (
        200,
        base + "/landed",
        base + "/landed",
        b"there",
    )
    assert seen == [
        ("POST /see-other HTTP/1.1", "Bearer sk", b'{"a":1}'),
        ("GET /landed HTTP/1.1", "Bearer sk", b""),
        ("POST /temporary HTTP/1.1", "Bearer sk", b'{"a":1}'),
        ("POST /landed HTTP/1.1", "Bearer sk", b'{"a":1}'),
        ("GET /away HTTP/1.1", "Bearer sk", b""),
        ("GET /elsewhere HTTP/1.1", None, b""),  # another origin: no credentials
    ]


async def test_a_redirect_loop_ends_in_a_connection_error() -> None:
    count = 0

    async def script(reader: Reader, writer: Writer, n: int) -> None:
        nonlocal count
        while True:
            await read_request(reader)
            count += 1
            writer.write(reply(302, b"", "Location: /again"))

    async with scripted(script) as base:
        sender = Http1Sender()
        try:
            with pytest.raises(SendFailure) as caught:
                await sender.exchange(HttpCall("GET", base + "/"))
        finally:
            await sender.aclose()
    assert isinstance(caught.value.error, APIConnectionError)
    assert f"more than {MAX_REDIRECTS} redirects" in caught.value.error.message
    assert count == MAX_REDIRECTS + 1


async def test_a_header_that_cannot_go_on_the_wire_as_it_is_is_never_sent_by_it() -> None:
    """A CR/LF in a value would inject a header: the call goes to aiohttp, which refuses it."""
    heads: list[dict[str, str]] = []

    async def script(reader: Reader, writer: Writer, n: int) -> None:
        _, headers, _ = await read_request(reader)
        heads.append(headers)
        writer.write(reply(200, b"ok"))

    async with scripted(script) as base:
        sender = Http1Sender()
        try:
            with pytest.raises(ValueError, match="header injection"):
                await sender.exchange(HttpCall("GET", base + "/", headers={"x-key": "k\r\nX-Injected: 1"}))
        finally:
            await sender.aclose()
    assert heads == []


async def test_head_goes_to_aiohttp() -> None:
    """A HEAD reply has a length but no body; the parser cannot know that, aiohttp does."""

    async def script(reader: Reader, writer: Writer, n: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        await writer.drain()

    async with scripted(script) as base:
        sender = Http1Sender(httpx.Timeout(5.0))
        try:
            got = await sender.exchange(HttpCall("HEAD", base + "/"))
        finally:
            await sender.aclose()
    assert (got.status, got.content, got.headers["content-length"]) == (200, b"", "100")


async def test_the_pool_limit_holds_calls_and_a_long_wait_never_sends() -> None:
    release = asyncio.Event()
    active = 0
    most = 0

    async def script(reader: Reader, writer: Writer, n: int) -> None:
        nonlocal active, most
        while True:
            await read_request(reader)
            active += 1
            most = max(most, active)
            await release.wait()
            active -= 1
            writer.write(reply(200, b"ok"))

    async with scripted(script) as base:
        sender = Http1Sender(httpx.Timeout(5.0, pool=0.2), limit=2)
        try:
            held = [asyncio.create_task(sender.exchange(HttpCall("GET", base + "/"))) for _ in range(2)]
            await asyncio.sleep(0.1)
            with pytest.raises(SendFailure) as caught:
                await sender.exchange(HttpCall("POST", base + "/v1/videos", json={}, retry_safe=False))
            release.set()
            assert [r.status for r in await asyncio.gather(*held)] == [200, 200]
        finally:
            await sender.aclose()
    assert most == 2
    assert isinstance(caught.value.error, Timeout)
    assert caught.value.never_sent


async def test_a_cancelled_call_does_not_leave_its_connection_in_the_pool() -> None:
    answered = asyncio.Event()

    async def script(reader: Reader, writer: Writer, n: int) -> None:
        await read_request(reader)
        if n == 0:
            await asyncio.sleep(0.3)
            writer.write(reply(200, b"late"))  # the cancelled call's reply, never read
            await writer.drain()
            answered.set()
            await asyncio.sleep(1)
            return
        writer.write(reply(200, b"fresh"))

    async with scripted(script) as base:
        sender = Http1Sender()
        try:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.1):
                    await sender.exchange(HttpCall("GET", base + "/"))
            await answered.wait()
            got = await sender.exchange(HttpCall("GET", base + "/"))
        finally:
            await sender.aclose()
    assert got.content == b"fresh"


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


async def _echo(request: Request) -> Response:
    return JSONResponse({"scheme": request.url.scheme, "body": json.loads(await request.body())})


async def test_https_with_the_trust_it_is_given(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    app = Starlette(routes=[Route("/v1/videos", _echo, methods=["POST"])])
    with live_server(app, ssl_certfile=str(cert), ssl_keyfile=str(key)) as url:
        base = url.replace("http://", "https://")
        trusting = ssl.create_default_context(cafile=str(cert))
        sender = Http1Sender(ssl_context=trusting)
        untrusting = Http1Sender()  # httpx's trust store: the self-signed certificate is refused
        try:
            got = await sender.exchange(HttpCall("POST", base + "/v1/videos", json={"a": 1}))
            again = await sender.exchange(HttpCall("POST", base + "/v1/videos", json={"a": 2}))
            with pytest.raises(SendFailure) as caught:
                await untrusting.exchange(HttpCall("POST", base + "/v1/videos", json={}))
        finally:
            await sender.aclose()
            await untrusting.aclose()
    assert got.json() == {"scheme": "https", "body": {"a": 1}}
    assert again.json()["body"] == {"a": 2}
    assert isinstance(caught.value.error, APIConnectionError)
    assert caught.value.never_sent  # the handshake failed: nothing was sent
