"""The gateway's senders against a real loopback server: aiohttp's, and ``Http1Sender`` (which answers
most calls itself and hands the rest to aiohttp's) both put on the wire exactly what the httpx path
does, keep encoded URLs as they are, and map failures the way the httpx path does."""

from __future__ import annotations

import asyncio
import base64
import random
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from tests.support.live import free_port, live_server

from vidgate.errors import APIConnectionError, Timeout
from vidgate.providers.base import HttpCall
from vidgate.transport import AsyncRunner, RetryPolicy
from vidgate.transport.aiohttp_sender import _NORMAL_URL, AiohttpSender, encode
from vidgate.transport.http1_sender import Http1Sender

WIRE_HEADERS = ("content-type", "content-length", "authorization", "x-goog-api-key")


async def echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse(
        {
            "method": request.method,
            "raw_path": request.scope["raw_path"].decode(),
            "query": request.scope["query_string"].decode(),
            "headers": {k: v for k, v in request.headers.items() if k in WIRE_HEADERS},
            "body": base64.b64encode(body).decode(),
        }
    )


async def redirect(request: Request) -> Response:
    return RedirectResponse("/echo/after", status_code=302)


async def duplicated(request: Request) -> Response:
    response = Response(b"ok")
    response.raw_headers += [(b"x-dup", b"one"), (b"x-dup", b"two")]
    return response


async def slow(request: Request) -> Response:
    await asyncio.sleep(3)
    return Response(b"late")


APP = Starlette(
    routes=[
        Route("/echo/{rest:path}", echo, methods=["GET", "POST", "DELETE"]),
        Route("/redirect", redirect),
        Route("/dup", duplicated),
        Route("/slow", slow, methods=["GET", "POST"]),
    ]
)


SENDERS = [AiohttpSender, Http1Sender]
Sender = type[AiohttpSender] | type[Http1Sender]


@pytest.fixture(params=SENDERS, ids=lambda cls: cls.__name__)
def make(request: pytest.FixtureRequest) -> Sender:
    sender: Sender = request.param
    return sender


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with live_server(APP) as url:
        yield url


def _normalized(seen: dict[str, Any]) -> dict[str, Any]:
    """httpx picks a random multipart boundary per request: compare with it replaced. aiohttp also
    sends ``Content-Length: 0`` on a DELETE without content, which httpx leaves out (the one known
    difference on the wire; both are valid HTTP)."""
    if seen["method"] == "DELETE" and not seen["body"]:
        seen["headers"].pop("content-length", None)
    ctype = seen["headers"].get("content-type", "")
    match = re.search(r"boundary=([\w-]+)", ctype)
    if match:
        boundary = match.group(1)
        seen["headers"]["content-type"] = ctype.replace(boundary, "B")
        body = base64.b64decode(seen["body"]).replace(boundary.encode(), b"B")
        seen["body"] = base64.b64encode(body).decode()
    return seen


def _calls(base: str) -> list[HttpCall]:
    url = base + "/echo/v1/videos"
    auth = {"Authorization": "Bearer sk-test"}
    return [
        HttpCall("POST", url, headers=auth, json={"prompt": "ünïcode ✓", "seconds": 4, "n": None}),
        HttpCall("GET", url, headers={"x-goog-api-key": "k"}, params={"a": "1 2", "b": "x/y"}),
        HttpCall("POST", url, data={"prompt": "a cat", "seconds": "4"}),
        HttpCall("POST", url, data={"prompt": "a cat"}, files=[]),
        HttpCall(
            "POST",
            url,
            data={"model": "m"},
            files=[("input_reference", ("a.png", b"\x89PNG\r\n\x1a\nbytes", "image/png"))],
        ),
        HttpCall("POST", url, json={"prompt": "p"}, params={"key": "v"}),
        HttpCall("DELETE", url, headers=auth),
        HttpCall("POST", url + "/cancel", headers=auth),
    ]


async def test_the_wire_is_the_httpx_paths(base: str, make: Sender) -> None:
    sender = make()
    plain = AsyncRunner(retry=RetryPolicy(max_retries=0))
    try:
        for call in _calls(base):
            ours = (await sender.exchange(call)).json()
            theirs = (await plain.send(call)).json()
            assert _normalized(ours) == _normalized(theirs), call
    finally:
        await sender.aclose()
        await plain.aclose()


async def test_an_encoded_url_is_sent_as_it_is(base: str, make: Sender) -> None:
    sender = make()
    try:
        reply = await sender.exchange(
            HttpCall("GET", base + "/echo/files/a%2Fb:download?sig=x%3Dy&alt=media")
        )
    finally:
        await sender.aclose()
    seen = reply.json()
    assert seen["raw_path"] == "/echo/files/a%2Fb:download"
    assert seen["query"] == "sig=x%3Dy&alt=media"


async def test_redirects_follow_the_call(base: str, make: Sender) -> None:
    sender = make()
    try:
        followed = await sender.exchange(HttpCall("GET", base + "/redirect"))
        kept = await sender.exchange(HttpCall("GET", base + "/redirect", follow_redirects=False))
    finally:
        await sender.aclose()
    assert followed.status == 200
    assert followed.json()["raw_path"] == "/echo/after"
    assert followed.url == base + "/echo/after"
    assert kept.status == 302
    assert kept.header("Location") == "/echo/after"


async def test_repeated_reply_headers_are_joined_like_httpx(base: str, make: Sender) -> None:
    sender = make()
    try:
        reply = await sender.exchange(HttpCall("GET", base + "/dup"))
    finally:
        await sender.aclose()
    assert reply.headers["x-dup"] == "one, two"
    assert reply.content == b"ok"


async def test_a_refused_connection_is_retried_even_for_a_create(make: Sender) -> None:
    """Nothing reached the provider, so even a paid create may be sent again."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    url = f"http://127.0.0.1:{free_port()}/v1/videos"
    runner = AsyncRunner(retry=RetryPolicy(max_retries=2), sleep=sleep, sender=make())
    try:
        with pytest.raises(APIConnectionError) as caught:
            await runner.send(HttpCall("POST", url, json={"prompt": "p"}, retry_safe=False))
    finally:
        await runner.aclose()
    assert type(caught.value) is APIConnectionError
    assert f"POST {url}" in caught.value.message
    assert len(slept) == 2


async def test_a_read_timeout_is_a_timeout_and_a_create_is_not_re_sent(base: str, make: Sender) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    sender = make(httpx.Timeout(0.3, connect=5.0))
    runner = AsyncRunner(retry=RetryPolicy(max_retries=2), sleep=sleep, sender=sender)
    try:
        with pytest.raises(Timeout) as caught:
            await runner.send(HttpCall("POST", base + "/slow", json={}, retry_safe=False))
        with pytest.raises(Timeout):
            await runner.send(HttpCall("GET", base + "/slow"))  # a safe call is retried
    finally:
        await runner.aclose()
    assert "ReadTimeout" in caught.value.message
    assert len(slept) == 2


@pytest.mark.parametrize("client", ["httpx", "aiohttp", "http1"])
async def test_a_calls_own_read_timeout_bounds_it_under_the_clients(base: str, client: str) -> None:
    """A deployment's ``timeout`` reaches each call as ``read_timeout``: every client honours it over
    its own 600 s (the slow route answers after 3 s; without it the call would succeed)."""
    senders = {"httpx": None, "aiohttp": AiohttpSender(), "http1": Http1Sender()}
    runner = AsyncRunner(retry=RetryPolicy(max_retries=0), sender=senders[client])
    try:
        # the connection is opened first, unbounded: the 0.3 s then bounds the read alone (a connect on
        # a loaded machine took longer once, a ConnectTimeout where the test looks for the read's)
        assert (await runner.send(HttpCall("GET", base + "/echo/warm"))).status == 200
        with pytest.raises(Timeout) as caught:
            await runner.send(HttpCall("POST", base + "/slow", json={}, retry_safe=False, read_timeout=0.3))
    finally:
        await runner.aclose()
    assert "ReadTimeout" in caught.value.message


async def test_a_proxy_in_the_environment_is_used(
    base: str, make: Sender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As httpx does: with HTTP_PROXY set, calls go through it (here the echo server plays the proxy)."""
    monkeypatch.setenv("HTTP_PROXY", base)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    sender = make()
    try:
        reply = await sender.exchange(HttpCall("GET", "http://provider.invalid/echo/through-proxy"))
    finally:
        await sender.aclose()
    assert reply.status == 200
    assert reply.json()["raw_path"].endswith("/echo/through-proxy")


# What a body-less call's URL may hold: characters httpx keeps, ones it encodes, dots, escapes, ports.
_URL_PIECES = [*"aZ09-_~!$&'()*+,;=:@/?.%|[] é", "%2F", "%zz", "..", "/./", "/../", ":80", ":443", ":65536"]


def _random_url(rng: random.Random) -> str:
    scheme = rng.choice(["http", "https", "HTTP"])
    host = rng.choice(["a.com", "A.com", "127.0.0.1", "x-y.example", "a..b", "-a.com", "api.test"])
    port = rng.choice(["", "", ":80", ":443", ":8080", ":0", ":65535", ":65536", ":080"])
    rest = "".join(rng.choice(_URL_PIECES) for _ in range(rng.randint(0, 12)))
    return f"{scheme}://{host}{port}/{rest}" if rng.random() < 0.9 else f"{scheme}://{host}{port}"


def test_a_body_less_call_skips_httpx_only_for_a_url_httpx_keeps() -> None:
    """``encode``'s fast path for a poll or a delete sends the URL as given: only when httpx would send
    it unchanged (checked against httpx on generated URLs), else the call goes through httpx."""
    rng = random.Random(20261207)
    fast = 0
    for _ in range(20_000):
        url = _random_url(rng)
        call = HttpCall("GET", url, headers={"Authorization": "Bearer k"})
        try:
            theirs = str(httpx.Request("GET", url).url)
        except httpx.InvalidURL:
            theirs = None
        if _NORMAL_URL.fullmatch(url):
            fast += 1
            assert theirs == url
            assert encode(call) == (url, {"Authorization": "Bearer k"}, None)
        elif theirs is not None:
            assert encode(call)[0] == theirs
    assert fast > 1_000  # the generator reaches the fast path often enough to mean something
    for kept in ("http://127.0.0.1:5000/v1/videos/video_1", "https://api.x.ai/v1/videos/abc?x=1"):
        assert _NORMAL_URL.fullmatch(kept)
    for changed in ("http://a.com:80/x", "https://A.com/x", "http://a.com/x/../y", "http://a.com/a b"):
        assert not _NORMAL_URL.fullmatch(changed)
