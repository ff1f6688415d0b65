"""Run an ASGI app on a real loopback port for the duration of a test (uvicorn in a thread)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def live_server(app: Any, host: str = "127.0.0.1", **config: Any) -> Iterator[str]:
    """Yields the base URL (``http://127.0.0.1:PORT``) of ``app`` served over loopback."""
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=0, log_level="warning", **config))
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
