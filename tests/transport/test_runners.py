"""SyncRunner and AsyncRunner over httpx.MockTransport: the same behaviour, tested once for each.

A scripted upstream answers each request with the next action (a response or a transport failure);
sleeps are recorded, never slept.
"""

from __future__ import annotations

import email.utils
import json
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from vidgate.errors import (
    APIConnectionError,
    APIError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    ServiceUnavailableError,
    Timeout,
    UpstreamError,
    error_class_for_status,
)
from vidgate.providers.base import Download, Flow, HttpCall, HttpReply
from vidgate.transport import AsyncRunner, RetryPolicy, SyncRunner
from vidgate.transport import retry as retry_module
from vidgate.transport.http import STREAM_CHUNK

URL = "https://provider.test/v1/videos"
Action = Callable[[httpx.Request], httpx.Response]


def error_for(reply: HttpReply) -> APIError:
    return error_class_for_status(reply.status)(f"HTTP {reply.status}", status_code=reply.status)


class Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body produced lazily, optionally failing after its chunks (a dropped connection)."""

    def __init__(self, chunks: Callable[[], Iterator[bytes]], fail: Exception | None = None) -> None:
        self.chunks = chunks
        self.fail = fail

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks()
        if self.fail is not None:
            raise self.fail

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks():
            yield chunk
        if self.fail is not None:
            raise self.fail


def status(code: int, body: Any = None, **headers: str) -> Action:
    def respond(request: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes):
            return httpx.Response(code, content=body, headers=headers)
        return httpx.Response(code, json=body if body is not None else {"status": code}, headers=headers)

    return respond


def failure(exc_type: type[httpx.TransportError], message: str = "boom") -> Action:
    def respond(request: httpx.Request) -> httpx.Response:
        raise exc_type(message, request=request)

    return respond


def streaming(
    total: int,
    chunk: int = STREAM_CHUNK,
    fail: Exception | None = None,
    headers: dict[str, str] | None = None,
) -> Action:
    def chunks() -> Iterator[bytes]:
        sent = 0
        while sent < total:
            size = min(chunk, total - sent)
            yield bytes([sent // chunk % 251]) * size
            sent += size

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, stream=Body(chunks, fail))

    return respond


@dataclass
class Opened:
    media_type: str
    content_length: int | None
    status: int
    headers: dict[str, str] | None
    chunks: list[bytes]

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


class Harness:
    """One runner (sync or async) on a scripted upstream, with the same awaitable surface for both."""

    def __init__(self, mode: str, *actions: Action, retry: RetryPolicy | None = None) -> None:
        self.mode = mode
        self.actions = list(actions)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []
        transport = httpx.MockTransport(self._handle)
        policy = retry or RetryPolicy(max_retries=2)
        if mode == "sync":
            self.sync = SyncRunner(httpx.Client(transport=transport), retry=policy, sleep=self.sleeps.append)
        else:

            async def sleep(seconds: float) -> None:
                self.sleeps.append(seconds)

            self.async_ = AsyncRunner(httpx.AsyncClient(transport=transport), retry=policy, sleep=sleep)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        assert self.actions, f"unexpected request {request.method} {request.url}"
        action = self.actions.pop(0) if len(self.actions) > 1 else self.actions[0]  # the last one repeats
        return action(request)

    async def run(self, flow: Flow[Any]) -> Any:
        if self.mode == "sync":
            return self.sync.run(flow, error_for)
        return await self.async_.run(flow, error_for)

    async def send(self, call: HttpCall) -> HttpReply:
        if self.mode == "sync":
            return self.sync.send(call)
        return await self.async_.send(call)

    async def read(
        self,
        download: Download,
        headers: dict[str, str] | None = None,
        on_chunk: Callable[[int, bytes], None] | None = None,
    ) -> Opened:
        """Open ``download`` and consume it inside the context, calling ``on_chunk`` for each chunk."""
        got: list[bytes] = []
        if self.mode == "sync":
            with self.sync.open(download, error_for, headers=headers) as stream:
                for chunk in stream.chunks:
                    if on_chunk:
                        on_chunk(len(got), chunk)
                    got.append(chunk)
                return Opened(stream.media_type, stream.content_length, stream.status, stream.headers, got)
        async with self.async_.open(download, error_for, headers=headers) as astream:
            async for chunk in astream.chunks:
                if on_chunk:
                    on_chunk(len(got), chunk)
                got.append(chunk)
            return Opened(astream.media_type, astream.content_length, astream.status, astream.headers, got)

    async def read_outside(self, download: Download) -> list[bytes]:
        """Hold the context on an exit stack, read the chunks elsewhere and close the stack when done:
        how the gateway hands a live stream to its response (an error never passes through the context)."""
        got: list[bytes] = []
        if self.mode == "sync":
            stack = ExitStack()
            stream = stack.enter_context(self.sync.open(download, error_for))
            try:
                got.extend(stream.chunks)
            finally:
                stack.close()
            return got
        astack = AsyncExitStack()
        astream = await astack.enter_async_context(self.async_.open(download, error_for))
        try:
            async for chunk in astream.chunks:
                got.append(chunk)
        finally:
            await astack.aclose()
        return got


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def get(url: str = URL, **kwargs: Any) -> HttpCall:
    return HttpCall("GET", url, **kwargs)


def create(**kwargs: Any) -> HttpCall:
    return HttpCall("POST", URL, json={"prompt": "a cat"}, retry_safe=False, **kwargs)


def video(call: HttpCall | None = None) -> Download:
    return Download("video/mp4", call=call or get(f"{URL}/v1/content"))


# ---- run: flows ---------------------------------------------------------------------------------


async def test_run_drives_a_flow(mode: str) -> None:
    def flow() -> Flow[str]:
        created = yield create()
        polled = yield get(f"{URL}/{created.json()['id']}")
        return str(polled.json()["status"])

    h = Harness(mode, status(200, {"id": "v1"}), status(200, {"status": "completed"}))
    assert await h.run(flow()) == "completed"
    assert [(r.method, r.url.path) for r in h.requests] == [("POST", "/v1/videos"), ("GET", "/v1/videos/v1")]
    assert json.loads(h.requests[0].content) == {"prompt": "a cat"}
    assert h.sleeps == []


async def test_error_statuses_are_thrown_into_the_flow_which_may_continue(mode: str) -> None:
    def flow() -> Flow[str]:
        try:
            yield get(f"{URL}/gone")
        except NotFoundError as exc:
            fallback = yield get(f"{URL}/other")
            return f"{exc.status_code}-then:{fallback.json()['status']}"
        return "unexpected"

    h = Harness(mode, status(404), status(200, {"status": "queued"}))
    assert await h.run(flow()) == "404-then:queued"
    assert len(h.requests) == 2


async def test_an_uncaught_error_status_leaves_run_as_the_mapped_error(mode: str) -> None:
    def flow() -> Flow[None]:
        yield get()

    h = Harness(mode, status(404))
    with pytest.raises(NotFoundError):
        await h.run(flow())


async def test_ok_statuses_are_passed_through(mode: str) -> None:
    def flow() -> Flow[tuple[int, str | None]]:
        reply = yield get(ok_statuses=frozenset({404, 302}), follow_redirects=False)
        return reply.status, reply.header("location")

    assert await Harness(mode, status(404)).run(flow()) == (404, None)
    moved = Harness(mode, status(302, b"", location="https://cdn.test/file.mp4"))
    assert await moved.run(flow()) == (302, "https://cdn.test/file.mp4")
    assert len(moved.requests) == 1


async def test_redirects_are_followed_by_default(mode: str) -> None:
    def flow() -> Flow[tuple[int, str]]:
        reply = yield get()
        return reply.status, reply.url

    h = Harness(mode, status(302, b"", location="https://cdn.test/file"), status(200, {}))
    assert await h.run(flow()) == (200, "https://cdn.test/file")


async def test_request_shapes(mode: str) -> None:
    h = Harness(mode, status(200, {}))
    await h.send(HttpCall("GET", URL, headers={"X-Key": "k"}, params={"limit": "2"}))
    await h.send(HttpCall("POST", URL, data={"prompt": "p", "seconds": "4"}))
    await h.send(
        HttpCall(
            "POST",
            URL,
            data={"prompt": "p"},
            files=[("input_reference", ("in.png", b"\x89PNG", "image/png"))],
        )
    )
    plain, form, multipart = h.requests
    assert plain.headers["x-key"] == "k"
    assert plain.url.params["limit"] == "2"
    assert form.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form.content == b"prompt=p&seconds=4"
    assert multipart.headers["content-type"].startswith("multipart/form-data")
    assert b'name="input_reference"; filename="in.png"' in multipart.content
    assert b'name="prompt"' in multipart.content


# ---- send: retries ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "slept"),
    [({"retry-after": "3"}, 3.0), ({"retry-after-ms": "1500"}, 1.5), ({"Retry-After": "0"}, 0.0)],
)
async def test_retry_after_is_honoured(mode: str, headers: dict[str, str], slept: float) -> None:
    h = Harness(mode, status(429, **headers), status(200, {"ok": True}))
    reply = await h.send(create())
    assert reply.status == 200
    assert h.sleeps == [slept]
    assert len(h.requests) == 2


async def test_retry_after_http_date_is_honoured(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    now = 1_700_000_000.0
    monkeypatch.setattr(retry_module, "time", SimpleNamespace(time=lambda: now))
    date = email.utils.formatdate(now + 7, usegmt=True)
    h = Harness(mode, status(503, **{"retry-after": date}), status(200, {}))
    assert (await h.send(create())).status == 200
    assert h.sleeps == [7.0]


async def test_backoff_without_retry_after_is_jittered_and_grows(mode: str) -> None:
    h = Harness(mode, status(503), retry=RetryPolicy(max_retries=3, base_delay=1.0, max_delay=100.0))
    reply = await h.send(get())
    assert reply.status == 503
    first, second, third = h.sleeps
    assert 0.5 <= first <= 1.0
    assert 1.0 <= second <= 2.0
    assert 2.0 <= third <= 4.0


async def test_a_retry_after_beyond_the_cap_falls_back_to_backoff(mode: str) -> None:
    h = Harness(mode, status(429, **{"retry-after": "3600"}), status(200, {}))
    await h.send(get())
    assert len(h.sleeps) == 1
    assert 0.25 <= h.sleeps[0] <= 0.5


@pytest.mark.parametrize("code", [429, 503])
async def test_a_create_is_retried_on_explicit_refusals(mode: str, code: int) -> None:
    h = Harness(mode, status(code, **{"retry-after": "1"}), status(200, {"id": "v1"}))
    assert (await h.send(create())).json() == {"id": "v1"}
    assert [r.method for r in h.requests] == ["POST", "POST"]


@pytest.mark.parametrize(
    ("code", "cls"), [(500, InternalServerError), (502, APIConnectionError), (504, Timeout)]
)
async def test_a_create_is_never_blindly_re_posted_after_a_server_error(
    mode: str, code: int, cls: type[APIError]
) -> None:
    def flow() -> Flow[None]:
        yield create()

    h = Harness(mode, status(code), status(200, {"id": "duplicate"}))
    with pytest.raises(cls) as caught:
        await h.run(flow())
    assert caught.value.status_code == code
    assert len(h.requests) == 1
    assert h.sleeps == []


@pytest.mark.parametrize(
    "exc_type", [httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.RemoteProtocolError]
)
async def test_a_create_is_not_re_sent_after_it_may_have_reached_the_provider(
    mode: str, exc_type: type[httpx.TransportError]
) -> None:
    h = Harness(mode, failure(exc_type), status(200, {"id": "duplicate"}))
    with pytest.raises(APIConnectionError):
        await h.send(create())
    assert len(h.requests) == 1


@pytest.mark.parametrize("code", [408, 409, 429, 500, 502, 503, 504])
async def test_safe_calls_are_retried_on_transient_statuses(mode: str, code: int) -> None:
    h = Harness(mode, status(code), status(200, {"status": "queued"}))
    assert (await h.send(get())).status == 200
    assert len(h.requests) == 2


@pytest.mark.parametrize("exc_type", [httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError])
async def test_safe_calls_are_retried_after_transport_errors(
    mode: str, exc_type: type[httpx.TransportError]
) -> None:
    h = Harness(mode, failure(exc_type), status(200, {}))
    assert (await h.send(get())).status == 200
    assert len(h.requests) == 2
    assert len(h.sleeps) == 1


@pytest.mark.parametrize("exc_type", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_connect_errors_are_retried_for_any_call(
    mode: str, exc_type: type[httpx.TransportError]
) -> None:
    """The request never left: even a paid create is safe to send again (and is sent in full)."""
    call = HttpCall(
        "POST",
        URL,
        data={"prompt": "p"},
        files=[("input_reference", ("in.png", b"\x89PNG-bytes", "image/png"))],
        retry_safe=False,
    )
    h = Harness(mode, failure(exc_type), status(200, {"id": "v1"}))
    assert (await h.send(call)).json() == {"id": "v1"}
    assert len(h.requests) == 2
    assert b"\x89PNG-bytes" in h.requests[1].content


@pytest.mark.parametrize("max_retries", [0, 1, 3])
async def test_max_retries_is_respected(mode: str, max_retries: int) -> None:
    def flow() -> Flow[None]:
        yield get()

    h = Harness(mode, status(503), retry=RetryPolicy(max_retries=max_retries))
    with pytest.raises(ServiceUnavailableError):
        await h.run(flow())
    assert len(h.requests) == max_retries + 1
    assert len(h.sleeps) == max_retries


async def test_the_last_reply_is_returned_when_retries_run_out(mode: str) -> None:
    h = Harness(mode, status(429, {"error": "slow"}, **{"retry-after": "2"}))
    reply = await h.send(get())
    assert (reply.status, reply.json(), reply.header("retry-after")) == (429, {"error": "slow"}, "2")
    assert h.sleeps == [2.0, 2.0]


@pytest.mark.parametrize(
    ("exc_type", "cls"),
    [
        (httpx.ConnectError, APIConnectionError),
        (httpx.ReadError, APIConnectionError),
        (httpx.RemoteProtocolError, APIConnectionError),
        (httpx.ConnectTimeout, Timeout),
        (httpx.ReadTimeout, Timeout),
        (httpx.PoolTimeout, Timeout),
    ],
)
async def test_timeout_versus_connection_error(
    mode: str, exc_type: type[httpx.TransportError], cls: type[APIError]
) -> None:
    h = Harness(mode, failure(exc_type, "no route"), retry=RetryPolicy(max_retries=1))
    with pytest.raises(APIConnectionError) as caught:
        await h.send(get())
    assert type(caught.value) is cls
    assert f"GET {URL}" in caught.value.message
    assert isinstance(caught.value.__cause__, exc_type)
    assert len(h.requests) == 2


async def test_rate_limit_after_retries_reaches_the_flow(mode: str) -> None:
    def flow() -> Flow[str]:
        try:
            yield get()
        except RateLimitError:
            return "limited"
        return "ok"

    assert await Harness(mode, status(429), retry=RetryPolicy(max_retries=1)).run(flow()) == "limited"


# ---- open: downloads ----------------------------------------------------------------------------


async def test_download_streams_in_chunks(mode: str) -> None:
    total = 5 * STREAM_CHUNK + 123
    h = Harness(
        mode,
        streaming(
            total,
            chunk=10_000,
            headers={"content-type": "video/mp4; codecs=avc1", "content-length": str(total)},
        ),
    )
    opened = await h.read(video())
    assert opened.media_type == "video/mp4"
    assert opened.content_length == total
    assert opened.status == 200
    assert len(opened.body) == total
    assert len(opened.chunks) > 1
    assert all(len(c) <= STREAM_CHUNK for c in opened.chunks)
    assert opened.headers is not None
    assert opened.headers["content-type"].startswith("video/mp4")


async def test_download_memory_is_bounded(mode: str) -> None:
    """A 32 MiB body read chunk by chunk and dropped never holds more than a few chunks at once."""
    total = 32 * 1024 * 1024
    h = Harness(mode, streaming(total))
    tracemalloc.start()
    try:
        if mode == "sync":
            with h.sync.open(video(), error_for) as stream:
                size = sum(len(chunk) for chunk in stream.chunks)
                media_type, length = stream.media_type, stream.content_length
        else:
            async with h.async_.open(video(), error_for) as astream:
                size = 0
                async for chunk in astream.chunks:
                    size += len(chunk)
                media_type, length = astream.media_type, astream.content_length
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size == total
    assert (media_type, length) == ("video/mp4", None)  # no content-type or length: the download's own
    assert peak < 8 * STREAM_CHUNK + 512 * 1024


async def test_inline_data_download_makes_no_request(mode: str) -> None:
    h = Harness(mode)
    opened = await h.read(Download("video/mp4", data=b"inline-mp4-bytes"))
    assert opened.body == b"inline-mp4-bytes"
    assert opened.content_length == len(b"inline-mp4-bytes")
    assert opened.media_type == "video/mp4"
    assert h.requests == []


async def test_produced_file_download_streams_the_file(mode: str, tmp_path: Path) -> None:
    path = tmp_path / "render.mp4"
    data = bytes(range(256)) * (STREAM_CHUNK // 64)  # four chunks' worth
    path.write_bytes(data)
    produced: list[int] = []

    def produce() -> Path:
        produced.append(1)
        return path

    h = Harness(mode)
    opened = await h.read(Download("image/webp", produce=produce))
    assert opened.body == data
    assert opened.content_length == len(data)
    assert opened.media_type == "image/webp"
    assert len(opened.chunks) == 4
    assert produced == [1]
    assert h.requests == []


async def test_a_produce_failure_is_a_502_upstream_error_without_its_detail(mode: str) -> None:
    """A local file that could not be made is the provider's failure, an ``APIError`` like any other:
    a 502 whose message leaves out the detail (a path on the serving machine); it escaped as a bare
    OSError or ValueError, a 500. An ``APIError`` the producer raises itself is kept as it is."""

    def broken() -> Path:
        raise OSError(28, "No space left on device", "/srv/vidgate/renders/x.mp4")

    h = Harness(mode)
    with pytest.raises(UpstreamError) as caught:
        await h.read(Download("video/mp4", produce=broken))
    err = caught.value
    assert (err.status_code, err.type, err.code, err.permanent) == (
        502,
        "upstream_error",
        "produce_failed",
        False,
    )
    assert "/srv" not in err.message
    assert isinstance(err.__cause__, OSError)
    refusal = UpstreamError("cannot render", permanent=True)

    def refusing() -> Path:
        raise refusal

    with pytest.raises(UpstreamError) as caught:
        await h.read(Download("video/mp4", produce=refusing))
    assert caught.value is refusal


async def test_download_error_status_is_mapped_and_not_retried(mode: str) -> None:
    h = Harness(mode, status(404, {"error": {"message": "no such video"}}))
    with pytest.raises(NotFoundError) as caught:
        await h.read(video())
    assert caught.value.status_code == 404
    assert len(h.requests) == 1


async def test_download_retries_transient_statuses_with_retry_after(mode: str) -> None:
    h = Harness(mode, status(503, **{"retry-after": "2"}), streaming(1000))
    opened = await h.read(video())
    assert len(opened.body) == 1000
    assert h.sleeps == [2.0]
    assert len(h.requests) == 2


async def test_download_retries_connect_errors_before_any_byte(mode: str) -> None:
    h = Harness(mode, failure(httpx.ConnectError), failure(httpx.ReadTimeout), streaming(1000))
    assert len((await h.read(video())).body) == 1000
    assert len(h.requests) == 3


async def test_download_gives_up_after_max_retries(mode: str) -> None:
    h = Harness(mode, status(503), retry=RetryPolicy(max_retries=2))
    with pytest.raises(ServiceUnavailableError):
        await h.read(video())
    assert len(h.requests) == 3
    h = Harness(mode, failure(httpx.ConnectError), retry=RetryPolicy(max_retries=1))
    with pytest.raises(APIConnectionError):
        await h.read(video())
    assert len(h.requests) == 2


async def test_a_non_retry_safe_download_call_is_not_re_sent(mode: str) -> None:
    call = HttpCall("POST", f"{URL}/export", retry_safe=False)
    h = Harness(mode, status(500), streaming(10))
    with pytest.raises(InternalServerError):
        await h.read(video(call))
    assert len(h.requests) == 1
    h = Harness(mode, failure(httpx.ReadTimeout), streaming(10))
    with pytest.raises(Timeout):
        await h.read(video(call))
    assert len(h.requests) == 1


async def test_a_drop_mid_stream_is_a_connection_error_and_not_retried(mode: str) -> None:
    total = 3 * STREAM_CHUNK
    h = Harness(mode, streaming(total, fail=httpx.ReadError("connection reset")), streaming(total))
    got: list[bytes] = []
    with pytest.raises(APIConnectionError) as caught:
        await h.read(video(), on_chunk=lambda _, chunk: got.append(chunk))
    assert type(caught.value) is APIConnectionError
    assert sum(len(c) for c in got) == total  # the bytes before the drop were delivered once
    assert len(h.requests) == 1  # no second stream


async def test_a_timeout_mid_stream_is_a_timeout_and_not_retried(mode: str) -> None:
    h = Harness(mode, streaming(STREAM_CHUNK, fail=httpx.ReadTimeout("stalled")), streaming(10))
    with pytest.raises(Timeout):
        await h.read(video())
    assert len(h.requests) == 1


async def test_a_transport_error_raised_in_the_body_after_bytes_does_not_yield_again(mode: str) -> None:
    """An httpx error thrown into the context after it yielded must not restart the download."""
    h = Harness(mode, streaming(3 * STREAM_CHUNK), streaming(3 * STREAM_CHUNK))

    def explode(index: int, chunk: bytes) -> None:
        if index == 1:
            raise httpx.ReadError("consumer-side read failed")

    with pytest.raises(APIConnectionError) as caught:
        await h.read(video(), on_chunk=explode)
    assert isinstance(caught.value.__cause__, httpx.ReadError)
    assert len(h.requests) == 1


async def test_other_errors_in_the_body_pass_through_untouched(mode: str) -> None:
    h = Harness(mode, streaming(3 * STREAM_CHUNK))

    def explode(index: int, chunk: bytes) -> None:
        raise KeyError("consumer bug")

    with pytest.raises(KeyError):
        await h.read(video(), on_chunk=explode)
    assert len(h.requests) == 1


async def test_a_drop_read_outside_the_body_is_still_a_connection_error(mode: str) -> None:
    """Chunks read through an exit stack (the gateway's way) raise vidgate errors, not httpx ones."""
    h = Harness(mode, streaming(2 * STREAM_CHUNK, fail=httpx.RemoteProtocolError("peer closed")))
    with pytest.raises(APIConnectionError):
        await h.read_outside(video())
    assert len(h.requests) == 1


async def test_download_forwards_headers_and_passes_partial_content(mode: str) -> None:
    def partial(request: httpx.Request) -> httpx.Response:
        assert request.headers["range"] == "bytes=10-19"
        return httpx.Response(
            206,
            content=b"0123456789",
            headers={"content-type": "video/mp4", "content-range": "bytes 10-19/100"},
        )

    h = Harness(mode, partial)
    opened = await h.read(video(), headers={"Range": "bytes=10-19"})
    assert opened.status == 206
    assert opened.body == b"0123456789"
    assert opened.content_length == 10
    assert opened.headers is not None
    assert opened.headers["content-range"] == "bytes 10-19/100"


async def test_download_call_headers_are_sent(mode: str) -> None:
    h = Harness(mode, streaming(10))
    await h.read(video(get(f"{URL}/v1/content", headers={"x-goog-api-key": "k"}, params={"alt": "media"})))
    assert h.requests[0].headers["x-goog-api-key"] == "k"
    assert h.requests[0].url.params["alt"] == "media"


# ---- lifecycle ----------------------------------------------------------------------------------


def test_sync_runner_closes_only_its_own_client() -> None:
    own = SyncRunner()
    own.close()
    assert own.client.is_closed
    shared = httpx.Client()
    SyncRunner(shared).close()
    assert not shared.is_closed
    shared.close()


async def test_async_runner_closes_only_its_own_client() -> None:
    own = AsyncRunner()
    await own.aclose()
    assert own.client.is_closed
    shared = httpx.AsyncClient()
    await AsyncRunner(shared).aclose()
    assert not shared.is_closed
    await shared.aclose()


def test_runner_timeout_configures_its_own_client() -> None:
    runner = SyncRunner(timeout=5.0)
    assert runner.client.timeout.read == 5.0
    runner.close()
