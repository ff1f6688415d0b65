"""A request uvicorn's HTTP parser refuses is answered in the API's JSON envelope, over a real socket:
it never reaches the app, and uvicorn's own answer is a plain-text 400."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from tests.server.conftest import MASTER, gateway_config
from tests.support.live import live_server, raw_exchange

from vidgate.server.app import create_app
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
