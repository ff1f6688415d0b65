"""Run an ASGI app on a real loopback port for the duration of a test (uvicorn in a thread)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import uvicorn


@contextmanager
def live_server(app: Any, host: str = "127.0.0.1", port: int = 0, **config: Any) -> Iterator[str]:
    """Yields the base URL (``http://127.0.0.1:PORT``) of ``app`` served over loopback (on ``port``
    when the app must know its URL before it starts, see ``free_port``)."""
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("live server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (for an app whose config names its own URL)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def raw_exchange(url: str, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send ``request`` to the server at ``url`` as raw bytes and read until the server closes the
    connection: the status line, the headers (lower-case names) and the body. The socket timeout only
    guards against a hang (a server that never answers)."""
    head, _, body = raw_bytes(url, request).partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    return status, dict(line.lower().split(": ", 1) for line in lines), body


def raw_bytes(url: str, request: bytes) -> bytes:
    """Send ``request`` to the server at ``url`` as raw bytes; all it sends back until it closes the
    connection (the socket timeout only guards against a hang)."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    reply = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
        sock.sendall(request)
        while chunk := sock.recv(65536):
            reply += chunk
    return reply
