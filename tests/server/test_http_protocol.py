"""``GatewayHttpProtocol`` over a real socket: a request uvicorn's HTTP parser refuses is answered in the
API's JSON envelope (it never reaches the app, and uvicorn's own answer is a plain-text 400); a poll of
finished work the express lanes answer is written by the protocol itself, byte for byte as uvicorn
writes the route's reply, in order among pipelined requests, logged and measured the same way."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
from tests.server.conftest import MASTER, gateway_config
from tests.support.live import live_server, raw_bytes, raw_exchange

from vidgate.gateway.service import GatewayService
from vidgate.server.app import create_app
from vidgate.server.express import Answer, Express
from vidgate.server.http_protocol import GatewayHttpProtocol
from vidgate.store.memory import MemoryStores


@pytest.fixture
def url(local_root: Path) -> Iterator[str]:
    app = create_app(gateway_config(local_root), stores=MemoryStores(), run_worker=False)
    with live_server(app, http=GatewayHttpProtocol) as served:
        yield served


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /v1/videos/\xff HTTP/1.1\r\nHost: gw\r\n\r\n",
        "GET /v1/videos/vidéo HTTP/1.1\r\nHost: gw\r\n\r\n".encode(),
        b"GET /v1/videos?after=\xff HTTP/1.1\r\nHost: gw\r\n\r\n",
        b"GET /v1/videos HTTP/1.1\r\nHost: gw\r\nX-Bad: a\x01b\r\n\r\n",
    ],
    ids=["raw-byte-in-path", "utf8-in-path", "raw-byte-in-query", "control-byte-in-header"],
)
def test_a_request_the_parser_refuses_is_a_json_400(url: str, request_bytes: bytes) -> None:
    status, headers, body = raw_exchange(url, request_bytes)
    assert status == "HTTP/1.1 400 Bad Request"
    assert (headers["content-type"], headers["connection"]) == ("application/json", "close")
    assert int(headers["content-length"]) == len(body)
    error = orjson.loads(body)["error"]
    assert (error["type"], error["param"], error["code"]) == (
        "invalid_request_error",
        None,
        "invalid_http_request",
    )
    assert "percent-encode" in error["message"]


def test_a_google_routes_refusal_is_in_googles_envelope(url: str) -> None:
    status, _, body = raw_exchange(
        url, b"POST /gemini/v1beta/models/\xff:predictLongRunning HTTP/1.1\r\n\r\n"
    )
    assert status == "HTTP/1.1 400 Bad Request"
    error = orjson.loads(body)["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    assert error["details"][0]["reason"] == "INVALID_HTTP_REQUEST"


def test_valid_requests_are_served_as_before(url: str) -> None:
    request = (
        f"GET /v1/videos HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer {MASTER}\r\nConnection: close\r\n\r\n"
    )
    status, _, body = raw_exchange(url, request.encode())
    assert status == "HTTP/1.1 200 OK"
    assert orjson.loads(body)["object"] == "list"


@pytest.fixture
def finished(local_root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, list[str]]]:
    """A live gateway, the id of a finished video on it, and the paths the protocol answered itself."""
    monkeypatch.setenv("VIDGATE_LOCAL_DELAY", "0.1")
    written: list[str] = []
    original = GatewayHttpProtocol._write_now

    def spy(self: GatewayHttpProtocol, cycle: Any, headers: Any, body: bytes) -> None:
        written.append(cycle.scope["path"])
        original(self, cycle, headers, body)

    monkeypatch.setattr(GatewayHttpProtocol, "_write_now", spy)
    app = create_app(gateway_config(local_root), stores=MemoryStores(), run_worker=False)
    # As ``vidgate serve`` runs it: uvicorn's proxy-headers wrapper only when proxies are named.
    with live_server(app, http=GatewayHttpProtocol, proxy_headers=False, timeout_keep_alive=0.5) as base:
        master = {"Authorization": f"Bearer {MASTER}"}
        body = {"model": "local-1", "prompt": "a red fox", "seconds": "1", "size": "320x180"}
        video = httpx.post(base + "/v1/videos", json=body, headers=master).json()["id"]
        deadline = time.monotonic() + 60
        while httpx.get(f"{base}/v1/videos/{video}", headers=master).json()["status"] != "completed":
            assert time.monotonic() < deadline, "the video did not finish"
            time.sleep(0.05)
        written.clear()
        yield base, video, written


def _poll(video: str, query: str = "", close: bool = True) -> bytes:
    last = "Connection: close\r\n" if close else ""
    head = f"GET /v1/videos/{video}{query} HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer {MASTER}\r\n"
    return f"{head}{last}\r\n".encode()


def _replies(url: str, request: bytes, count: int) -> list[tuple[str, list[tuple[str, str]], bytes]]:
    """``count`` replies to the raw ``request`` (read until the server closes): status, headers, body."""
    received = raw_bytes(url, request)
    replies = []
    for _ in range(count):
        head, _, rest = received.partition(b"\r\n\r\n")
        status, *lines = head.decode("latin-1").split("\r\n")
        headers = [(name.lower(), value) for name, value in (line.split(": ", 1) for line in lines)]
        length = int(dict(headers)["content-length"])
        replies.append((status, headers, rest[:length]))
        received = rest[length:]
    assert received == b""
    return replies


def test_a_finished_poll_is_written_by_the_protocol_as_uvicorn_writes_the_routes_reply(
    finished: tuple[str, str, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    base, video, written = finished
    caplog.set_level("INFO", logger="vidgate.access")
    [routed] = _replies(base, _poll(video, "?x="), 1)  # a query string: the route answers
    assert written == []
    [express] = _replies(base, _poll(video), 1)
    assert written == [f"/v1/videos/{video}"]

    def comparable(reply: tuple[str, list[tuple[str, str]], bytes]) -> tuple[Any, ...]:
        status, headers, body = reply
        return status, [(k, v) for k, v in headers if k not in ("date", "x-request-id")], body

    assert comparable(express) == comparable(routed)  # connection: close included, then closed
    assert [name for name, _ in express[1]] == [name for name, _ in routed[1]]  # in the same order
    assert orjson.loads(express[2])["status"] == "completed"
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "vidgate.access"]
    assert [(line["path"], line["route"], line["status"]) for line in lines][-1] == (
        f"/v1/videos/{video}",
        "/v1/videos/{video_id}",
        200,
    )
    assert lines[-1]["request_id"] == dict(express[1])["x-request-id"]
    metrics = httpx.get(base + "/metrics", headers={"Authorization": f"Bearer {MASTER}"}).text
    assert 'route="/v1/videos/{video_id}"' in metrics


def test_pipelined_polls_are_answered_in_order_whichever_way_each_is_answered(
    finished: tuple[str, str, list[str]],
) -> None:
    base, video, written = finished
    request = _poll(video, close=False) + _poll(video, "?x=", close=False) + _poll(video)
    replies = _replies(base, request, 3)
    assert written == [f"/v1/videos/{video}", f"/v1/videos/{video}"]  # the first and the last
    assert [status for status, _, _ in replies] == ["HTTP/1.1 200 OK"] * 3
    assert len({body for _, _, body in replies}) == 1
    assert len({dict(headers)["x-request-id"] for _, headers, _ in replies}) == 3
    assert [dict(headers).get("connection") for _, headers, _ in replies] == [None, None, "close"]


def test_an_http_1_0_poll_is_answered_and_the_connection_closed(finished: tuple[str, str, list[str]]) -> None:
    base, video, written = finished
    request = f"GET /v1/videos/{video} HTTP/1.0\r\nAuthorization: Bearer {MASTER}\r\n\r\n".encode()
    [(status, headers, body)] = _replies(base, request, 1)
    assert written == [f"/v1/videos/{video}"]
    assert (status, dict(headers)["connection"]) == ("HTTP/1.1 200 OK", "close")
    assert orjson.loads(body)["id"] == video


def test_a_connection_left_idle_after_a_poll_the_protocol_answered_is_closed_as_any(
    finished: tuple[str, str, list[str]],
) -> None:
    base, video, written = finished
    parts = urlsplit(base)
    assert parts.hostname is not None
    assert parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(_poll(video, close=False))
        received = sock.recv(65536)
        assert received.startswith(b"HTTP/1.1 200 OK")
        started = time.monotonic()
        assert sock.recv(65536) == b""  # closed by uvicorn's keep-alive timeout (0.5 s here)
        assert time.monotonic() - started < 5
    assert written == [f"/v1/videos/{video}"]


def test_a_poll_the_lanes_cannot_answer_is_asked_of_them_once_then_routed(
    local_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    original = Express.answer

    def spy(self: Express, scope: Any, log: Any) -> Answer | None:
        asked.append(scope["path"])
        return original(self, scope, log)

    monkeypatch.setattr(Express, "answer", spy)  # before the app is built, which takes the method
    app = create_app(gateway_config(local_root), stores=MemoryStores(), run_worker=False)
    with live_server(app, http=GatewayHttpProtocol, proxy_headers=False) as base:
        status, _, body = raw_exchange(base, _poll("video_" + "0" * 32))
    assert status == "HTTP/1.1 404 Not Found"
    assert orjson.loads(body)["error"]["param"] == "video_id"
    assert asked == ["/v1/videos/video_" + "0" * 32]


def test_a_request_pipelined_after_a_poll_the_protocol_answered_is_not_cut_by_the_keep_alive_timer(
    finished: tuple[str, str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, video, written = finished
    original = GatewayService.list_videos

    async def slow(self: GatewayService, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(1.0)  # longer than the 0.5 s keep-alive timeout
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(GatewayService, "list_videos", slow)
    listing = f"GET /v1/videos HTTP/1.1\r\nAuthorization: Bearer {MASTER}\r\nConnection: close\r\n\r\n"
    replies = _replies(base, _poll(video, close=False) + listing.encode(), 2)
    assert written == [f"/v1/videos/{video}"]
    assert orjson.loads(replies[1][2])["object"] == "list"
